/** `tswarm analyze`: one cycle of the seed's flow over the stored telemetry; writes the reports. */
import type { Command } from 'commander';
import { addDbOption, CliError, printJson } from '../util.js';
import { defaultFormat, notificationBodies, NOTIFY_FORMATS, type NotifyFormat } from '../../../feedback/sinks/notify.js';

export function register(program: Command): void {
  addDbOption(program.command('analyze').description('run the swarm once over the stored telemetry and write the feedback report (Markdown, HTML, JSON)'))
    .option('--time-range <range>', 'window, e.g. "last 15m" (relative to the newest stored data) or an ISO interval')
    .option('--out <dir>', 'report directory', './tswarm-report')
    .option('--repo <dir>', 'git repository for the defect predictor', '.')
    .option('--webhook <url>', 'also POST the JSON report here (HMAC-signed with env TSWARM_WEBHOOK_SECRET)')
    .option('--webhook-format <format>', 'json (the report) | slack (the new findings at high or above, as a Slack message) | pagerduty (one Events v2 trigger each; key in env TSWARM_PAGERDUTY_ROUTING_KEY); default by host')
    .option('--metrics <url>', 'pull metrics first, e.g. prometheus://127.0.0.1:9090?match=http_server_duration_seconds_bucket&range=30m')
    .option('--traces <url>', 'pull traces first, e.g. jaeger://127.0.0.1:16686?service=checkout&range=30m, or file://…')
    .option('--logs <url>', 'pull logs first, e.g. loki://127.0.0.1:3100?query={app="shop"}&range=30m, or file://…')
    .option('--redis <url>', 'run the agents on `tswarm worker` processes through this Redis (BullMQ)')
    .option('--config <file>', 'sources and SLOs (default: tswarm.config.yaml, .yml or .json here)')
    .option('--json', 'print the report JSON')
    .action(async (o: { db: string; timeRange?: string; out: string; repo: string; webhook?: string; webhookFormat?: string; config?: string; json?: boolean; metrics?: string; traces?: string; logs?: string; redis?: string }) => {
      if (o.webhookFormat !== undefined && !(NOTIFY_FORMATS as readonly string[]).includes(o.webhookFormat)) throw new CliError(`--webhook-format must be one of ${NOTIFY_FORMATS.join(', ')} (got "${o.webhookFormat}")`, 2);
      if (o.webhook && (o.webhookFormat ?? defaultFormat(o.webhook)) === 'pagerduty' && !process.env.TSWARM_PAGERDUTY_ROUTING_KEY) throw new CliError('the pagerduty format needs the integration key in env TSWARM_PAGERDUTY_ROUTING_KEY', 2);
      const { loadConfig, storeSlos } = await import('../config-file.js');
      const cfg = loadConfig(o.config);
      let sources = [o.metrics, o.traces, o.logs].filter((x): x is string => Boolean(x));
      // Or from the config file: `sources: [url, …]` (or {metrics, traces, logs}).
      if (!sources.length) sources = cfg.sources;
      if (sources.length) {
        const { openOrCreateStore } = await import('../store-access.js');
        const { pullSource, SourceError } = await import('../../../signals/sources/pull.js');
        const s = await openOrCreateStore(o.db);
        try {
          for (const url of sources) process.stderr.write(`pulled ${await pullSource(url, s)}\n`);
        } catch (e) {
          if (e instanceof SourceError) throw new CliError(e.message, 2);
          throw e;
        } finally {
          await s.close();
        }
      }
      const { openExistingStore } = await import('../store-access.js');
      const { createSwarm } = await import('../../../agents/feedback/fleet-commander.js');
      const { collectFigures } = await import('../../../feedback/collect-figures.js');
      const { writeReports } = await import('../../../feedback/write-reports.js');
      const store = await openExistingStore(o.db);
      await storeSlos(store, cfg);
      const remote = o.redis ? new (await import('../../../fleet/distributed.js')).RemoteFleet(o.redis) : undefined;
      try {
        const swarm = createSwarm(store, remote ? { remote } : {});
        const r = await swarm.runCycle({
          timeRange: o.timeRange,
          params: { 'qe-defect-predictor': { repo: o.repo } },
          figures: collectFigures,
          onEvent: (e) => {
            if (e.type === 'step-finished' && !o.json) process.stderr.write(`  ${e.result.status === 'ok' ? '✓' : e.result.status === 'skipped' ? '·' : '✗'} ${e.result.agentId.padEnd(26)} ${e.result.findings.length} findings${e.result.error ? ` (${e.result.error})` : ''}\n`);
          },
        });
        const latest = await store.patterns.get<{ figures: import('../../../feedback/figures.js').FigureSection[] }>('feedback-report', 'latest');
        const paths = writeReports(r.report, o.out, ['json', 'md', 'html'], latest?.value.figures ?? []);
        if (o.webhook) {
          const { deliverWebhook } = await import('../../../feedback/sinks/webhook.js');
          const format = (o.webhookFormat as NotifyFormat | undefined) ?? defaultFormat(o.webhook);
          // The JSON receiver gets every report (its own filter); a chat channel or a pager only what is new and severe.
          const routingKey = process.env.TSWARM_PAGERDUTY_ROUTING_KEY;
          const bodies = format === 'json' ? [r.report] : notificationBodies({ format, minSeverity: 'high', ...(routingKey ? { routingKey } : {}) }, r.report);
          if (!bodies.length) process.stderr.write('webhook: nothing new at high severity or above: not sent\n');
          for (const body of bodies) process.stderr.write(`webhook: ${JSON.stringify(await deliverWebhook(body, { url: o.webhook, secret: process.env.TSWARM_WEBHOOK_SECRET }))}\n`);
        }
        if (o.json) return printJson(r.report);
        process.stdout.write(`\ncycle ${r.cycleId}: ${r.report.summary.items} feedback items (${r.newFindings.length} new findings)\n`);
        for (const [cat, items] of Object.entries(r.report.sections)) if (items.length) process.stdout.write(`  ${cat}: ${items.slice(0, 3).map((i) => i.title).join(' | ')}\n`);
        process.stdout.write(`reports: ${paths.html}\n         ${paths.md}\n         ${paths.json}\n`);
      } finally {
        await remote?.close();
        await store.close();
      }
    });
}
