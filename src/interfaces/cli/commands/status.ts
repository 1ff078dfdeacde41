/** `tswarm status`: what the memory store holds, per signal and per service. */
import type { Command } from 'commander';
import { addDbOption, printJson } from '../util.js';
import { openExistingStore } from '../store-access.js';

const iso = (us?: number): string => (us ? new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19) : '-');

export function register(program: Command): void {
  addDbOption(program.command('status').description('what is stored: spans, metrics, logs and errors per service, and the time span'))
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; json?: boolean }) => {
      const store = await openExistingStore(opts.db);
      try {
        const services = await store.telemetry.stats();
        const findings = await store.findings.list({ limit: 100_000 });
        const totals = services.reduce((a, s) => ({ spans: a.spans + s.spans, logs: a.logs + s.logs, metrics: a.metrics + s.metrics, errors: a.errors + s.errors }), { spans: 0, logs: 0, metrics: 0, errors: 0 });
        // Planned work in effect now or ahead: what the analysis is leaving out (a forgotten window hides incidents).
        const { maintenanceIn } = await import('../../../agents/maintenance-windows.js');
        const nowUs = Date.now() * 1000;
        const maintenance = await maintenanceIn(store, { fromUs: nowUs, toUs: Number.MAX_SAFE_INTEGER });
        if (opts.json) return printJson({ db: opts.db, backend: store.backend, totals, services, findings: findings.length, maintenance });
        const out: string[] = [`memory: ${opts.db} (${store.backend})`, `totals: ${totals.spans} spans, ${totals.metrics} metric points, ${totals.logs} logs, ${totals.errors} errors; ${findings.length} findings`];
        if (!services.length) out.push('no telemetry yet: run `tswarm serve` and point an OpenTelemetry SDK at it, or `tswarm ingest <files>`');
        else {
          const w = Math.max(7, ...services.map((s) => s.service.length));
          out.push('', `${'service'.padEnd(w)}  ${'spans'.padStart(9)}  ${'metrics'.padStart(9)}  ${'logs'.padStart(9)}  ${'errors'.padStart(7)}  first seen           last seen`);
          for (const s of services) out.push(`${s.service.padEnd(w)}  ${String(s.spans).padStart(9)}  ${String(s.metrics).padStart(9)}  ${String(s.logs).padStart(9)}  ${String(s.errors).padStart(7)}  ${iso(s.firstUs)}  ${iso(s.lastUs)}`);
        }
        if (maintenance.length) {
          const { coversPhrase, maintenanceCovers, maintenanceLine } = await import('../../../agents/feedback/maintenance-ops.js');
          const calls = await store.graph.edges({ kind: 'calls' });
          const lines = await Promise.all(maintenance.map(async (w) => `  ${w.fromUs <= nowUs ? 'now  ' : 'ahead'} ${maintenanceLine(w)}; left out: ${coversPhrase(w.service, await maintenanceCovers(store, w, calls))}`));
          out.push('', 'maintenance windows (left out of the analysis; `tswarm maintenance end <id>` when done):', ...lines);
        }
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        await store.close();
      }
    });
}
