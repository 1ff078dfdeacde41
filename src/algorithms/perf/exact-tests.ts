/**
 * Exact tests on request counts, where a person would otherwise eyeball a ratio of a few requests.
 *
 * Is a latency percentile really over a threshold, or did a handful of requests put it there?
 *
 * A bucket's p95 read off its histogram is the 5% slowest requests' edge; at ten requests a bucket's p95 is its
 * slowest request, and one scheduler hiccup on a 2 ms service reads as "p95 18 ms, 11× the baseline". The sign
 * test for a quantile settles it: if the true p95 were at or under the threshold, each request would be over it
 * with probability at most 5%, so the count over it is at most Binomial(n, 0.05). Only a count that this tail
 * makes unlikely says the percentile itself moved. Exact at every count (the normal approximation misleads at
 * the few requests of a quiet service, which is where the question matters). Where the percentile sits near the
 * threshold by construction (a slow path that is 7% of a service's requests), the one-sided Fisher test against
 * the baseline's requests says whether slow requests became commoner than they were: either suffices.
 */
import { gammaln } from 'simple-statistics';

const logChoose = (n: number, k: number): number => gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);

/**
 * P(X ≥ k) for X ~ Binomial(n, p). Summed in log space outwards from the nearer end of the tail, stopping once
 * the terms no longer matter (they fall geometrically past the mode), so a million requests cost a few thousand
 * terms at most.
 */
export function binomialUpper(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const term = (x: number): number => Math.exp(logChoose(n, x) + x * lp + (n - x) * lq);
  // Above the mean the upper tail is summed upwards; below it, the lower tail downwards and taken from 1.
  const upper = k > n * p;
  let sum = 0;
  for (let x = upper ? k : k - 1; upper ? x <= n : x >= 0; x += upper ? 1 : -1) {
    const t = term(x);
    sum += t;
    if (t < sum * 1e-15) break;
  }
  return upper ? Math.min(1, sum) : Math.max(0, 1 - sum);
}

/**
 * One-sided Fisher exact test: P(at least `a` bad of the `n` in the group | `bad` bad among `total`), the
 * hypergeometric upper tail. Exact at any counts (a z-test misleads at the few requests of a short bucket).
 */
export function fisherUpper(a: number, n: number, bad: number, total: number): number {
  const hi = Math.min(n, bad);
  const base = logChoose(total, n);
  let p = 0;
  for (let x = a; x <= hi; x++) {
    if (total - bad < n - x) continue;
    p += Math.exp(logChoose(bad, x) + logChoose(total - bad, n - x) - base);
  }
  return Math.min(1, p);
}

/** Slow (or failed) requests the baseline comparison needs at the least (where the share alone does not show it). */
export const MIN_SLOW_REQUESTS = 5;

/** Requests over a threshold (slow past it, or failed), and all requests, over some buckets (fractional: histograms interpolate). */
export interface TailCount {
  over: number;
  total: number;
}

/**
 * Why an anomaly's requests are believed (see the module comment): 'share' when more of them are over (slow past
 * the threshold, or failed) than `nullShare` of them would be if the indicator were at its threshold (for a p95,
 * 5%), 'baseline' when, MIN_SLOW_REQUESTS at least, they are commoner than in the baseline's requests; undefined
 * when neither holds at `alpha` (a few requests did it).
 */
export function excessEvidence(flagged: TailCount, baseline: TailCount | undefined, nullShare: number, alpha = 0.01): 'share' | 'baseline' | undefined {
  const n = Math.round(flagged.total);
  const k = Math.min(n, Math.round(flagged.over));
  if (n > 0 && binomialUpper(k, n, nullShare) < alpha) return 'share';
  if (!baseline) return undefined;
  const n0 = Math.round(baseline.total);
  const k0 = Math.min(n0, Math.round(baseline.over));
  // The comparison alone is no evidence at a couple of requests, however clean the baseline: a quiet service's
  // two hiccups against none in 300 pass the test, and are no finding.
  return k >= MIN_SLOW_REQUESTS && n0 > 0 && fisherUpper(k, n, k + k0, n + n0) < alpha ? 'baseline' : undefined;
}
