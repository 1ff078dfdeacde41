import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldMetricBaseline, type MetricLevel } from './metric-baseline.js';

const MIN = 60e6;
const HOUR = 3600e6;
const t0 = 1_700_006_400_000_000; // a UTC midnight

/** A gauge every minute: `level` plus the hour of day (0..23) as its daily cycle, for `hours` hours from `from`. */
const gauge = (fromUs: number, hours: number, level: number): { t: number[]; v: number[] } => {
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < hours * 60; i++) {
    const at = fromUs + i * MIN;
    t.push(at);
    v.push(level + Math.floor(((at / HOUR) % 24)) + (i % 3) * 0.1);
  }
  return { t, v };
};
/** What a store hands back: JSON, where ±Infinity became null. */
const roundTrip = (b: MetricLevel): MetricLevel => JSON.parse(JSON.stringify(b)) as MetricLevel;

test('a first baseline starts from the points before the window (a young series: the first third of what it has), then takes in the rest', () => {
  // An hour at 100, then an hour's incident at 400: the incident moves the level by its share, not to 400.
  const { t, v } = gauge(t0, 2, 100);
  const w = v.map((x, i) => (i < 60 ? x : 400));
  const b = foldMetricBaseline(undefined, t, w, 60)!;
  assert.equal(b.basis, 'history');
  assert.equal(b.watermarkUs, t[119]);
  assert.equal(b.n, 120);
  const historyOnly = foldMetricBaseline(undefined, t.slice(0, 60), w.slice(0, 60), 60)!;
  assert.ok(Math.abs(b.median - (historyOnly.median + 0.5 * (400 - historyOnly.median))) < 1e-9, `${b.median}`);
  const young = foldMetricBaseline(undefined, t.slice(0, 90), v.slice(0, 90), 0)!;
  assert.deepEqual([young.basis, young.n], ['early window', 90]);
  assert.equal(foldMetricBaseline(undefined, t.slice(0, 2), v.slice(0, 2), 0), undefined);
});

test('points already folded in count once: overlapping windows read twice leave the baseline as it was', () => {
  const { t, v } = gauge(t0, 6, 100);
  const first = roundTrip(foldMetricBaseline(undefined, t.slice(0, 240), v.slice(0, 240), 120)!);
  assert.equal(first.n, 240);
  const next = roundTrip(foldMetricBaseline(first, t, v, 240)!);
  assert.equal(next.n, 360);
  assert.equal(next.watermarkUs, t[359]);
  const again = roundTrip(foldMetricBaseline(next, t, v, 240)!);
  assert.deepEqual(again, next);
});

test('the level follows a series that moves: a shift of +50 is taken in cycle by cycle, never by less than a tenth', () => {
  let b = roundTrip(foldMetricBaseline(undefined, ...Object.values(gauge(t0, 24, 100)) as [number[], number[]], 24 * 60)!);
  const before = b.median;
  const medians: number[] = [];
  for (let h = 0; h < 24; h++) {
    const { t, v } = gauge(t0 + (24 + h) * HOUR, 1, 150);
    b = roundTrip(foldMetricBaseline(b, t, v, 0)!);
    medians.push(b.median);
  }
  assert.ok(medians.every((m, i) => m > (i ? medians[i - 1]! : before)), `rising: ${medians.map((m) => m.toFixed(1)).join(' ')}`);
  assert.ok(medians[23]! > before + 25, `most of the shift is in after a day: ${before.toFixed(1)} -> ${medians[23]!.toFixed(1)}`);
});

test('the daily profile builds up across cycles, and is offered as the seasonal normal once it covers two days', () => {
  let b: MetricLevel | undefined;
  for (let h = 0; h < 72; h += 3) {
    const { t, v } = gauge(t0 + h * HOUR, 3, 100);
    b = roundTrip(foldMetricBaseline(b, t, v, h ? 0 : 60)!);
    if (h < 48) assert.equal(b.seasonal, undefined, `no seasonal normal after ${h + 3} h`);
  }
  assert.ok(b!.seasonal, 'seasonal after 3 days');
  assert.ok(b!.seasonal.strength > 3, `hours differ: strength ${b!.seasonal.strength}`);
  // Hour 5's normal is about 105, hour 20's about 120.
  assert.ok(Math.abs(b!.seasonal.level[5]! - 105.1) < 0.2 && Math.abs(b!.seasonal.level[20]! - 120.1) < 0.2, JSON.stringify(b!.seasonal.level));
  assert.equal(b!.weekly.slots, 168);
});
