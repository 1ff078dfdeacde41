import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileRow } from './features.js';
import { trainLogisticByWindow } from './model.js';
import { repeatWeights } from './repeated-rows.js';

const row = (path: string, x: number, label: boolean): FileRow => ({ path, loc: 10, features: { x, y: (x * 7) % 3 }, label });

test('repeated files weigh 1/sqrt(appearances), scaled to mean 1', () => {
  // "old" is in all four windows, "new" only in the latest.
  const windows = [[row('old', 1, true), row('new', 2, false)], [row('old', 1, false)], [row('old', 1, false)], [row('old', 1, true)]];
  const w = repeatWeights(windows);
  assert.equal(w.length, 4);
  assert.ok(Math.abs(w[0]![1]! / w[0]![0]! - 2) < 1e-12);
  const all = w.flat();
  assert.ok(Math.abs(all.reduce((a, b) => a + b, 0) / all.length - 1) < 1e-12);
});

test('with unit row weights the window-intercept fit is the unweighted one; weights move it', () => {
  const windows = [0, 1, 2].map((k) => Array.from({ length: 60 }, (_, i) => row(`f${i}`, (i % 10) / 10 + k, (i * 37 + k * 11) % 7 < 2 + (i % 10) / 4)));
  const ones = windows.map((w) => w.map(() => 1));
  const a = trainLogisticByWindow(windows, ['x', 'y'], 1);
  const b = trainLogisticByWindow(windows, ['x', 'y'], 1, ones);
  a.weights.forEach((v, j) => assert.ok(Math.abs(v - b.weights[j]!) < 1e-9, `${v} vs ${b.weights[j]}`));
  assert.ok(Math.abs(a.bias - b.bias) < 1e-9);
  const c = trainLogisticByWindow(windows, ['x', 'y'], 1, windows.map((w) => w.map((r) => (r.label ? 3 : 1))));
  assert.ok(c.bias > b.bias + 0.5, `${c.bias} vs ${b.bias}`);
});
