/**
 * `tswarm baselines`: what the performance tester has learned is normal, per service — latency p50/p95/p99, error
 * rate, throughput, per operation, and every metric series (saturation gauges, counter rates, distribution means)
 * — and whether each is judged by the hour of the day or week yet or still by one flat level.
 */
import type { Command } from 'commander';
import { addDbOption, printJson } from '../util.js';
import { openExistingStore } from '../store-access.js';
import { formatBaselines, readBaselines } from '../../../agents/analysis/baselines-view.js';

export function register(program: Command): void {
  addDbOption(program.command('baselines').description('what the performance tester has learned is normal: latency, errors, throughput, operations and metric series per service'))
    .option('--service <name>', 'only this service')
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; service?: string; json?: boolean }) => {
      const store = await openExistingStore(opts.db);
      try {
        const services = await readBaselines(store, opts.service);
        if (opts.json) return printJson({ db: opts.db, services });
        if (!services.length) {
          process.stdout.write(`no baselines in ${opts.db}${opts.service ? ` for ${opts.service}` : ''} yet: they are learned by \`tswarm analyze\` (or \`tswarm serve --continuous\`) over stored telemetry\n`);
          return;
        }
        process.stdout.write(`performance baselines in ${opts.db}: ${services.length} service${services.length === 1 ? '' : 's'}; latency and throughput are judged by the hour once a profile has covered 2 days and its hours differ${formatBaselines(services)}\n`);
      } finally {
        await store.close();
      }
    });
}
