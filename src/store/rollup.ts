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
