import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictForest, trainForest } from './forest.js';
import { auc, predict, trainLogistic } from './model.js';
import type { FileRow } from './features.js';

/** Deterministic synthetic rows: 6 features uniform in [-1, 1] from a seeded generator. */
function rows(n: number, seed: number): number[][] {
  let a = seed;
  const u = (): number => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
  return Array.from({ length: n }, () => Array.from({ length: 6 }, u));
}

test('the forest is deterministic for a seed, and another seed grows another forest', () => {
  const X = rows(300, 3);
  const y = X.map((x) => (x[0]! + 0.3 * x[1]! > 0 ? 1 : 0));
  const probe = rows(50, 99);
  const run = (seed: number): number[] => {
    const f = trainForest(X, y, { trees: 30, seed });
    return probe.map((x) => predictForest(f, x));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('the forest learns a planted signal a linear model cannot (a middle band of one feature)', () => {
  // Defective when feature 2 is near zero, with 10% of labels flipped: a non-monotone signal.
  const label = (x: number[], i: number): number => (Math.abs(x[2]!) < 0.4) !== (i % 10 === 0) ? 1 : 0;
  const X = rows(1500, 11);
  const y = X.map(label);
  const T = rows(600, 12);
  const ty = T.map((x, i) => label(x, i + 1) === 1);
  const f = trainForest(X, y, { trees: 100, maxFeatures: 0.5, minLeaf: 5, seed: 1 });
  const forestAuc = auc(T.map((x) => predictForest(f, x)), ty);
  const asRow = (x: number[], i: number): FileRow => ({ path: `f${i}`, loc: 1, features: Object.fromEntries(x.map((v, j) => [`x${j}`, v])), label: y[i] === 1 });
  const m = trainLogistic(X.map(asRow), ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'], 1);
  const linearAuc = auc(T.map((x, i) => predict(m, asRow(x, i))), ty);
  assert.ok(forestAuc > 0.85, `forest AUC ${forestAuc}`);
  assert.ok(linearAuc < 0.65, `linear AUC ${linearAuc}`);
});

test('row weights steer the bootstrap: rows of weight 0 are never drawn', () => {
  // Two halves with opposite signals; weighting one half out leaves the other's signal.
  const X = rows(800, 21);
  const y = X.map((x, i) => ((x[0]! > 0) === i < 400 ? 1 : 0));
  const w = X.map((_, i) => (i < 400 ? 1 : 0));
  const T = rows(300, 22);
  const f = trainForest(X, y, { trees: 50, seed: 1 }, w);
  assert.ok(auc(T.map((x) => predictForest(f, x)), T.map((x) => x[0]! > 0)) > 0.9);
  const g = trainForest(X, y, { trees: 50, seed: 1 }, w.map((v) => 1 - v));
  assert.ok(auc(T.map((x) => predictForest(g, x)), T.map((x) => x[0]! > 0)) < 0.1);
});
