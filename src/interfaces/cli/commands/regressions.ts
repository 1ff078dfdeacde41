/** `tswarm regressions`: change points in a benchmark history (CSV or JSON lines), Otava-style. */
import type { Command } from 'commander';
import { CliError, printJson } from '../util.js';

export function register(program: Command): void {
  program
    .command('regressions')
    .description('find lasting changes in a benchmark history (CSV with a header, or JSON lines; one row per run) and name the run each starts at')
    .argument('<file>', 'the history file (.csv, or .jsonl / .ndjson)')
    .option('--higher-is-better <metrics>', 'comma-separated metric columns where a rise is an improvement (default: names ending in /s, ps, ops, throughput, rate)')
    .option('--min-change <share>', 'smallest relative change of the mean to report', '0.05')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { higherIsBetter?: string; minChange: string; json?: boolean }) => {
      const { existsSync, readFileSync } = await import('node:fs');
      if (!existsSync(file)) throw new CliError(`${file}: no such file`, 2);
      const text = readFileSync(file, 'utf8');
      const rows = /\.(jsonl|ndjson)$/i.test(file) || /^\s*\{/.test(text) ? jsonLines(file, text) : await csvRows(file, text);
      if (rows.length < 8) throw new CliError(`${file}: ${rows.length} runs; a change point needs at least 8 (3 on each side and a test)`, 2);
      const minMagnitude = Number(o.minChange);
      if (!(minMagnitude >= 0)) throw new CliError(`--min-change must be a non-negative number, got ${o.minChange}`, 2);
      const named = o.higherIsBetter?.split(',').map((s) => s.trim()).filter(Boolean);
      const { analyseHistory } = await import('../../../algorithms/perf/bench-history.js');
      const r = analyseHistory(rows, { minMagnitude, ...(named ? { higherIsBetter: (m: string) => named.includes(m) } : {}) });
      if (!r.metrics.length) throw new CliError(`${file}: no numeric metric columns (columns: ${r.labels.join(', ')})`, 2);
      if (o.json) return printJson(r);
      process.stdout.write(`${r.rows} runs, metrics: ${r.metrics.join(', ')}\n`);
      if (!r.changes.length) process.stdout.write('no significant lasting change\n');
      for (const c of r.changes) {
        const at = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(' ') || `row ${c.row + 1}`;
        process.stdout.write(`${c.regression ? 'REGRESSION' : 'improvement'}  ${c.metric}: ${fmt(c.before)} → ${fmt(c.after)} (${c.magnitude >= 0 ? '+' : ''}${(100 * c.magnitude).toFixed(1)}%, p = ${c.pValue.toFixed(3)}) from run ${c.row + 1} (${at})\n`);
      }
    });
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4));

function jsonLines(file: string, text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new CliError(`${file}:${i + 1}: not JSON (${(e as Error).message})`, 2);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(`${file}:${i + 1}: expected one JSON object per line`, 2);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

async function csvRows(file: string, text: string): Promise<Record<string, unknown>[]> {
  const { parse } = await import('csv-parse/sync');
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, unknown>[];
  } catch (e) {
    throw new CliError(`${file}: not a CSV with a header row (${(e as Error).message})`, 2);
  }
}
