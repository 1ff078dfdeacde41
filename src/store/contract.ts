/**
 * The backend-agnostic contract of the MemoryStore, as node:test tests. Every backend (SQLite now, PostgreSQL
 * later) runs this same suite: `storeContract('sqlite', () => openStore(':memory:'))`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../fleet/contracts.js';
import type { ErrorEvent, LogRecord, MetricPoint, Resource, SignalBatch, Span } from '../signals/model.js';
import { AccessDeniedError, type MemoryStore, type Rollup } from './store.js';
import { ROLLUP_TIERS, tierCut, uniformRollups } from './rollup.js';

const res = (service: string): Resource => ({ attributes: { 'service.name': service, 'service.version': '1.0.0' } });

export function sampleSpan(over: Partial<Span> & { traceId: string; spanId: string; service: string }): Span {
  return {
    name: 'GET /x',
    kind: 2,
    startUs: 1_000_000,
    endUs: 1_050_000,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
    events: [],
    links: [],
    status: { code: 0 },
    resource: res(over.service),
    ...over,
  };
}

function batch(): SignalBatch {
  const spans: Span[] = [
    sampleSpan({ traceId: 't1', spanId: 'a', service: 'frontend', startUs: 1_000_000, endUs: 1_200_000 }),
    sampleSpan({ traceId: 't1', spanId: 'b', parentSpanId: 'a', service: 'frontend', kind: 3, name: 'POST', startUs: 1_010_000, endUs: 1_190_000 }),
    sampleSpan({
      traceId: 't1',
      spanId: 'c',
      parentSpanId: 'b',
      service: 'checkout',
      name: 'POST /checkout',
      startUs: 1_020_000,
      endUs: 1_180_000,
      status: { code: 2, message: 'boom' },
      events: [{ timeUs: 1_100_000, name: 'exception', attributes: { 'exception.type': 'TypeError' } }],
    }),
    sampleSpan({ traceId: 't2', spanId: 'd', service: 'frontend', startUs: 61_000_000, endUs: 61_010_000 }),
  ];
  const logs: LogRecord[] = [
    { timeUs: 1_100_000, service: 'checkout', severityNumber: 17, severityText: 'ERROR', body: 'charge failed for order 42', attributes: { order: 42 }, traceId: 't1', spanId: 'c', resource: res('checkout') },
    { timeUs: 61_000_000, service: 'frontend', severityNumber: 9, body: 'GET / 200', attributes: {}, resource: res('frontend') },
  ];
  const metrics: MetricPoint[] = [
    { type: 'gauge', name: 'process.cpu.utilization', service: 'checkout', value: 0.5, attributes: {}, timeUs: 1_000_000, resource: res('checkout') },
    { type: 'histogram', name: 'http.server.request.duration', service: 'checkout', count: 2, sum: 0.3, explicitBounds: [0.1, 1], bucketCounts: [1, 1, 0], temporality: 'cumulative', attributes: {}, timeUs: 1_000_000, resource: res('checkout') },
  ];
  const errors: ErrorEvent[] = [
    { timeUs: 1_100_000, service: 'checkout', type: 'TypeError', message: 'x is undefined', frames: [{ file: 'src/pay.ts', line: 3, function: 'pay', inApp: true }], fingerprint: 'fp1', traceId: 't1', spanId: 'c', source: 'span', attributes: {}, resource: res('checkout') },
  ];
  return { spans, logs, metrics, errors };
}

const finding = (id: string, over: Partial<Finding> = {}): Finding => ({
  id,
  agentId: 'qe-root-cause-analyzer',
  kind: 'root-cause',
  category: 'defect-patterns',
  title: `finding ${id}`,
  severity: 'high',
  confidence: 0.7,
  subject: { service: 'checkout' },
  evidence: { traceIds: ['t1'] },
  basis: 'measured',
  createdUs: 1,
  ...over,
});

export interface ContractHooks {
  /**
   * Makes the store's housekeeping fail for real while ingest still works (a trigger that refuses deletes from
   * the rollup table, as a full disk or a lock would refuse them); returns what undoes it.
   */
  breakCompaction?(s: MemoryStore): Promise<() => Promise<void>>;
}

export function storeContract(name: string, open: () => Promise<MemoryStore>, hooks: ContractHooks = {}): void {
  test(`${name}: a batch round-trips losslessly and queries filter by window, service, trace, errors and operation`, async () => {
    const s = await open();
    try {
      const b = batch();
      assert.deepEqual(await s.telemetry.ingest(b), { spans: 4, logs: 2, metrics: 2, errors: 1 });
      const spans = await s.telemetry.querySpans({});
      assert.equal(spans.length, 4);
      assert.deepEqual(spans.find((x) => x.spanId === 'c'), b.spans[2]);
      assert.equal((await s.telemetry.querySpans({ window: { fromUs: 0, toUs: 2_000_000 } })).length, 3);
      assert.deepEqual((await s.telemetry.querySpans({ services: ['checkout'] })).map((x) => x.spanId), ['c']);
      assert.deepEqual((await s.telemetry.querySpans({ traceIds: ['t2'] })).map((x) => x.spanId), ['d']);
      assert.deepEqual((await s.telemetry.querySpans({ errorsOnly: true })).map((x) => x.spanId), ['c']);
      assert.deepEqual((await s.telemetry.querySpans({ operations: ['POST'] })).map((x) => x.spanId), ['b']);
      assert.equal((await s.telemetry.querySpans({ limit: 2 })).length, 2);
      const logs = await s.telemetry.queryLogs({ minSeverity: 17 });
      assert.deepEqual(logs, [b.logs[0]]);
      assert.deepEqual(await s.telemetry.queryLogs({ traceIds: ['t1'] }), [b.logs[0]]);
      const metrics = await s.telemetry.queryMetrics({ names: ['http.server.request.duration'] });
      assert.deepEqual(metrics, [b.metrics[1]]);
      assert.deepEqual(await s.telemetry.queryErrors({ fingerprints: ['fp1'] }), b.errors);
    } finally {
      await s.close();
    }
  });

  test(`${name}: spans read with fields 'rca' hold what root-cause analysis reads, as the full spans do (a backend may return full spans)`, async () => {
    const store = await open();
    try {
      await store.telemetry.ingest(batch());
      // What traces.ts reads, the way it reads it (see SpanQuery.fields).
      const view = (s: Span): unknown => {
        const failed = s.status.code === 2 || Number(s.attributes['http.response.status_code'] ?? 0) >= 500;
        const peer = ['server.address', 'server.port', 'net.peer.name', 'net.peer.port'].map((k) => s.attributes[k] ?? null);
        return [s.traceId, s.spanId, s.parentSpanId, s.service, s.name, s.kind, s.startUs, s.endUs, s.status.code, s.resource, failed, peer, failed ? [s.status.message, s.events.find((e) => e.name === 'exception') ?? null, s.attributes['http.response.status_code']] : null];
      };
      const full = await store.telemetry.querySpans({});
      const rca = await store.telemetry.querySpans({ fields: 'rca' });
      assert.equal(full.length, 4);
      assert.deepStrictEqual(rca.map(view), full.map(view));
      assert.deepStrictEqual((await store.telemetry.querySpans({ services: ['checkout'], fields: 'rca' })).map(view), full.filter((s) => s.service === 'checkout').map(view));
    } finally {
      await store.close();
    }
  });

  test(`${name}: rollups count server spans per service/operation/bucket and stats count every signal`, async () => {
    const s = await open();
    try {
      await s.telemetry.ingest(batch());
      await s.telemetry.ingest(batch());
      const r = await s.telemetry.rollups({ services: ['checkout'] });
      assert.equal(r.length, 1);
      assert.equal(r[0]!.requests, 2);
      assert.equal(r[0]!.errors, 2);
      assert.equal(r[0]!.durationSumUs, 2 * 160_000);
      assert.equal(r[0]!.latencyBuckets.reduce((a, b) => a + b, 0), 2);
      const fe = await s.telemetry.rollups({ services: ['frontend'] });
      assert.equal(fe.reduce((a, x) => a + x.requests, 0), 4, 'client spans are not requests');
      const stats = await s.telemetry.stats();
      const co = stats.find((x) => x.service === 'checkout')!;
      assert.deepEqual([co.spans, co.logs, co.metrics, co.errors], [2, 2, 4, 2]);
      assert.equal(stats.find((x) => x.service === 'frontend')!.lastUs, 61_000_000);
    } finally {
      await s.close();
    }
  });

  test(`${name}: prune drops raw telemetry older than the cutoff and keeps rollups`, async () => {
    const s = await open();
    try {
      await s.telemetry.ingest(batch());
      const removed = await s.telemetry.prune(60_000_000);
      assert.equal(removed, 3 + 1 + 2 + 1);
      assert.deepEqual((await s.telemetry.querySpans({})).map((x) => x.spanId), ['d']);
      assert.ok((await s.telemetry.rollups({ services: ['checkout'] })).length === 1);
      assert.equal((await s.telemetry.stats()).find((x) => x.service === 'checkout'), undefined);
    } finally {
      await s.close();
    }
  });

  /** Spans every 10 min over 20 days for two operations of one service (every 7th failed), newest last. */
  const history = (): Span[] => {
    const spans: Span[] = [];
    const DAY = 864e8;
    for (let i = 0; i < (20 * DAY) / 600e6; i++) {
      const t = 5_000_000 + i * 600e6;
      for (const name of ['GET /a', 'POST /b']) {
        const d = 1_000 + ((i * 7919) % 400_000);
        spans.push(sampleSpan({ traceId: `h${i}${name}`, spanId: `s${i}${name}`, service: 'api', name, startUs: t, endUs: t + d, ...(i % 7 === 0 ? { status: { code: 2 as const } } : {}) }));
      }
    }
    return spans;
  };
  const totals = (rs: Rollup[]): unknown => {
    const by = new Map<string, { requests: number; errors: number; dur: number; hist: number[] }>();
    for (const r of rs) {
      let e = by.get(r.operation);
      if (!e) by.set(r.operation, (e = { requests: 0, errors: 0, dur: 0, hist: r.latencyBuckets.map(() => 0) }));
      e.requests += r.requests;
      e.errors += r.errors;
      e.dur += r.durationSumUs;
      r.latencyBuckets.forEach((c, i) => (e.hist[i] = e.hist[i]! + c));
    }
    return [...by.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  };

  test(`${name}: compaction merges old rollup buckets into wider ones by age and keeps every total`, async () => {
    const s = await open();
    try {
      const spans = history();
      await s.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
      const before = await s.telemetry.rollups({});
      assert.ok(before.every((r) => r.bucketUs === 10e6));
      const r = await s.telemetry.compactRollups();
      const after = await s.telemetry.rollups({});
      assert.ok(after.length < before.length, `${before.length} rows -> ${after.length}`);
      assert.equal(after.length, before.length - r.merged + r.written, 'rows merged away and wide rows written new');
      assert.deepEqual(totals(after), totals(before), 'requests, errors, durations and histograms add up as before');
      const newest = spans[spans.length - 1]!.startUs;
      for (const x of after) {
        const age = newest - x.bucketStartUs;
        const want = x.bucketStartUs < tierCut(newest, ROLLUP_TIERS[1]!) ? 3600e6 : x.bucketStartUs < tierCut(newest, ROLLUP_TIERS[0]!) ? 300e6 : 10e6;
        assert.equal(x.bucketUs, want, `bucket ${x.bucketStartUs} (${(age / 864e8).toFixed(2)} days old)`);
        assert.equal(x.bucketStartUs % x.bucketUs, 0, 'on its width\'s grid');
      }
      assert.equal(after.length, new Set(after.map((x) => `${x.operation}|${x.bucketStartUs}`)).size, 'one row per operation and bucket');
      assert.deepEqual(await s.telemetry.compactRollups(), { merged: 0, written: 0 }, 'nothing left to merge');
      // A read across tiers, made uniform, is the same series at the widest width.
      const mixed = await s.telemetry.rollups({ window: { fromUs: newest - 4 * 864e8, toUs: newest + 1 } });
      assert.ok(new Set(mixed.map((x) => x.bucketUs)).size > 1);
      assert.deepEqual(new Set(uniformRollups(mixed).map((x) => x.bucketUs)), new Set([300e6]));
      assert.deepEqual(totals([...uniformRollups(mixed)]), totals(mixed));
    } finally {
      await s.close();
    }
  });

  test(`${name}: the store compacts rollups on its own as data arrives, and data arriving late into a merged bucket adds to it`, async () => {
    const s = await open();
    try {
      const spans = history();
      const per = Math.ceil(spans.length / 60);
      for (let i = 0; i < spans.length; i += per) await s.telemetry.ingest({ spans: spans.slice(i, i + per), logs: [], metrics: [], errors: [] });
      const rs = await s.telemetry.rollups({});
      const widths = new Set(rs.map((x) => x.bucketUs));
      assert.ok(widths.has(3600e6) && widths.has(300e6) && widths.has(10e6), `widths ${[...widths].join(', ')}`);
      // A straggler 19 days back lands narrow; the next compaction of that range adds it to the hour it falls in.
      const late = sampleSpan({ traceId: 'late', spanId: 'late', service: 'api', name: 'GET /a', startUs: 5_000_000 + 600e6, endUs: 5_000_000 + 600e6 + 2_000 });
      await s.telemetry.ingest({ spans: [late], logs: [], metrics: [], errors: [] });
      const hour = Math.floor(late.startUs / 3600e6) * 3600e6;
      const wide = (await s.telemetry.rollups({ window: { fromUs: hour, toUs: hour + 1 } })).find((x) => x.operation === 'GET /a' && x.bucketUs === 3600e6)!;
      await s.telemetry.compactRollups([{ afterUs: 14 * 864e8, bucketUs: 3600e6 }]);
      const now = (await s.telemetry.rollups({ window: { fromUs: hour, toUs: hour + 3600e6 } })).filter((x) => x.operation === 'GET /a');
      assert.deepEqual(now.map((x) => [x.bucketUs, x.requests]), [[3600e6, wide.requests + 1]]);
    } finally {
      await s.close();
    }
  });

  test(`${name}: housekeeping that fails after a commit fails no ingest, stores nothing twice, is reported, and is retried`, { skip: !hooks.breakCompaction && 'no way to break it on this backend' }, async () => {
    const s = await open();
    try {
      const heard: string[] = [];
      s.telemetry.onHousekeepingFailure((f) => heard.push(`${f.task}: ${f.message}`));
      assert.deepEqual(s.telemetry.housekeeping(), { failures: 0 });
      const repair = await hooks.breakCompaction!(s);
      const spans = history();
      const per = Math.ceil(spans.length / 60);
      for (let i = 0; i < spans.length; i += per) await s.telemetry.ingest({ spans: spans.slice(i, i + per), logs: [], metrics: [], errors: [] });
      const stats = await s.telemetry.stats();
      assert.equal(stats.reduce((n, x) => n + x.spans, 0), spans.length, 'every span once, though housekeeping failed after its commit');
      assert.equal((await s.telemetry.querySpans({ limit: 10 * spans.length })).length, spans.length);
      const m = s.telemetry.housekeeping();
      assert.ok(m.failures >= 1 && m.last?.task === 'compaction' && /refused by the test/.test(m.last.message), JSON.stringify(m));
      assert.equal(heard.length, m.failures);
      assert.ok(heard[0]!.startsWith('compaction: '), heard[0]);
      assert.ok((await s.telemetry.rollups({})).every((x) => x.bucketUs === 10e6), 'nothing merged yet');
      // Repaired: the next automatic run (50 ingests on) merges what the failed ones left narrow.
      await repair();
      const t = spans[spans.length - 1]!.startUs;
      for (let i = 0; i < 60; i++) await s.telemetry.ingest({ spans: [sampleSpan({ traceId: `r${i}`, spanId: `r${i}`, service: 'api', name: 'GET /a', startUs: t + i, endUs: t + i + 1_000 })], logs: [], metrics: [], errors: [] });
      const widths = new Set((await s.telemetry.rollups({})).map((x) => x.bucketUs));
      assert.ok(widths.has(3600e6) && widths.has(300e6), `widths ${[...widths].join(', ')}`);
    } finally {
      await s.close();
    }
  });

  test(`${name}: after each prune the per-service counters are what a recount of the rows kept gives`, async () => {
    const s = await open();
    try {
      // Three services over 30 s of every signal; 'early' has only old data, so it must vanish from the stats.
      const spans: Span[] = [];
      const logs: LogRecord[] = [];
      const metrics: MetricPoint[] = [];
      const errors: ErrorEvent[] = [];
      for (let i = 0; i < 300; i++) {
        const service = i < 30 && i % 4 === 3 ? 'early' : ['a', 'b', 'c'][i % 3]!;
        const t = 1_000_000 + i * 100_000;
        spans.push(sampleSpan({ traceId: `t${i}`, spanId: `s${i}`, service, startUs: t, endUs: t + 5_000 }));
        if (i % 2 === 0) logs.push({ timeUs: t + 1, service, severityNumber: 9, body: 'x', attributes: {}, resource: res(service) });
        if (i % 5 === 0) metrics.push({ type: 'gauge', name: 'process.cpu.utilization', service, value: 0.1, attributes: {}, timeUs: t + 2, resource: res(service) });
        if (i % 7 === 0) errors.push({ timeUs: t + 3, service, type: 'E', message: 'm', frames: [], fingerprint: 'f', source: 'span', attributes: {}, resource: res(service) });
      }
      await s.telemetry.ingest({ spans, logs, metrics, errors });
      const expected = (cut: number): unknown => {
        const by = new Map<string, { service: string; spans: number; logs: number; metrics: number; errors: number; firstUs?: number; lastUs?: number }>();
        const add = (service: string, signal: 'spans' | 'logs' | 'metrics' | 'errors', t: number): void => {
          if (t < cut) return;
          let e = by.get(service);
          if (!e) by.set(service, (e = { service, spans: 0, logs: 0, metrics: 0, errors: 0 }));
          e[signal]++;
          e.firstUs = Math.min(e.firstUs ?? t, t);
          e.lastUs = Math.max(e.lastUs ?? t, t);
        };
        for (const x of spans) add(x.service, 'spans', x.startUs);
        for (const x of logs) add(x.service, 'logs', x.timeUs);
        for (const x of metrics) add(x.service, 'metrics', x.timeUs);
        for (const x of errors) add(x.service, 'errors', x.timeUs);
        return [...by.values()].sort((x, y) => x.service.localeCompare(y.service));
      };
      const got = async (): Promise<unknown> => (await s.telemetry.stats()).map((x) => ({ ...x })).sort((x, y) => x.service.localeCompare(y.service));
      assert.deepEqual(await got(), expected(0));
      let kept = spans.length + logs.length + metrics.length + errors.length;
      for (const cut of [2_500_000, 4_000_001, 17_000_000, 40_000_000]) {
        const removed = await s.telemetry.prune(cut);
        const now = [...spans.map((x) => x.startUs), ...logs.map((x) => x.timeUs), ...metrics.map((x) => x.timeUs), ...errors.map((x) => x.timeUs)].filter((t) => t >= cut).length;
        assert.equal(removed, kept - now, `rows removed by the prune before ${cut}`);
        kept = now;
        assert.deepEqual(await got(), expected(cut), `stats after pruning before ${cut}`);
      }
    } finally {
      await s.close();
    }
  });

  test(`${name}: pattern store versions records and lists by kind and service`, async () => {
    const s = await open();
    try {
      const a = await s.patterns.put('performance-baseline', 'checkout|p95', { p95: 120 }, { service: 'checkout' });
      const b = await s.patterns.put('performance-baseline', 'checkout|p95', { p95: 130 }, { service: 'checkout' });
      assert.equal(a.version, 1);
      assert.equal(b.version, 2);
      await s.patterns.putMany('defect-pattern', [{ key: 'k1', value: 1 }, { key: 'k2', value: 2, service: 'cart' }]);
      assert.equal((await s.patterns.get<{ p95: number }>('performance-baseline', 'checkout|p95'))!.value.p95, 130);
      assert.equal((await s.patterns.list('defect-pattern')).length, 2);
      assert.deepEqual((await s.patterns.list('defect-pattern', { service: 'cart' })).map((r) => r.key), ['k2']);
      // Only what was written since a time (the swarm's own experiments and declared changes of a window).
      await new Promise((r) => setTimeout(r, 3));
      const since = Date.now() * 1000;
      await new Promise((r) => setTimeout(r, 3));
      await s.patterns.put('defect-pattern', 'k3', 3, { service: 'cart' });
      assert.deepEqual((await s.patterns.list('defect-pattern', { updatedSinceUs: since })).map((r) => r.key), ['k3']);
      assert.deepEqual((await s.patterns.list('defect-pattern', { service: 'cart', updatedSinceUs: since })).map((r) => r.key), ['k3']);
      assert.deepEqual((await s.patterns.list('defect-pattern', { service: 'api', updatedSinceUs: since })).map((r) => r.key), []);
      assert.equal((await s.patterns.list('defect-pattern', { updatedSinceUs: 0 })).length, 3);
      assert.equal(await s.patterns.delete('defect-pattern', 'k1'), true);
      assert.equal(await s.patterns.get('defect-pattern', 'k1'), undefined);
    } finally {
      await s.close();
    }
  });

  test(`${name}: knowledge graph keeps first seen, moves last seen and weight`, async () => {
    const s = await open();
    try {
      await s.graph.upsertNodes([{ id: 'service:a', kind: 'service', props: { x: 1 }, seenUs: 10 }]);
      await s.graph.upsertNodes([{ id: 'service:a', kind: 'service', props: { y: 2 }, seenUs: 20 }]);
      const [n] = await s.graph.nodes({ kind: 'service' });
      assert.deepEqual([n!.firstSeenUs, n!.lastSeenUs, n!.props], [10, 20, { x: 1, y: 2 }]);
      await s.graph.upsertEdges([{ source: 'service:a', target: 'service:b', kind: 'calls', weight: 5, seenUs: 10 }]);
      await s.graph.upsertEdges([{ source: 'service:a', target: 'service:b', kind: 'calls', weight: 7, seenUs: 30 }]);
      const [e] = await s.graph.edges({ source: 'service:a' });
      assert.deepEqual([e!.firstSeenUs, e!.lastSeenUs, e!.weight], [10, 30, 7]);
      assert.equal((await s.graph.edges({ sinceUs: 31 })).length, 0);
    } finally {
      await s.close();
    }
  });

  test(`${name}: learning store keeps trajectories, verdicts per agent and transfers with outcomes`, async () => {
    const s = await open();
    try {
      await s.findings.upsert([finding('f1'), finding('f2', { agentId: 'qe-performance-tester' })], 'c1');
      await s.learning.recordTrajectory({ id: 't', agentId: 'qe-queen-coordinator', cycleId: 'c1', decision: 'rank', evidence: { n: 2 }, findingIds: ['f1'], atUs: 5 });
      assert.equal((await s.learning.trajectories({ cycleId: 'c1' }))[0]!.decision, 'rank');
      await s.learning.recordVerdict({ findingId: 'f1', verdict: 'confirmed', by: 'alice', atUs: 6, automatic: false });
      await s.learning.recordVerdict({ findingId: 'f2', verdict: 'rejected', by: 'chaos', atUs: 7, automatic: true });
      assert.deepEqual((await s.learning.verdicts({ agentId: 'qe-root-cause-analyzer' })).map((v) => v.findingId), ['f1']);
      assert.equal((await s.learning.verdicts({ findingIds: ['f2'] }))[0]!.automatic, true);
      await s.learning.recordTransfer({ id: 'x', fromSubject: 'cart', toSubject: 'cart-v2', kind: 'baseline', payload: { m: 1 }, atUs: 8 });
      await s.learning.recordTransfer({ id: 'x', fromSubject: 'cart', toSubject: 'cart-v2', kind: 'baseline', payload: { m: 1 }, atUs: 8, outcome: 'confirmed' });
      const t = await s.learning.transfers({ toSubject: 'cart-v2' });
      assert.equal(t.length, 1);
      assert.equal(t[0]!.outcome, 'confirmed');
    } finally {
      await s.close();
    }
  });

  test(`${name}: shared memory enforces owners and private reads, share delivers to targets, everything is audited`, async () => {
    const s = await open();
    try {
      await s.shared.defineNamespace({ namespace: 'prod', owner: 'lc', visibility: 'private', writers: ['lc'] });
      await s.shared.write('prod', 'k', { v: 1 }, 'lc');
      await assert.rejects(s.shared.write('prod', 'k', 2, 'intruder'), AccessDeniedError);
      await assert.rejects(s.shared.read('prod', 'risk'), AccessDeniedError);
      const n = await s.shared.share('lc', ['risk', 'criteria'], 'prod', [{ key: 'l1', value: 'learning' }]);
      assert.equal(n, 2);
      const seen = await s.shared.read('prod', 'risk');
      assert.deepEqual(seen.map((r) => r.key), ['k', 'l1']);
      assert.equal(seen[1]!.provenance.sharedBy, 'lc');
      await assert.rejects(s.shared.read('prod', 'other'), AccessDeniedError);
      const audit = await s.shared.audit({ namespace: 'prod' });
      assert.ok(audit.some((a) => a.action === 'deny' && a.actor === 'intruder'));
      assert.ok(audit.some((a) => a.action === 'share' && a.actor === 'lc'));
      // A non-owner cannot take a namespace over by redefining it.
      await s.shared.defineNamespace({ namespace: 'prod', owner: 'intruder', visibility: 'public', writers: ['intruder'] });
      await assert.rejects(s.shared.read('prod', 'other'), AccessDeniedError);
    } finally {
      await s.close();
    }
  });

  test(`${name}: findings upsert by id across cycles and report which are new`, async () => {
    const s = await open();
    try {
      const r1 = await s.findings.upsert([finding('a'), finding('b')], 'c1');
      assert.deepEqual(r1, { inserted: ['a', 'b'], updated: [] });
      const r2 = await s.findings.upsert([finding('b', { confidence: 0.9 }), finding('c')], 'c2');
      assert.deepEqual(r2, { inserted: ['c'], updated: ['b'] });
      const b = await s.findings.get('b');
      assert.deepEqual([b!.firstCycleId, b!.lastCycleId, b!.confidence], ['c1', 'c2', 0.9]);
      assert.deepEqual((await s.findings.list({ cycleId: 'c1' })).map((f) => f.id).sort(), ['a', 'b']);
      assert.equal((await s.findings.list({})).length, 3);
    } finally {
      await s.close();
    }
  });
}
