/**
 * `tswarm serve`: the OTLP/HTTP receiver (default port 4318), the HTTP API and dashboard (`/`), MCP over
 * Streamable HTTP (`/mcp`), and optionally continuous analysis cycles. Graceful shutdown on SIGINT/SIGTERM:
 * in-flight requests finish, the store closes cleanly.
 */
import type { Command } from 'commander';
import { addDbOption, CliError, parseDurationMs } from '../util.js';
import type { NotifyFormat, NotifyTarget } from '../../../feedback/sinks/notify.js';

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
  changeHookSecret?: string;
  slackSigningSecret?: string;
  notify?: string;
  notifyFormat?: string;
  notifySeverity: string;
  publicUrl?: string;
  config?: string;
  bodyLimit: string;
  continuous?: boolean;
  interval: string;
  retention?: string;
}

async function notifyOptions(opts: ServeOpts): Promise<NotifyTarget & { url: string; secret?: string }> {
  const { defaultFormat, parseSeverity, NOTIFY_FORMATS } = await import('../../../feedback/sinks/notify.js');
  const url = opts.notify!;
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw new CliError(`--notify needs an http(s) URL (got "${url}")`, 2);
  if (opts.notifyFormat !== undefined && !(NOTIFY_FORMATS as readonly string[]).includes(opts.notifyFormat)) throw new CliError(`--notify-format must be one of ${NOTIFY_FORMATS.join(', ')} (got "${opts.notifyFormat}")`, 2);
  if (opts.publicUrl !== undefined && !/^https?:\/\//i.test(opts.publicUrl)) throw new CliError(`--public-url needs an http(s) URL (got "${opts.publicUrl}")`, 2);
  let minSeverity;
  try {
    minSeverity = parseSeverity(opts.notifySeverity);
  } catch (e) {
    throw new CliError(`--notify-severity: ${(e as Error).message}`, 2);
  }
  const secret = process.env.TSWARM_WEBHOOK_SECRET;
  const format = (opts.notifyFormat as NotifyFormat | undefined) ?? defaultFormat(url);
  // A secret: from the environment only, so it is in no process listing or shell history.
  const routingKey = process.env.TSWARM_PAGERDUTY_ROUTING_KEY;
  if (format === 'pagerduty' && !routingKey) throw new CliError('--notify-format pagerduty needs the integration key in env TSWARM_PAGERDUTY_ROUTING_KEY', 2);
  return { url, format, minSeverity, ...(secret ? { secret } : {}), ...(format === 'pagerduty' ? { routingKey } : {}), ...(opts.publicUrl ? { dashboardUrl: opts.publicUrl } : {}) };
}

export function register(program: Command): void {
  addDbOption(program.command('serve').description('receive OTLP/HTTP telemetry, serve the dashboard, HTTP API and MCP'))
    .option('--port <port>', 'port (OTLP/HTTP convention: 4318)', '4318')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--token <token>', 'require this bearer token (default: env TSWARM_TOKEN)')
    .option('--change-hook-secret <secret>', 'the secret of the GitHub / GitLab / LaunchDarkly webhooks posting deploys and flag changes to /hooks/github, /hooks/gitlab, /hooks/launchdarkly (default: env TSWARM_CHANGE_HOOK_SECRET)')
    .option('--notify <url>', "post each cycle's new findings to this webhook (Slack incoming webhook, PagerDuty Events v2, or any JSON receiver; HMAC-signed with env TSWARM_WEBHOOK_SECRET)")
    .option('--slack-signing-secret <secret>', "the Slack app's signing secret: its Confirm / Reject buttons post verdicts to /hooks/slack (default: env TSWARM_SLACK_SIGNING_SECRET)")
    .option('--notify-format <format>', 'slack | pagerduty (Events v2, key in env TSWARM_PAGERDUTY_ROUTING_KEY) | json (the report); default by host: hooks.slack.com, events.pagerduty.com, else json')
    .option('--notify-severity <level>', 'least severity notified: info | low | medium | high | critical', 'high')
    .option('--public-url <url>', "the dashboard's address in notifications (default: the address served on)")
    .option('--config <file>', 'SLOs to judge against (default: tswarm.config.yaml, .yml or .json here)')
    .option('--body-limit <size>', 'largest accepted request body, compressed or not', '16MiB')
    .option('--continuous', 'run an analysis cycle every --interval, and at once on an anomaly storm')
    .option('--interval <duration>', 'cycle interval with --continuous', '5m')
    .option('--retention <duration>', 'keep raw telemetry this long (rollups and learnings stay)')
    .action(async (opts: ServeOpts) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid port "${opts.port}"`, 2);
      const token = opts.token ?? process.env.TSWARM_TOKEN ?? undefined;
      const changeHookSecret = opts.changeHookSecret ?? process.env.TSWARM_CHANGE_HOOK_SECRET ?? undefined;
      const slackSigningSecret = opts.slackSigningSecret ?? process.env.TSWARM_SLACK_SIGNING_SECRET ?? undefined;
      const notify = opts.notify ? await notifyOptions(opts) : undefined;
      const { loadConfig, serverSlos } = await import('../config-file.js');
      const slos = serverSlos(loadConfig(opts.config));
      const { runServer } = await import('../../http/serve.js');
      const server = await runServer({
        db: opts.db,
        host: opts.host,
        port,
        token,
        changeHookSecret,
        slackSigningSecret,
        ...(notify ? { notify } : {}),
        ...(slos ? { slos } : {}),
        bodyLimitBytes: parseBytes(opts.bodyLimit),
        continuousMs: opts.continuous ? parseDurationMs(opts.interval) : undefined,
        retentionUs: opts.retention ? parseDurationMs(opts.retention) * 1000 : undefined,
      });
      process.stderr.write(
        `tswarm serving on ${server.url}\n  OTLP/HTTP: ${server.url}/v1/{traces,metrics,logs}  (OTEL_EXPORTER_OTLP_ENDPOINT=${server.url})\n  dashboard: ${server.url}/${token ? '?token=…' : ''}\n  MCP:       ${server.url}/mcp\n  changes:   ${server.url}/api/changes, webhooks ${server.url}/hooks/{github,gitlab,launchdarkly}${changeHookSecret ? ' (signed with the change-hook secret)' : ''}\n${notify ? `  notify:    ${notify.format} to ${new URL(notify.url).host}, new findings at ${notify.minSeverity} or above\n` : ''}${slos ? `  SLOs:      ${slos.slos.length} from ${slos.file}\n` : ''}  memory:    ${opts.db}${token ? '\n  auth:      bearer token required' : ''}\n`,
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
