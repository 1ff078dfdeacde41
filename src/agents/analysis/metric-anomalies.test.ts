/**
 * The performance tester on stored metric series: a real, labelled CPU gauge (NAB realAWSCloudwatch, an RDS
 * instance's CPU every 5 minutes for 14 days, two anomaly windows marked by NAB's labellers) ingested as OTLP
 * gauge points and analysed in daily cycles, the way `tswarm serve --continuous` would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SHARED_DATA, hasSharedData } from '../../../test/helpers/env.js';
import { openStore } from '../../store/open.js';
import type { MemoryStore } from '../../store/store.js';
import type { Finding, TimeWindow } from '../../fleet/contracts.js';
import type { Attributes, MetricPoint } from '../../signals/model.js';
import { silentLogger } from '../../fleet/logger.js';
import { loadCorpus } from '../../algorithms/nab/data.js';
import { PerformanceTester } from './performance-tester.js';
import { joinSeriesPages, metricSeriesFrom } from '../../algorithms/perf/metric-anomalies.js';
import { collectFigures } from '../../feedback/collect-figures.js';

const NAME = 'realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv';
const DAY = 86_400e6;

async function analyse(store: MemoryStore, window: TimeWindow, params: Record<string, unknown> = {}): Promise<Finding[]> {
  return new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
}

test('a labelled CPU gauge: daily cycles flag both of NAB\'s anomaly windows in its second week with at most one alarm outside them; cycles in one replay block agree', { skip: !hasSharedData('nab') && 'shared data not present' }, async (t0) => {
  const series = (await loadCorpus(join(SHARED_DATA, 'nab'))).find((c) => c.name === NAME)!;
  const store = await openStore(':memory:');
  try {
    // NAB times are milliseconds; OTLP's are microseconds.
    const t = series.times.map((x) => x * 1000);
    const windows = series.windows.map(([a, b]) => [a * 1000, b * 1000] as const);
    const metrics: MetricPoint[] = series.values.map((value, i) => ({ name: 'db.cpu.utilization', unit: '%', service: 'orders-db', attributes: { 'db.instance': 'cc0c53' }, timeUs: t[i]!, type: 'gauge', value, resource: { attributes: { 'service.name': 'orders-db' } } }));
    await store.telemetry.ingest({ spans: [], logs: [], metrics, errors: [] });
    const start = Math.floor(t[0]! / DAY) * DAY;
    const found: Finding[] = [];
    for (let d = 7; d < 15; d++) {
      const f = await analyse(store, { fromUs: start + d * DAY, toUs: start + (d + 1) * DAY });
      found.push(...f.filter((x) => x.kind === 'anomaly' && x.subject.metric === 'db.cpu.utilization'));
    }
    const at = found.map((f) => Number(f.data!.firstDetectionUs));
    const inside = (x: number): boolean => windows.some(([a, b]) => x >= a && x <= b);
    const secondWeek = windows.filter(([a]) => a >= start + 7 * DAY);
    assert.equal(secondWeek.length, 2);
    assert.ok(secondWeek.every(([a, b]) => at.some((x) => x >= a && x <= b)), `both windows flagged: alarms at ${at.map((x) => new Date(x / 1000).toISOString()).join(', ')}`);
    // Measured: 3 alarms over the 8 cycles, 2 inside the windows, 1 outside (2014-02-23 00:40; the whole series scored
    // from its first point gives only the 2). About NAB's false-alarm rate for this threshold.
    const outside = at.filter((x) => !inside(x));
    t0.diagnostic(`alarms ${at.length}, outside the labelled windows ${outside.length}: ${outside.map((x) => new Date(x / 1000).toISOString()).join(', ')}`);
    assert.ok(outside.length <= 1, `at most one alarm outside the labelled windows: ${outside.map((x) => new Date(x / 1000).toISOString()).join(', ')}`);
    const f = found[0]!;
    assert.match(f.title, /^orders-db db\.cpu\.utilization \{db\.instance="cc0c53"\} [\d.]+ % vs baseline [\d.]+ % \(anomaly score 0\.\d\d\)$/);
    assert.equal(f.basis, 'measured');
    assert.equal(f.evidence.metrics![0]!.series.startsWith('db.cpu.utilization'), true);
    // Without kept state (metricDetectors 0: every cycle replays), two cycles inside one replay block (the 5-minute
    // series' block is 2^19 s, ~6 days) report what one cycle over both does, because the replay starts on the
    // block grid, not at a sliding "now minus history"; and what the daily cycles with kept state reported there.
    const w = windows[windows.length - 1]!;
    const mid = Math.floor((w[0] + w[1]) / 2);
    const ids = (f: Finding[]): string[] => f.filter((x) => x.kind === 'anomaly').map((x) => x.id).sort();
    const replay = { metricDetectors: 0 };
    const once = ids(await analyse(store, { fromUs: w[0] - DAY / 2, toUs: w[1] }, replay));
    const halves = ids([...(await analyse(store, { fromUs: w[0] - DAY / 2, toUs: mid }, replay)), ...(await analyse(store, { fromUs: mid, toUs: w[1] }, replay))]);
    assert.ok(once.length >= 1);
    assert.deepEqual(halves, once);
    assert.deepEqual(ids(found.filter((x) => Number(x.data!.firstDetectionUs) >= w[0] - DAY / 2 && Number(x.data!.firstDetectionUs) < w[1])), once);
    // The report draws each such alarm: the points before it, the baseline it was compared with, the marker.
    const figures = (await collectFigures(store, { findings: found, window: { fromUs: start + 7 * DAY, toUs: start + 15 * DAY } })).flatMap((x) => x.figures);
    const fig = figures.find((x) => x.id === `metric-${found[0]!.id}`);
    assert.ok(fig && fig.type === 'timeseries' && fig.series[0]!.points.length > 100 && fig.markers?.[0]?.kind === 'anomaly');
    // The saturation baseline is stored per series, with its daily profile (two weeks of history).
    const b = await store.patterns.get<{ median: number; seasonal?: { level: number[] } }>('performance-baseline', 'orders-db|metric:db.cpu.utilization{db.instance="cc0c53"}');
    assert.ok(b && b.value.median > 0 && b.value.seasonal?.level.length === 24);
    // A series with no history before the window starts its baseline from the window's first third, said so, and
    // then takes in the rest.
    const young = await openStore(':memory:');
    try {
      await young.telemetry.ingest({ spans: [], logs: [], metrics: metrics.slice(0, 90), errors: [] });
      await analyse(young, { fromUs: t[0]!, toUs: t[89]! + 1 });
      const yb = await young.patterns.get<{ median: number; n: number; basis: string }>('performance-baseline', 'orders-db|metric:db.cpu.utilization{db.instance="cc0c53"}');
      assert.deepEqual([yb?.value.basis, yb?.value.n], ['early window', 90]);
    } finally {
      await young.close();
    }
  } finally {
    await store.close();
  }
});

test('a metric read past maxMetricPoints goes on in pages (4 at most); what is still left out is said in the log, not silently short', async () => {
  const store = await openStore(':memory:');
  try {
    const metrics: MetricPoint[] = Array.from({ length: 1000 }, (_, i) => ({ name: 'queue.depth', service: 'q', attributes: {}, timeUs: 1_700_000_000_000_000 + i * 10e6, type: 'gauge', value: i % 7, resource: { attributes: { 'service.name': 'q' } } }));
    await store.telemetry.ingest({ spans: [], logs: [], metrics, errors: [] });
    const warned: string[] = [];
    const window = { fromUs: metrics[900]!.timeUs, toUs: metrics[999]!.timeUs + 1 };
    await new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: { maxMetricPoints: 200 }, window }, { store, log: { ...silentLogger, warn: (m: string) => warned.push(m) }, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
    // Pages end before their last timestamp (it may go on in the next page): 4 pages of 199 points.
    assert.ok(warned.some((m) => /^performance tester: 796 metric points read from .* in 4 page\(s\) of 200; later points are left out/.test(m)), warned.join(' | '));
  } finally {
    await store.close();
  }
});

test('a counter read in pages is one series: its rate goes on across the page boundaries without a gap', () => {
  const counter = (i: number): MetricPoint => ({ name: 'http.requests', service: 's', attributes: { route: '/a' }, timeUs: 1e15 + i * 10e6, type: 'sum', monotonic: true, temporality: 'cumulative', value: 5 * i, resource: { attributes: { 'service.name': 's' } } });
  const all = Array.from({ length: 30 }, (_, i) => counter(i));
  const whole = metricSeriesFrom(all);
  const carry = new Map<string, MetricPoint>();
  const paged = joinSeriesPages([all.slice(0, 1), all.slice(1, 12), all.slice(12)].map((p) => metricSeriesFrom(p, carry)));
  assert.deepEqual(paged, whole);
  assert.equal(whole[0]!.view, 'rate');
  assert.equal(whole[0]!.t.length, 29);
});

test('a 15-second gauge analysed in 6-hour cycles: its stored baseline is updated every cycle and learns the hour of day, though no cycle reads more than a day', async () => {
  const store = await openStore(':memory:');
  try {
    const start = Math.ceil(1_700_000_000_000_000 / DAY) * DAY;
    const step = 15e6;
    const n = (3 * DAY) / step;
    // Queue depth with a daily cycle: ~20 at night, ~80 in the afternoon, a little noise.
    const metrics: MetricPoint[] = Array.from({ length: n }, (_, i) => {
      const t = start + i * step;
      const hour = (t / 3600e6) % 24;
      return { name: 'queue.depth', service: 'orders', attributes: { queue: 'payments' }, timeUs: t, type: 'gauge', value: 50 - 30 * Math.cos((2 * Math.PI * (hour - 3)) / 24) + (i % 5), resource: { attributes: { 'service.name': 'orders' } } };
    });
    await store.telemetry.ingest({ spans: [], logs: [], metrics, errors: [] });
    const key = 'orders|metric:queue.depth{queue="payments"}';
    const marks: number[] = [];
    for (let h = 6; h < 72; h += 6) {
      await analyse(store, { fromUs: start + h * 3600e6, toUs: start + (h + 6) * 3600e6 });
      const b = (await store.patterns.get<{ watermarkUs: number; n: number; seasonal?: { level: number[]; strength: number } }>('performance-baseline', key))!.value;
      marks.push(b.watermarkUs);
      if (h === 66) {
        assert.ok(b.seasonal, 'a daily profile after three days');
        assert.ok(b.seasonal.strength > 3, `the hours differ: strength ${b.seasonal.strength}`);
        assert.ok(b.seasonal.level[15]! > 70 && b.seasonal.level[3]! < 30, `afternoon high, night low: ${b.seasonal.level.map((x) => x.toFixed(0)).join(' ')}`);
      }
    }
    // Each cycle moved the watermark to its window's last point.
    assert.deepEqual(marks, marks.map((_, k) => start + (12 + 6 * k) * 3600e6 - step));
  } finally {
    await store.close();
  }
});

/**
 * Six series of 1,000 points every 10 s (past the 750-point probation), a spike at point 950, analysed with a read
 * limit of 3,000: 6,000 points from the block start, so one read would keep the oldest 3,000 (500 per series).
 * Returns the series whose spike was found, as "service metric", and what was logged as cut.
 */
async function spikesUnderReadLimit(series: { name: string; service: string; host?: string }[]): Promise<{ found: string[]; warned: string[]; store: MemoryStore }> {
  const store = await openStore(':memory:');
  const block = 16_384e6;
  const t0 = Math.ceil(1_700_000_000_000_000 / block) * block + block;
  const metrics: MetricPoint[] = series.flatMap(({ name, service, host }, k) => Array.from({ length: 1000 }, (_, i) => ({ name, service, attributes: (host ? { 'host.name': host } : {}) as Attributes, timeUs: t0 + i * 10e6, type: 'gauge' as const, value: i === 950 ? 500 : 50 + 10 * Math.sin(i / 20 + k) + (i % 3), resource: { attributes: { 'service.name': service } } })));
  await store.telemetry.ingest({ spans: [], logs: [], metrics, errors: [] });
  const warned: string[] = [];
  const window = { fromUs: t0 + 900 * 10e6, toUs: t0 + 1000 * 10e6 };
  const f = await new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: { maxMetricPoints: 3000 }, window }, { store, log: { ...silentLogger, warn: (m: string) => warned.push(m) }, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
  const found = f.filter((x) => x.kind === 'anomaly' && x.data?.firstDetectionUs === t0 + 950 * 10e6).map((x) => `${x.subject.service} ${x.subject.metric}`).sort();
  return { found, warned, store };
}

test('series whose blocks together pass the read limit are read in batches of names: none is cut short, each one\'s spike is found', async () => {
  const series = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => ({ name: `queue.${x}.depth`, service: 'q' }));
  const { found, warned, store } = await spikesUnderReadLimit(series);
  try {
    assert.deepEqual(found, series.map((x) => `q ${x.name}`));
    assert.deepEqual(warned, []);
    for (const { name } of series) assert.equal((await store.patterns.get<{ n: number }>('performance-baseline', `q|metric:${name}`))?.value.n, 1000);
  } finally {
    await store.close();
  }
});

test('one service\'s series of one name over the read limit on its own are read in pages: each one\'s spike is found', async () => {
  const series = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => ({ name: `process.cpu.utilization`, service: 'shop', host: x }));
  const { found, warned, store } = await spikesUnderReadLimit(series);
  try {
    assert.equal(found.length, 6, found.join(' | '));
    assert.deepEqual(warned, []);
  } finally {
    await store.close();
  }
});

test('one metric name over the read limit on its own is read a few services at a time: each service\'s spike is found', async () => {
  const series = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => ({ name: 'process.cpu.utilization', service: `host-${x}` }));
  const { found, warned, store } = await spikesUnderReadLimit(series);
  try {
    assert.deepEqual(found, series.map((x) => `${x.service} ${x.name}`));
    assert.deepEqual(warned, []);
  } finally {
    await store.close();
  }
});

test("a stored metric's alarm is tied to its service's change just before it (declared), not to another service's or a later one", async () => {
  const store = await openStore(':memory:');
  try {
    const block = 16_384e6;
    const t0 = Math.ceil(1_700_000_000_000_000 / block) * block + block;
    // Two hosts' CPU, 1,000 points every 10 s; both jump at point 950.
    const metrics: MetricPoint[] = ['api', 'worker'].flatMap((service, k) => Array.from({ length: 1000 }, (_, i) => ({ name: 'process.cpu.utilization', service, attributes: {}, timeUs: t0 + i * 10e6, type: 'gauge' as const, value: i === 950 ? 5 : 0.5 + 0.1 * Math.sin(i / 20 + k) + 0.01 * (i % 3), resource: { attributes: { 'service.name': service } } })));
    await store.telemetry.ingest({ spans: [], logs: [], metrics, errors: [] });
    const { recordChanges } = await import('../declared-changes.js');
    const { parseChanges } = await import('../../signals/change-event.js');
    const at = t0 + 950 * 10e6;
    await recordChanges(store, parseChanges([
      { service: 'api', version: '3.2.0', atUs: at - 40e6, by: 'ci' },
      // worker's deploy comes after its alarm: not its cause.
      { service: 'worker', version: '8.0.0', atUs: at + 30e6 },
    ], at + 3600e6));
    const window = { fromUs: t0 + 900 * 10e6, toUs: t0 + 1000 * 10e6 };
    const f = await new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
    const alarm = (svc: string) => f.find((x) => x.kind === 'anomaly' && x.subject.service === svc && x.data?.firstDetectionUs === at);
    const api = alarm('api');
    assert.ok(api, JSON.stringify(f.map((x) => x.title)));
    assert.deepEqual(api.evidence.deploys, [{ service: 'api', version: '3.2.0', atUs: at - 40e6, declared: { by: 'ci' } }]);
    assert.equal(api.evidence.chain!.at(-1), '40 s after the deploy of 3.2.0 (declared by ci)');
    const worker = alarm('worker');
    assert.ok(worker);
    assert.equal(worker.evidence.deploys, undefined);
  } finally {
    await store.close();
  }
});
