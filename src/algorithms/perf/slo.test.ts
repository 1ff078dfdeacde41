import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetBurndown, budgetCell, describeBudget, describeSlo, errorBudget, SLO_WINDOW_US, type SliBucket, type Slo } from './slo.js';

const H = 3600e6;
const DAY = 24 * H;
const slo: Slo = { service: 's', objective: 0.999, kind: 'availability' };
/** Hourly buckets of 1,000 requests from `fromUs` to `toUs`, `bad(hourIndex)` of them failed. */
const hours = (fromUs: number, toUs: number, bad: (i: number) => number): SliBucket[] => {
  const out: SliBucket[] = [];
  for (let t = fromUs, i = 0; t < toUs; t += H, i++) out.push({ startUs: t, total: 1000, bad: bad(i) });
  return out;
};

test('the error budget is the share of allowed bad requests not yet spent over the rolling 30 days', () => {
  const now = 40 * DAY;
  // 720 hours × 1,000 requests at 99.9%: 720 bad allowed. 180 spent → 75% left.
  const b = errorBudget(slo, hours(now - 30 * DAY, now, (i) => (i % 4 === 0 ? 1 : 0)), now);
  assert.equal(b.windowUs, SLO_WINDOW_US);
  assert.equal(b.total, 720_000);
  assert.equal(b.allowed, 720);
  assert.equal(b.bad, 180);
  assert.equal(b.remaining, 0.75);
  assert.equal(b.coveredUs, 30 * DAY);
  assert.equal(describeBudget(b), '75% of the 30-day error budget left');
});

test('buckets before the window do not count: an old incident ages out of the budget', () => {
  const now = 40 * DAY;
  const old = hours(now - 35 * DAY, now - 30 * DAY, () => 500);
  const recent = hours(now - 30 * DAY, now, () => 0);
  assert.equal(errorBudget(slo, [...old, ...recent], now).remaining, 1);
  assert.ok(errorBudget(slo, [...old, ...recent], now + 0).bad === 0);
  assert.ok(errorBudget({ ...slo, windowUs: 36 * DAY }, [...old, ...recent], now).remaining < 0, 'a longer window still holds it');
});

test('an overspent budget is below 0 and says how many budgets were used; a young service is judged on what exists', () => {
  const now = 3 * DAY;
  const b = errorBudget(slo, hours(now - 2 * DAY, now, () => 3), now);
  assert.equal(b.coveredUs, 2 * DAY);
  assert.equal(b.remaining, -2);
  assert.equal(describeBudget(b), '30-day error budget overspent: 3× of it used (2 days of data so far)');
  assert.equal(budgetCell(b, now), 'overspent 3×');
  assert.equal(b.exhaustedAtUs, undefined, 'spent already: nothing left to run out');
});

test('at the last hour’s burn rate the rest runs out at remaining × window / burn', () => {
  const now = 40 * DAY;
  const bs = hours(now - 30 * DAY, now, (i) => (i === 719 ? 14 : 0));
  const b = errorBudget(slo, bs, now);
  // 14 of 1,000 failed in the last hour: burn 14×. 706 of 720 left.
  assert.equal(b.remaining, +(1 - 14 / 720).toFixed(4));
  assert.equal(b.exhaustedAtUs, Math.round(now + ((1 - 14 / 720) * SLO_WINDOW_US) / 14));
  assert.match(budgetCell(b, now), /^98% left, gone in 2\.1 d at this burn$/);
  // A finer burn figure from the caller wins over the hourly buckets'.
  assert.equal(errorBudget(slo, bs, now, 0).exhaustedAtUs, undefined);
  assert.equal(budgetCell(errorBudget(slo, bs, now, 0.5), now), '98% left', 'at half the sustainable rate it outlasts the window: no date');
});

test('no requests: the whole budget is left; the window is named when it is not 30 days', () => {
  const b = errorBudget({ ...slo, windowUs: 28 * DAY }, [], DAY);
  assert.equal(b.remaining, 1);
  assert.equal(b.coveredUs, 0);
  assert.equal(describeBudget(b), '100% of the 28-day error budget left');
  assert.equal(describeSlo({ ...slo, windowUs: 28 * DAY }), '99.9% availability over 28 days');
  assert.equal(describeSlo({ ...slo, windowUs: SLO_WINDOW_US }), '99.9% availability');
  assert.equal(describeSlo({ ...slo, windowUs: 36 * H }), '99.9% availability over 36 hours');
});

test('the burn-down starts near the whole budget, falls where bad requests came, and ends at what is left', () => {
  const now = 40 * DAY;
  // 30 days; 360 of the 720 allowed bad requests in one incident on day 20 (hour 480), nothing else.
  const buckets = hours(now - 30 * DAY, now, (i) => (i === 480 ? 360 : 0));
  const curve = budgetBurndown(slo, buckets, now, 1000);
  assert.equal(curve.length, 720);
  assert.deepEqual(curve[0], [now - 30 * DAY + H, 1]);
  assert.deepEqual(curve[479], [now - 30 * DAY + 480 * H, 1], 'untouched up to the incident');
  assert.deepEqual(curve[480], [now - 30 * DAY + 481 * H, 0.5], 'half of it gone in that hour');
  assert.deepEqual(curve.at(-1), [now, errorBudget(slo, buckets, now).remaining]);
  // Thinned to one point per 120th of the time covered for a dashboard (and the last), in order.
  const thin = budgetBurndown(slo, buckets, now);
  assert.equal(thin.length, 121);
  // The closed hours hourly and the last hour at 10 s: thinned on time, the last hour gets its share, not most.
  const mixed = [...hours(now - 30 * DAY, now - H, () => 0), ...Array.from({ length: 360 }, (_, i): SliBucket => ({ startUs: now - H + i * 10e6, total: 3, bad: 0 }))];
  assert.ok(budgetBurndown(slo, mixed, now).filter(([t]) => t > now - H).length <= 2);
  assert.deepEqual(thin.at(-1), curve.at(-1));
  assert.ok(thin.every((p, i) => i === 0 || p[0] > thin[i - 1]![0]));
  // Overspent: below 0; no requests: nothing to draw.
  assert.equal(budgetBurndown(slo, hours(now - DAY, now, () => 3), now).at(-1)![1], -2);
  assert.deepEqual(budgetBurndown(slo, [], now), []);
});
