import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binomialUpper, excessEvidence, fisherUpper } from './exact-tests.js';

/** The distribution by its definition, C(n, k) p^k (1-p)^(n-k), products only (exact enough at these n). */
function pmf(n: number, p: number): number[] {
  const out: number[] = [];
  let c = 1;
  for (let k = 0; k <= n; k++) {
    out.push(c * p ** k * (1 - p) ** (n - k));
    c = (c * (n - k)) / (k + 1);
  }
  return out;
}

const close = (a: number, b: number, rel = 1e-9): void => assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300), `${a} vs ${b}`);

test('the binomial upper tail is exact: it agrees with the summed distribution and with closed forms', () => {
  close(binomialUpper(1, 10, 0.05), 1 - 0.95 ** 10);
  close(binomialUpper(10, 10, 0.05), 0.05 ** 10);
  for (const [n, p] of [[12, 0.05], [30, 0.05], [40, 0.3]] as const) {
    const f = pmf(n, p);
    for (let k = 0; k <= n; k++) close(binomialUpper(k, n, p), Math.min(1, f.slice(k).reduce((a, b) => a + b, 0)), 1e-9);
  }
  assert.equal(binomialUpper(0, 5, 0.5), 1);
  assert.equal(binomialUpper(6, 5, 0.5), 0);
  assert.equal(binomialUpper(3, 5, 0), 0);
});

test('the tail of a million requests is summed from the nearer end: sensible on both sides of the mean', () => {
  // mean 50,000, sd ~218: 3 sd above is ~0.00135, at the mean ~0.5, 3 sd below ~0.99865
  const n = 1_000_000;
  const sd = Math.sqrt(n * 0.05 * 0.95);
  assert.ok(Math.abs(binomialUpper(Math.round(50_000 + 3 * sd), n, 0.05) - 0.00135) < 0.0003);
  assert.ok(Math.abs(binomialUpper(50_000, n, 0.05) - 0.5) < 0.01);
  assert.ok(Math.abs(binomialUpper(Math.round(50_000 - 3 * sd), n, 0.05) - 0.99865) < 0.0003);
});

test("a p95 over a threshold is believed only when more requests are over it than a p95 at it would put there", () => {
  const above = (over: number, total: number): boolean => excessEvidence({ over, total }, undefined, 0.05) === 'share';
  // three quiet buckets of ten requests, each with its one slow request: every bucket's p95 is over, the p95 is not
  assert.equal(above(3, 30), false);
  // every request of a faulty service over it
  assert.equal(above(30, 30), true);
  // a third of the requests on a slow code path
  assert.equal(above(12, 36), true);
  // busy service, a slow tail of 10% of 2,000 requests: many more than 5%
  assert.equal(above(200, 2000), true);
  // ... but 5.5% is what a p95 at the threshold gives by chance
  assert.equal(above(110, 2000), false);
  // histogram counts are interpolated: fractions are rounded, and no request is no evidence
  assert.equal(above(2.6, 3), true);
  assert.equal(above(0, 0), false);
});

test('the one-sided Fisher exact test', () => {
  // All 3 bad of 10 in the 3-request group: 1 / C(10, 3).
  assert.ok(Math.abs(fisherUpper(3, 3, 3, 10) - 1 / 120) < 1e-12);
  assert.equal(fisherUpper(0, 5, 2, 10), 1);
  // Lady tasting tea: 4 of 4 right among 8 cups, p = 1/70.
  assert.ok(Math.abs(fisherUpper(4, 4, 4, 8) - 1 / 70) < 1e-12);
});

test("a latency anomaly's slow tail is believed when the percentile is over the threshold, or slow requests are commoner than in the baseline", () => {
  // every request slow
  assert.equal(excessEvidence({ over: 88, total: 89 }, { over: 0, total: 300 }, 0.05), 'share');
  // a slow path that is 6.6% of the entry service's requests: its p95 sits at the threshold, but before it none were slow
  assert.equal(excessEvidence({ over: 50, total: 752 }, { over: 0, total: 2400 }, 0.05), 'baseline');
  // ... unless they were as common before
  assert.equal(excessEvidence({ over: 50, total: 752 }, { over: 160, total: 2400 }, 0.05), undefined);
  // a quiet service's one slow request (of 10) in the flagged buckets: neither
  assert.equal(excessEvidence({ over: 1.4, total: 10 }, { over: 0, total: 300 }, 0.05), undefined);
  assert.equal(excessEvidence({ over: 1.4, total: 10 }, undefined, 0.05), undefined);
  // two of ten against none of 300 is significant (p < 0.001) and still two requests: no finding
  assert.equal(excessEvidence({ over: 2, total: 10 }, { over: 0, total: 300 }, 0.05), undefined);
  assert.equal(excessEvidence({ over: 5, total: 80 }, { over: 0, total: 300 }, 0.05), 'baseline');
});

test('an error rate over its threshold is believed the same way: more failures than the threshold rate gives, or commoner than before', () => {
  // threshold 5%: two failed of twenty is 10%, and 26% likely at 5%
  assert.equal(excessEvidence({ over: 2, total: 20 }, { over: 0, total: 100 }, 0.05), undefined);
  // a third of 120 requests
  assert.equal(excessEvidence({ over: 40, total: 120 }, { over: 0, total: 100 }, 0.05), 'share');
  // 7% of 200 requests (an entry service, its checkout failing) against none of 2,000 before
  assert.equal(excessEvidence({ over: 14, total: 200 }, { over: 0, total: 2000 }, 0.05), 'baseline');
});
