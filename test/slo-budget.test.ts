/**
 * Error budgets over the SLO window, as `GET /api/slos`, MCP `knowledge_query slos`, the dashboard and the report
 * read them (memory-ops sloOverview): counted over every request of the window, old buckets included after the
 * store has merged them into wide ones, and read incrementally (closed hours once, per store).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { sampleSpan } from '../src/store/contract.js';
import { sloOverview } from '../src/agents/feedback/memory-ops.js';
import { SLO_CONFIG_KIND } from '../src/config/slo-config.js';
import type { MemoryStore } from '../src/store/store.js';
import type { Span } from '../src/signals/model.js';
import { tempDir } from './helpers/env.js';
import { silentLogger } from '../src/fleet/logger.js';

const H = 3600e6;
const DAY = 24 * H;
const T0 = 1_700_000_000_000_000 - (1_700_000_000_000_000 % DAY);

/** `api`: a request a minute for `days`, 40 of them failed on day 2 and 10 on day 11 (of checkout: none). */
function traffic(fromDay: number, toDay: number): Span[] {
  const spans: Span[] = [];
  for (let t = T0 + fromDay * DAY; t < T0 + toDay * DAY; t += 60e6) {
    const i = Math.round((t - T0) / 60e6);
    const day = Math.floor((t - T0) / DAY);
    const failed = (day === 2 && i % 36 === 0) || (day === 11 && i % 144 === 0);
    spans.push(sampleSpan({ traceId: `t${i}`, spanId: `s${i}`, service: 'api', startUs: t, endUs: t + 20_000, ...(failed ? { status: { code: 2 as const } } : {}) }));
  }
  return spans;
}

/** Records the windows the store is asked for rollups over (the real store answers). */
function spyRollups(store: MemoryStore): { fromUs: number; toUs: number }[] {
  const seen: { fromUs: number; toUs: number }[] = [];
  const real = store.telemetry.rollups.bind(store.telemetry);
  store.telemetry.rollups = (q) => {
    if (q.window) seen.push(q.window);
    return real(q);
  };
  return seen;
}

test('the error budget counts every request of the 30-day window, before and after the store merges old rollups', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, 'm.db');
    const spans = traffic(0, 12);
    const failed = spans.filter((s) => s.status.code === 2).length;
    let store = await openStore(db, { rollupTiers: false });
    await store.patterns.put(SLO_CONFIG_KIND, 'current', { slos: [{ service: 'api', kind: 'availability', objective: 0.995 }], file: 'tswarm.config.yaml' });
    for (let i = 0; i < spans.length; i += 5000) await store.telemetry.ingest({ spans: spans.slice(i, i + 5000), logs: [], metrics: [], errors: [] });
    const o = await sloOverview(store);
    const api = o.services.find((s) => s.service === 'api')!.slos[0]!;
    assert.equal(api.budget.total, spans.length);
    assert.equal(api.budget.bad, failed);
    assert.equal(api.budget.allowed, +(spans.length * 0.005).toFixed(3));
    assert.equal(api.budget.remaining, +(1 - failed / (spans.length * 0.005)).toFixed(4));
    assert.ok(api.budget.remaining > 0.4 && api.budget.remaining < 0.45, String(api.budget.remaining));
    assert.equal(api.budgetText, `${Math.floor(100 * api.budget.remaining)}% of the 30-day error budget left (12 days of data so far)`);
    assert.ok(api.budget.coveredUs > 11.9 * DAY);
    await store.close();

    // The same store after compaction (12 days: 10 s buckets for the last 3, 5-minute ones before): the same figures.
    store = await openStore(db);
    const c = await store.telemetry.compactRollups();
    assert.ok(c.merged > 0);
    const after = (await sloOverview(store)).services.find((s) => s.service === 'api')!.slos[0]!;
    assert.deepEqual(after.budget, api.budget);
    await store.close();
  } finally {
    dir.cleanup();
  }
});

test('the closed hours of a budget are read once per store: a later call reads only the hours closed since', { timeout: 60_000 }, async () => {
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    await store.telemetry.ingest({ spans: traffic(0, 3), logs: [], metrics: [], errors: [] });
    const seen = spyRollups(store);
    const first = (await sloOverview(store)).services[0]!.slos[0]!.budget;
    const long = seen.filter((w) => w.toUs - w.fromUs > 6 * H);
    assert.equal(long.length, 1, 'one read of the closed hours');
    // 30 days back from just after the newest span, to the hour; up to the last hour closed 15 minutes ago.
    const nowUs = T0 + 3 * DAY - 60e6 + 20_000 + 1;
    assert.equal(long[0]!.fromUs, Math.floor((nowUs - 30 * DAY) / H) * H);
    assert.equal(long[0]!.toUs, Math.floor((nowUs - 15 * 60e6) / H) * H);

    await store.telemetry.ingest({ spans: traffic(3, 3.5), logs: [], metrics: [], errors: [] });
    seen.length = 0;
    const second = (await sloOverview(store)).services[0]!.slos[0]!.budget;
    const fresh = seen.filter((w) => w.toUs - w.fromUs !== 6 * H);
    assert.deepEqual(fresh.map((w) => w.fromUs), [long[0]!.toUs], 'from where the first call stopped');
    assert.equal(second.total, first.total + 720);
    // A report on an earlier moment goes back in time: its own window, read afresh.
    seen.length = 0;
    const back = (await sloOverview(store, undefined, T0 + 2.5 * DAY)).services[0]!.slos[0]!.budget;
    assert.equal(back.total, 2.5 * 1440);
    assert.equal(back.bad, 20, 'the failures of the first half of day 2');
  } finally {
    await store.close();
  }
});

test('a burn alert says what is left of the budget and, at the last hour’s burn, when it is gone', { timeout: 60_000 }, async () => {
  const { PerformanceTester } = await import('../src/agents/analysis/performance-tester.js');
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    // Two clean days at a request a minute, then 6 failures in the last hour (two in its last 5 minutes): 20× burn
    // over the hour, 6 of the 14.4 failures 99.5% allows among 2,880 requests: 58% left.
    const spans = traffic(0, 2).map((s): Span => ({ ...s, status: { code: 0 } }));
    const end = T0 + 2 * DAY;
    for (const m of [50, 40, 30, 20, 4, 2]) spans[spans.length - m]!.status = { code: 2 };
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: end - 15 * 60e6, toUs: end };
    const burns = (await new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} })).filter((x) => x.kind === 'slo-burn');
    const page = burns.find((x) => x.data?.rule === '1h/5m 14.4x');
    assert.ok(page, burns.map((x) => x.title).join(' | '));
    const line = page.evidence.chain!.at(-1)!;
    const m = /^(\d+)% of the 30-day error budget left \(2 days of data so far\); at the last hour's burn the rest is gone by (\d{4}-\d\d-\d\d \d\d:\d\d) UTC$/.exec(line);
    assert.ok(m, line);
    assert.equal(m[1], '58');
    const goneUs = Date.parse(`${m[2]!.replace(' ', 'T')}:00Z`) * 1000;
    // remaining × 30 days / 20: 21 hours after the window's end.
    assert.ok(Math.abs(goneUs - end - ((1 - 6 / 14.4) * 30 * DAY) / 20) < 2 * 60e6, `${(goneUs - end) / H} h`);
  } finally {
    await store.close();
  }
});

test('concurrent overviews (two dashboards, a cycle) count every closed hour once', { timeout: 60_000 }, async () => {
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    await store.telemetry.ingest({ spans: traffic(0, 3), logs: [], metrics: [], errors: [] });
    const all = await Promise.all([sloOverview(store), sloOverview(store), sloOverview(store)]);
    for (const o of all) assert.equal(o.services[0]!.slos[0]!.budget.total, 3 * 1440);
    assert.equal((await sloOverview(store)).services[0]!.slos[0]!.budget.total, 3 * 1440);
  } finally {
    await store.close();
  }
});

test('a service that has spent its error budget over a day or more is told so once a day; a young one is not', { timeout: 60_000 }, async () => {
  const { PerformanceTester } = await import('../src/agents/analysis/performance-tester.js');
  const run = async (store: MemoryStore, end: number): Promise<import('../src/fleet/contracts.js').Finding[]> => {
    const window = { fromUs: end - 15 * 60e6, toUs: end };
    return (await new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} })).filter((x) => x.kind === 'budget-spent');
  };
  // 1% of requests fail, steadily (29 of 2,880): twice what the default 99.5% allows (14.4), never fast enough to page.
  const steady = (fromDay: number, toDay: number): Span[] => traffic(fromDay, toDay).map((s, i): Span => ({ ...s, status: { code: i % 100 === 7 ? 2 : 0 } }));
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    await store.telemetry.ingest({ spans: steady(0, 2), logs: [], metrics: [], errors: [] });
    const spent = await run(store, T0 + 2 * DAY);
    assert.equal(spent.length, 1, spent.map((f) => f.title).join(' | '));
    assert.equal(spent[0]!.title, 'api has spent its 30-day error budget (99.5% availability): 2.01× of it used');
    assert.equal(spent[0]!.severity, 'medium', 'a planning signal, not a page');
    assert.deepEqual(spent[0]!.evidence.chain!.slice(1), ['29 failed requests of 2,880 over the last 2 days, where the objective allows 14.4', 'error budget policy: reliability work before new features for this service until the budget recovers']);
    // The next cycle on the same day is the same finding (one item, not a new one every cycle).
    assert.equal((await run(store, T0 + 2 * DAY))[0]!.id, spent[0]!.id);
  } finally {
    await store.close();
  }
  const young = await openStore(':memory:', { rollupTiers: false });
  try {
    await young.telemetry.ingest({ spans: steady(0, 0.5), logs: [], metrics: [], errors: [] });
    assert.deepEqual(await run(young, T0 + 0.5 * DAY), [], 'half a day of data: the burn alerts speak for it');
  } finally {
    await young.close();
  }
});

test('requests that arrive after their hour closed still count: within the recent read at once, older ones at the daily re-read', { timeout: 60_000 }, async () => {
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    // Two days, with a gap: the last 6 hours' spans of hour 40 and those of hour 30 arrive only later.
    const all = traffic(0, 2);
    const hourOf = (s: Span): number => Math.floor((s.startUs - T0) / H);
    const lateRecent = all.filter((s) => hourOf(s) === 44);
    const lateOld = all.filter((s) => hourOf(s) === 30);
    await store.telemetry.ingest({ spans: all.filter((s) => hourOf(s) !== 44 && hourOf(s) !== 30), logs: [], metrics: [], errors: [] });
    const at = T0 + 2 * DAY;
    assert.equal((await sloOverview(store, undefined, at)).services[0]!.slos[0]!.budget.total, 2 * 1440 - 120);

    // The Collector's backlog: hour 44 closed hours ago, but it is inside the overview's 6-hour read.
    await store.telemetry.ingest({ spans: lateRecent, logs: [], metrics: [], errors: [] });
    const seen = spyRollups(store);
    assert.equal((await sloOverview(store, undefined, at)).services[0]!.slos[0]!.budget.total, 2 * 1440 - 60, 'counted at once');
    assert.ok(seen.every((w) => w.toUs - w.fromUs <= 6 * H), 'without reading the closed hours again');
    assert.equal((await sloOverview(store, undefined, at)).services[0]!.slos[0]!.budget.total, 2 * 1440 - 60, 'and kept');

    // Hour 30 is 18 hours back: only a full read finds it, a day of data after the digest was built.
    await store.telemetry.ingest({ spans: [...lateOld, ...traffic(2, 2.5)], logs: [], metrics: [], errors: [] });
    assert.equal((await sloOverview(store, undefined, at + 12 * H)).services[0]!.slos[0]!.budget.total, 2.5 * 1440 - 60, 'not yet');
    await store.telemetry.ingest({ spans: traffic(2.5, 3.1), logs: [], metrics: [], errors: [] });
    assert.equal((await sloOverview(store, undefined, T0 + 3.1 * DAY)).services[0]!.slos[0]!.budget.total, 3.1 * 1440, 'after the re-read');
  } finally {
    await store.close();
  }
});

test('the report draws the burn-down of a spent budget: flat, a step where each incident spent it, down to what is left', { timeout: 60_000 }, async () => {
  const { collectFigures } = await import('../src/feedback/collect-figures.js');
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    // checkout never fails: its budget is a flat line at 100%, not worth a figure.
    const clean = traffic(11, 12).map((x): Span => ({ ...x, service: 'checkout', traceId: `c${x.traceId}`, status: { code: 0 } }));
    await store.telemetry.ingest({ spans: [...traffic(0, 12), ...clean], logs: [], metrics: [], errors: [] });
    const end = T0 + 12 * DAY;
    const overview = (await sloOverview(store, undefined, end)).services.find((x) => x.service === 'api')!.slos[0]!;
    const sections = await collectFigures(store, { findings: [], window: { fromUs: end - 15 * 60e6, toUs: end } });
    const fig = sections.flatMap((x) => x.figures).find((f) => f.id === 'budget-0-api');
    assert.ok(fig && fig.type === 'timeseries', sections.flatMap((x) => x.figures.map((f) => f.id)).join(', '));
    assert.deepEqual(sections.flatMap((x) => x.figures.map((f) => f.id)).filter((id) => id.startsWith('budget-')), ['budget-0-api']);
    assert.equal(fig.title, `api: error budget burn-down (99.5% availability): ${overview.budgetText}`);
    const left = fig.series[0]!.points;
    assert.equal(left[0]![1], 100);
    assert.equal(left.at(-1)![1], +(100 * overview.budget.remaining).toFixed(2));
    assert.ok(left.every((p, i) => i === 0 || p[1] <= left[i - 1]![1]), 'a budget only goes down within the window');
    // Day 2's 40 failures and day 11's 10: the curve is flat outside those days (a point stands for up to 1/120 of
    // the 12 days, 2.4 h, so a drop is drawn at most that long after its day).
    const drops = left.filter((p, i) => i > 0 && p[1] < left[i - 1]![1]).map(([t]) => t);
    const inDay = (t: number, d: number): boolean => t > T0 + d * DAY && t <= T0 + (d + 1) * DAY + 2.4 * H;
    assert.ok(drops.every((t) => inDay(t, 2) || inDay(t, 11)), drops.map((t) => ((t - T0) / DAY).toFixed(2)).join(', '));
    assert.ok(drops.some((t) => inDay(t, 2)) && drops.some((t) => inDay(t, 11)));
    // The reference line spends the whole budget over 30 days: 12 days of data take 40% of it.
    const ref = fig.series[1]!.points;
    assert.ok(Math.abs(ref[0]![1] - ref.at(-1)![1] - (100 * (ref.at(-1)![0] - ref[0]![0])) / (30 * DAY)) < 0.01);
  } finally {
    await store.close();
  }
});

test('a young service is judged on the data it has, counted from its first request, not from the start of its first hour', { timeout: 60_000 }, async () => {
  const store = await openStore(':memory:', { rollupTiers: false });
  try {
    // From 02:40 to 03:20: hour 02:00 is closed (15 minutes after its end) and comes from the digest.
    const spans = traffic(0, 1).filter((x) => x.startUs >= T0 + 2 * H + 40 * 60e6 && x.startUs < T0 + 3 * H + 20 * 60e6);
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const o = (await sloOverview(store, undefined, T0 + 3 * H + 20 * 60e6)).services[0]!.slos[0]!;
    assert.equal(o.budget.total, 40);
    assert.equal(o.budget.coveredUs, 40 * 60e6);
    assert.equal(o.budgetText, '100% of the 30-day error budget left (40 min of data so far)');
  } finally {
    await store.close();
  }
});
