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

test('detector: the CAD / robust-z rest starts at an alarm it reports and is not re-armed by the scores it silences', () => {
  // A restless series (a burst of random height every 90 points) with a drop at 1500: CAD scores high often.
  let seed = 7;
  const r = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const xs = Array.from({ length: 2000 }, (_, i) => 10 + Math.sin(i / 8) + (i % 90 < 3 ? 4 * r() : 0) + (i >= 1500 && i < 1520 ? -8 : 0));
  // The parts' own state does not depend on the rest, so with no rest and no dedupe the output is their raw score.
  const raw = scoreSeries(xs, { art: false, rest: 0, dedupe: 0 });
  const expected = (rest: number, rearm: boolean): number[] => {
    const out: number[] = [];
    let last = -Infinity;
    for (let i = 0; i < raw.length; i++) {
      const silenced = i - last <= rest;
      if (!silenced && raw[i]! >= 0.75) out.push(i);
      if ((rearm || !silenced) && raw[i]! >= 0.75) last = i;
    }
    return out;
  };
  const now = alarms(scoreSeries(xs, { art: false, dedupe: 0 }), 0);
  const before = alarms(scoreSeries(xs, { art: false, dedupe: 0, rest: 200, restRearm: true }), 0);
  assert.deepEqual(now, expected(200, false));
  assert.deepEqual(before, expected(200, true));
  // The series tells the two rules apart (the re-armed rest stays silent longer).
  assert.ok(now.length > before.length, `not re-armed ${now.join(',')} vs re-armed ${before.join(',')}`);
});
