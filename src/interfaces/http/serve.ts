/** Wires the receiver, the HTTP API + dashboard, MCP over HTTP and (optionally) continuous cycles on one server. */
import { openStore } from '../../store/open.js';
import { startReceiver } from '../../signals/otlp/server.js';
import { EventHub } from './event-hub.js';
import { registerApi } from './api.js';

export interface ServerOptions {
  db: string;
  host: string;
  port: number;
  token?: string;
  bodyLimitBytes?: number;
  continuousMs?: number;
  retentionUs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  hub: EventHub;
  close(): Promise<void>;
}

export async function runServer(opts: ServerOptions): Promise<RunningServer> {
  const store = await openStore(opts.db, { retentionUs: opts.retentionUs });
  const hub = new EventHub();
  const { createSwarm } = await import('../../agents/feedback/fleet-commander.js');
  const swarm = createSwarm(store, { hub });
  let pending = { spans: 0, logs: 0, metrics: 0, errors: 0 };
  let flush: NodeJS.Timeout | undefined;
  const receiver = await startReceiver({
    host: opts.host,
    port: opts.port,
    store,
    token: opts.token,
    bodyLimitBytes: opts.bodyLimitBytes,
    onBatch: (_b, r) => {
      pending = { spans: pending.spans + r.spans, logs: pending.logs + r.logs, metrics: pending.metrics + r.metrics, errors: pending.errors + r.errors };
      // One ingest event a second at most: dashboards want liveness, not a firehose.
      flush ??= setTimeout(() => {
        hub.publish('ingest', pending);
        pending = { spans: 0, logs: 0, metrics: 0, errors: 0 };
        flush = undefined;
      }, 1000);
    },
    setup: async (app) => {
      await registerApi(app, { store, token: opts.token, hub, analyze: async () => ({ cycleId: (await swarm.analyze({})).data.cycleId as string }) });
      const { registerMcpHttp } = await import('../mcp/http.js');
      await registerMcpHttp(app, { api: swarm, token: opts.token });
    },
  });
  let timer: NodeJS.Timeout | undefined;
  if (opts.continuousMs) {
    const tick = (): void => {
      swarm.analyze({}).catch((e: unknown) => hub.publish('cycle-failed', { error: String(e) }));
    };
    timer = setInterval(tick, opts.continuousMs);
    timer.unref();
  }
  return {
    url: receiver.url,
    port: receiver.port,
    hub,
    close: async () => {
      if (timer) clearInterval(timer);
      if (flush) clearTimeout(flush);
      await receiver.close();
      await store.close();
    },
  };
}
