import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../store/open.js';
import { affectedBy, disturbanceAt, knownDisturbances, quietRangesUs, settledRangesS, KNOWN_SETTLE_S } from './own-disturbances.js';
import { JOURNAL_KIND } from './analysis/chaos-engineer.js';
import { LOAD_RUN_KIND } from './analysis/load-tester.js';

const T = 1_700_000_000_000_000;

function journal(title: string, startUs: number, endUs: number, dryRun = false): Record<string, unknown> {
  return { experiment: { title, method: [] }, start: new Date(startUs / 1000).toISOString(), end: new Date(endUs / 1000).toISOString(), dry_run: dryRun, status: 'completed', deviated: false };
}

test("the swarm's own disturbances of a window: experiments that injected and load tests overlapping it, found among thousands of later runs", async () => {
  const store = await openStore(':memory:');
  try {
    const window = { fromUs: T, toUs: T + 900e6 };
    await store.patterns.put(JOURNAL_KIND, 'c-in', journal('payment latency', T + 100e6, T + 130e6));
    await store.patterns.put(JOURNAL_KIND, 'c-dry', journal('dry run', T + 200e6, T + 230e6, true));
    await store.patterns.put(JOURNAL_KIND, 'c-before', journal('yesterday', T - 86_400e6, T - 86_000e6));
    await store.patterns.put(LOAD_RUN_KIND, 'l-edge', { id: 'l-edge', target: 'http://127.0.0.1:8080/', atUs: T, startUs: T - 30e6, endUs: T + 10e6 });
    await new Promise((r) => setTimeout(r, 5));
    // Later runs, far more than one read used to return (the newest 1,000): the window's own are still found.
    await store.patterns.putMany(LOAD_RUN_KIND, Array.from({ length: 1500 }, (_, i) => ({ key: `l-${i}`, value: { id: `l-${i}`, target: 'http://127.0.0.1:8080/', atUs: T + 86_400e6, startUs: T + 86_400e6 + i * 60e6, endUs: T + 86_400e6 + i * 60e6 + 30e6 } })));
    const known = await knownDisturbances({ store }, window);
    assert.deepEqual(known.map((k) => [k.what, k.fromS - T / 1e6, k.toS - T / 1e6]), [
      ['load test of http://127.0.0.1:8080/', -30, 10],
      ['chaos experiment "payment latency"', 100, 130],
    ]);
    assert.deepEqual(settledRangesS(known).map((r) => r.toS - T / 1e6), [10 + KNOWN_SETTLE_S, 130 + KNOWN_SETTLE_S]);
  } finally {
    await store.close();
  }
});

test('an experiment on a dependency, or planned work on a service, touches it and its callers by the call graph; one the graph does not know touches all', async () => {
  const calls = [
    { source: 'frontend', target: 'checkout' },
    { source: 'checkout', target: 'payment' },
    { source: 'checkout', target: 'email' },
    { source: 'batch', target: 'payment' },
  ];
  assert.deepEqual(affectedBy('payment', calls), ['batch', 'checkout', 'frontend', 'payment']);
  assert.deepEqual(affectedBy('email', calls), ['checkout', 'email', 'frontend']);
  assert.deepEqual(affectedBy('frontend', calls), ['frontend']);
  assert.equal(affectedBy('ledger', calls), undefined);
  // a cycle in the graph ends
  assert.deepEqual(affectedBy('a', [{ source: 'a', target: 'b' }, { source: 'b', target: 'a' }]), ['a', 'b']);

  const store = await openStore(':memory:');
  try {
    await store.graph.upsertEdges(calls.map((e) => ({ ...e, kind: 'calls', seenUs: T })));
    const window = { fromUs: T, toUs: T + 900e6 };
    await store.patterns.put(JOURNAL_KIND, 'c-pay', { ...journal('payment latency', T + 100e6, T + 130e6), experiment: { title: 'payment latency', method: [], configuration: { target: { caller: 'checkout', dependency: 'payment' } } } });
    await store.patterns.put(JOURNAL_KIND, 'c-any', journal('no target', T + 300e6, T + 330e6));
    const known = await knownDisturbances({ store }, window);
    assert.deepEqual(known.map((k) => [k.what, k.services]), [
      ['chaos experiment "payment latency"', ['batch', 'checkout', 'frontend', 'payment']],
      ['chaos experiment "no target"', undefined],
    ]);
    const at = (s: number, service?: string) => disturbanceAt(known, T + s * 1e6, T + (s + 10) * 1e6, service)?.what;
    assert.equal(at(110, 'checkout'), 'chaos experiment "payment latency"');
    assert.equal(at(110, 'email'), undefined, 'email does not wait on payment');
    assert.equal(at(110), 'chaos experiment "payment latency"', 'asked for no service: any');
    assert.equal(at(310, 'email'), 'chaos experiment "no target"');
    assert.deepEqual(quietRangesUs(known, 'email').map((r) => (r.fromUs - T) / 1e6), [300]);
  } finally {
    await store.close();
  }
});
