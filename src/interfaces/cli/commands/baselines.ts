/**
 * `tswarm baselines`: what the performance tester has learned is normal, per service — latency p50/p95/p99, error
 * rate, throughput, per operation, and every metric series (saturation gauges, counter rates, distribution means)
 * — and whether each is judged by the hour of the day or week yet or still by one flat level.
 */
import type { Command } from 'commander';
import { addDbOption, printJson } from '../util.js';
import { openExistingStore } from '../store-access.js';
import { formatBaselines, readBaselines } from '../../../agents/analysis/baselines-view.js';
import { SLO_CONFIG_KIND } from '../../../config/slo-config.js';
import { describeBudget, describeSlo, slosFor, type Slo } from '../../../algorithms/perf/slo.js';
import { sloOverview } from '../../../agents/feedback/memory-ops.js';

export function register(program: Command): void {
  addDbOption(program.command('baselines').description('what the performance tester has learned is normal: latency, errors, throughput, operations and metric series per service'))
    .option('--service <name>', 'only this service')
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; service?: string; json?: boolean }) => {
      const store = await openExistingStore(opts.db);
      try {
        const services = await readBaselines(store, opts.service);
        const stored = (await store.patterns.get<{ slos: Slo[]; file: string }>(SLO_CONFIG_KIND, 'current'))?.value;
        // Where each budget stands, for services with traffic in the last 6 h (the overview's services).
        const now = new Map((await sloOverview(store, opts.service)).services.map((s) => [s.service, s.slos]));
        const slos = services.map((b) => ({ service: b.service, slos: slosFor(b.service, stored?.slos ?? []), budgets: now.get(b.service)?.map((x) => x.budget) ?? [] }));
        if (opts.json) return printJson({ db: opts.db, services, slos, ...(stored ? { sloFile: stored.file } : {}) });
        if (!services.length) {
          process.stdout.write(`no baselines in ${opts.db}${opts.service ? ` for ${opts.service}` : ''} yet: they are learned by \`tswarm analyze\` (or \`tswarm serve --continuous\`) over stored telemetry\n`);
          return;
        }
        process.stdout.write(`performance baselines in ${opts.db}: ${services.length} service${services.length === 1 ? '' : 's'}; latency and throughput are judged by the hour once a profile has covered 2 days and its hours differ${formatBaselines(services)}\n`);
        // The SLOs each service's burn rates are judged against: declared in the config file, or the default.
        process.stdout.write(`\nSLOs (${stored ? `from ${stored.file}` : 'none declared: the default'}):\n${slos.map((x) => `  ${x.service}: ${x.slos.map((slo, i) => `${describeSlo(slo)}${x.budgets[i] ? ` (${describeBudget(x.budgets[i]!)})` : ''}`).join(', ')}`).join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}
