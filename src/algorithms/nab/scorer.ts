/**
 * The Numenta Anomaly Benchmark scorer (NAB v1.1), reimplemented from its published rules (see
 * ../shared/data/nab/SOURCE.md): windows around labelled anomalies, a probationary period, the scaled sigmoid
 * that rewards the earliest detection in a window and discounts false positives just after one, three cost
 * profiles, normalisation between the null and the perfect detector, and the per-profile threshold sweep.
 * Pure: rows, scores and windows in, scores out.
 */

export interface Profile {
  tp: number;
  fp: number;
  fn: number;
}

export const PROFILES: Record<'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate', Profile> = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
};
export type ProfileName = keyof typeof PROFILES;

export interface NabFile {
  name: string;
  /** Row times in ms, ascending. */
  times: number[];
  /** [start, end] in ms, inclusive, ascending and disjoint. */
  windows: [number, number][];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
/** NAB's scaled sigmoid: +1 far left, 0 at the window edge, -1 far right (clamped beyond y > 3). */
export function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 * sigmoid(-5 * y) - 1;
}

export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** Per-row weights that do not depend on the detector: which window a row is in and its sigmoid value. */
export interface PreparedFile {
  name: string;
  rows: number;
  probation: number;
  /** Window index per row, -1 outside. */
  windowOf: Int32Array;
  /** In a window: S(y)/S(-1) (the TP reward per unit). Outside: S(y) of the FP position (negative), or -1. */
  weight: Float64Array;
  /** Windows that count (not wholly inside the probation period). */
  counted: boolean[];
}

export function prepare(f: NabFile): PreparedFile {
  const n = f.times.length;
  const probation = probationRows(n);
  const windowOf = new Int32Array(n).fill(-1);
  const bounds: { left: number; right: number }[] = [];
  f.windows.forEach(([a, b], wi) => {
    let left = -1;
    let right = -1;
    for (let i = 0; i < n; i++) {
      const t = f.times[i]!;
      if (t >= a && t <= b) {
        if (left < 0) left = i;
        right = i;
        windowOf[i] = wi;
      }
    }
    bounds.push({ left, right });
  });
  const weight = new Float64Array(n);
  const sMinus1 = scaledSigmoid(-1);
  let prev: { right: number; width: number } | undefined;
  let wi = 0;
  for (let i = 0; i < n; i++) {
    while (wi < bounds.length && bounds[wi]!.right >= 0 && bounds[wi]!.right < i) {
      prev = { right: bounds[wi]!.right, width: bounds[wi]!.right - bounds[wi]!.left + 1 };
      wi++;
    }
    const w = windowOf[i]!;
    if (w >= 0) {
      const { left, right } = bounds[w]!;
      const width = right - left + 1;
      weight[i] = scaledSigmoid(-(right - i + 1) / width) / sMinus1;
    } else if (prev) {
      weight[i] = scaledSigmoid(Math.abs(i - prev.right) / (prev.width - 1));
    } else weight[i] = -1;
  }
  const counted = bounds.map((b) => b.right >= probation);
  return { name: f.name, rows: n, probation, windowOf, weight, counted };
}

/** Raw NAB score of one file for one profile at one threshold. */
export function rawScore(p: PreparedFile, scores: ArrayLike<number>, threshold: number, profile: Profile): { raw: number; tp: number; fp: number; fn: number } {
  const best = new Map<number, number>();
  let fpScore = 0;
  let fp = 0;
  for (let i = p.probation; i < p.rows; i++) {
    if (!(scores[i]! >= threshold)) continue;
    const w = p.windowOf[i]!;
    if (w >= 0) {
      if (!best.has(w)) best.set(w, p.weight[i]!);
    } else {
      fp++;
      fpScore += profile.fp * p.weight[i]!;
    }
  }
  let raw = fpScore;
  let tp = 0;
  let fn = 0;
  p.counted.forEach((c, w) => {
    if (!c) return;
    const b = best.get(w);
    if (b === undefined) {
      raw -= profile.fn;
      fn++;
    } else {
      raw += profile.tp * b;
      tp++;
    }
  });
  return { raw, tp, fp, fn };
}

export interface CorpusScore {
  profile: ProfileName;
  threshold: number;
  score: number;
  raw: number;
  tp: number;
  fp: number;
  fn: number;
}

export function corpusScore(files: readonly PreparedFile[], scores: ReadonlyMap<string, ArrayLike<number>>, threshold: number, profileName: ProfileName): CorpusScore {
  const profile = PROFILES[profileName];
  let raw = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let windows = 0;
  for (const f of files) {
    const s = scores.get(f.name);
    if (!s) throw new Error(`no scores for ${f.name}`);
    if (s.length !== f.rows) throw new Error(`${f.name}: ${s.length} scores for ${f.rows} rows`);
    const r = rawScore(f, s, threshold, profile);
    raw += r.raw;
    tp += r.tp;
    fp += r.fp;
    fn += r.fn;
    windows += f.counted.filter(Boolean).length;
  }
  const perfect = windows * profile.tp;
  const nul = -windows * profile.fn;
  return { profile: profileName, threshold, score: (100 * (raw - nul)) / (perfect - nul), raw, tp, fp, fn };
}

/**
 * The threshold NAB would pick for a detector and profile: the one maximising the corpus score. A coarse grid
 * then a local refinement; the score is piecewise constant in the threshold, so this finds its maximum plateau.
 */
export function optimiseThreshold(files: readonly PreparedFile[], scores: ReadonlyMap<string, ArrayLike<number>>, profile: ProfileName): CorpusScore {
  let best = corpusScore(files, scores, 1.0, profile);
  const tryT = (t: number): void => {
    const r = corpusScore(files, scores, t, profile);
    if (r.score > best.score) best = r;
  };
  for (let t = 0; t <= 1.0001; t += 0.01) tryT(Math.min(1, t));
  const centre = best.threshold;
  for (let t = centre - 0.01; t <= centre + 0.01; t += 0.0005) if (t >= 0 && t <= 1) tryT(t);
  const c2 = best.threshold;
  for (let t = c2 - 0.0005; t <= c2 + 0.0005; t += 0.00002) if (t >= 0 && t <= 1) tryT(t);
  return best;
}

/** Python 2 `str(float)` kept 12 significant digits; the published result files (and thresholds) depend on it. */
export function round12(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(12));
}
