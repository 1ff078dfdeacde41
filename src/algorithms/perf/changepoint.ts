/**
 * Change points in a series (latency, error rate, throughput, benchmark history) in the spirit of E-Divisive
 * means as Apache Otava (Hunter) uses it: find the split that maximises the energy distance between the two
 * sides, keep it only when a permutation test says it is significant, then recurse on both sides. The energy
 * statistic needs no distribution assumption and reacts to changes in location and in spread.
 * Permutations use a seeded generator so a result is reproducible.
 */
import { mulberry32 } from '../../util/random.js';

export interface ChangePoint {
  index: number;
  before: number;
  after: number;
  /** Relative change of the mean, (after - before) / |before|. */
  magnitude: number;
  pValue: number;
}

/**
 * Energy divergence statistic for a split at k: (k(n-k)/n) * (2E|X-Y| - E|X-X'| - E|Y-Y'|), computed in O(n²)
 * once per candidate set via prefix structures would be elaborate; series here are a few hundred points, so the
 * direct form over sorted halves is used.
 */
function meanAbsWithin(sorted: number[]): number {
  // E|X-X'| over distinct pairs from a sorted sample: Σ (2i - n + 1) x_i / C(n,2).
  const n = sorted.length;
  if (n < 2) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += (2 * i - n + 1) * sorted[i]!;
  return (2 * s) / (n * (n - 1));
}

function meanAbsBetween(a: number[], b: number[]): number {
  // E|X-Y| with both sorted: merge walk.
  let total = 0;
  let j = 0;
  let prefixB = 0;
  const sumB = b.reduce((x, y) => x + y, 0);
  for (const x of a) {
    while (j < b.length && b[j]! <= x) prefixB += b[j++]!;
    total += x * j - prefixB + (sumB - prefixB) - x * (b.length - j);
  }
  return total / (a.length * b.length);
}

function energyAt(y: readonly number[], k: number): number {
  const a = y.slice(0, k).sort((p, q) => p - q);
  const b = y.slice(k).sort((p, q) => p - q);
  const n = y.length;
  return ((k * (n - k)) / n) * (2 * meanAbsBetween(a, b) - meanAbsWithin(a) - meanAbsWithin(b));
}

function bestSplit(y: readonly number[], minSize: number): { k: number; stat: number } {
  let best = { k: -1, stat: -Infinity };
  for (let k = minSize; k <= y.length - minSize; k++) {
    const s = energyAt(y, k);
    if (s > best.stat) best = { k, stat: s };
  }
  return best;
}

export interface ChangePointOptions {
  minSize?: number;
  alpha?: number;
  permutations?: number;
  seed?: number;
  /** Ignore changes of the mean smaller than this share (noise-level shifts that are significant but irrelevant). */
  minMagnitude?: number;
}

export function changePoints(series: readonly number[], opts: ChangePointOptions = {}): ChangePoint[] {
  const minSize = opts.minSize ?? 5;
  const alpha = opts.alpha ?? 0.01;
  const perms = opts.permutations ?? 99;
  const rnd = mulberry32(opts.seed ?? 42);
  const minMag = opts.minMagnitude ?? 0.1;
  const ys = series.filter(Number.isFinite);
  const found: ChangePoint[] = [];
  const recurse = (lo: number, hi: number, depth: number): void => {
    if (hi - lo < 2 * minSize || depth > 8) return;
    const seg = ys.slice(lo, hi);
    const { k, stat } = bestSplit(seg, minSize);
    if (k < 0) return;
    let atLeast = 0;
    const shuffled = [...seg];
    for (let p = 0; p < perms; p++) {
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      if (bestSplit(shuffled, minSize).stat >= stat) atLeast++;
      // Already too many permutations as extreme for the split to be significant: the answer cannot change.
      if ((atLeast + 1) / (perms + 1) > alpha) return;
    }
    const pValue = (atLeast + 1) / (perms + 1);
    if (pValue > alpha) return;
    const before = seg.slice(0, k).reduce((a, b) => a + b, 0) / k;
    const after = seg.slice(k).reduce((a, b) => a + b, 0) / (seg.length - k);
    const magnitude = (after - before) / Math.max(Math.abs(before), 1e-12);
    if (Math.abs(magnitude) >= minMag) found.push({ index: lo + k, before, after, magnitude, pValue });
    recurse(lo, lo + k, depth + 1);
    recurse(lo + k, hi, depth + 1);
  };
  recurse(0, ys.length, 0);
  return found.sort((a, b) => a.index - b.index);
}
