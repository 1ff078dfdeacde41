/** Wires the receiver, the HTTP API + dashboard, MCP over HTTP and (optionally) continuous cycles on one server. */
import { openStore } from '../../store/open.js';
import { startReceiver } from '../../signals/otlp/server.js';
import { EventHub } from './event-hub.js';
import { registerApi } from './api.js';
import { registerChangeHooks } from './change-hooks.js';
import { registerSlackInteractions } from './slack-interactions.js';
import { notifyPlan, type NotifyTarget, type OpenAlert } from '../../feedback/sinks/notify.js';
import { deliverWebhook } from '../../feedback/sinks/webhook.js';
import { LATEST_REPORT_KIND } from '../../agents/feedback/memory-ops.js';
import type { FeedbackReport } from '../../feedback/report.js';
import { SLO_CONFIG_KIND } from '../../config/slo-config.js';
import type { Slo } from '../../algorithms/perf/slo.js';
import { describeHousekeepingFailure } from '../../store/housekeeping.js';

/**
 * "Anomaly storm": errors in the last minute at least 5× the rate of the ten minutes before (and ≥ 20) — then a
 * cycle runs at once instead of waiting for the next tick. At most one storm cycle per 2 minutes.
 */
export class StormDetector {
  onStorm?: (why: string) => void;
  private readonly buckets = new Map<number, number>();
  private lastStormMs = 0;
  observe(errors: number, _items: number, nowMs = Date.now()): void {
    const b = Math.floor(nowMs / 10_000);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + errors);
    for (const k of this.buckets.keys()) if (k < b - 66) this.buckets.delete(k);
    let recent = 0;
    let before = 0;
    for (const [k, v] of this.buckets) {
      if (k > b - 6) recent += v;
      else before += v;
    }
    const beforeRate = before / 60; // per 10-s bucket over the previous 10 minutes
    const recentRate = recent / 6;
    if (recent >= 20 && recentRate >= 5 * Math.max(beforeRate, 0.5) && nowMs - this.lastStormMs > 120_000) {
      this.lastStormMs = nowMs;
      this.onStorm?.(`${recent} errors in the last minute vs ${(beforeRate * 6).toFixed(1)}/min before`);
    }
  }
}

/** Alerts the notifier opened and has not resolved yet, per format (PagerDuty's and Slack's; JSON keeps none). */
const NOTIFY_STATE_KIND = 'notify-state';

export interface ServerOptions {
  db: string;
  host: string;
  port: number;
  token?: string;
  /** The secret the GitHub / GitLab / LaunchDarkly change webhooks are configured with (change-hooks.ts). */
  changeHookSecret?: string;
  /** Post each cycle's new findings here (feedback/sinks/notify.ts), HMAC-signed with `secret` when given. */
  notify?: NotifyTarget & { url: string; secret?: string };
  /** The Slack app's signing secret: its Confirm / Reject buttons post verdicts to /hooks/slack. */
  slackSigningSecret?: string;
  /** SLOs from the config file, stored in memory at start for every cycle (cli/config-file.ts). */
  slos?: { slos: Slo[]; file: string };
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
  if (opts.slos) await store.patterns.put(SLO_CONFIG_KIND, 'current', { ...opts.slos, loadedAtUs: Date.now() * 1000 });
  const hub = new EventHub();
  // The store's own housekeeping (rollup compaction, retention) runs after commits and never fails an ingest;
  // when it fails, the operator hears of it here and on the event stream, and /healthz counts it.
  const unwatchStore = store.telemetry.onHousekeepingFailure((f) => {
    process.stderr.write(`warning: ${describeHousekeepingFailure(f)}\n`);
    hub.publish('store-housekeeping-failed', f);
  });
  const storm = new StormDetector();
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
    // Counts only: touching the batch would decode protobuf traces a second time (they are stored as rows).
    onBatch: (_b, r, counts) => {
      if (opts.continuousMs) storm.observe(counts.errorSpans + r.errors, r.spans + r.logs);
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
      await registerChangeHooks(app, { store, token: opts.token, secret: opts.changeHookSecret, hub });
      await registerSlackInteractions(app, { store, signingSecret: opts.slackSigningSecret, hub });
      const { registerMcpHttp } = await import('../mcp/http.js');
      await registerMcpHttp(app, { api: swarm, token: opts.token });
    },
  });
  // Every finished cycle (on the timer, a storm, the API or MCP) tells the channel what is new in it, in order.
  let unsubscribe: (() => void) | undefined;
  if (opts.notify) {
    const n = opts.notify;
    let chain = Promise.resolve();
    unsubscribe = hub.subscribe((ev) => {
      if (ev.type !== 'cycle-finished') return;
      const cycleId = (ev.data as { cycleId: string }).cycleId;
      chain = chain.then(async () => {
        const stored = await store.patterns.get<{ report: FeedbackReport }>(LATEST_REPORT_KIND, cycleId);
        // The alerts opened earlier (PagerDuty), kept in memory so a restart still resolves them.
        const open = (await store.patterns.get<{ open: OpenAlert[] }>(NOTIFY_STATE_KIND, n.format))?.value.open ?? [];
        const plan = stored ? notifyPlan({ ...n, dashboardUrl: n.dashboardUrl ?? `${receiver.url}/` }, stored.value.report, open) : { bodies: [], open };
        const bodies = plan.bodies;
        if (n.format !== 'json') await store.patterns.put(NOTIFY_STATE_KIND, n.format, { open: plan.open });
        if (!bodies.length) {
          hub.publish('notify-skipped', { cycleId, reason: `nothing new at ${n.minSeverity} severity or above` });
          return;
        }
        // One after the other (PagerDuty: one event per item); a failed one does not stop the rest.
        let failed: Awaited<ReturnType<typeof deliverWebhook>> | undefined;
        let attempts = 0;
        for (const body of bodies) {
          const r = await deliverWebhook(body, { url: n.url, ...(n.secret ? { secret: n.secret } : {}) });
          attempts += r.attempts;
          if (!r.ok) failed ??= r;
        }
        hub.publish(failed ? 'notify-failed' : 'notified', { cycleId, format: n.format, sent: bodies.length, ...(failed ? { ...failed, attempts } : { ok: true, attempts }) });
      }).catch((e: unknown) => {
        hub.publish('notify-failed', { cycleId, error: String(e) });
      });
    });
  }
  let timer: NodeJS.Timeout | undefined;
  if (opts.continuousMs) {
    storm.onStorm = (why) => {
      hub.publish('storm', { why });
      swarm.analyze({}).catch((e: unknown) => hub.publish('cycle-failed', { error: String(e) }));
    };
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
      unsubscribe?.();
      unwatchStore();
      await receiver.close();
      await store.close();
    },
  };
}
