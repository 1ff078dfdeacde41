/** The defect-prediction evaluation protocol of issue 13: six cuts, 180-day label windows, model vs baselines. */
import { featuresAt, labelRows, FEATURE_NAMES, type Commit, type FileRow } from '../../algorithms/defects/features.js';
import { auc, precisionAtK, predict, recallAtLoc, trainLogistic } from '../../algorithms/defects/model.js';

const DAY = 86_400;
export const HORIZON_DAYS = 180;

export interface MethodScore {
  auc: number;
  recall20: number;
  precision10: number;
}

export interface CutResult {
  cut: string;
  files: number;
  positives: number;
  methods: Record<string, MethodScore>;
}

/** Stacked training rows from earlier cuts (features at t, labels in (t, t + horizon] — all before `cut`). */
export function trainingRows(commits: readonly Commit[], cut: number, windows = 5): FileRow[] {
  const rows: FileRow[] = [];
  for (let j = 1; j <= windows; j++) {
    const t = cut - j * HORIZON_DAYS * DAY;
    if (t <= (commits[0]?.time ?? 0) + 180 * DAY) break;
    rows.push(...labelRows(featuresAt(commits, t), commits.filter((c) => c.time <= cut), t, HORIZON_DAYS));
  }
  return rows;
}

const FEATURES_NO_PROD = FEATURE_NAMES.filter((f) => !f.startsWith('log_prod'));

export function evaluateCut(commits: readonly Commit[], cut: number): CutResult | undefined {
  const test = labelRows(featuresAt(commits, cut), commits, cut, HORIZON_DAYS);
  const train = trainingRows(commits, cut);
  if (test.length < 10 || !test.some((r) => r.label) || train.length < 10 || !train.some((r) => r.label)) return undefined;
  // Moderate L2 (λ = 30): stacked windows repeat files, so the effective sample is smaller than the row count.
  const model = trainLogistic(train, FEATURES_NO_PROD, 30);
  const p = test.map((r) => predict(model, r));
  const labels = test.map((r) => Boolean(r.label));
  const score = (s: number[], effort?: number[]): MethodScore => {
    const order = test.map((r, i) => ({ loc: r.loc, label: Boolean(r.label), s: s[i]!, e: (effort ?? s)[i]! }));
    const byScore = [...order].sort((a, b) => b.s - a.s);
    const byEffort = [...order].sort((a, b) => b.e - a.e);
    return { auc: auc(s, labels), recall20: recallAtLoc(byEffort), precision10: precisionAtK(byScore) };
  };
  const f = (name: string): number[] => test.map((r) => r.features[name] ?? 0);
  return {
    cut: new Date(cut * 1000).toISOString().slice(0, 10),
    files: test.length,
    positives: labels.filter(Boolean).length,
    methods: {
      // Effort-aware ranking by predicted defect density (risk per line): inspecting a small risky file costs less.
      model: score(p, p.map((x, i) => x / Math.max(10, test[i]!.loc))),
      loc: score(f('log_loc')),
      'recent churn': score(f('log_churn_90')),
      rahman: score(f('fix_score')),
      authors: score(f('log_authors')),
    },
  };
}

export function evaluateHistory(commits: readonly Commit[], cuts = 6): { cuts: CutResult[]; mean: Record<string, MethodScore> } {
  const last = commits[commits.length - 1]!.time;
  const results: CutResult[] = [];
  for (let k = 0; k < cuts; k++) {
    const cut = last - HORIZON_DAYS * DAY - k * 182.5 * DAY;
    const r = evaluateCut(commits, cut);
    if (r) results.push(r);
  }
  const mean: Record<string, MethodScore> = {};
  for (const m of Object.keys(results[0]?.methods ?? {})) {
    const xs = results.map((r) => r.methods[m]!);
    mean[m] = { auc: avg(xs.map((x) => x.auc)), recall20: avg(xs.map((x) => x.recall20)), precision10: avg(xs.map((x) => x.precision10)) };
  }
  return { cuts: results, mean };
}

const avg = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
