/**
 * Load analysis: k6-style thresholds, the Universal Scalability Law fit, the saturation knee and a Little's law
 * check. Pure.
 *
 * USL (Gunther): X(N) = λN / (1 + σ(N−1) + κN(N−1)). Dividing out gives N/X = (1/λ)[(1−σ) + (σ−κ)N + κN²], a
 * quadratic in N, so the fit is an ordinary least-squares polynomial fit — exact, no iterative optimiser, and
 * the standard way to fit USL (Gunther, "Guerrilla Capacity Planning").
 */

export interface Threshold {
  expr: string;
  metric: 'p' | 'avg' | 'min' | 'max' | 'med' | 'error_rate' | 'rate' | 'checks';
  percentile?: number;
  /** Only requests of this endpoint name (k6 tag filter). */
  tag?: string;
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

export class ThresholdError extends Error {}

export function parseThreshold(expr: string): Threshold {
  const m = /^\s*(p\((\d+(?:\.\d+)?)\)|avg|min|max|med|error_rate|rate|checks)\s*(?:\{([^}]*)\})?\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expr);
  if (!m) throw new ThresholdError(`cannot read threshold "${expr}" (e.g. "p(95)<300", "error_rate<0.01", "rate>=900", "p(99){GET /api/cart}<500", "checks>0.99")`);
  const metric = (m[1]!.startsWith('p(') ? 'p' : m[1]) as Threshold['metric'];
  return { expr: expr.trim(), metric, ...(m[2] ? { percentile: Number(m[2]) } : {}), ...(m[3] ? { tag: m[3].trim() } : {}), op: m[4] as Threshold['op'], value: Number(m[5]) };
}

export function thresholdPasses(t: Threshold, observed: number): boolean {
  switch (t.op) {
    case '<':
      return observed < t.value;
    case '<=':
      return observed <= t.value;
    case '>':
      return observed > t.value;
    case '>=':
      return observed >= t.value;
  }
}

export interface UslFit {
  lambda: number;
  sigma: number;
  kappa: number;
  /** Concurrency of peak throughput, sqrt((1−σ)/κ); Infinity when κ ≤ 0. */
  peakConcurrency: number;
  peakThroughput: number;
  r2: number;
}

function solve3(a: number[][], b: number[]): number[] {
  // Gaussian elimination with partial pivoting on a 3x3 system.
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < 3; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k < 4; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = m[r]![3]!;
    for (let k = r + 1; k < 3; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

export function fitUsl(points: readonly { n: number; x: number }[]): UslFit {
  const pts = points.filter((p) => p.n > 0 && p.x > 0);
  if (pts.length < 3) throw new Error('a USL fit needs throughput at three or more concurrency levels');
  // Weighted least squares on y = N/X = c0 + c1 N + c2 N²; weights X² undo the 1/X error amplification.
  const S = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const B = [0, 0, 0];
  for (const { n, x } of pts) {
    const y = n / x;
    const w = x * x;
    const v = [1, n, n * n];
    for (let i = 0; i < 3; i++) {
      B[i]! += w * v[i]! * y;
      for (let j = 0; j < 3; j++) S[i]![j]! += w * v[i]! * v[j]!;
    }
  }
  const [c0, c1, c2] = solve3(S, B) as [number, number, number];
  const lambda = 1 / (c0 + c1 + c2);
  const kappa = Math.max(0, c2 * lambda);
  const sigma = Math.min(1, Math.max(0, 1 - c0 * lambda));
  const model = (n: number): number => (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
  const peakConcurrency = kappa > 0 ? Math.sqrt((1 - sigma) / kappa) : Infinity;
  const mean = pts.reduce((a, p) => a + p.x, 0) / pts.length;
  const ssTot = pts.reduce((a, p) => a + (p.x - mean) ** 2, 0);
  const ssRes = pts.reduce((a, p) => a + (p.x - model(p.n)) ** 2, 0);
  return { lambda, sigma, kappa, peakConcurrency, peakThroughput: Number.isFinite(peakConcurrency) ? model(peakConcurrency) : lambda / Math.max(sigma, 1e-9), r2: ssTot ? 1 - ssRes / ssTot : 1 };
}

export function uslThroughput(f: Pick<UslFit, 'lambda' | 'sigma' | 'kappa'>, n: number): number {
  return (f.lambda * n) / (1 + f.sigma * (n - 1) + f.kappa * n * (n - 1));
}

/**
 * The saturation knee of a step test: the first level where adding load stops paying — throughput grows by less
 * than half of the linear extrapolation from the level before, or latency grows by more than 50 %.
 */
export function findKnee(steps: readonly { n: number; x: number; p95Ms: number }[]): { n: number; x: number; p95Ms: number; reason: string } | undefined {
  const s = [...steps].sort((a, b) => a.n - b.n);
  for (let i = 1; i < s.length; i++) {
    const prev = s[i - 1]!;
    const cur = s[i]!;
    const linear = prev.x * (cur.n / prev.n);
    const gain = (cur.x - prev.x) / Math.max(1e-9, linear - prev.x);
    if (gain < 0.5) return { ...prev, reason: `from ${prev.n} to ${cur.n} concurrent, throughput rose only ${(100 * gain).toFixed(0)}% of linear (${prev.x.toFixed(0)} → ${cur.x.toFixed(0)}/s)` };
    if (cur.p95Ms > prev.p95Ms * 1.5 && cur.p95Ms - prev.p95Ms > 5) return { ...prev, reason: `from ${prev.n} to ${cur.n} concurrent, p95 grew ${prev.p95Ms.toFixed(0)} → ${cur.p95Ms.toFixed(0)} ms` };
  }
  return undefined;
}

/** Little's law: mean concurrency L = X · W. Returns the relative mismatch between measured and implied L. */
export function littlesLaw(throughputPerS: number, meanLatencyMs: number, meanConcurrency: number): { implied: number; measured: number; mismatch: number } {
  const implied = throughputPerS * (meanLatencyMs / 1000);
  return { implied, measured: meanConcurrency, mismatch: meanConcurrency ? Math.abs(implied - meanConcurrency) / meanConcurrency : 0 };
}
