/** `tswarm rca` (root-cause analysis over memory or a case folder) and `tswarm eval rca` (AC@k on labelled cases). */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, printJson, progressBar } from '../util.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const CODE_FAULTS = /exception|bug|deploy|return/;

export function register(program: Command): void {
  addDbOption(program.command('rca').description('rank root-cause candidates of an incident, with the evidence chain'))
    .option('--symptoms <text...>', 'what was observed, e.g. "500 errors spike" "latency increase"')
    .option('--time-range <range>', 'e.g. "last 4 hours", "last 15m", or an ISO interval start/end', 'last 15m')
    .option('--case <dir>', 'analyse an incident case folder (RCAEval layout) instead of the memory store')
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; symptoms?: string[]; timeRange: string; case?: string; json?: boolean }) => {
      if (opts.case) {
        const { readRcaEvalCase, CaseError } = await import('../../../agents/detection/rca-cases.js');
        const { withTelemetry } = await import('../../../agents/detection/rca-eval.js');
        const { runRca, codeLocations } = await import('../../../agents/detection/rca-run.js');
        let c;
        try {
          c = await withTelemetry(readRcaEvalCase(opts.case));
        } catch (e) {
          if (e instanceof CaseError) throw new CliError(e.message, 2);
          throw e;
        }
        const r = runRca(c, { exclude: ['traffic', 'loadgenerator'], readAnnouncements: true });
        const code = codeLocations(r.errors);
        const out = { case: c.id, onsetS: r.onsetS, onsetEstimated: r.onsetEstimated, candidates: r.candidates.slice(0, 10), chain: r.chain, code };
        if (opts.json) return printJson(out);
        process.stdout.write(`root-cause candidates for ${c.id}:\n`);
        for (const x of r.candidates.slice(0, 5)) process.stdout.write(`  ${x.rank}. ${x.service.padEnd(24)} score ${x.score.toFixed(3)}  looks like: ${x.faultType}\n`);
        process.stdout.write('evidence:\n' + r.chain.map((s) => `  - ${s}`).join('\n') + '\n');
        for (const x of code) process.stdout.write(`code: ${x.file}:${x.line ?? '?'}${x.function ? ` in ${x.function}` : ''} (${x.n}× ${x.type} in ${x.service}: ${x.message.slice(0, 100)})\n`);
        return;
      }
      const { openExistingStore } = await import('../store-access.js');
      const { createSwarm } = await import('../../../agents/feedback/fleet-commander.js');
      const store = await openExistingStore(opts.db);
      try {
        const a = await createSwarm(store).rootCauseAnalyze({ incident: 'cli', symptoms: opts.symptoms, timeRange: opts.timeRange });
        if (opts.json) return printJson(a.data);
        process.stdout.write(a.summary + '\n');
        const f = (a.data.findings as { evidence: { chain?: string[] } }[])[0];
        if (f?.evidence.chain) process.stdout.write('evidence:\n' + f.evidence.chain.map((s) => `  - ${s}`).join('\n') + '\n');
      } finally {
        await store.close();
      }
    });

  commandGroup(program, 'eval', 'accuracy evaluations on public labelled benchmarks')
    .command('rca')
    .description('root-cause accuracy (AC@1, AC@3, AC@5, Avg@5) on labelled cases: RCAEval layout or Nezha')
    .requiredOption('--data <dir>', 'cases folder (RCAEval layout) or the Nezha folder')
    .option('--format <fmt>', 'rcaeval | nezha | auto', 'auto')
    .option('--out <file>', 'write every case\'s ranking as JSON {"<case>": ["svc", ...]}')
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; format: 'rcaeval' | 'nezha' | 'auto'; out?: string; json?: boolean }) => {
      const { existsSync, writeFileSync } = await import('node:fs');
      if (!existsSync(opts.data)) throw new CliError(`${opts.data}: no such directory`, 2);
      const { loadCases, evaluate } = await import('../../../agents/detection/rca-eval.js');
      const { CaseError } = await import('../../../agents/detection/rca-cases.js');
      let loaded;
      try {
        loaded = await loadCases(opts.data, opts.format);
      } catch (e) {
        if (e instanceof CaseError) throw new CliError(e.message, 2);
        throw e;
      }
      if (!loaded.cases.length) throw new CliError(`${opts.data}: no readable cases${loaded.broken.length ? ` (${loaded.broken.length} broken)` : ''}`, 2);
      const bar = progressBar();
      bar.start(loaded.cases.length, '');
      const r = await evaluate(loaded.cases, { onCase: (i, _n, id) => bar.update(i, id) });
      bar.stop();
      if (opts.out) writeFileSync(opts.out, JSON.stringify(Object.fromEntries(r.rows.map((x) => [x.id, x.ranking])), null, 1));
      // Code-level faults (an exception, a wrong answer, a bad release): does the top candidate's evidence name a
      // file and line?
      const codeRows = r.rows.filter((x) => CODE_FAULTS.test(x.fault));
      const code = { cases: codeRows.length, named: codeRows.filter((x) => x.code).length, locations: Object.fromEntries(codeRows.map((x) => [x.id, x.code ?? null])) };
      const report = { data: opts.data, cases: r.cases, broken: loaded.broken, overall: r.overall, bySystem: r.bySystem, byFault: r.byFault, code, meanMsPerCase: +r.meanMs.toFixed(1) };
      if (opts.json) return printJson(report);
      const line = (name: string, a: { cases: number; ac1: number; ac3: number; ac5: number; avg5: number }): string => `${name.padEnd(22)} ${String(a.cases).padStart(4)}  AC@1 ${pct(a.ac1).padStart(6)}  AC@3 ${pct(a.ac3).padStart(6)}  AC@5 ${pct(a.ac5).padStart(6)}  Avg@5 ${pct(a.avg5).padStart(6)}`;
      const out = [line('overall', r.overall), '', ...Object.entries(r.bySystem).map(([k, v]) => line(k, v)), '', ...Object.entries(r.byFault).map(([k, v]) => line(k, v)), '', `${r.meanMs.toFixed(1)} ms per case`];
      if (code.named) {
        out.push('', `code location named for ${code.named} of ${code.cases} code-level cases:`);
        for (const [id, loc] of Object.entries(code.locations)) out.push(`  ${id.padEnd(28)} ${loc ?? '-'}`);
      }
      for (const b of loaded.broken) out.push(`broken case ${b.path}: ${b.error}`);
      process.stdout.write(out.join('\n') + '\n');
    });
}
