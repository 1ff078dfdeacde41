import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileRow } from './features.js';
import { predict, trainLogisticByWindow } from './model.js';
import { rankingObjective, rankingProblem, trainRankingByWindow } from './ranking.js';

// A deterministic pseudo-random stream, so the tests do not depend on Math.random.
const stream = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

function windowsOf(rand: () => number, sizes: number[]): FileRow[][] {
  return sizes.map((n, k) =>
    Array.from({ length: n }, (_, i) => {
      const a = rand(), b = rand(), c = rand();
      return { path: `f${i}`, loc: 10 + i, features: { a, b: b + k, c }, label: rand() < 0.2 + 0.5 * a };
    }),
  );
}

test('the blended loss: gradient and Hessian match finite differences', () => {
  const rand = stream(7);
  const windows = windowsOf(rand, [12, 9, 15]);
  const weights = windows.map((w) => w.map(() => 0.5 + rand()));
  for (const mix of [0, 0.4, 1]) {
    const p = rankingProblem(windows, ['a', 'b', 'c'], { mix, lambda: 0.7, weights, recency: 0.9 });
    const beta = Array.from({ length: p.D }, () => rand() - 0.5);
    const at = rankingObjective(p, beta);
    const h = 1e-5;
    for (let j = 0; j < p.D; j++) {
      const up = [...beta], down = [...beta];
      up[j]! += h;
      down[j]! -= h;
      const fu = rankingObjective(p, up), fd = rankingObjective(p, down);
      const g = (fu.loss - fd.loss) / (2 * h);
      assert.ok(Math.abs(g - at.grad[j]!) < 1e-6 * Math.max(1, Math.abs(g)), `mix ${mix}, grad ${j}: ${g} vs ${at.grad[j]}`);
      for (let k = 0; k < p.D; k++) {
        const hk = (fu.grad[k]! - fd.grad[k]!) / (2 * h);
        assert.ok(Math.abs(hk - at.hess![j]![k]!) < 1e-5 * Math.max(1, Math.abs(hk)), `mix ${mix}, H[${j}][${k}]: ${hk} vs ${at.hess![j]![k]}`);
      }
    }
  }
});

test('pairwise only: a planted positive ranks above the negatives, and a window-wide shift gets no weight', () => {
  // In every window the fixed files have the larger `signal`; `shift` is larger in the window with more fixes
  // but the same for all files of a window — pairs of one window never compare across windows, so it cannot
  // help (a pooled pointwise logit without window intercepts leans on it).
  const rows = (k: number, positives: number): FileRow[] =>
    Array.from({ length: 40 }, (_, i) => ({ path: `f${i}`, loc: 50, features: { signal: ((i * 13) % 40) / 40 + (i < positives ? 0.8 : 0), shift: k === 1 ? 3 : 0 }, label: i < positives }));
  const windows = [rows(0, 4), rows(1, 20)];
  const m = trainRankingByWindow(windows, ['signal', 'shift'], { mix: 1, lambda: 0.1 });
  assert.ok(m.weights[0]! > 1, `signal weight ${m.weights[0]}`);
  assert.ok(Math.abs(m.weights[1]!) < 0.1 * m.weights[0]!, `shift weight ${m.weights[1]}`);
  const planted: FileRow = { path: 'p', loc: 50, features: { signal: 1.2, shift: 0 } };
  const negatives = windows[0]!.filter((r) => !r.label);
  for (const r of negatives) assert.ok(predict(m, planted) > predict(m, r));
  // Platt-scaled on the most recent window: the mean probability there is about its base rate (4 of 40).
  const meanP = windows[0]!.reduce((s, r) => s + predict(m, r), 0) / 40;
  assert.ok(Math.abs(meanP - 0.1) < 0.03, String(meanP));
});

test('mix 0 is the window-intercept logistic model of model.ts', () => {
  const rand = stream(11);
  const windows = windowsOf(rand, [30, 25, 20]);
  // Scaled to mean 1, as repeatWeights gives them (the ranking fit rescales, trainLogisticByWindow does not).
  const raw = windows.map((w) => w.map(() => 0.5 + rand()));
  const mean = raw.flat().reduce((a, b) => a + b, 0) / raw.flat().length;
  const weights = raw.map((w) => w.map((x) => x / mean));
  const a = trainLogisticByWindow(windows, ['a', 'b', 'c'], 2, weights);
  const b = trainRankingByWindow(windows, ['a', 'b', 'c'], { mix: 0, lambda: 2, weights });
  a.weights.forEach((x, j) => assert.ok(Math.abs(x - b.weights[j]!) < 1e-8, `${x} vs ${b.weights[j]}`));
  assert.ok(Math.abs(a.bias - b.bias) < 1e-8);
});
