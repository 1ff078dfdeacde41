import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendPoint, type ServiceSeries } from './metrics.js';
import { rankRootCauses } from './rank.js';

/** 40 one-second points per service and indicator; from t = 30 the value becomes `after(service)`. */
function series(values: Record<string, Record<string, [number, number]>>): ServiceSeries {
  const s: ServiceSeries = new Map();
  for (const [svc, inds] of Object.entries(values)) {
    for (const [ind, [before, after]] of Object.entries(inds)) {
      for (let t = 0; t < 40; t++) appendPoint(s, svc, ind, t, (t >= 30 ? after : before) * (1 + 0.01 * (t % 3)));
    }
  }
  return s;
}

test('a signal that barely saw anything does not outvote a clear anomaly in another', () => {
  // Traces: a's own time jumps 20×. Logs: one stray error line per second in b only (a weak, lone signal).
  const traces = series({ a: { 'exclusive-latency': [10, 200] }, b: { 'exclusive-latency': [10, 10.5] } });
  const logs: ServiceSeries = new Map();
  for (let t = 0; t < 40; t++) {
    appendPoint(logs, 'a', 'new-errors', t, 0);
    appendPoint(logs, 'b', 'new-errors', t, t >= 30 ? 0.6 : 0);
  }
  const r = rankRootCauses({ series: { traces, logs }, edges: [], onset: 30, preSpan: 20, postSpan: 10 });
  assert.equal(r.candidates[0]!.service, 'a', JSON.stringify(r.signalScores));
});

test('a service a signal cannot judge is scored on the signals that cover it', () => {
  // c has no trace baseline (no spans before the onset) but its memory grows strongly; d's traces move a little.
  const metrics = series({ c: { mem: [100, 400] }, d: { mem: [100, 110] } });
  const traces = series({ d: { 'exclusive-latency': [10, 30] } });
  const r = rankRootCauses({ series: { metrics, traces }, edges: [], onset: 30, preSpan: 20, postSpan: 10 });
  assert.equal(r.signalScores.traces!.c, undefined);
  assert.equal(r.candidates[0]!.service, 'c', JSON.stringify(r.candidates.map((x) => [x.service, x.score])));
});

/** Error-origin series (traces) for `services`: 0 everywhere, except `fails` → one bucket with failures at t = 33. */
function origins(services: string[], fails: Record<string, number>): ServiceSeries {
  const s: ServiceSeries = new Map();
  for (const svc of services) for (let t = 0; t < 40; t++) appendPoint(s, svc, 'error-origin', t, t === 33 ? (fails[svc] ?? 0) : 0);
  return s;
}

test('a service that fails once after a clean record is the answer when nothing else stands out, not beside a clear anomaly', () => {
  // p fails in one bucket only (a rare-path bug under light load); the gauges move a little everywhere.
  const quiet = series({ p: { cpu: [10, 10.5] }, q: { cpu: [10, 13] }, r: { cpu: [10, 12] } });
  const traces = origins(['p', 'q', 'r'], { p: 0.5 });
  const weakOnly = rankRootCauses({ series: { metrics: quiet, traces }, edges: [], onset: 30, preSpan: 20, postSpan: 10 });
  assert.equal(weakOnly.candidates[0]!.service, 'p', JSON.stringify(weakOnly.candidates.map((x) => [x.service, x.score])));
  assert.ok(weakOnly.candidates[0]!.indicators.some((i) => i.indicator === 'error-origin' && i.weak));
  // The same lone failure beside a CPU burn in q: the burn is the incident.
  const burn = series({ p: { cpu: [10, 10.5] }, q: { cpu: [10, 90] }, r: { cpu: [10, 12] } });
  const withBurn = rankRootCauses({ series: { metrics: burn, traces }, edges: [], onset: 30, preSpan: 20, postSpan: 10 });
  assert.equal(withBurn.candidates[0]!.service, 'q', JSON.stringify(withBurn.candidates.map((x) => [x.service, x.score])));
});
