import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorEvent, LogRecord, SignalBatch } from '../../signals/model.js';
import type { MemoryStore, PatternRecord } from '../../store/store.js';
import type { AgentContext, Finding } from '../../fleet/contracts.js';
import { PatternLearnerAgent } from './pattern-learner.js';
import { declaredChanges } from '../declared-changes.js';

/**
 * The real store (src/store/open.ts) is used when it exists; until then a minimal in-memory store with the same
 * query semantics for the facets this agent uses (time window [from, to), limit, errorsOnly).
 */
async function memoryStore(): Promise<MemoryStore> {
  const path = '../../store/open.js';
  try {
    const mod = (await import(path)) as { openStore(p: string): Promise<MemoryStore> };
    return await mod.openStore(':memory:');
  } catch {
    /* fall through to the in-test store */
  }
  const batch: SignalBatch = { spans: [], logs: [], metrics: [], errors: [] };
  const patterns = new Map<string, PatternRecord>();
  const inW = (t: number, q: { window?: { fromUs: number; toUs: number } }): boolean => !q.window || (t >= q.window.fromUs && t < q.window.toUs);
  const unsupported = (): never => {
    throw new Error('not used by this agent');
  };
  return {
    backend: 'sqlite',
    telemetry: {
      ingest: async (b) => {
        batch.spans.push(...b.spans);
        batch.logs.push(...b.logs);
        batch.errors.push(...b.errors);
        return { spans: b.spans.length, logs: b.logs.length, metrics: 0, errors: b.errors.length };
      },
      queryLogs: async (q) => batch.logs.filter((l) => inW(l.timeUs, q)).slice(0, q.limit),
      queryErrors: async (q) => batch.errors.filter((e) => inW(e.timeUs, q)).slice(0, q.limit),
      querySpans: async (q) => batch.spans.filter((s) => inW(s.startUs, q) && (!q.errorsOnly || s.status.code === 2)).slice(0, q.limit),
      queryMetrics: async () => [],
      rollups: async () => [],
      stats: async () => [],
      prune: async () => 0,
      compactRollups: async () => ({ merged: 0, written: 0 }),
      housekeeping: () => ({ failures: 0 }),
      onHousekeepingFailure: () => () => undefined,
    },
    patterns: {
      put: async (kind, key, value, opts) => {
        const prev = patterns.get(`${kind}/${key}`);
        const rec = { kind, key, value, service: opts?.service, updatedUs: Date.now() * 1000, version: (prev?.version ?? 0) + 1 };
        patterns.set(`${kind}/${key}`, rec);
        return rec as PatternRecord<never>;
      },
      putMany: async (kind, items) => {
        for (const i of items) patterns.set(`${kind}/${i.key}`, { kind, key: i.key, value: i.value, service: i.service, updatedUs: 0, version: 1 });
      },
      get: async (kind, key) => patterns.get(`${kind}/${key}`) as PatternRecord<never> | undefined,
      list: async (kind) => [...patterns.values()].filter((r) => r.kind === kind) as PatternRecord<never>[],
      delete: async (kind, key) => patterns.delete(`${kind}/${key}`),
    },
    graph: { upsertNodes: unsupported, upsertEdges: unsupported, nodes: unsupported, edges: unsupported },
    learning: { recordTrajectory: unsupported, trajectories: unsupported, recordVerdict: unsupported, verdicts: unsupported, recordTransfer: unsupported, transfers: unsupported },
    shared: { defineNamespace: unsupported, write: unsupported, read: unsupported, share: unsupported, audit: unsupported },
    findings: { upsert: unsupported, get: unsupported, list: unsupported },
    close: async () => {},
  };
}

const S = 1_000_000;
const res = (service: string) => ({ attributes: { 'service.name': service, 'service.version': '2.1.0' } });
const log = (service: string, timeUs: number, body: string, sev = 9, traceId?: string): LogRecord => ({ timeUs, service, severityNumber: sev, body, attributes: {}, resource: res(service), traceId });

/** A shop: steady traffic for `from..to`; with `fault`, checkout throws on every 3rd request in the last minute. */
function traffic(from: number, to: number, faultFrom?: number): SignalBatch {
  const b: SignalBatch = { spans: [], logs: [], metrics: [], errors: [] };
  let i = 0;
  for (let t = from; t < to; t += 2 * S, i++) {
    const traceId = `${(t / S).toString(16).padStart(16, '0')}${i.toString(16).padStart(16, '0')}`;
    b.logs.push(log('frontend', t, `GET /api/cart/${i % 50} 200 in ${5 + (i % 7)}ms`, 9, traceId));
    b.logs.push(log('checkout', t + 1000, `reserved ${1 + (i % 4)} items for order ${10000 + i}`, 9, traceId));
    const faulty = faultFrom !== undefined && t >= faultFrom && i % 3 === 0;
    b.spans.push({ traceId, spanId: `${i}`.padStart(16, '0'), name: 'POST /checkout', kind: 2, startUs: t, endUs: t + 5000, service: 'checkout', attributes: {}, events: [], links: [], status: { code: faulty ? 2 : 1 }, resource: res('checkout') });
    if (faulty) {
      b.logs.push(log('checkout', t + 2000, `payment failed for order ${10000 + i}: TypeError: Cannot read properties of undefined (reading 'amount')`, 17, traceId));
      const err: ErrorEvent = {
        timeUs: t + 2000, service: 'checkout', type: 'TypeError', message: "Cannot read properties of undefined (reading 'amount')",
        frames: [{ file: '/srv/checkout/src/pay.ts', line: 42, function: 'charge', inApp: true }, { file: '/srv/checkout/src/routes.ts', line: 9, function: 'checkout', inApp: true }],
        fingerprint: 'x', traceId, release: '2.1.0', source: 'span', attributes: {}, resource: res('checkout'),
      };
      b.errors.push(err);
    }
  }
  return b;
}

function ctx(store: MemoryStore, upstream: Finding[] = []): AgentContext {
  const noop = (): void => {};
  return { store, log: { debug: noop, info: noop, warn: noop, error: noop }, progress: noop, signal: new AbortController().signal, clock: { nowUs: () => 1e15 }, upstream };
}

test('a thrown-exception fault shows as a new error fingerprint and a burst of its template on the faulty service, with trace ids', async () => {
  const store = await memoryStore();
  const t0 = 1_700_000_000 * S;
  await store.telemetry.ingest(traffic(t0, t0 + 7 * 60 * S, t0 + 6 * 60 * S));
  const agent = new PatternLearnerAgent();
  const window = { fromUs: t0 + 6 * 60 * S, toUs: t0 + 7 * 60 * S };
  const findings = await agent.run({ id: 'w1', kind: 'analyze-window', params: {}, window }, ctx(store));
  const newErr = findings.find((f) => f.kind === 'new-error');
  assert.ok(newErr, `new-error expected, got ${findings.map((f) => f.kind).join(',')}`);
  assert.equal(newErr.subject.service, 'checkout');
  assert.ok((newErr.evidence.fingerprints ?? []).length === 1 && (newErr.evidence.traceIds ?? []).length > 0);
  const burst = findings.filter((f) => f.kind === 'log-burst' || f.kind === 'new-template').find((f) => f.evidence.logTemplates?.[0]?.template.startsWith('payment failed for order <*>'));
  assert.ok(burst, 'the failure template is flagged');
  assert.equal(burst.subject.service, 'checkout');
  assert.ok((burst.evidence.traceIds ?? []).length > 0 && (burst.evidence.logTemplates?.[0]?.count ?? 0) >= 10);
  assert.ok(!findings.some((f) => f.subject.service === 'frontend' && f.kind === 'log-burst'), 'steady services stay quiet');
  // Memory: templates, groups and the miner state persisted with stable ids.
  const state = await store.patterns.get('log-template', 'miner-state');
  assert.ok(state);
  assert.equal((await store.patterns.list('error-group')).length, 1);

  // A later, similar incident matches the stored signature.
  const t1 = t0 + 60 * 60 * S;
  await store.telemetry.ingest(traffic(t1, t1 + 7 * 60 * S, t1 + 6 * 60 * S));
  const again = await agent.run({ id: 'w2', kind: 'analyze-window', params: {}, window: { fromUs: t1 + 6 * 60 * S, toUs: t1 + 7 * 60 * S } }, ctx(store));
  const match = again.find((f) => f.kind === 'incident-match');
  assert.ok(match, `incident-match expected, got ${again.map((f) => f.kind).join(',')}`);
  assert.ok(match.confidence >= 0.5);
  await store.close();
});

test('a new line announcing a config change is told as that change, with what changed and who changed it; a line restated three times is a new template', async () => {
  const store = await memoryStore();
  const t0 = 1_700_000_000 * S;
  const b = traffic(t0, t0 + 10 * 60 * S);
  b.logs.push(log('checkout', t0 + 9 * 60 * S, '{"level":"info","msg":"configuration changed","key":"payment.timeout","value":"50ms","previous":"2s","by":"ops-console"}'));
  for (let k = 0; k < 3; k++) b.logs.push(log('frontend', t0 + (9 * 60 + k * 15) * S, 'configuration reloaded'));
  await store.telemetry.ingest(b);
  const findings = await new PatternLearnerAgent().run({ id: 'w1', kind: 'analyze-window', params: {}, window: { fromUs: t0 + 9 * 60 * S, toUs: t0 + 10 * 60 * S } }, ctx(store));
  const fresh = findings.filter((f) => f.kind === 'new-template');
  const change = fresh.find((f) => f.subject.service === 'checkout');
  assert.ok(change, fresh.map((f) => f.title).join(' | '));
  assert.equal(change.title, "Config change announced in checkout's log: payment.timeout: 2s → 50ms by ops-console");
  assert.deepEqual(change.evidence.configChanges, [{ service: 'checkout', key: 'payment.timeout', value: '50ms', previous: '2s', atUs: t0 + 9 * 60 * S, declared: { by: 'ops-console', description: 'configuration changed', source: 'log' } }]);
  const reloads = fresh.find((f) => f.subject.service === 'frontend');
  assert.ok(reloads, fresh.map((f) => f.title).join(' | '));
  assert.match(reloads.title, /^New log template on frontend \(3 lines, none before\): configuration reloaded/);
  assert.equal(reloads.evidence.configChanges, undefined);
  // The change it tells of is in the change list now, as announced; the reloads are not.
  assert.deepEqual(await declaredChanges(store, { fromUs: t0, toUs: t0 + 10 * 60 * S }), [{ kind: 'config', service: 'checkout', key: 'payment.timeout', value: '50ms', previous: '2s', atUs: t0 + 9 * 60 * S, by: 'ops-console', description: 'configuration changed', source: 'log' }]);
  await store.close();
});

test("first cycle on a fresh memory: the window's early part is the baseline, so only what starts later is new", async () => {
  const store = await memoryStore();
  const t0 = 1_700_000_000 * S;
  // The swarm has only just started listening: no log before the window; checkout starts failing 3 minutes in.
  await store.telemetry.ingest(traffic(t0, t0 + 4 * 60 * S, t0 + 3 * 60 * S));
  const findings = await new PatternLearnerAgent().run({ id: 'w0', kind: 'analyze-window', params: {}, window: { fromUs: t0, toUs: t0 + 4 * 60 * S } }, ctx(store));
  const fresh = findings.filter((f) => f.kind === 'new-template');
  assert.equal(fresh.length, 1, `only the failure template is new: ${fresh.map((f) => f.title).join(' | ')}`);
  assert.match(fresh[0]!.title, /^New log template on checkout \(\d+ lines, none before\): payment failed for order <\*>/);
  assert.ok((fresh[0]!.evidence.traceIds ?? []).length > 0, 'with the trace ids of its lines');
  assert.equal(fresh[0]!.severity, 'medium', 'logged at error severity');
  assert.match(fresh[0]!.evidence.chain![0]!, /first 40% of the logs seen \(too little history before the window\)/);
  // Dated by its first line (the first failure, 3 minutes in), which is where the report's timeline puts it.
  assert.ok(Math.abs(Number(fresh[0]!.data!.firstUs) - (t0 + 3 * 60 * S + 2000)) <= 2 * S, `first line at ${(Number(fresh[0]!.data!.firstUs) - t0) / S} s`);
  assert.ok(findings.some((f) => f.kind === 'new-error' && f.subject.service === 'checkout'));
  assert.ok(!findings.some((f) => f.subject.service === 'frontend'), 'steady frontend traffic is not news');
  await store.close();
});

test("a load test the swarm ran is not a burst: its lines are left out of the counts, a real burst still shows", async () => {
  const t0 = 1_700_000_000 * S;
  const window = { fromUs: t0 + 10 * 60 * S, toUs: t0 + 15 * 60 * S };
  const load = { fromUs: window.fromUs + 60 * S, toUs: window.fromUs + 2 * 60 * S };
  const run = async (recorded: boolean): Promise<Finding[]> => {
    const store = await memoryStore();
    await store.telemetry.ingest(traffic(t0, window.toUs));
    // The load test: the home page's log line 50 times a second for a minute.
    const home: LogRecord[] = [];
    for (let t = load.fromUs; t < load.toUs; t += S / 50) home.push(log('frontend', t, `GET /api/cart/${Math.round(t / S) % 50} 200 in 6ms`));
    // And a real burst after it: checkout's line 10 times a second for 30 s.
    const retry: LogRecord[] = [];
    for (let t = window.fromUs + 3 * 60 * S; t < window.fromUs + 3.5 * 60 * S; t += S / 10) retry.push(log('checkout', t, `reserved ${1 + (Math.round(t / S) % 4)} items for order ${Math.round(t / S)}`));
    await store.telemetry.ingest({ spans: [], logs: [...home, ...retry], metrics: [], errors: [] });
    if (recorded) await store.patterns.put('load-run', 'L-1', { id: 'L-1', target: 'http://127.0.0.1:8080/api/cart', atUs: load.toUs, startUs: load.fromUs, endUs: load.toUs });
    try {
      return await new PatternLearnerAgent().run({ id: 'w', kind: 'analyze-window', params: {}, window }, ctx(store));
    } finally {
      await store.close();
    }
  };
  const bursts = (f: Finding[], service: string): Finding[] => f.filter((x) => x.kind === 'log-burst' && x.subject.service === service && x.data?.change === 'burst');
  const blind = await run(false);
  assert.equal(bursts(blind, 'frontend').length, 1, 'unrecorded, the load test reads as a burst');
  const told = await run(true);
  assert.deepEqual(bursts(told, 'frontend').map((f) => f.title), [], 'recorded, it is not');
  const real = bursts(told, 'checkout');
  assert.equal(real.length, 1, 'the burst after the load test is still found');
  assert.ok(real[0]!.evidence.chain!.some((c) => /^left out: lines during the swarm's own load test of http:\/\/127\.0\.0\.1:8080\/api\/cart$/.test(c)), real[0]!.evidence.chain!.join(' | '));
});

test('an error seen only during declared maintenance is no new error; when it comes back after the window it is', async () => {
  const t0 = 1_700_000_000 * S;
  const window = { fromUs: t0 + 10 * 60 * S, toUs: t0 + 15 * 60 * S };
  const store = await memoryStore();
  try {
    await store.telemetry.ingest(traffic(t0, window.toUs + 10 * 60 * S));
    // The database is down for its migration from minute 11 to 12: checkout logs a connection error 30 times.
    const refused = (t: number): ErrorEvent => ({ timeUs: t, service: 'checkout', type: 'ConnectionRefused', message: 'connect ECONNREFUSED 10.0.0.5:5432', frames: [{ file: '/srv/checkout/src/db.ts', line: 7, function: 'connect', inApp: true }], fingerprint: 'x', release: '2.1.0', source: 'log', attributes: {}, resource: res('checkout') });
    const during = Array.from({ length: 30 }, (_, i) => refused(window.fromUs + 60 * S + i * 2 * S));
    await store.telemetry.ingest({ spans: [], logs: [], metrics: [], errors: during });
    await store.patterns.put('maintenance-window', 'mw-1', { id: 'mw-1', service: 'db', reason: 'migration', fromUs: window.fromUs + 55 * S, toUs: window.fromUs + 2 * 60 * S, declaredUs: t0 });
    const newErrors = async (w: { fromUs: number; toUs: number }): Promise<string[]> => (await new PatternLearnerAgent().run({ id: 'w', kind: 'analyze-window', params: {}, window: w }, ctx(store))).filter((f) => f.kind === 'new-error').map((f) => f.title);
    assert.deepEqual(await newErrors(window), [], 'expected during the migration');
    // Ten minutes later the same error, outside any window: now it is news.
    const next = { fromUs: window.toUs, toUs: window.toUs + 10 * 60 * S };
    await store.telemetry.ingest({ spans: [], logs: [], metrics: [], errors: Array.from({ length: 12 }, (_, i) => refused(next.fromUs + 60 * S + i * S)) });
    const found = await newErrors(next);
    assert.equal(found.length, 1, found.join(' | '));
    assert.match(found[0]!, /^New error ConnectionRefused: /);
  } finally {
    await store.close();
  }
});

test('maintenance of the database covers its callers only: an error of a service that does not call it is new inside the window', async () => {
  const t0 = 1_700_000_000 * S;
  const window = { fromUs: t0 + 10 * 60 * S, toUs: t0 + 15 * 60 * S };
  const store = await memoryStore();
  try {
    await store.telemetry.ingest(traffic(t0, window.toUs));
    await store.graph.upsertEdges([{ source: 'frontend', target: 'checkout', kind: 'calls', seenUs: t0 }, { source: 'checkout', target: 'db', kind: 'calls', seenUs: t0 }, { source: 'frontend', target: 'cart', kind: 'calls', seenUs: t0 }]);
    const err = (service: string, type: string, message: string, t: number): ErrorEvent => ({ timeUs: t, service, type, message, frames: [{ file: `/srv/${service}/src/main.ts`, line: 7, function: 'handle', inApp: true }], fingerprint: 'x', release: '2.1.0', source: 'log', attributes: {}, resource: res(service) });
    const errors = Array.from({ length: 30 }, (_, i) => [err('checkout', 'ConnectionRefused', 'connect ECONNREFUSED 10.0.0.5:5432', window.fromUs + 60 * S + i * 2 * S), err('cart', 'TypeError', "Cannot read properties of undefined (reading 'items')", window.fromUs + 61 * S + i * 2 * S)]).flat();
    await store.telemetry.ingest({ spans: [], logs: [], metrics: [], errors });
    await store.patterns.put('maintenance-window', 'mw-1', { id: 'mw-1', service: 'db', reason: 'migration', fromUs: window.fromUs + 55 * S, toUs: window.fromUs + 2 * 60 * S, declaredUs: t0 });
    const found = (await new PatternLearnerAgent().run({ id: 'w', kind: 'analyze-window', params: {}, window }, ctx(store))).filter((f) => f.kind === 'new-error');
    assert.deepEqual(found.map((f) => f.subject.service), ['cart'], found.map((f) => f.title).join(' | '));
    assert.match(found[0]!.title, /^New error TypeError: /);
  } finally {
    await store.close();
  }
});

test("each finding's window is when its lines or errors were seen: a morning's burst and the evening's new error on one service are two items for the queen, not one; an hour of history is the baseline it has, and steady lines are no burst", async () => {
  const { prioritise } = await import('../../algorithms/feedback/prioritise.js');
  const t0 = 1_700_000_000 * S;
  const window = { fromUs: t0 + 60 * 60 * S, toUs: t0 + 3 * 60 * 60 * S };
  const store = await memoryStore();
  try {
    await store.telemetry.ingest(traffic(t0, window.toUs));
    // 70–75 min: checkout retries its gateway five times a second; 160–170 min: a new exception on checkout.
    const retries: LogRecord[] = [];
    for (let t = t0 + 70 * 60 * S; t < t0 + 75 * 60 * S; t += S / 5) retries.push(log('checkout', t, `retrying payment gateway call ${Math.round(t / S) % 9} after timeout`, 13));
    const thrown: ErrorEvent[] = Array.from({ length: 20 }, (_, i) => ({ timeUs: t0 + 160 * 60 * S + i * 30 * S, service: 'checkout', type: 'TypeError', message: "Cannot read properties of undefined (reading 'total')", frames: [{ file: '/srv/checkout/src/order.ts', line: 88, function: 'total', inApp: true }], fingerprint: 'x', release: '2.1.0', source: 'log', attributes: {}, resource: res('checkout') }));
    await store.telemetry.ingest({ spans: [], logs: retries, metrics: [], errors: thrown });
    const found = await new PatternLearnerAgent().run({ id: 'w', kind: 'analyze-window', params: {}, window }, ctx(store));
    // An hour of history before a two-hour window (baselineSpans 6 asks for twelve): the steady lines' rate is the
    // hour's, not twelve hours' worth spread thin, so they are no burst.
    assert.ok(!found.some((f) => f.kind === 'log-burst' && /reserved|GET \/api\/cart/.test(f.evidence.logTemplates?.[0]?.template ?? '')), found.map((f) => f.title).join(' | '));
    const burst = found.find((f) => (f.kind === 'log-burst' || f.kind === 'new-template') && /retrying payment gateway/.test(f.evidence.logTemplates?.[0]?.template ?? ''));
    const error = found.find((f) => f.kind === 'new-error');
    assert.ok(burst && error, found.map((f) => f.title).join(' | '));
    const min = (us: number): number => (us - t0) / 60e6;
    assert.ok(burst.evidence.chain!.some((c) => /^baseline: the 60 min before the window, all the history there is \(6 window\(s\) asked\)/.test(c)), burst.evidence.chain!.join(' | '));
    assert.ok(min(burst.window!.fromUs) >= 70 && min(burst.window!.toUs) <= 75.1, `the retries' lines: ${min(burst.window!.fromUs)}–${min(burst.window!.toUs)} min`);
    assert.ok(min(error.window!.fromUs) >= 160 && min(error.window!.toUs) <= 170, `the errors: ${min(error.window!.fromUs)}–${min(error.window!.toUs)} min`);
    const items = prioritise(found).filter((i) => i.members.some((m) => m === burst || m === error));
    assert.equal(items.length, 2, items.map((i) => i.members.map((m) => m.title).join(' + ')).join(' || '));
  } finally {
    await store.close();
  }
});

test('rejects an invalid window with a clear error', async () => {
  const store = await memoryStore();
  await assert.rejects(new PatternLearnerAgent().run({ id: 'x', kind: 'analyze-window', params: {}, window: { fromUs: 10, toUs: 5 } }, ctx(store)), /invalid window/);
});

test('every change the window\'s lines announce by name and value joins the change list, cited or not; restatements and bare reloads do not', async () => {
  const store = await memoryStore();
  const t0 = 1_700_000_000 * S;
  const b = traffic(t0, t0 + 20 * 60 * S);
  const line = (atMin: number, key: string, from: string, to: string) => log('cart', t0 + atMin * 60 * S, `configuration reloaded: ${key} changed from ${from} to ${to}`);
  // Before the window (the baseline): cart's pool goes to 20. In the window: the same line again (a service that
  // re-announces its settings), then a real change of its timeout, and a bare reload that names nothing (a line cart
  // has logged before: no new template a finding would tell as a change).
  b.logs.push(line(3, 'pool.size', '10', '20'), line(12, 'pool.size', '10', '20'), line(14, 'http.timeout', '2s', '50ms'));
  b.logs.push(log('cart', t0 + 1 * 60 * S, 'configuration reloaded'), log('cart', t0 + 15 * 60 * S, 'configuration reloaded'));
  await store.telemetry.ingest(b);
  const agent = new PatternLearnerAgent();
  // A first cycle over the baseline records the first pool change; the second over the window adds only the timeout.
  await agent.run({ id: 'w0', kind: 'analyze-window', params: { baselineSpans: 0 }, window: { fromUs: t0, toUs: t0 + 10 * 60 * S } }, ctx(store));
  await agent.run({ id: 'w1', kind: 'analyze-window', params: {}, window: { fromUs: t0 + 10 * 60 * S, toUs: t0 + 20 * 60 * S } }, ctx(store));
  const listed = await declaredChanges(store, { fromUs: t0, toUs: t0 + 20 * 60 * S });
  assert.deepEqual(listed.map((c) => [(c.atUs - t0) / (60 * S), c.key, c.previous, c.value, c.source]), [
    [3, 'pool.size', '10', '20', 'log'],
    [14, 'http.timeout', '2s', '50ms', 'log'],
  ]);
  await store.close();
});
