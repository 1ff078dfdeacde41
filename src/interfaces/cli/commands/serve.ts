/**
 * `tswarm serve`: the OTLP/HTTP receiver (default port 4318), the HTTP API and dashboard (`/`), MCP over
 * Streamable HTTP (`/mcp`), and optionally continuous analysis cycles. Graceful shutdown on SIGINT/SIGTERM:
 * in-flight requests finish, the store closes cleanly.
 */
import type { Command } from 'commander';
import { addDbOption, CliError, parseDurationMs } from '../util.js';

export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(text);
  if (!m) throw new CliError(`invalid size "${text}" (use e.g. 512KiB, 16MiB)`, 2);
  const unit = (m[2] ?? 'b').toLowerCase();
  const f: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  return Math.floor(Number(m[1]) * f[unit]!);
}

interface ServeOpts {
  port: string;
  host: string;
  db: string;
  token?: string;
  webhookSecret?: string;
  bodyLimit: string;
  continuous?: boolean;
  interval: string;
  retention?: string;
}

export function register(program: Command): void {
  addDbOption(program.command('serve').description('receive OTLP/HTTP telemetry, serve the dashboard, HTTP API and MCP'))
    .option('--port <port>', 'port (OTLP/HTTP convention: 4318)', '4318')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--token <token>', 'require this bearer token (default: env TSWARM_TOKEN)')
    .option('--webhook-secret <secret>', 'the secret of the GitHub / GitLab webhooks posting deploys to /hooks/github, /hooks/gitlab (default: env TSWARM_WEBHOOK_SECRET)')
    .option('--body-limit <size>', 'largest accepted request body, compressed or not', '16MiB')
    .option('--continuous', 'run an analysis cycle every --interval, and at once on an anomaly storm')
    .option('--interval <duration>', 'cycle interval with --continuous', '5m')
    .option('--retention <duration>', 'keep raw telemetry this long (rollups and learnings stay)')
    .action(async (opts: ServeOpts) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid port "${opts.port}"`, 2);
      const token = opts.token ?? process.env.TSWARM_TOKEN ?? undefined;
      const webhookSecret = opts.webhookSecret ?? process.env.TSWARM_WEBHOOK_SECRET ?? undefined;
      const { runServer } = await import('../../http/serve.js');
      const server = await runServer({
        db: opts.db,
        host: opts.host,
        port,
        token,
        webhookSecret,
        bodyLimitBytes: parseBytes(opts.bodyLimit),
        continuousMs: opts.continuous ? parseDurationMs(opts.interval) : undefined,
        retentionUs: opts.retention ? parseDurationMs(opts.retention) * 1000 : undefined,
      });
      process.stderr.write(
        `tswarm serving on ${server.url}\n  OTLP/HTTP: ${server.url}/v1/{traces,metrics,logs}  (OTEL_EXPORTER_OTLP_ENDPOINT=${server.url})\n  dashboard: ${server.url}/${token ? '?token=…' : ''}\n  MCP:       ${server.url}/mcp\n  changes:   ${server.url}/api/changes, webhooks ${server.url}/hooks/{github,gitlab}${webhookSecret ? ' (signed with the webhook secret)' : ''}\n  memory:    ${opts.db}${token ? '\n  auth:      bearer token required' : ''}\n`,
      );
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`\n${sig}: shutting down…\n`);
        server
          .close()
          .then(() => process.exit(0))
          .catch((e: unknown) => {
            process.stderr.write(`shutdown error: ${String(e)}\n`);
            process.exit(1);
          });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      await new Promise(() => undefined);
    });
}
