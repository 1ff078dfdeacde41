import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreSeries } from './detector.js';

const alarms = (s: Float64Array, from: number): number[] => Array.from(s).flatMap((v, i) => (i >= from && v >= 0.75 ? [i] : []));

test('detector: a jump to a level far outside the learned range is detected at once, then the new level is normal', () => {
  const wave = (i: number): number => Math.sin(i / 8);
  const jump = alarms(scoreSeries(Array.from({ length: 5000 }, (_, i) => (i < 2000 ? 10 : 100) + wave(i))), 1500);
  const steady = alarms(scoreSeries(Array.from({ length: 5000 }, (_, i) => 10 + wave(i))), 1500);
  assert.ok(jump.length >= 1 && jump[0]! >= 2000 && jump[0]! <= 2002, `detected at the jump (${jump.join(',')})`);
  // The ensemble is not silent on a clean sine either (about one alarm per 1,000-2,000 points: CAD's odd novel
  // bin sequence, ART's odd new cluster); what must not happen is the new level itself alarming on and on.
  const after = jump.filter((i) => i > 2300).length;
  const base = steady.filter((i) => i > 2300).length;
  assert.ok(after <= base + 2, `alarms after the jump ${jump.join(',')} vs without it ${steady.join(',')}`);
});

test('detector: a steady ramp (every point a new maximum) does not alarm continuously', () => {
  const xs = Array.from({ length: 5000 }, (_, i) => i * 0.5 + Math.sin(i / 5));
  const a = alarms(scoreSeries(xs), 750);
  assert.ok(a.length <= 5, `alarms on a ramp: ${a.join(',')}`);
});

test('detector: scores stay in [0, 1] on noise, spikes and flat stretches', () => {
  let seed = 11;
  const xs = Array.from({ length: 6000 }, (_, i) => {
    seed = (seed * 16807) % 2147483647;
    return i % 1500 < 300 ? 5 : (seed / 2147483647) * 3 + (i % 977 === 0 ? 50 : 0);
  });
  for (const v of scoreSeries(xs)) assert.ok(v >= 0 && v <= 1, `score ${v}`);
});
