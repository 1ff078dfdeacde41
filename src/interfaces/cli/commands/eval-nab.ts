/**
 * `tswarm eval nab`: the streaming detector on NAB's 58 series, scored the NAB way (three profiles, threshold
 * chosen per profile). `--out DIR` writes NAB-format result files; `--scores DIR|reference:<detector>` scores
 * existing results instead of running the detector (to check the scorer against the published scoreboard).
 */
import type { Command } from 'commander';
import { CliError, commandGroup, printJson } from '../util.js';

export function register(program: Command): void {
  commandGroup(program, 'eval', 'accuracy evaluations on public labelled benchmarks')
    .command('nab')
    .description('anomaly detection on the Numenta Anomaly Benchmark: standard, low-FP and low-FN scores')
    .requiredOption('--data <dir>', 'the NAB folder (e.g. ../shared/data/nab)')
    .option('--out <dir>', 'write per-series results in NAB results-file format (timestamp,value,anomaly_score,label)')
    .option('--scores <src>', 'score existing results: a folder of NAB result files, or reference:<detector>')
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; out?: string; scores?: string; json?: boolean }) => {
      const { existsSync, mkdirSync, writeFileSync, readFileSync, readdirSync } = await import('node:fs');
      const { join, dirname, basename } = await import('node:path');
      const { loadCorpus, loadReferenceScores } = await import('../../../algorithms/nab/data.js');
      const { prepare, optimiseThreshold, corpusScore, round12 } = await import('../../../algorithms/nab/scorer.js');
      const { scoreSeries } = await import('../../../algorithms/anomaly/detector.js');
      if (!existsSync(opts.data)) throw new CliError(`${opts.data}: no such directory`, 2);
      const corpus = loadCorpus(opts.data);
      const files = corpus.map(prepare);
      let scores: Map<string, ArrayLike<number>>;
      let detector = 'tswarm';
      const t0 = performance.now();
      if (opts.scores?.startsWith('reference:')) {
        detector = opts.scores.slice(10);
        scores = loadReferenceScores(opts.data, detector);
      } else if (opts.scores) {
        scores = new Map();
        for (const c of corpus) {
          const folder = dirname(c.name);
          const dir = join(opts.scores, folder);
          const f = existsSync(dir) ? readdirSync(dir).find((x) => x.endsWith(`_${basename(c.name)}`)) : undefined;
          if (!f) throw new CliError(`${opts.scores}: no result file for ${c.name}`, 2);
          const lines = readFileSync(join(dir, f), 'utf8').trim().split('\n');
          const header = lines[0]!.split(',');
          const col = header.indexOf('anomaly_score');
          if (col < 0) throw new CliError(`${join(dir, f)}: no anomaly_score column`, 2);
          scores.set(c.name, lines.slice(1).map((l) => round12(Number(l.split(',')[col]))));
        }
        detector = basename(opts.scores);
      } else {
        scores = new Map(corpus.map((c) => [c.name, scoreSeries(c.values)]));
      }
      const ms = performance.now() - t0;
      const profiles = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
      const results = profiles.map((p) => optimiseThreshold(files, scores, p));
      if (opts.out) {
        const std = results[0]!;
        for (const c of corpus) {
          const s = scores.get(c.name)!;
          const dir = join(opts.out, detector, dirname(c.name));
          mkdirSync(dir, { recursive: true });
          const p = files.find((f) => f.name === c.name)!;
          const rows = ['timestamp,value,anomaly_score,label'];
          for (let i = 0; i < c.values.length; i++) rows.push(`${new Date(c.times[i]!).toISOString().replace('T', ' ').slice(0, 19)},${c.values[i]},${s[i]},${p.windowOf[i]! >= 0 ? 1 : 0}`);
          writeFileSync(join(dir, `${detector}_${basename(c.name)}`), rows.join('\n') + '\n');
        }
        writeFileSync(join(opts.out, `${detector}_thresholds.json`), JSON.stringify(Object.fromEntries(results.map((r) => [r.profile, { threshold: r.threshold, score: r.score }])), null, 2));
        void std;
      }
      const points = corpus.reduce((a, c) => a + c.values.length, 0);
      const report = { detector, series: corpus.length, points, pointsPerSec: opts.scores ? undefined : Math.round(points / (ms / 1000)), scores: Object.fromEntries(results.map((r) => [r.profile, { score: +r.score.toFixed(3), threshold: +r.threshold.toFixed(5), tp: r.tp, fp: r.fp, fn: r.fn }])) };
      void corpusScore;
      if (opts.json) return printJson(report);
      process.stdout.write(`NAB ${detector}: ${corpus.length} series, ${points.toLocaleString()} points${report.pointsPerSec ? ` (${report.pointsPerSec.toLocaleString()} points/s)` : ''}\n`);
      for (const r of results) process.stdout.write(`  ${r.profile.padEnd(20)} ${r.score.toFixed(2).padStart(7)}  (threshold ${r.threshold.toFixed(4)}; ${r.tp} TP windows, ${r.fn} missed, ${r.fp} FP rows)\n`);
    });
}
