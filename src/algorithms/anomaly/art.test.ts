import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArtDetector } from './art.js';

const periodic = (n: number, change?: number): number[] =>
  Array.from({ length: n }, (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 48) + (change !== undefined && i >= change && i < change + 100 ? 5 * Math.sin((2 * Math.PI * i) / 6) : 0));

const run = (xs: readonly number[], d = new ArtDetector()): number[] => xs.map((x) => d.update(x));

test('ART: a learned daily-like cycle is quiet, a new fast rhythm in it is an anomaly within two blocks', () => {
  const s = run(periodic(3000, 2000));
  assert.equal(Math.max(...s.slice(0, 2000)), 0, 'nothing before the change');
  const first = s.slice(2000, 2100).findIndex((v) => v > 0.5);
  assert.ok(first >= 0 && first < 6, `detected early (${first})`);
});

test('ART: the scale of a series does not matter (the range is learned)', () => {
  const xs = periodic(2500, 1800);
  // A power-of-two scale keeps every intermediate value exact, so the scores must be identical.
  assert.deepEqual(run(xs.map((x) => 4 * x)), run(xs));
});

test('ART: online, a score does not depend on later points', () => {
  const xs = periodic(2500, 1800);
  assert.deepEqual(run(xs).slice(0, 1900), run(xs.slice(0, 1900)));
});

test('ART: the category store is bounded', () => {
  const d = new ArtDetector({ maxCategories: 64 });
  let seed = 3;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 16807) % 2147483647;
    const s = d.update(seed / 2147483647);
    assert.ok(s >= 0 && s <= 1);
    assert.ok(d.categories <= 64, `categories ${d.categories}`);
  }
});
