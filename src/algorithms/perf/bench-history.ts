/**
 * Regressions in benchmark histories, the way Apache Otava (Hunter) reads a CI's results: rows in run order (one
 * per commit or run), a few label columns (time, commit, branch…) and numeric metric columns; each metric column
 * goes through the energy change-point search (changepoint.ts) on its own, and every change is reported with the
 * row it starts at, its labels, the means before and after and the permutation test's p-value.
 *
 * Input rows come from CSV (header row) or JSON lines (one object per run); parsing is the caller's (CSV needs a
 * parser, JSON lines do not), this module gets the rows. A column is a metric when every non-empty value in it
 * is a number; a column named like a time (`time`, `timestamp`, `date`) orders the rows when present.
 */
import { changePoints } from './changepoint.js';

export type Row = Record<string, unknown>;

export interface HistoryChange {
  metric: string;
  /** Row index (in time order) where the new level starts. */
  row: number;
  labels: Record<string, string>;
  before: number;
  after: number;
  /** (after − before) / |before|. */
  magnitude: number;
  pValue: number;
  /** Whether the change is for the worse, given the metric's direction (higher is worse unless `higherIsBetter`). */
  regression: boolean;
}

export interface HistoryAnalysis {
  rows: number;
  metrics: string[];
  labels: string[];
  changes: HistoryChange[];
}

const TIME = /^(time|timestamp|date|datetime|ts)$/i;

const asNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

/**
 * The change points of every metric column. `higherIsBetter` names metrics where a rise is an improvement
 * (throughput, ops/s); by default a name ending in `/s`, `ps`, `ops`, `throughput` or `rate` counts as such.
 */
export function analyseHistory(input: readonly Row[], opts: { higherIsBetter?: (metric: string) => boolean; minMagnitude?: number; alpha?: number } = {}): HistoryAnalysis {
  const cols = [...new Set(input.flatMap((r) => Object.keys(r)))];
  const timeCol = cols.find((c) => TIME.test(c));
  const rows = timeCol ? [...input].sort((a, b) => timeValue(a[timeCol]) - timeValue(b[timeCol])) : [...input];
  const isMetric = (c: string): boolean => c !== timeCol && rows.some((r) => asNumber(r[c]) !== undefined) && rows.every((r) => r[c] === undefined || r[c] === null || r[c] === '' || asNumber(r[c]) !== undefined);
  const metrics = cols.filter(isMetric);
  const labels = cols.filter((c) => !metrics.includes(c));
  const better = opts.higherIsBetter ?? ((m: string) => /(\/s|ps|ops|throughput|rate)$/i.test(m));
  const changes: HistoryChange[] = [];
  for (const m of metrics) {
    const idx = rows.map((r, i) => [asNumber(r[m]), i] as const).filter((x): x is readonly [number, number] => x[0] !== undefined);
    if (idx.length < 8) continue;
    for (const cp of changePoints(idx.map(([v]) => v), { minSize: 3, alpha: opts.alpha ?? 0.01, minMagnitude: opts.minMagnitude ?? 0.05 })) {
      const row = idx[cp.index]![1];
      const lab: Record<string, string> = {};
      for (const l of labels) if (rows[row]![l] !== undefined && rows[row]![l] !== null) lab[l] = String(rows[row]![l]);
      changes.push({ metric: m, row, labels: lab, before: cp.before, after: cp.after, magnitude: cp.magnitude, pValue: cp.pValue, regression: better(m) ? cp.magnitude < 0 : cp.magnitude > 0 });
    }
  }
  changes.sort((a, b) => a.row - b.row || a.metric.localeCompare(b.metric));
  return { rows: rows.length, metrics, labels, changes };
}

function timeValue(v: unknown): number {
  const n = asNumber(v);
  if (n !== undefined) return n;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : 0;
}
