import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricPoint } from '../../signals/model.js';
import { MetricDetectorCache, detectMetricAnomalies, historyStart, metricSeriesFrom, replayBlockUs, samplingInterval, type MetricSeries } from './metric-anomalies.js';
import { mulberry32 } from '../../util/random.js';

const base = { service: 'api', resource: { attributes: { 'service.name': 'api' } } };
const T0 = 1_700_000_000_000_000;

test('metric points become series: gauges as values, counters as rates (a reset skips its interval), histograms as interval means with their exemplars', () => {
  const points: MetricPoint[] = [
    ...[0, 1, 2].map((i): MetricPoint => ({ ...base, name: 'queue.depth', attributes: { queue: 'a' }, type: 'gauge', timeUs: T0 + i * 10e6, value: 5 + i })),
    { ...base, name: 'queue.depth', attributes: { queue: 'b' }, type: 'gauge', timeUs: T0, value: 9 },
    // cumulative counter: +100 in 10 s, +50, then a reset to 20
    ...[0, 100, 150, 20].map((v, i): MetricPoint => ({ ...base, name: 'requests', attributes: {}, type: 'sum', monotonic: true, temporality: 'cumulative', timeUs: T0 + i * 10e6, value: v })),
    { ...base, name: 'bytes', attributes: {}, type: 'sum', monotonic: true, temporality: 'delta', startTimeUs: T0, timeUs: T0 + 5e6, value: 50 },
    { ...base, name: 'in.use', attributes: {}, type: 'sum', monotonic: false, temporality: 'cumulative', timeUs: T0, value: -3 },
    { ...base, name: 'duration', attributes: {}, type: 'histogram', temporality: 'cumulative', timeUs: T0, count: 10, sum: 100, explicitBounds: [], bucketCounts: [10] },
    { ...base, name: 'duration', attributes: {}, type: 'histogram', temporality: 'cumulative', timeUs: T0 + 10e6, count: 14, sum: 180, explicitBounds: [], bucketCounts: [14], exemplars: [{ timeUs: T0 + 9e6, value: 30, traceId: 'ab'.repeat(16) }] },
  ];
  const s = metricSeriesFrom(points);
  const by = (key: string): MetricSeries => s.find((x) => x.key === key)!;
  assert.deepEqual(by('api|queue.depth{queue="a"}').v, [5, 6, 7]);
  assert.deepEqual(by('api|queue.depth{queue="b"}').v, [9], 'attribute sets are separate series');
  assert.deepEqual(by('api|requests').v, [10, 5], 'rates per second; the reset interval is left out');
  assert.equal(by('api|requests').view, 'rate');
  assert.deepEqual(by('api|bytes').v, [10], 'a delta point over its own 5 s');
  assert.deepEqual(by('api|in.use').v, [-3], 'an up-down counter is a value');
  assert.deepEqual(by('api|duration').v, [20], '(180 − 100) / (14 − 10)');
  assert.equal(by('api|duration').view, 'mean');
  assert.deepEqual(by('api|duration').exemplars, [{ timeUs: T0 + 9e6, traceId: 'ab'.repeat(16) }]);
});

/** A noisy cycle sampled every 10 s whose level jumps by 8 spreads at `shiftAt`. */
function gauge(n: number, shiftAt: number, seed = 1): MetricSeries {
  const rnd = mulberry32(seed);
  const v = Array.from({ length: n }, (_, i) => 50 + 5 * Math.sin(i / 30) + 2 * rnd() + (i >= shiftAt ? 40 : 0));
  return { key: 'api|cpu', service: 'api', name: 'cpu', view: 'value', attributes: {}, t: v.map((_, i) => T0 + i * 10e6), v, exemplars: [] };
}

test('the detector flags a level shift within a few points, against the level before it, and is silent in its probation', () => {
  for (const seed of [1, 2, 3]) {
    const s = gauge(2400, 1800, seed);
    const a = detectMetricAnomalies(s, s.t[0]!);
    const hit = a.find((x) => (x.seen - 1) >= 1800);
    assert.ok(hit && (hit.seen - 1) <= 1803, `seed ${seed}: alarms at ${a.map((x) => (x.seen - 1)).join(', ')}`);
    assert.ok(hit.baseline.median > 45 && hit.baseline.median < 56, 'the baseline is the level before the shift');
    // The detector's false-alarm rate on NAB is about one per 1,850 points; this cycle's noise gets at most one.
    assert.ok(a.filter((x) => (x.seen - 1) < 1800).length <= 1, `seed ${seed}: alarms before the shift ${a.map((x) => (x.seen - 1)).join(', ')}`);
  }
  assert.deepEqual(detectMetricAnomalies(gauge(2400, 1000), gauge(2400, 1000).t[0]!, { probation: 1200 }).filter((x) => (x.seen - 1) < 1200), [], 'nothing in the probation');
});

test('no look-ahead: alarms up to a point do not change when later points change or are missing', () => {
  const full = gauge(2400, 1800);
  const cut: MetricSeries = { ...full, t: full.t.slice(0, 1850), v: full.v.slice(0, 1850) };
  const changed: MetricSeries = { ...full, v: full.v.map((x, i) => (i >= 1850 ? x * 3 : x)) };
  const upTo = (s: MetricSeries): number[] => detectMetricAnomalies(s, s.t[0]!).filter((a) => a.seen - 1 < 1850).map((a) => a.seen - 1);
  assert.deepEqual(upTo(cut), upTo(full));
  assert.deepEqual(upTo(changed), upTo(full));
});

test('kept detector state: feeding a series cycle by cycle reports what one replay does; overlapping windows get the alarms already found; the cap bounds the state', () => {
  const full = gauge(2400, 1800);
  const once = detectMetricAnomalies(full, full.t[0]!).map((a) => a.atUs);
  const cache = new MetricDetectorCache(2);
  const seen: number[] = [];
  // Cycles of 100 points with windows reaching 150 points back (overlap), each given only the points since the
  // last cycle plus a few it already saw.
  for (let end = 100; end <= 2400; end += 100) {
    const from = Math.max(0, end - 110);
    const part: MetricSeries = { ...full, t: full.t.slice(from, end), v: full.v.slice(from, end) };
    const alarms = cache.detect(part, full.t[0]!, full.t[Math.max(0, end - 150)]!, full.t[end - 1]! + 1);
    for (const a of alarms) if (!seen.includes(a.atUs)) seen.push(a.atUs);
  }
  assert.deepEqual(seen, once);
  assert.ok(once.length >= 2);
  // Another block start is another replay; two more series push the least recently used one out.
  assert.equal(cache.resumeAfter(full.key, full.t[0]!), full.t[2399]);
  assert.equal(cache.resumeAfter(full.key, full.t[5]!), undefined);
  for (const key of ['b', 'c']) cache.detect({ ...full, key }, full.t[0]!, 0);
  assert.equal(cache.size, 2);
  assert.equal(cache.resumeAfter(full.key, full.t[0]!), undefined);
});

test('replay blocks: 1,500 sampling intervals rounded up to a power of two of seconds; windows in one block replay from one start', () => {
  assert.equal(replayBlockUs(10e6), 16_384e6);
  assert.equal(replayBlockUs(300e6), 524_288e6);
  assert.equal(replayBlockUs(9.5e6), replayBlockUs(10.2e6), 'a wobbling interval keeps its block');
  const b = replayBlockUs(10e6);
  const from = Math.ceil(T0 / b) * b;
  assert.equal(historyStart(from + 1e6, b), historyStart(from + b - 1e6, b));
  assert.equal(historyStart(from + 1e6, b), from - b);
  assert.equal(samplingInterval([0, 10, 20, 31, 40]), 10);
});
