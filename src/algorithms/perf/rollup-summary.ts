/**
 * Service overview from rollups: request rate, error share and latency percentiles now, against the same
 * figures over a longer baseline window. Percentiles come from the merged fixed-bound histograms (rollups share
 * ROLLUP_LATENCY_BOUNDS_US), interpolated linearly inside the bucket — the usual Prometheus
 * `histogram_quantile` estimate, with the same error bound (one bucket width, here ×1.5).
 */
import type { Rollup } from '../../store/store.js';
import { ROLLUP_LATENCY_BOUNDS_US } from '../../store/store.js';

export function quantileFromBuckets(buckets: readonly number[], q: number, bounds: readonly number[] = ROLLUP_LATENCY_BOUNDS_US): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = buckets[i]!;
    if (cum + c >= rank && c > 0) {
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      const hi = i < bounds.length ? bounds[i]! : bounds[bounds.length - 1]! * 1.5;
      return lo + ((rank - cum) / c) * (hi - lo);
    }
    cum += c;
  }
  return bounds[bounds.length - 1];
}

/**
 * Requests slower than `thresholdUs` in a histogram over `bounds`: every bucket above it, and the straddling
 * bucket's share above it, linearly as `quantileFromBuckets` reads it (so the two agree: the count over a
 * bucket's p95 is 5%). Bucket i holds (bounds[i-1], bounds[i]]; the last is open above.
 */
export function countOver(buckets: readonly number[], thresholdUs: number, bounds: readonly number[] = ROLLUP_LATENCY_BOUNDS_US): number {
  let over = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = buckets[i]!;
    if (!c) continue;
    const lo = i === 0 ? 0 : bounds[i - 1]!;
    const hi = i < bounds.length ? bounds[i]! : bounds[bounds.length - 1]! * 1.5;
    if (thresholdUs <= lo) over += c;
    else if (thresholdUs < hi) over += (c * (hi - thresholdUs)) / (hi - lo);
  }
  return over;
}

export interface ServiceOverview {
  service: string;
  requestsPerS: number;
  errorShare: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  baseline?: { requestsPerS: number; errorShare: number; p95Ms?: number };
  /** Per-bucket series over the recent window, for sparklines: [bucketStartUs, requests/s, error share, p95 ms]. */
  series: [number, number, number, number | null][];
}

function merge(rs: readonly Rollup[]): { req: number; err: number; buckets: number[]; spanUs: number } {
  const buckets = new Array<number>(ROLLUP_LATENCY_BOUNDS_US.length + 1).fill(0);
  let req = 0;
  let err = 0;
  let from = Infinity;
  let to = -Infinity;
  for (const r of rs) {
    req += r.requests;
    err += r.errors;
    r.latencyBuckets.forEach((c, i) => (buckets[i] = (buckets[i] ?? 0) + c));
    from = Math.min(from, r.bucketStartUs);
    to = Math.max(to, r.bucketStartUs + r.bucketUs);
  }
  return { req, err, buckets, spanUs: Number.isFinite(from) ? to - from : 0 };
}

/**
 * Overview per service over `recentUs` before `nowUs`, with the baseline over the preceding `baselineUs`.
 * Rates use the covered bucket span, so a service seen for 10 s is not diluted over a 5-minute window.
 */
export function serviceOverview(rollups: readonly Rollup[], nowUs: number, recentUs: number, baselineUs: number): ServiceOverview[] {
  const byService = new Map<string, Rollup[]>();
  for (const r of rollups) {
    const l = byService.get(r.service);
    if (l) l.push(r);
    else byService.set(r.service, [r]);
  }
  const out: ServiceOverview[] = [];
  for (const [service, rs] of byService) {
    const recent = rs.filter((r) => r.bucketStartUs >= nowUs - recentUs && r.bucketStartUs < nowUs);
    const base = rs.filter((r) => r.bucketStartUs >= nowUs - recentUs - baselineUs && r.bucketStartUs < nowUs - recentUs);
    const m = merge(recent);
    const b = merge(base);
    const perBucket = new Map<number, Rollup[]>();
    for (const r of recent) {
      const l = perBucket.get(r.bucketStartUs);
      if (l) l.push(r);
      else perBucket.set(r.bucketStartUs, [r]);
    }
    const series: ServiceOverview['series'] = [...perBucket.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([t, list]) => {
        const mm = merge(list);
        const p95 = quantileFromBuckets(mm.buckets, 0.95);
        return [t, mm.spanUs ? mm.req / (mm.spanUs / 1e6) : 0, mm.req ? mm.err / mm.req : 0, p95 === undefined ? null : p95 / 1000];
      });
    const ms = (x: number | undefined): number | undefined => (x === undefined ? undefined : x / 1000);
    out.push({
      service,
      requestsPerS: m.spanUs ? m.req / (m.spanUs / 1e6) : 0,
      errorShare: m.req ? m.err / m.req : 0,
      p50Ms: ms(quantileFromBuckets(m.buckets, 0.5)),
      p95Ms: ms(quantileFromBuckets(m.buckets, 0.95)),
      p99Ms: ms(quantileFromBuckets(m.buckets, 0.99)),
      baseline: b.req ? { requestsPerS: b.spanUs ? b.req / (b.spanUs / 1e6) : 0, errorShare: b.err / b.req, p95Ms: ms(quantileFromBuckets(b.buckets, 0.95)) } : undefined,
      series,
    });
  }
  return out.sort((a, b) => a.service.localeCompare(b.service));
}
