import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findingsFromRun, type LoadRunRecord } from './load-tester.js';
import { fitUsl } from '../../algorithms/load/analysis.js';

const steps = (xs: number[]) => [1, 2, 4, 8].map((n, i) => ({ n, x: xs[i]!, p95Ms: 5, errorRate: 0 }));

function capacityTitle(xs: number[]): string {
  const s = steps(xs);
  const run: LoadRunRecord = { id: 'r1', target: 'http://127.0.0.1:8080/checkout', atUs: 0, capacity: { steps: s, usl: fitUsl(s.map((p) => ({ n: p.n, x: p.x }))) } };
  return findingsFromRun(run, undefined, 'qe-load-tester', 0).find((f) => f.kind === 'capacity')!.title;
}

test('a capacity finding with a USL peak names the peak rate and the concurrency it is reached at', () => {
  // Retrograde: throughput falls past 4 concurrent, so κ > 0 and there is a peak.
  assert.match(capacityTitle([100, 180, 220, 150]), /peak \d+ req\/s at \d+ concurrent/);
});

test('a capacity finding without a USL peak (κ = 0) says throughput was still rising, not "unbounded"', () => {
  const title = capacityTitle([100, 200, 400, 800]);
  assert.doesNotMatch(title, /unbounded|Infinity|NaN/);
  assert.match(title, /no throughput peak up to 8 concurrent \(best measured 800 req\/s, still rising\)/);
});

test('a USL peak beyond the largest step tried is reported as an extrapolation, with the best measured rate', () => {
  assert.match(capacityTitle([100, 190, 340, 560]), /best measured 560 req\/s at 8 concurrent; USL extrapolates a peak of \d+ req\/s at \d+/);
});
