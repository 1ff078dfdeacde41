/**
 * The defect-risk model: L2-regularised logistic regression on standardised features, fitted by Newton's method
 * (IRLS) — a few dozen features, a few thousand rows, so an exact second-order fit takes milliseconds and gives
 * calibrated probabilities and coefficients a person can read. Written here rather than pulled from npm because
 * the per-file explanation needs the standardisation and coefficients in our hands, and the whole thing is ~80
 * lines with no numeric subtleties beyond a 17×17 solve.
 *
 * Also: the evaluation metrics — AUC-ROC (Mann-Whitney), effort-aware Recall@20%LOC and Precision@k.
 */
import type { FileRow } from './features.js';

export interface Model {
  features: string[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]! || 1e-12;
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / piv;
      if (f) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / (m[r]![r]! || 1e-12);
  }
  return x;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-Math.max(-30, Math.min(30, z))));

export function trainLogistic(rows: readonly FileRow[], features: readonly string[], lambda = 1, weights?: readonly number[]): Model {
  const d = features.length;
  const X = rows.map((r) => features.map((f) => r.features[f] ?? 0));
  const mean = features.map((_, j) => X.reduce((a, x) => a + x[j]!, 0) / Math.max(1, X.length));
  const std = features.map((_, j) => Math.sqrt(X.reduce((a, x) => a + (x[j]! - mean[j]!) ** 2, 0) / Math.max(1, X.length)) || 1);
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / std[j]!));
  const y = rows.map((r) => (r.label ? 1 : 0));
  let w = new Array<number>(d + 1).fill(0); // last = bias
  for (let it = 0; it < 25; it++) {
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    const g = new Array<number>(d + 1).fill(0);
    for (let i = 0; i < Z.length; i++) {
      const z = Z[i]!;
      let s = w[d]!;
      for (let j = 0; j < d; j++) s += w[j]! * z[j]!;
      const p = sigmoid(s);
      const wi = weights?.[i] ?? 1;
      const r = (p - y[i]!) * wi;
      const v = p * (1 - p) * wi;
      for (let j = 0; j <= d; j++) {
        const zj = j === d ? 1 : z[j]!;
        g[j]! += r * zj;
        for (let k = 0; k <= j; k++) H[j]![k]! += v * zj * (k === d ? 1 : z[k]!);
      }
    }
    for (let j = 0; j <= d; j++) for (let k = 0; k < j; k++) H[k]![j] = H[j]![k]!;
    for (let j = 0; j < d; j++) {
      g[j]! += lambda * w[j]!;
      H[j]![j]! += lambda;
    }
    H[d]![d]! += 1e-6;
    const step = solve(H, g);
    w = w.map((x, j) => x - step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-6) break;
  }
  return { features: [...features], mean, std, weights: w.slice(0, d), bias: w[d]! };
}

/**
 * Logistic regression on stacked training windows with one intercept per window (fixed effects, as in a
 * conditional / stratified logit). Why: the windows' base rates differ wildly — one bug-fix sweep touching 300
 * files turns a window's positive rate from 10% into 70% — and a single shared intercept lets the features soak
 * up that between-window difference (size and activity look "riskier" in the sweep window). With a window
 * intercept each window only contributes the within-window contrast between files, which is exactly what the
 * ranking at the next cut needs. The returned model carries the most recent window's (windows[0]) intercept.
 * `weights` gives each row its weight, window by window (repeated-rows.ts); unweighted without.
 */
export function trainLogisticByWindow(windows: readonly (readonly FileRow[])[], features: readonly string[], lambda = 1, weights?: readonly (readonly number[])[]): Model {
  const ind = windows.map((_, k) => `__window_${k}`).slice(1);
  const rows = windows.flatMap((w, k) => w.map((r) => ({ ...r, features: { ...r.features, ...Object.fromEntries(ind.map((n, j) => [n, j + 1 === k ? 1 : 0])) } })));
  const m = trainLogistic(rows, [...features, ...ind], lambda, weights?.flat());
  const d = features.length;
  // Prediction rows have every indicator at 0 (the most recent window): fold the indicators' terms into the bias.
  let bias = m.bias;
  for (let j = d; j < m.features.length; j++) bias -= (m.weights[j]! * m.mean[j]!) / m.std[j]!;
  return { features: m.features.slice(0, d), mean: m.mean.slice(0, d), std: m.std.slice(0, d), weights: m.weights.slice(0, d), bias };
}

export function predict(m: Model, row: FileRow): number {
  let s = m.bias;
  m.features.forEach((f, j) => (s += (m.weights[j]! * ((row.features[f] ?? 0) - m.mean[j]!)) / m.std[j]!));
  return sigmoid(s);
}

/** The features that pushed this file's risk up most (coefficient × standardised value), for the explanation. */
export function explain(m: Model, row: FileRow, k = 3): { feature: string; contribution: number; value: number }[] {
  return m.features
    .map((f, j) => ({ feature: f, contribution: (m.weights[j]! * ((row.features[f] ?? 0) - m.mean[j]!)) / m.std[j]!, value: row.features[f] ?? 0 }))
    .filter((x) => x.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, k);
}

export function auc(scores: readonly number[], labels: readonly boolean[]): number {
  const idx = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rank = 0;
  let sumPos = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && idx[j]![0] === idx[i]![0]) j++;
    const avg = (rank + 1 + rank + (j - i)) / 2;
    for (let k = i; k < j; k++) if (idx[k]![1]) {
      sumPos += avg;
      pos++;
    }
    rank += j - i;
    i = j;
  }
  const neg = idx.length - pos;
  return pos && neg ? (sumPos - (pos * (pos + 1)) / 2) / (pos * neg) : 0.5;
}

/** Files taken in rank order until 20% of all lines; the share of defective files found. */
export function recallAtLoc(ranked: readonly { loc: number; label: boolean }[], share = 0.2): number {
  const total = ranked.reduce((a, r) => a + r.loc, 0);
  const positives = ranked.filter((r) => r.label).length;
  if (!positives) return 0;
  let loc = 0;
  let found = 0;
  for (const r of ranked) {
    if (loc + r.loc > share * total) break;
    loc += r.loc;
    if (r.label) found++;
  }
  return found / positives;
}

export function precisionAtK(ranked: readonly { label: boolean }[], k = 10): number {
  const top = ranked.slice(0, k);
  return top.length ? top.filter((r) => r.label).length / top.length : 0;
}
