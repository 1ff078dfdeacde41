/**
 * `tswarm eval loghub`: scores the template miner on Loghub-2k (16 systems x 2,000 labelled lines) against one of
 * three ground truths and prints GA, FGA, PA, FTA per dataset, their averages and lines/s.
 */
import type { Command } from 'commander';
import { CliError, commandGroup, printJson } from '../util.js';

interface Opts {
  data: string;
  truth: string;
  json?: boolean;
  out?: string;
  datasets?: string;
}

export function register(program: Command): void {
  commandGroup(program, 'eval', 'accuracy evaluations on public labelled benchmarks')
    .command('loghub')
    .description('log template mining accuracy on Loghub-2k: GA, FGA, PA, FTA per dataset and averages')
    .requiredOption('--data <dir>', 'loghub-2k folder (e.g. ../shared/data/loghub-2k)')
    .option('--truth <name>', 'ground truth: corrected | original | loghub2', 'corrected')
    .option('--datasets <list>', 'comma-separated subset of datasets (default: all present)')
    .option('--out <dir>', "also write each dataset's assignments as <Name>.csv (LineId,EventTemplate)")
    .option('--json', 'print JSON')
    .action(async (opts: Opts) => {
      const { existsSync, readFileSync, mkdirSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { parse } = await import('csv-parse/sync');
      const ev = await import('../../../algorithms/logs/loghub-eval.js');
      const { mineAll } = await import('../../../algorithms/logs/miner.js');

      if (!ev.TRUTHS.includes(opts.truth as never)) throw new CliError(`--truth must be one of ${ev.TRUTHS.join(', ')}, got "${opts.truth}"`, 2);
      const truth = opts.truth as (typeof ev.TRUTHS)[number];
      if (!existsSync(opts.data)) throw new CliError(`--data folder not found: ${opts.data}`, 2);
      const wanted = opts.datasets ? opts.datasets.split(',').map((s) => s.trim()).filter(Boolean) : [...ev.LOGHUB_DATASETS];
      for (const w of wanted) {
        if (!(ev.LOGHUB_DATASETS as readonly string[]).includes(w)) throw new CliError(`unknown dataset "${w}" (known: ${ev.LOGHUB_DATASETS.join(', ')})`, 2);
      }
      if (opts.out) mkdirSync(opts.out, { recursive: true });

      const rows: ({ dataset: string; linesPerSec: number } & ReturnType<typeof ev.scoreParsing>)[] = [];
      let totalLines = 0;
      let totalMs = 0;
      for (const name of wanted) {
        const file = join(opts.data, name, ev.structuredFile(name, truth));
        if (!existsSync(file)) continue; // loghub2 has no Android/Windows
        let records: string[][];
        try {
          records = parse(readFileSync(file, 'utf8'), { relax_column_count: true, bom: true }) as string[][];
        } catch (err) {
          throw new CliError(`cannot parse ${file}: ${err instanceof Error ? err.message : String(err)}`);
        }
        const lab = ev.labelledFromRows(records, truth);
        const t0 = performance.now();
        const { templates } = mineAll(lab.contents);
        const ms = performance.now() - t0;
        totalLines += lab.contents.length;
        totalMs += ms;
        const s = ev.scoreParsing({ trueGroup: lab.groups, trueTemplate: lab.templates, parsedGroup: templates, parsedTemplate: templates });
        rows.push({ dataset: name, ...s, linesPerSec: Math.round(lab.contents.length / (ms / 1000)) });
        if (opts.out) writeFileSync(join(opts.out, `${name}.csv`), ev.assignmentsCsv(lab.lineIds, templates));
      }
      if (rows.length === 0) throw new CliError(`no ${truth} ground truth files found under ${opts.data}`);
      const avg = ev.averageScores(rows);
      const linesPerSec = Math.round(totalLines / (totalMs / 1000));
      if (opts.json) {
        printJson({ eval: 'loghub', truth, datasets: rows, average: avg, lines: totalLines, linesPerSec });
        return;
      }
      const f = (x: number): string => x.toFixed(3);
      const out: string[] = [`Loghub-2k, ${truth} truth (one configuration for all datasets)`, 'dataset        GA     FGA    PA     FTA    templates(true/parsed)  lines/s'];
      for (const r of rows) {
        out.push(`${r.dataset.padEnd(13)}  ${f(r.ga)}  ${f(r.fga)}  ${f(r.pa)}  ${f(r.fta)}  ${`${r.trueGroups}/${r.parsedGroups}`.padEnd(22)}  ${r.linesPerSec}`);
      }
      out.push(`${'average'.padEnd(13)}  ${f(avg.ga)}  ${f(avg.fga)}  ${f(avg.pa)}  ${f(avg.fta)}  ${''.padEnd(22)}  ${linesPerSec}`);
      process.stdout.write(out.join('\n') + '\n');
    });
}
