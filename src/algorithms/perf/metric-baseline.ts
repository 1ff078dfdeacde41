/**
 * The stored "performance baseline" of one metric series (cpu, memory, queue depth, any gauge, counter rate or
 * distribution mean), kept online across analysis cycles.
 *
 * Why online and not recomputed from what a cycle reads: a cycle reads a series from the start of its replay
 * block at most (metric-anomalies.ts), and a block is ~1,500 sampling intervals: about 9 hours for a 15-second
 * scrape. A baseline recomputed from that never covers the two days a daily profile needs, so the most common
 * scrape interval never got an hour-of-day normal; and a series whose detector is kept between cycles is read
 * only from its last point on, so a recomputed level went stale until the next block. Here every cycle folds the
 * points newer than the baseline's watermark into the level and into the daily and weekly profiles (each with its
 * own watermark, so overlapping windows count once), by seasonal-baseline.ts's rule: the new points' median and
 * MAD move the level and spread by a weight that starts at their share of all seen and never falls below 0.1.
 */
import { MIN_DAYS, covers, profileStrength, updateProfile, type HourlyProfile } from './seasonal-baseline.js';
import { robustSummary } from './metric-anomalies.js';

export interface MetricLevel {
  median: number;
  scale: number;
  /** Points folded in so far. */
  n: number;
  /** Time of the newest point folded in (-Infinity: none yet; null once read back from JSON). */
  watermarkUs: number | null;
  /** How the level started: from history before the first window, or from the first third of that window. */
  basis: 'history' | 'early window';
  hourly: HourlyProfile;
  weekly: HourlyProfile;
  /** The daily profile with its strength, once it covers MIN_DAYS days (what a reader judges an hour by). */
  seasonal?: HourlyProfile & { strength: number };
}

const MIN_WEIGHT = 0.1;

/** Least points before the first window for the level to start from history (else the window's first third). */
export const MIN_HISTORY_POINTS = 6;

/**
 * Folds a series' points (time order) into its stored baseline. `nHist` is how many of them come before the
 * window being analysed: a first baseline starts from those (or, under MIN_HISTORY_POINTS, from the first third of
 * what there is, at least 3), so the level starts from the series' normal rather than from the window's own
 * incident; then every point after the watermark is folded in (the rest of this cycle's points, or a later
 * cycle's new ones). Undefined when there is nothing to start from.
 */
export function foldMetricBaseline(prev: MetricLevel | undefined, t: readonly number[], v: readonly number[], nHist: number): MetricLevel | undefined {
  const hourly = updateProfile(prev?.hourly, t, v, 24);
  const weekly = updateProfile(prev?.weekly, t, v, 168);
  let level: Omit<MetricLevel, 'hourly' | 'weekly' | 'seasonal'>;
  if (!prev || !Number.isFinite(prev.median)) {
    const nBase = nHist >= MIN_HISTORY_POINTS ? nHist : Math.min(v.length, Math.max(3, Math.floor(v.length / 3)));
    if (nBase < 3) return undefined;
    const b = robustSummary(v.slice(0, nBase));
    if (!b.n) return undefined;
    level = { ...b, watermarkUs: t[nBase - 1]!, basis: nHist >= MIN_HISTORY_POINTS ? 'history' : 'early window' };
  } else level = { median: prev.median, scale: prev.scale, n: prev.n, watermarkUs: typeof prev.watermarkUs === 'number' ? prev.watermarkUs : -Infinity, basis: prev.basis };
  // Then every point after the watermark (for a first baseline: the rest of what this cycle read).
  const mark = level.watermarkUs ?? -Infinity;
  const idx: number[] = [];
  for (let i = 0; i < t.length; i++) if (t[i]! > mark && Number.isFinite(v[i]!)) idx.push(i);
  if (idx.length) {
    const b = robustSummary(idx.map((i) => v[i]!));
    const w = Math.max(MIN_WEIGHT, b.n / (level.n + b.n));
    level = { median: level.median + w * (b.median - level.median), scale: level.scale + w * (b.scale - level.scale), n: level.n + b.n, watermarkUs: t[idx[idx.length - 1]!]!, basis: level.basis };
  }
  const out: MetricLevel = { ...level, hourly, weekly };
  if (covers(hourly, MIN_DAYS)) out.seasonal = { ...hourly, strength: profileStrength(hourly) };
  return out;
}
