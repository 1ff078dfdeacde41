import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRollups, tierCut, uniformRollups } from './rollup.js';
import { ROLLUP_LATENCY_BOUNDS_US, type Rollup } from './store.js';

const roll = (operation: string, startUs: number, bucketUs: number, requests: number, slot = 3): Rollup => {
  const latencyBuckets = new Array<number>(ROLLUP_LATENCY_BOUNDS_US.length + 1).fill(0);
  latencyBuckets[slot] = requests;
  return { service: 's', operation, bucketStartUs: startUs, bucketUs, requests, errors: requests >> 1, durationSumUs: 1000 * requests, latencyBuckets };
};

test('merging rollups adds counts, durations and histograms per operation into buckets on the wider grid', () => {
  const out = mergeRollups([roll('a', 0, 10e6, 2), roll('a', 290e6, 10e6, 4, 5), roll('a', 300e6, 10e6, 1), roll('b', 10e6, 10e6, 3)], 300e6);
  assert.deepEqual(
    out.map((r) => [r.operation, r.bucketStartUs, r.bucketUs, r.requests, r.errors, r.durationSumUs, r.latencyBuckets[3], r.latencyBuckets[5]]),
    [
      ['a', 0, 300e6, 6, 3, 6000, 2, 4],
      ['b', 0, 300e6, 3, 1, 3000, 3, 0],
      ['a', 300e6, 300e6, 1, 0, 1000, 1, 0],
    ],
  );
  assert.equal(mergeRollups([roll('a', 0, 3600e6, 5)], 300e6)[0]!.bucketUs, 3600e6, 'a wider bucket is kept as it is');
});

test('a read that mixes widths is made uniform at the widest; one width is returned untouched', () => {
  const same = [roll('a', 0, 10e6, 1), roll('a', 10e6, 10e6, 1)];
  assert.equal(uniformRollups(same), same);
  const mixed = uniformRollups([roll('a', 0, 300e6, 7), roll('a', 300e6, 10e6, 1), roll('a', 310e6, 10e6, 2)]);
  assert.deepEqual(mixed.map((r) => [r.bucketStartUs, r.bucketUs, r.requests]), [[0, 300e6, 7], [300e6, 300e6, 3]]);
});

test("a tier's cut lies its age before the newest record, down to its own grid", () => {
  assert.equal(tierCut(10 * 3600e6 + 123, { afterUs: 3600e6, bucketUs: 300e6 }), 9 * 3600e6);
  assert.equal(tierCut(10 * 3600e6 - 1, { afterUs: 3600e6, bucketUs: 3600e6 }), 8 * 3600e6);
});
