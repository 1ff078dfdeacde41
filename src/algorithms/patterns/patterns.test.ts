import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectChanges, errorCoOccurrence, poissonUpper, poissonLower, bucketCounts, type PatternEvent } from './tracker.js';
import { matchIncident, signatureSimilarity, weightedJaccard, type IncidentSignature } from './signatures.js';

const S = 1_000_000;

function steady(templateId: string, perMinute: number, fromUs: number, toUs: number, service = 'api'): PatternEvent[] {
  const out: PatternEvent[] = [];
  const step = (60 * S) / perMinute;
  for (let t = fromUs; t < toUs; t += step) out.push({ templateId, service, timeUs: Math.round(t) });
  return out;
}

test('poisson tails', () => {
  assert.ok(Math.abs(poissonUpper(1, 1) - (1 - Math.exp(-1))) < 1e-9);
  assert.ok(Math.abs(poissonLower(0, 2) - Math.exp(-2)) < 1e-12);
  assert.ok(poissonUpper(50, 5) < 1e-15);
});

test('detects burst, drop, new and rare templates against the baseline; steady ones stay quiet', () => {
  const w = { fromUs: 60 * 60 * S, toUs: 70 * 60 * S };
  const events = [
    ...steady('T1', 10, 0, w.toUs),
    ...steady('T2', 2, 0, w.fromUs),
    ...steady('T2', 60, w.fromUs, w.toUs),
    ...steady('T3', 20, 0, w.fromUs),
    { templateId: 'T4', service: 'api', timeUs: w.fromUs + 5 * S, traceId: 'tr1', error: true },
    { templateId: 'T5', service: 'api', timeUs: 10 * S },
    { templateId: 'T5', service: 'api', timeUs: w.fromUs + S },
  ];
  const ch = detectChanges(events, w, 0);
  const kinds = (id: string): string[] => ch.filter((c) => c.templateId === id).map((c) => c.kind).sort();
  assert.deepEqual(kinds('T1'), []);
  assert.deepEqual(kinds('T2'), ['burst']);
  assert.deepEqual(kinds('T3'), ['drop']);
  assert.deepEqual(kinds('T4'), ['new']);
  assert.deepEqual(kinds('T5'), ['rare']);
  assert.equal(ch.find((c) => c.templateId === 'T4')?.errorLines, 1);
  assert.equal(ch.find((c) => c.templateId === 'T4')?.firstUs, w.fromUs + 5 * S, 'a change is dated by its first line in the window');
  assert.equal(ch.find((c) => c.templateId === 'T3')?.firstUs, w.fromUs, 'a drop that runs from the window start is dated by it');
  assert.throws(() => detectChanges(events, { fromUs: 5, toUs: 5 }, 0), /toUs > fromUs/);
});

test('a drop is dated when the rate fell: the last line before the deficit, not the window start', () => {
  const w = { fromUs: 60 * 60 * S, toUs: 75 * 60 * S };
  // T1 stops 3 minutes into the window; T2 falls to a tenth 2 minutes in; T3 goes on as before.
  const events = [
    ...steady('T1', 20, 0, w.fromUs + 3 * 60 * S),
    ...steady('T2', 30, 0, w.fromUs + 2 * 60 * S),
    ...steady('T2', 3, w.fromUs + 2 * 60 * S, w.toUs),
    ...steady('T3', 20, 0, w.toUs),
  ];
  const ch = detectChanges(events, w, 0);
  const at = (id: string): number | undefined => ch.find((c) => c.templateId === id && c.kind === 'drop')?.firstUs;
  const lastT1 = Math.max(...events.filter((e) => e.templateId === 'T1').map((e) => e.timeUs));
  assert.equal(at('T1'), lastT1);
  const t2 = at('T2');
  assert.ok(t2 !== undefined && Math.abs(t2 - (w.fromUs + 2 * 60 * S)) <= 60 * S, `T2 fell ${((t2 ?? NaN) - w.fromUs) / 60e6} min into the window`);
  assert.equal(at('T3'), undefined);
  // The swarm's own minutes after T1's last line are no deficit: its drop starts when they end.
  const quiet = [{ fromUs: lastT1 + 1, toUs: lastT1 + 2 * 60 * S }];
  const q = detectChanges(events, w, 0, {}, quiet).find((c) => c.templateId === 'T1' && c.kind === 'drop');
  assert.equal(q?.firstUs, lastT1, 'the deficit still follows its last line');
});

test("quiet ranges (the swarm's own load tests) are cut from the window and from the baseline", () => {
  const w = { fromUs: 60 * 60 * S, toUs: 70 * 60 * S };
  // T1: steady, but 300 lines a minute for two minutes of the window while a load test ran.
  const loadInWindow = { fromUs: w.fromUs + 2 * 60 * S, toUs: w.fromUs + 4 * 60 * S };
  // T2: 2 a minute before, 60 a minute in the window, and 300 a minute during a load test in the baseline.
  const loadInBaseline = { fromUs: 30 * 60 * S, toUs: 40 * 60 * S };
  const events = [
    ...steady('T1', 10, 0, w.toUs),
    ...steady('T1', 300, loadInWindow.fromUs, loadInWindow.toUs),
    ...steady('T2', 2, 0, w.fromUs),
    ...steady('T2', 300, loadInBaseline.fromUs, loadInBaseline.toUs),
    ...steady('T2', 60, w.fromUs, w.toUs),
  ];
  const kinds = (ch: ReturnType<typeof detectChanges>, id: string): string[] => ch.filter((c) => c.templateId === id).map((c) => c.kind);
  const blind = detectChanges(events, w, 0);
  assert.deepEqual(kinds(blind, 'T1'), ['burst'], 'the load test reads as a burst when nobody says it ran');
  assert.deepEqual(kinds(blind, 'T2'), [], "and the baseline's load test hides T2's real rise");
  const told = detectChanges(events, w, 0, {}, [loadInWindow, loadInBaseline]);
  assert.deepEqual(kinds(told, 'T1'), []);
  assert.deepEqual(kinds(told, 'T2'), ['burst']);
  // Rates are taken over the time left: T2's 60 a minute over the window's 8 open minutes, 2 a minute over 50.
  const t2 = told.find((c) => c.templateId === 'T2')!;
  assert.equal(t2.observed, 480);
  assert.ok(Math.abs(t2.expected - (100 * 8) / 50) < 1e-9, `expected ${t2.expected}`);
  // Overlapping ranges count once; a window disturbed end to end has nothing left to judge.
  assert.deepEqual(detectChanges(events, w, 0, {}, [loadInBaseline, { ...loadInBaseline, toUs: loadInBaseline.toUs - S }, loadInWindow]).map((c) => c.kind), told.map((c) => c.kind));
  assert.deepEqual(detectChanges(events, w, 0, {}, [{ fromUs: w.fromUs - S, toUs: w.toUs + S }]), []);
});

test('error co-occurrence joins log lines with error traces', () => {
  const ev: PatternEvent[] = [
    { templateId: 'A', service: 's', timeUs: 1, traceId: 'bad' },
    { templateId: 'A', service: 's', timeUs: 2, traceId: 'good' },
    { templateId: 'B', service: 's', timeUs: 3, traceId: 'good' },
  ];
  const co = errorCoOccurrence(ev, new Set(['bad']));
  assert.deepEqual(co.map((c) => [c.templateId, c.onErrorTraces, c.withTrace]), [['A', 1, 2]]);
  const b = bucketCounts(ev, 2);
  assert.deepEqual([...b.get('A\u0000s')!], [[0, 1], [2, 1]]);
});

test('incident signatures match the most similar past incident', () => {
  const sig = (id: string, t: Record<string, number>, fps: string[], services: string[], rootCause?: string): IncidentSignature => ({ id, atUs: 1, templates: t, fingerprints: fps, metrics: [], services, rootCause });
  const past = [
    sig('db-outage', { T1: 100, T2: 40 }, ['fpDB'], ['orders', 'db'], 'db connection pool exhausted'),
    sig('cache-miss', { T9: 50 }, ['fpCache'], ['catalog']),
  ];
  const now = sig('now', { T1: 80, T2: 50 }, ['fpDB'], ['orders']);
  assert.ok(Math.abs(weightedJaccard({ a: 1, b: 3 }, { a: 2 }) - 1 / 5) < 1e-12);
  const m = matchIncident(now, past);
  assert.equal(m.length, 1);
  assert.equal(m[0].signature.rootCause, 'db connection pool exhausted');
  assert.ok(m[0].score > 0.6 && m[0].score < 1);
  assert.equal(signatureSimilarity(now, past[1]), 0);
});
