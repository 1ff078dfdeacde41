/**
 * The rollup rule every backend (and the performance tester's fine-grained re-aggregation) shares: requests as
 * the server/consumer side sees them (or root spans when nothing else exists), per service, operation and time
 * bucket, with errors, duration sum and a latency histogram over ROLLUP_LATENCY_BOUNDS_US.
 */
import type { Span } from '../signals/model.js';
import { ROLLUP_LATENCY_BOUNDS_US, type Rollup } from './store.js';

export function isRequestSpan(s: Pick<Span, 'kind' | 'parentSpanId'>): boolean {
  return s.kind === 2 || s.kind === 5 || (!s.parentSpanId && s.kind !== 3 && s.kind !== 4);
}

export function latencyBucket(durUs: number): number {
  let lo = 0;
  let hi = ROLLUP_LATENCY_BOUNDS_US.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (durUs <= ROLLUP_LATENCY_BOUNDS_US[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class RollupAccumulator {
  private readonly m = new Map<string, Rollup>();
  constructor(private readonly bucketUs: number) {}

  add(s: Span): void {
    if (!isRequestSpan(s)) return;
    const start = Math.floor(s.startUs / this.bucketUs) * this.bucketUs;
    const k = `${s.service}\u0000${s.name}\u0000${start}`;
    let r = this.m.get(k);
    if (!r) this.m.set(k, (r = { service: s.service, operation: s.name, bucketStartUs: start, bucketUs: this.bucketUs, requests: 0, errors: 0, durationSumUs: 0, latencyBuckets: new Array<number>(ROLLUP_LATENCY_BOUNDS_US.length + 1).fill(0) }));
    const d = Math.max(0, s.endUs - s.startUs);
    r.requests++;
    if (s.status.code === 2) r.errors++;
    r.durationSumUs += d;
    r.latencyBuckets[latencyBucket(d)]!++;
  }

  values(): Rollup[] {
    return [...this.m.values()];
  }
}

/**
 * Rollup resolution by age. Rollups are kept forever (prune drops only raw telemetry), so at 10 s per operation
 * a store would gain 8,640 rows per operation a day for good; old buckets are merged into coarser ones instead
 * (exactly: counts, sums and histograms add). Buckets whose start is `afterUs` or more before the newest record
 * become `bucketUs` wide.
 */
export interface RollupTier {
  afterUs: number;
  bucketUs: number;
}

const MIN = 60e6;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/**
 * Full resolution for 3 days, the longest burn-rate window (SRE Workbook's 3 d / 6 h ticket rule) and the
 * performance tester's history for windows up to 18 h; 5-minute buckets to 14 days (the 6 h / 30 min windows
 * still resolve); hourly beyond, what a 30-day error budget needs. 30 days per operation: ~29,000 rows, not 259,200.
 */
export const ROLLUP_TIERS: readonly RollupTier[] = Object.freeze([
  { afterUs: 3 * DAY, bucketUs: 5 * MIN },
  { afterUs: 14 * DAY, bucketUs: HOUR },
]);

/** The start below which a tier merges: `afterUs` before `newestUs`, down to the tier's grid (whole buckets only). */
export function tierCut(newestUs: number, tier: RollupTier): number {
  return Math.floor((newestUs - tier.afterUs) / tier.bucketUs) * tier.bucketUs;
}

/** Rollups re-bucketed to `bucketUs` wide buckets (a multiple of theirs), per service and operation; wider ones stay. */
export function mergeRollups(rs: readonly Rollup[], bucketUs: number): Rollup[] {
  const m = new Map<string, Rollup>();
  const out: Rollup[] = [];
  for (const r of rs) {
    if (r.bucketUs > bucketUs) {
      out.push(r);
      continue;
    }
    const start = Math.floor(r.bucketStartUs / bucketUs) * bucketUs;
    const k = `${r.service}\u0000${r.operation}\u0000${start}`;
    let acc = m.get(k);
    if (!acc) m.set(k, (acc = { service: r.service, operation: r.operation, bucketStartUs: start, bucketUs, requests: 0, errors: 0, durationSumUs: 0, latencyBuckets: new Array<number>(ROLLUP_LATENCY_BOUNDS_US.length + 1).fill(0) }));
    acc.requests += r.requests;
    acc.errors += r.errors;
    acc.durationSumUs += r.durationSumUs;
    for (let i = 0; i < r.latencyBuckets.length; i++) acc.latencyBuckets[i] = (acc.latencyBuckets[i] ?? 0) + r.latencyBuckets[i]!;
  }
  return [...out, ...m.values()].sort((a, b) => a.bucketStartUs - b.bucketStartUs || a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
}

/**
 * Rollups all at one width, the widest among them. A read across a tier boundary (ROLLUP_TIERS) mixes widths, and
 * a series of buckets (rates, percentiles, change points on runs of buckets) needs one width to compare buckets.
 */
export function uniformRollups(rs: readonly Rollup[]): readonly Rollup[] {
  let lo = Infinity;
  let hi = 0;
  for (const r of rs) {
    if (r.bucketUs < lo) lo = r.bucketUs;
    if (r.bucketUs > hi) hi = r.bucketUs;
  }
  return lo === hi || !rs.length ? rs : mergeRollups(rs, hi);
}
