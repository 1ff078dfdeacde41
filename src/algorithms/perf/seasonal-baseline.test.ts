import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedAt, profileStrength, updateProfile, type HourlyProfile } from './seasonal-baseline.js';
import { mulberry32 } from '../../util/random.js';

const H = 3600e6;
const T0 = Math.floor(1_700_000_000_000_000 / (24 * H)) * 24 * H; // a UTC midnight

/** Latency every 5 minutes: 40 ms at 18:00, 120 ms at 06:00 (a sine over the day), ±3 ms noise. */
function day(fromH: number, toH: number, seed: number): { t: number[]; x: number[] } {
  const rnd = mulberry32(seed);
  const t: number[] = [];
  const x: number[] = [];
  for (let m = fromH * 60; m < toH * 60; m += 5) {
    t.push(T0 + m * 60e6);
    x.push(80 + 40 * Math.sin((2 * Math.PI * (m / 60)) / 24) + 6 * (rnd() - 0.5));
  }
  return { t, x };
}

test('the daily profile learns each hour\'s level online, in cycles, and judges only after two days of every hour', () => {
  let p: HourlyProfile | undefined;
  for (let h = 0; h < 72; h += 6) {
    const d = day(h, h + 6, h);
    p = updateProfile(p, d.t, d.x);
    if (h + 6 <= 48) assert.equal(expectedAt(p, T0 + 75 * H), undefined, `not before two days (${h + 6} h)`);
  }
  const at6 = expectedAt(p, T0 + 78 * H)!; // 06:00 on day 4
  const at18 = expectedAt(p, T0 + 90 * H)!;
  assert.ok(Math.abs(at6.level - 119) < 4, `06:00 ${at6.level}`);
  assert.ok(Math.abs(at18.level - 41) < 4, `18:00 ${at18.level}`);
  assert.ok(at6.spread < 10, 'the spread is within the hour, not the daily swing');
  assert.ok(profileStrength(p!) > 3);
});

test('points already folded in are not counted again (overlapping windows), and a JSON round trip keeps the profile', () => {
  const d = day(0, 30, 1);
  const once = updateProfile(undefined, d.t, d.x);
  const twice = updateProfile(once, d.t, d.x);
  assert.deepEqual(twice, once);
  const back = JSON.parse(JSON.stringify(updateProfile(undefined, [], []))) as HourlyProfile;
  assert.deepEqual(updateProfile(back, d.t, d.x), once, 'an empty profile stored as JSON (±Infinity → null) still learns');
});

test('a flat, noisy series has no daily profile to judge by', () => {
  const rnd = mulberry32(5);
  const t = Array.from({ length: 3 * 288 }, (_, i) => T0 + i * 300e6);
  const p = updateProfile(undefined, t, t.map(() => 80 + 30 * rnd()));
  assert.ok(profileStrength(p) < 1, `strength ${profileStrength(p)}`);
  assert.equal(expectedAt(p, T0 + 80 * H), undefined);
});

test('weekly profile: after two weeks, where weekends differ, a Saturday is judged against Saturdays; without a weekend effect the daily profile stays', () => {
  const rnd = mulberry32(9);
  const D = 24 * H;
  const weekday = (t: number): number => new Date(t / 1000).getUTCDay();
  const value = (t: number, weekend: boolean): number => {
    const hour = ((t - T0) / H) % 24;
    const base = 80 - 40 * Math.cos((2 * Math.PI * hour) / 24);
    return (weekend && (weekday(t) === 0 || weekday(t) === 6) ? 0.4 : 1) * base * (0.98 + 0.04 * rnd());
  };
  for (const weekend of [true, false]) {
    let daily: HourlyProfile | undefined;
    let weekly: HourlyProfile | undefined;
    let saturdayNoon = 0;
    for (let d = 0; d < 21; d++) {
      const t = Array.from({ length: 288 }, (_, i) => T0 + d * D + i * 300e6);
      const x = t.map((v) => value(v, weekend));
      daily = updateProfile(daily, t, x, 24);
      weekly = updateProfile(weekly, t, x, 168);
      if (weekday(T0 + d * D) === 6) saturdayNoon = T0 + d * D + 12 * H;
      if (d === 10) assert.equal(expectedAt(daily, saturdayNoon || T0 + 12 * H, weekly)?.period, 'day', 'not before two weeks');
    }
    const e = expectedAt(daily, saturdayNoon, weekly)!;
    if (weekend) {
      assert.equal(e.period, 'week');
      assert.ok(Math.abs(e.level - 0.4 * 120) < 5, `Saturday noon ${e.level}`);
    } else assert.equal(e.period, 'day');
  }
});
