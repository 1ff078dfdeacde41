/**
 * A ranking loss for the defect model (sixth round for issue 13): AUC only asks that fixed files score above
 * unfixed ones of the same period, so fit that directly — a pairwise logistic loss (RankNet, the smooth AUC
 * surrogate) over every (positive, negative) pair of the SAME training window, optionally blended with the
 * pointwise window-intercept logistic loss of model.ts: (1 − mix) · pointwise + mix · pairwise + λ/2 ‖β‖².
 * Within a window the window intercepts cancel, so the pairwise part needs none.
 *
 * All pairs, no subsampling: the pairwise gradient and Hessian factor through per-row sums (Σ_ij a_ij (z_i − z_j)
 * (z_i − z_j)ᵀ = Σ_i a_i· z_i z_iᵀ + Σ_j a_·j z_j z_jᵀ − (Z_Pᵀ A Z_N + its transpose)), so a Newton step costs
 * P·N·d per window instead of P·N·d².
 *
 * Pair weights: w_i · w_j (the row weights of repeated-rows.ts), scaled so that each window's pairs weigh as much
 * as its rows ('window') or all pairs as much as all rows ('global'), which keeps λ comparable with the pointwise
 * model. `recency` γ weights window k (0 = most recent) by γ^k before the weights are scaled to mean 1.
 * A pure pairwise fit has no intercept: its scores are calibrated by Platt scaling on the most recent window.
 */
import type { FileRow } from './features.js';
import type { Model } from './model.js';

export interface RankingOptions {
  /** Share of the pairwise loss: 0 = the pointwise window-intercept model, 1 = pairwise only. */
  mix: number;
  lambda: number;
  /** Row weights, window by window (repeated-rows.ts). */
  weights?: readonly (readonly number[])[];
  /** Window k weighted recency^k (1 = none). */
  recency?: number;
  pairNorm?: 'window' | 'global';
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-Math.max(-30, Math.min(30, z))));
/** log(1 + e^x) without overflow. */
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** The standardised design and everything the objective needs; columns: features, window indicators 1..K−1, bias. */
export interface RankingProblem {
  d: number;
  D: number;
  Z: Float64Array[];
  y: number[];
  w: number[];
  pairs: { P: number[]; N: number[]; c: number }[];
  mix: number;
  lambda: number;
  mean: number[];
  std: number[];
}

export function rankingProblem(windows: readonly (readonly FileRow[])[], features: readonly string[], o: RankingOptions): RankingProblem {
  const K = windows.length;
  const d = features.length;
  const D = d + K; // features, K − 1 indicators, bias
  const rows = windows.flatMap((win, k) => win.map((r) => ({ r, k })));
  const n = rows.length;
  const flat = o.weights?.flat();
  let w = rows.map(({ k }, i) => Math.pow(o.recency ?? 1, k) * (flat?.[i] ?? 1));
  const wm = w.reduce((a, b) => a + b, 0) / Math.max(1, n) || 1;
  w = w.map((x) => x / wm);
  // Standardised over the stacked rows, indicators included, exactly as trainLogisticByWindow does, so mix = 0
  // is that model.
  const raw = rows.map(({ r, k }) => {
    const x = new Array<number>(D - 1).fill(0);
    features.forEach((f, j) => (x[j] = r.features[f] ?? 0));
    if (k > 0) x[d + k - 1] = 1;
    return x;
  });
  const mean = new Array<number>(D - 1).fill(0);
  const std = new Array<number>(D - 1).fill(0);
  for (const x of raw) for (let j = 0; j < D - 1; j++) mean[j]! += x[j]! / Math.max(1, n);
  for (const x of raw) for (let j = 0; j < D - 1; j++) std[j]! += (x[j]! - mean[j]!) ** 2 / Math.max(1, n);
  for (let j = 0; j < D - 1; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const Z = raw.map((x) => {
    const z = new Float64Array(D);
    for (let j = 0; j < D - 1; j++) z[j] = (x[j]! - mean[j]!) / std[j]!;
    z[D - 1] = 1;
    return z;
  });
  const y = rows.map(({ r }) => (r.label ? 1 : 0));
  const pairs: RankingProblem['pairs'] = [];
  let allPairs = 0;
  for (let k = 0, off = 0; k < K; off += windows[k]!.length, k++) {
    const P: number[] = [];
    const N: number[] = [];
    for (let i = off; i < off + windows[k]!.length; i++) (y[i] ? P : N).push(i);
    const wp = P.reduce((a, i) => a + w[i]!, 0);
    const wn = N.reduce((a, i) => a + w[i]!, 0);
    allPairs += wp * wn;
    pairs.push({ P, N, c: wp && wn ? (wp + wn) / (wp * wn) : 0 });
  }
  if (o.pairNorm === 'global') for (const p of pairs) p.c = allPairs ? w.reduce((a, b) => a + b, 0) / allPairs : 0;
  return { d, D, Z, y, w, pairs, mix: o.mix, lambda: o.lambda, mean, std };
}

/** Loss, gradient and (when asked) Hessian at β (length D, bias last). */
export function rankingObjective(p: RankingProblem, beta: ArrayLike<number>, hessian = true): { loss: number; grad: Float64Array; hess?: Float64Array[] } {
  const { d, D, Z, y, w, mix } = p;
  const g = new Float64Array(D);
  const H = hessian ? Array.from({ length: D }, () => new Float64Array(D)) : undefined;
  const s = Z.map((z) => {
    let v = 0;
    for (let j = 0; j < D; j++) v += beta[j]! * z[j]!;
    return v;
  });
  let loss = 0;
  if (mix < 1) {
    for (let i = 0; i < Z.length; i++) {
      const q = sigmoid(s[i]!);
      loss += (1 - mix) * w[i]! * (y[i] ? softplus(-s[i]!) : softplus(s[i]!));
      const r = (1 - mix) * w[i]! * (q - y[i]!);
      const v = (1 - mix) * w[i]! * q * (1 - q);
      const z = Z[i]!;
      for (let j = 0; j < D; j++) {
        g[j]! += r * z[j]!;
        if (H) {
          const vz = v * z[j]!;
          const Hj = H[j]!;
          for (let k = 0; k <= j; k++) Hj[k]! += vz * z[k]!;
        }
      }
    }
  }
  if (mix > 0) {
    // Feature columns only: a window's indicators and the bias are the same for both rows of its pairs.
    for (const { P, N, c } of p.pairs) {
      if (!c) continue;
      const rowG = new Float64Array(P.length);
      const colG = new Float64Array(N.length);
      const rowA = new Float64Array(P.length);
      const colA = new Float64Array(N.length);
      const M = H ? P.map(() => new Float64Array(d)) : [];
      P.forEach((i, a) => {
        for (let b = 0; b < N.length; b++) {
          const j = N[b]!;
          const u = s[i]! - s[j]!;
          const aij = mix * c * w[i]! * w[j]!;
          const q = sigmoid(-u);
          loss += aij * softplus(-u);
          rowG[a]! -= aij * q;
          colG[b]! -= aij * q;
          if (H) {
            const A = aij * q * (1 - q);
            rowA[a]! += A;
            colA[b]! += A;
            const zj = Z[j]!;
            const Ma = M[a]!;
            for (let t = 0; t < d; t++) Ma[t]! += A * zj[t]!;
          }
        }
      });
      P.forEach((i, a) => {
        const z = Z[i]!;
        for (let j = 0; j < d; j++) {
          g[j]! += rowG[a]! * z[j]!;
          if (H) {
            const Hj = H[j]!;
            const v = rowA[a]! * z[j]!;
            const Ma = M[a]!;
            for (let k = 0; k <= j; k++) Hj[k]! += v * z[k]! - (z[j]! * Ma[k]! + z[k]! * Ma[j]!);
          }
        }
      });
      N.forEach((i, b) => {
        const z = Z[i]!;
        for (let j = 0; j < d; j++) {
          g[j]! -= colG[b]! * z[j]!;
          if (H) {
            const Hj = H[j]!;
            const v = colA[b]! * z[j]!;
            for (let k = 0; k <= j; k++) Hj[k]! += v * z[k]!;
          }
        }
      });
    }
  }
  for (let j = 0; j < D; j++) {
    const l = j < D - 1 ? p.lambda : 1e-6;
    loss += (l / 2) * beta[j]! ** 2;
    g[j]! += l * beta[j]!;
    if (H) H[j]![j]! += l;
  }
  if (H) for (let j = 0; j < D; j++) for (let k = 0; k < j; k++) H[k]![j] = H[j]![k]!;
  return { loss, grad: g, hess: H };
}

function solve(a: readonly Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const m = a.map((r, i) => {
    const x = new Float64Array(n + 1);
    x.set(r);
    x[n] = b[i]!;
    return x;
  });
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
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / (m[r]![r]! || 1e-12);
  }
  return x;
}

/** Newton's method on the blended loss; the model scores rows like model.ts's (most recent window's intercept). */
export function trainRankingByWindow(windows: readonly (readonly FileRow[])[], features: readonly string[], o: RankingOptions): Model {
  const p = rankingProblem(windows, features, o);
  const beta = new Float64Array(p.D);
  let at = rankingObjective(p, beta);
  for (let it = 0; it < 30; it++) {
    const step = solve(at.hess!, at.grad);
    // Newton with step halving: near-separable pairs with a weak penalty can overshoot a full step.
    let t = 1;
    let next = beta.map((b, j) => b - step[j]!);
    let there = rankingObjective(p, next);
    while (there.loss > at.loss && t > 1e-4) {
      t /= 2;
      next = beta.map((b, j) => b - t * step[j]!);
      there = rankingObjective(p, next);
    }
    const most = Math.max(...step.map((x) => Math.abs(t * x)));
    beta.set(next);
    at = there;
    if (most < 1e-6) break;
  }
  const { d, D, mean, std } = p;
  const weights = Array.from(beta.slice(0, d));
  const m = { features: [...features], mean: mean.slice(0, d), std: std.slice(0, d), weights };
  if (o.mix < 1) {
    // Prediction rows have every indicator at 0 (the most recent window): fold the indicators into the bias.
    let bias = beta[D - 1]!;
    for (let j = d; j < D - 1; j++) bias -= (beta[j]! * mean[j]!) / std[j]!;
    return { ...m, bias };
  }
  // Platt scaling on the most recent window: σ(a · score + b), with Platt's smoothed targets so that a window
  // the scores separate does not send the slope to infinity.
  const score = windows[0]!.map((r) => features.reduce((s, f, j) => s + (weights[j]! * ((r.features[f] ?? 0) - mean[j]!)) / std[j]!, 0));
  const pos = windows[0]!.filter((r) => r.label).length;
  const neg = windows[0]!.length - pos;
  const y = windows[0]!.map((r) => (r.label ? (pos + 1) / (pos + 2) : 1 / (neg + 2)));
  const plattLoss = (a: number, b: number): number => score.reduce((l, x, i) => l + y[i]! * softplus(-(a * x + b)) + (1 - y[i]!) * softplus(a * x + b), 0);
  let a = 1;
  let b = 0;
  for (let it = 0; it < 50; it++) {
    let ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
    score.forEach((x, i) => {
      const q = sigmoid(a * x + b);
      const v = q * (1 - q);
      ga += (q - y[i]!) * x;
      gb += q - y[i]!;
      haa += v * x * x;
      hab += v * x;
      hbb += v;
    });
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let t = 1;
    const before = plattLoss(a, b);
    while (plattLoss(a - t * da, b - t * db) > before && t > 1e-4) t /= 2;
    a -= t * da;
    b -= t * db;
    if (t * (Math.abs(da) + Math.abs(db)) < 1e-9) break;
  }
  return { ...m, weights: weights.map((x) => x * a), bias: b };
}
