/** `tswarm predict` (file-level defect risk) and `tswarm eval defects` (the model vs baselines on real histories). */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, printJson } from '../util.js';

export function register(program: Command): void {
  addDbOption(program.command('predict').description('rank source files by defect risk from git history and production errors'))
    .option('--repo <dir>', 'git repository', '.')
    .option('--history <file>', 'commit history file (JSON lines, optionally .gz) instead of the git CLI')
    .option('--target <dir>', 'only files under this path (e.g. src/)')
    .option('--since <version>', 'release to compare production error fingerprints against')
    .option('--top <n>', 'how many files', '20')
    .option('--json', 'print JSON')
    .action(async (o: { db: string; repo: string; history?: string; target?: string; since?: string; top: string; json?: boolean }) => {
      const { readGitRepo, readHistoryFile, HistoryError } = await import('../../../agents/detection/defect-history.js');
      const { predictRisk } = await import('../../../agents/detection/defect-predictor.js');
      const { existsSync } = await import('node:fs');
      let h;
      try {
        h = o.history ? readHistoryFile(o.history) : await readGitRepo(o.repo);
      } catch (e) {
        if (e instanceof HistoryError) throw new CliError(e.message, 2);
        throw e;
      }
      for (const w of h.warnings) process.stderr.write(`warning: ${w}\n`);
      let errors: import('../../../signals/model.js').ErrorEvent[] = [];
      if (existsSync(o.db)) {
        const { openStore } = await import('../../../store/open.js');
        const store = await openStore(o.db);
        errors = await store.telemetry.queryErrors({ limit: 100_000 });
        await store.close();
      }
      const risks = await predictRisk({ commits: h.commits, repoRoot: o.repo, target: o.target, errors, sinceVersion: o.since });
      const top = risks.slice(0, Number(o.top));
      if (o.json) return printJson(top);
      process.stdout.write(`${risks.length} source files scored from ${h.commits.length} commits${errors.length ? ` and ${errors.length} production errors` : ''}\n`);
      if (risks[0]?.basis === 'fix-score') {
        const days = h.commits.length ? Math.round((h.commits[h.commits.length - 1]!.time - h.commits[0]!.time) / 86400) : 0;
        process.stdout.write(`note: the history spans ${days} days, too short to train the model (it needs about a year: a 180-day window and the 180 days after it); ranked by the time-weighted bug-fix score (Rahman et al.), then recent churn; the percentages are the recent base rate\n`);
      }
      top.forEach((r, i) => process.stdout.write(`${String(i + 1).padStart(3)}. ${(100 * r.probability).toFixed(0).padStart(3)}%  ${r.file}${r.lines[0] ? `:${r.lines[0]}` : ''}\n       ${r.reasons.join('; ')}\n`));
    });

  commandGroup(program, 'eval', 'accuracy evaluations on public labelled benchmarks')
    .command('defects')
    .description('defect prediction on real histories: AUC, Recall@20%LOC, Precision@10 for the model and the baselines, over six cuts')
    .requiredOption('--history <files...>', 'history files (JSON lines, .gz ok)')
    .option('--loho', 'also leave-one-history-out: pick feature set, L2 strength and training windows on the other histories, score the held-out one')
    .option('--json', 'print JSON')
    .action(async (o: { history: string[]; loho?: boolean; json?: boolean }) => {
      const { readHistoryFile, HistoryError } = await import('../../../agents/detection/defect-history.js');
      const { evaluateHistory, isBaseline, leaveOneHistoryOut, meansByAge, LOHO_GRID } = await import('../../../agents/detection/defect-eval.js');
      const { basename } = await import('node:path');
      const results: Record<string, ReturnType<typeof evaluateHistory> & { warnings: string[] }> = {};
      for (const f of o.history) {
        try {
          const h = readHistoryFile(f);
          results[basename(f).replace(/\.jsonl(\.gz)?$/, '')] = { ...evaluateHistory(h.commits, 6, o.loho ? LOHO_GRID : []), warnings: h.warnings };
        } catch (e) {
          if (e instanceof HistoryError) throw new CliError(e.message, 2);
          throw e;
        }
      }
      // The grid variants of --loho are reported only through the leave-one-history-out lines.
      const methods = Object.keys(Object.values(results)[0]?.mean ?? {}).filter((m) => !m.startsWith('model: '));
      const overall = Object.fromEntries(methods.map((m) => {
        const xs = Object.values(results).map((r) => r.mean[m]!);
        return [m, { auc: xs.reduce((a, x) => a + x.auc, 0) / xs.length, recall20: xs.reduce((a, x) => a + x.recall20, 0) / xs.length, precision10: xs.reduce((a, x) => a + x.precision10, 0) / xs.length }];
      }));
      const bestBaseline = (k: 'auc' | 'recall20'): number => Object.values(results).reduce((a, r) => a + Math.max(...methods.filter(isBaseline).map((m) => r.mean[m]![k])), 0) / Object.keys(results).length;
      const loho = o.loho && Object.keys(results).length > 1 ? leaveOneHistoryOut(Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.mean]))) : undefined;
      const lohoMean = loho && { auc: loho.reduce((a, x) => a + x.auc, 0) / loho.length, recall20: loho.reduce((a, x) => a + x.recall20, 0) / loho.length };
      // Earlier and later cuts of each history: the model and each history's best baseline on that half, averaged.
      const byAge = Object.values(results).map((r) => meansByAge(r.cuts));
      const half = (k: 'earlier' | 'later'): { modelAuc: number; bestBaselineAuc: number } => ({
        modelAuc: byAge.reduce((a, h) => a + (h[k].model?.auc ?? NaN), 0) / byAge.length,
        bestBaselineAuc: byAge.reduce((a, h) => a + Math.max(...methods.filter(isBaseline).map((m) => h[k][m]?.auc ?? -Infinity)), 0) / byAge.length,
      });
      const split = { earlierCuts: half('earlier'), laterCuts: half('later') };
      const summary = { histories: Object.keys(results), overall, bestBaselineAuc: bestBaseline('auc'), bestBaselineRecall20: bestBaseline('recall20'), split, ...(loho ? { leaveOneHistoryOut: loho, leaveOneHistoryOutMean: lohoMean } : {}) };
      if (o.json) return printJson({ ...summary, results });
      for (const [name, r] of Object.entries(results)) {
        process.stdout.write(`${name}: ${r.cuts.length} cuts, ${Math.round(r.cuts.reduce((a, c) => a + c.files, 0) / Math.max(1, r.cuts.length))} files/cut\n`);
        for (const w of r.warnings) process.stdout.write(`  warning: ${w}\n`);
        for (const m of methods) process.stdout.write(`  ${m.padEnd(14)} AUC ${r.mean[m]!.auc.toFixed(3)}  R@20%LOC ${r.mean[m]!.recall20.toFixed(3)}  P@10 ${r.mean[m]!.precision10.toFixed(2)}\n`);
      }
      if (loho) {
        process.stdout.write('\nleave-one-history-out (grid: feature set × L2, picked on the other histories):\n');
        for (const x of loho) process.stdout.write(`  ${x.heldOut.padEnd(10)} picked ${x.picked.padEnd(14)} AUC ${x.auc.toFixed(3)}  R@20%LOC ${x.recall20.toFixed(3)}\n`);
        process.stdout.write(`  mean       AUC ${lohoMean!.auc.toFixed(3)}  R@20%LOC ${lohoMean!.recall20.toFixed(3)}\n`);
      }
      process.stdout.write(`\naverage: model AUC ${overall.model!.auc.toFixed(3)} (best baseline per history ${summary.bestBaselineAuc.toFixed(3)}), R@20%LOC ${overall.model!.recall20.toFixed(3)} (best baseline ${summary.bestBaselineRecall20.toFixed(3)})\n`);
      process.stdout.write(`earlier cuts (where choices are made): model AUC ${split.earlierCuts.modelAuc.toFixed(3)} vs ${split.earlierCuts.bestBaselineAuc.toFixed(3)}; later cuts (held out): ${split.laterCuts.modelAuc.toFixed(3)} vs ${split.laterCuts.bestBaselineAuc.toFixed(3)}\n`);
    });
}
