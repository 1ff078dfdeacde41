/**
 * The column read of the RCA's spans (querySpanTable, span-table-read.ts) against the object read it stands in
 * for: on random stores — protobuf rows and JSON rest, rows with and without the rca_hint column (written before
 * migration 5), ids of the usual form and not, repeated ids, parents outside the window — the trace analysis and
 * the whole RCA answer over the table equal those over the full spans, and over the 'rca' projection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../../signals/model.js';
import { OTLP } from '../../signals/otlp/proto.js';
import { decodeSpanRest, decodeTracesRows } from '../../signals/otlp/wire.js';
import { runRca } from '../../agents/detection/rca-run.js';
import { configChangesAfter, deploysAfter, peerNeeded, traceIndicators } from '../../algorithms/rca/traces.js';
import { spanTableOf } from '../../algorithms/rca/span-table.js';
import { openSqlite } from './index.js';
import { restHttpHint, statusProvenBelow500, STATUS_KEY } from './span-projection.js';
import { kv, u64 } from '../../../test/helpers/otlp-values.js';
import { columns, configAttrs, objects, t0Us, traffic, view, type Gen } from '../../../test/helpers/span-traffic.js';

function protobufRequests(spans: Gen[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < spans.length; i += 300) {
    const bySvc = new Map<string, object[]>();
    for (const g of spans.slice(i, i + 300)) {
      const key = `${g.svc}\u0000${g.version}`;
      bySvc.set(key, [
        ...(bySvc.get(key) ?? []),
        {
          traceId: Buffer.from(g.traceId, 'hex'),
          spanId: Buffer.from(g.spanId, 'hex'),
          ...(g.parent ? { parentSpanId: Buffer.from(g.parent, 'hex') } : {}),
          name: g.name,
          kind: g.kind,
          startTimeUnixNano: u64(g.startUs),
          endTimeUnixNano: u64(g.endUs),
          attributes: g.attrs.map(([k, v]) => kv(k, v)),
          events: g.exception ? [{ timeUnixNano: u64(g.endUs - 10), name: 'exception', attributes: [kv('exception.type', g.exception)] }] : [],
          status: g.status,
        },
      ]);
    }
    const obj = { resourceSpans: [...bySvc].map(([key, l]) => ({ resource: { attributes: [kv('service.name', key.split('\u0000')[0]!), kv('service.version', key.split('\u0000')[1]!), ...Object.entries(configAttrs(key.split('\u0000')[0]!, key.split('\u0000')[1]!)).map(([k, v]) => kv(k, v))] }, scopeSpans: [{ scope: { name: 'test' }, spans: l }] })) };
    out.push(Buffer.from(OTLP.traceRequest.encode(OTLP.traceRequest.fromObject(obj)).finish()));
  }
  return out;
}

test('the column read gives the tables, trace evidence and RCA answers of the object reads, on random stores', async () => {
  let failedSeen = 0;
  let peersRead = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const gen = traffic(seed, 1500);
    const store = openSqlite(':memory:');
    try {
      for (const buf of protobufRequests(gen)) await store.telemetry.ingestTraceRows(decodeTracesRows(buf));
      await store.telemetry.ingest({ spans: objects(gen, 100e6, seed % 2 === 0), logs: [], metrics: [], errors: [] });
      // Rows as a store written before migration 5 holds them: no hint (the proof is made from the rest instead).
      if (seed % 3 !== 0) store.db.prepare(`UPDATE spans SET rca_hint = NULL WHERE rowid % ${seed % 3 === 1 ? 2 : 1} = 0`).run();
      for (const window of [{ fromUs: t0Us, toUs: t0Us + 40e6 }, { fromUs: t0Us + 100e6, toUs: t0Us + 140e6 }, { fromUs: t0Us + 10e6, toUs: t0Us + 120e6 }]) {
        const full = await store.telemetry.querySpans({ window });
        const want = spanTableOf(full);
        const asked: number[] = [];
        const got = await store.telemetry.querySpanTable({ window, fields: 'rca' }, (t) => {
          const need = peerNeeded(t);
          asked.push(...need);
          return need;
        });
        assert.deepStrictEqual(columns(got), columns(want), `seed ${seed}: columns`);
        assert.deepStrictEqual([...peerNeeded(got)], [...peerNeeded(want)]);
        peersRead += asked.length;
        failedSeen += got.failed.reduce((a, b) => a + b, 0);
        const bucketUs = 2e6;
        assert.deepStrictEqual(view(traceIndicators(got, bucketUs)), view(traceIndicators(full, bucketUs)), `seed ${seed}: trace evidence`);
        assert.deepStrictEqual(deploysAfter(got, window.fromUs + 20e6), deploysAfter(full, window.fromUs + 20e6));
        assert.deepStrictEqual(configChangesAfter(got, window.fromUs + 20e6), configChangesAfter(full, window.fromUs + 20e6));
        const a = runRca({ metrics: new Map(), edges: [], resolutionS: 2, spans: full });
        const b = runRca({ metrics: new Map(), edges: [], resolutionS: 2, spanTable: got });
        const c = runRca({ metrics: new Map(), edges: [], resolutionS: 2, spans: await store.telemetry.querySpans({ window, fields: 'rca' }) });
        assert.deepStrictEqual(b, a, `seed ${seed}: RCA answer`);
        assert.deepStrictEqual(c, a);
        // A limit keeps the first spans in (start, rowid) order, as querySpans does.
        const lim = await store.telemetry.querySpanTable({ window, limit: 777, fields: 'rca' }, peerNeeded);
        assert.deepStrictEqual(columns(lim), columns(spanTableOf(await store.telemetry.querySpans({ window, limit: 777, fields: 'rca' }))));
      }
    } finally {
      await store.close();
    }
  }
  // The random stores exercise failed spans and peer reads.
  assert.ok(failedSeen > 500, `failed ${failedSeen}`);
  assert.ok(peersRead > 50, `peers ${peersRead}`);
});

test('rca_hint on ingest is the proof the read made from the rest bytes (protobuf), and never hides a status ≥ 500', async () => {
  const store = openSqlite(':memory:');
  try {
    const gen = traffic(42, 2000);
    for (const buf of protobufRequests(gen)) await store.telemetry.ingestTraceRows(decodeTracesRows(buf));
    await store.telemetry.ingest({ spans: objects(gen, 100e6, false), logs: [], metrics: [], errors: [] });
    const k = STATUS_KEY;
    const rows = store.db
      .prepare(`SELECT rca_hint, typeof(rest) AS t, rest, instr(rest, ?) AS at, hex(substr(rest, instr(rest, ?) - 4, 34)) AS snip, instr(substr(rest, instr(rest, ?) + 1), ?) AS second FROM spans`)
      .all(k, k, k, k) as { rca_hint: number; t: string; rest: Buffer | string; at: number; snip: string; second: number }[];
    assert.equal(rows.length, 2 * gen.length);
    let proven = 0;
    let unproven = 0;
    for (const [i, r] of rows.entries()) {
      if (r.t === 'blob') {
        const sqlProof = r.at === 0 ? 0 : statusProvenBelow500(r.snip, r.second) ? 0 : 1;
        assert.equal(r.rca_hint, sqlProof, `row ${i}`);
        assert.equal(restHttpHint(r.rest as Buffer), sqlProof);
      }
      const attrs = r.t === 'blob' ? decodeSpanRest(r.rest as Buffer, 0).attributes : ((JSON.parse(r.rest as string) as { a?: Span['attributes'] }).a ?? {});
      if (r.rca_hint === 0) {
        proven++;
        assert.ok(!(Number(attrs['http.response.status_code'] ?? 0) >= 500), `row ${i}: hint 0 but status ${String(attrs['http.response.status_code'])}`);
      } else unproven++;
    }
    assert.ok(proven > 1000 && unproven > 100, `${proven} / ${unproven}`);
  } finally {
    await store.close();
  }
});

test('the column read falls back to the span objects where the packed line cannot carry a value (same table)', async () => {
  const store = openSqlite(':memory:');
  try {
    const sp = (i: number, over: Partial<Span>): Span => ({ traceId: `t${i}`, spanId: `s${i}`, name: 'GET', kind: 2, startUs: 1e6 + i, endUs: 2e6 + i, service: 'a', attributes: { 'http.response.status_code': 200 }, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'a' } }, ...over });
    const cases: Span[][] = [
      [sp(1, { name: 'odd\x1f2' }), sp(2, { parentSpanId: 's1', attributes: { 'http.response.status_code': 503 } })],
      [sp(3, { startUs: 1e6 + 0.5 }), sp(4, { parentSpanId: 's3', attributes: { 'http.response.status_code': '502' }, status: { code: 0, message: 'bad gateway' } })],
      [sp(5, { service: 'x\x1fy' }), sp(6, { parentSpanId: 's5', status: { code: 2 } })],
    ];
    for (const [i, spans] of cases.entries()) {
      const window = { fromUs: 1e6 + i * 1e9 - 1, toUs: 1e6 + i * 1e9 + 1e6 };
      await store.telemetry.ingest({ spans: spans.map((s) => ({ ...s, startUs: s.startUs + i * 1e9, endUs: s.endUs + i * 1e9 })), logs: [], metrics: [], errors: [] });
      const full = await store.telemetry.querySpans({ window });
      const got = await store.telemetry.querySpanTable({ window, fields: 'rca' }, peerNeeded);
      assert.equal(got.n, 2);
      assert.deepStrictEqual(columns(got), columns(spanTableOf(full)));
      assert.deepStrictEqual(view(traceIndicators(got, 1e6)), view(traceIndicators(full, 1e6)));
    }
  } finally {
    await store.close();
  }
});
