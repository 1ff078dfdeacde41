/**
 * Daily (hour-of-day, UTC) and weekly (hour-of-week) baselines updated online: what a latency or throughput series
 * usually is at this hour.
 * A service at 03:00 and at its noon peak are two different normals; judged against one flat baseline the noon
 * peak looks like an anomaly and a 03:00 spike to noon levels does not.
 *
 * Each cycle folds in only the points newer than the profile's watermark (overlapping windows count once). Per
 * hour, the new points' median and MAD move the hour's level and spread by a weight that starts at "the new points'
 * share of all seen" and never falls below `MIN_WEIGHT`, so the profile keeps following a service that changes.
 * Medians, not means: one incident's buckets do not become the hour's normal (and the caller leaves anomalous
 * points out). The profile judges only once it has covered `MIN_DAYS` days and every hour, and only when the hours
 * really differ (`strength`: the spread of the hourly levels over the typical within-hour spread). The weekly
 * profile (168 hours) takes over once it has covered two weeks and every hour of the week, and only where weekdays
 * and weekends really differ (its hours stand apart from the same hours of the daily profile by more than the
 * within-hour spread, `weeklyEffect`).
 */

export interface HourlyProfile {
  /** 24 (hour of day) or 168 (hour of week); 24 when absent (profiles stored before weekly ones existed). */
  slots?: number;
  firstUs: number;
  watermarkUs: number;
  level: (number | null)[];
  spread: (number | null)[];
  n: number[];
}

const MIN_WEIGHT = 0.1;
export const MIN_DAYS = 2;
/** Strength from which the hour's level replaces the flat baseline. */
export const SEASONAL_STRENGTH = 1;

const slotOf = (tUs: number, slots: number): number => Math.floor((tUs / 3600e6) % slots);
export const WEEK_DAYS = 14;

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Folds the points after the watermark into the profile (a new one when `p` is undefined). Non-finite points are skipped. */
export function updateProfile(p: HourlyProfile | undefined, t: readonly number[], x: readonly number[], slots = p?.slots ?? 24): HourlyProfile {
  // A profile read back from JSON has null where it held ±Infinity (nothing seen yet).
  const num = (v: number | null | undefined, empty: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : empty);
  const out: HourlyProfile = p ? { slots, firstUs: num(p.firstUs, Infinity), watermarkUs: num(p.watermarkUs, -Infinity), level: [...p.level], spread: [...p.spread], n: [...p.n] } : { slots, firstUs: Infinity, watermarkUs: -Infinity, level: new Array<number | null>(slots).fill(null), spread: new Array<number | null>(slots).fill(null), n: new Array<number>(slots).fill(0) };
  const byHour: number[][] = Array.from({ length: slots }, () => []);
  let last = out.watermarkUs;
  for (let i = 0; i < t.length; i++) {
    if (t[i]! <= out.watermarkUs || !Number.isFinite(x[i]!)) continue;
    byHour[slotOf(t[i]!, slots)]!.push(x[i]!);
    if (t[i]! > last) last = t[i]!;
    if (t[i]! < out.firstUs) out.firstUs = t[i]!;
  }
  for (let h = 0; h < slots; h++) {
    const xs = byHour[h]!;
    if (!xs.length) continue;
    const med = medianOf(xs);
    const mad = 1.4826 * medianOf(xs.map((v) => Math.abs(v - med)));
    const w = Math.max(MIN_WEIGHT, xs.length / (out.n[h]! + xs.length));
    const lv = out.level[h];
    const sp = out.spread[h];
    out.level[h] = lv === null || lv === undefined ? med : lv + w * (med - lv);
    out.spread[h] = sp === null || sp === undefined ? mad : sp + w * (mad - sp);
    out.n[h]! += xs.length;
  }
  out.watermarkUs = last;
  return out;
}

/** Spread of the hourly levels (MAD) over the median within-hour spread; 0 while an hour is unknown. */
export function profileStrength(p: HourlyProfile): number {
  if (p.level.some((v) => v === null)) return 0;
  const lv = p.level as number[];
  const med = medianOf(lv);
  const between = 1.4826 * medianOf(lv.map((v) => Math.abs(v - med)));
  const within = medianOf((p.spread.filter((v) => v !== null) as number[]).map((v) => Math.max(v, 1e-9)));
  return between / within;
}

/** How far the week's hours stand from the same hours of the day profile, over the within-hour spread. */
export function weeklyEffect(weekly: HourlyProfile, daily: HourlyProfile): number {
  if (weekly.level.some((v) => v === null) || daily.level.some((v) => v === null)) return 0;
  const diffs = (weekly.level as number[]).map((v, h) => Math.abs(v - (daily.level[h % 24] as number)));
  const within = medianOf((weekly.spread.filter((v) => v !== null) as number[]).map((v) => Math.max(v, 1e-9)));
  return medianOf(diffs) / within;
}

/** Whether the profile has seen at least `days` days of points. */
export const covers = (p: HourlyProfile, days: number): boolean => Number.isFinite(p.watermarkUs - p.firstUs) && p.watermarkUs - p.firstUs >= days * 86_400e6;

/**
 * The hour's level and spread at `tUs`: from the weekly profile when it covers two weeks and weekdays differ,
 * else from the daily one when it covers `MIN_DAYS` days, every hour, and is strong enough; else undefined.
 */
export function expectedAt(p: HourlyProfile | undefined, tUs: number, weekly?: HourlyProfile): { level: number; spread: number; period: 'day' | 'week' } | undefined {
  if (!p) return undefined;
  const pick = (q: HourlyProfile, period: 'day' | 'week'): { level: number; spread: number; period: 'day' | 'week' } | undefined => {
    const h = slotOf(tUs, q.slots ?? 24);
    const level = q.level[h];
    const spread = q.spread[h];
    return level === null || level === undefined || spread === null || spread === undefined ? undefined : { level, spread, period };
  };
  if (weekly && covers(weekly, WEEK_DAYS) && weeklyEffect(weekly, p) >= 1) {
    const w = pick(weekly, 'week');
    if (w) return w;
  }
  return covers(p, MIN_DAYS) && profileStrength(p) >= SEASONAL_STRENGTH ? pick(p, 'day') : undefined;
}

/**
 * What a stored pair of profiles offers as a whole (for people reading baselines): the days covered, the daily
 * strength, and which normal expectedAt would judge by — the week's hours, the day's, or none yet (flat baseline).
 */
export function seasonalUse(daily: HourlyProfile | undefined, weekly?: HourlyProfile): { days: number; strength: number; period?: 'day' | 'week' } {
  if (!daily) return { days: 0, strength: 0 };
  const span = daily.watermarkUs - daily.firstUs;
  const days = Number.isFinite(span) && span > 0 ? span / 86_400e6 : 0;
  const strength = profileStrength(daily);
  if (weekly && covers(weekly, WEEK_DAYS) && weeklyEffect(weekly, daily) >= 1) return { days, strength, period: 'week' };
  return covers(daily, MIN_DAYS) && strength >= SEASONAL_STRENGTH ? { days, strength, period: 'day' } : { days, strength };
}
