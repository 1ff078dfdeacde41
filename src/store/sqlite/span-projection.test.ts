import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../../signals/model.js';
import { OTLP } from '../../signals/otlp/proto.js';
import { decodeTracesRows } from '../../signals/otlp/wire.js';
import { runRca } from '../../agents/detection/rca-run.js';
import { openSqlite } from './index.js';
import { RCA_SPAN_ATTRIBUTES } from './span-projection.js';
import { hex, kv, u64, type Kv } from '../../../test/helpers/otlp-values.js';

const services = ['frontend', 'checkout', 'payment', 'cart', 'db'];
const t0Us = 1_700_000_000_000_000;

/**
 * Traffic through 5 services, 3 minutes, payment failing (500s, exceptions, status messages) after minute 2. The
 * wanted attributes come in every shape the scanner has to get right or hand on: ints, strings of numbers,
 * doubles, bools, arrays, duplicates (last wins), negative and huge ints, empty values; plus events and links.
 */
function traffic(): { otlp: object[] } {
  const otlp: object[] = [];
  let id = 1;
  for (let t = 0; t < 1800; t++) {
    const start = t0Us + t * 100_000;
    const traceId = hex(t + 1, 32);
    const bad = t >= 1200 && t % 3 === 0;
    let parent: string | undefined;
    for (let k = 0; k < 4; k++) {
      const svc = services[(t + k) % 4 === 0 && k === 3 ? 4 : k]!;
      const kind = (k % 2 === 1 ? 3 : 2) as Span['kind'];
      const failing = bad && svc === 'payment';
      const spanId = hex(id++, 16);
      // Database spans hold none of the wanted keys: SQLite does not hand their rest over unless they failed.
      const dbFailed = svc === 'db' && t % 37 === 0;
      const attrs: Kv[] = svc === 'db' ? [kv('db.system', 'postgresql'), kv('db.statement', `SELECT ${t}`)] : [kv('http.request.method', 'GET'), kv('http.response.status_code', failing ? 500 : [200, 404, 499, 100, 127, 128, 383, 384, 204, 500, 511, 640, 200][t % 13]!), kv('url.path', `/x/${t}`)];
      if (kind === 3 && svc !== 'db') attrs.push(kv('server.address', `${services[k + 1] ?? 'db'}`), kv(t % 5 ? 'server.port' : 'net.peer.port', 8080 + k));
      if (t % 7 === 0) attrs.push(kv('net.peer.name', t % 2 ? 'payment' : ''));
      if (t % 101 === 0) attrs.push(kv('http.response.status_code', '503'));
      if (t % 13 === 0) attrs.push(kv('http.response.status_code', 2.5), kv('server.port', [1, 2]));
      if (t % 17 === 0) attrs.push(kv('server.address', true), kv('server.address', -5));
      if (t % 19 === 0) attrs.push(kv('server.port', 2 ** 60));
      const events = failing ? [{ timeUnixNano: 0, name: 'exception', attributes: [kv('exception.type', t % 2 ? 'TypeError' : 'Error'), kv('exception.message', 'boom')] }] : t % 23 === 0 ? [{ name: 'log', attributes: [] }] : [];
      const end = start + k * 100 + 5000 + (failing ? 50_000 : 0);
      const span = {
        traceId: Buffer.from(traceId, 'hex'),
        spanId: Buffer.from(spanId, 'hex'),
        ...(parent ? { parentSpanId: Buffer.from(parent, 'hex') } : {}),
        name: `op-${k}`,
        kind,
        startTimeUnixNano: u64(start + k * 10),
        endTimeUnixNano: u64(end),
        attributes: attrs,
        events,
        ...(t % 29 === 0 ? { links: [{ traceId: Buffer.from(hex(9, 32), 'hex'), spanId: Buffer.from(hex(9, 16), 'hex') }] } : {}),
        status: (failing && t % 2) || dbFailed ? { code: 2, message: failing ? 'charge failed' : 'deadlock' } : failing ? { code: 2 } : t % 31 === 0 ? { code: 0, message: 'fine' } : { code: 0 },
      };
      otlp.push({ svc, span });
      parent = spanId;
    }
  }
  return { otlp };
}

function requests(otlp: object[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < otlp.length; i += 500) {
    const bySvc = new Map<string, object[]>();
    for (const x of otlp.slice(i, i + 500) as { svc: string; span: object }[]) bySvc.set(x.svc, [...(bySvc.get(x.svc) ?? []), x.span]);
    const obj = { resourceSpans: [...bySvc].map(([svc, l]) => ({ resource: { attributes: [kv('service.name', svc), kv('service.version', '1.0.0')] }, scopeSpans: [{ scope: { name: 'test' }, spans: l }] })) };
    out.push(Buffer.from(OTLP.traceRequest.encode(OTLP.traceRequest.fromObject(obj)).finish()));
  }
  return out;
}

/**
 * What the RCA reads of a span (traces.ts), the way it reads it: the HTTP status as "≥ 500 or not", its value,
 * exception events and the status message on failed spans only.
 */
const rcaView = (s: Span): unknown => {
  const failed = s.status.code === 2 || Number(s.attributes['http.response.status_code'] ?? 0) >= 500;
  return {
    ids: [s.traceId, s.spanId, s.parentSpanId],
    rest: [s.service, s.name, s.kind, s.startUs, s.endUs, s.status.code, s.resource, failed],
    attributes: Object.fromEntries(RCA_SPAN_ATTRIBUTES.filter((k) => k in s.attributes && (failed || k !== 'http.response.status_code')).map((k) => [k, s.attributes[k]])),
    exception: failed ? (s.events.find((e) => e.name === 'exception') ?? null) : null,
    message: failed ? (s.status.message ?? null) : null,
  };
};

test("spans read with fields 'rca' (protobuf rows and JSON rest) hold what the RCA reads, exactly as full spans; the RCA answer is identical", async () => {
  const { otlp } = traffic();
  const store = openSqlite(':memory:');
  try {
    for (const buf of requests(otlp)) await store.telemetry.ingestTraceRows(decodeTracesRows(buf));
    const full = await store.telemetry.querySpans({});
    assert.equal(full.length, 7200);
    // The same spans again through the object path (JSON rest), a minute later, so both encodings are read.
    await store.telemetry.ingest({ spans: full.map((s) => ({ ...s, traceId: `j${s.traceId.slice(1)}`, startUs: s.startUs + 200e6, endUs: s.endUs + 200e6 })), logs: [], metrics: [], errors: [] });
    const all = await store.telemetry.querySpans({});
    const projected = await store.telemetry.querySpans({ fields: 'rca' });
    assert.equal(projected.length, all.length);
    assert.deepStrictEqual(projected.map(rcaView), all.map(rcaView));
    // The projection is one: no other attribute, no links, no event but exceptions; most rests are not read at all.
    assert.ok(projected.filter((s) => Object.keys(s.attributes).length === 0).length > projected.length / 4);
    assert.ok(projected.every((s) => Object.keys(s.attributes).every((k) => (RCA_SPAN_ATTRIBUTES as readonly string[]).includes(k)) && s.links.length === 0 && s.events.every((e) => e.name === 'exception')));
    assert.ok(all.some((s) => s.links.length > 0) && all.some((s) => 'url.path' in s.attributes), 'the full spans do hold more');
    assert.ok(all.some((s) => s.service === 'db' && s.status.message === 'deadlock') && all.some((s) => s.service === 'db' && s.status.code === 0), 'coverage: spans without wanted keys, failed or not');
    // Coverage: the shapes above occur in what is compared.
    for (const v of ['503', 2.5, [1, 2], -5, '2^60']) assert.ok(all.some((s) => Object.values(s.attributes).some((x) => JSON.stringify(x) === JSON.stringify(v) || (v === '2^60' && x === String(2 ** 60)))), `coverage: ${JSON.stringify(v)}`);
    // The RCA over each window: same run, to the last evidence string.
    for (const window of [{ fromUs: t0Us, toUs: t0Us + 200e6 }, { fromUs: t0Us + 200e6, toUs: t0Us + 400e6 }]) {
      const a = runRca({ metrics: new Map(), edges: [], resolutionS: 5, spans: await store.telemetry.querySpans({ window }) });
      const b = runRca({ metrics: new Map(), edges: [], resolutionS: 5, spans: await store.telemetry.querySpans({ window, fields: 'rca' }) });
      assert.equal(a.candidates[0]?.service, 'payment');
      assert.deepStrictEqual(b, a);
    }
  } finally {
    await store.close();
  }
});

test("fields 'rca': a string field holding the packing separator, a fractional time, HTTP status in JSON: read row by row, same view", async () => {
  const store = openSqlite(':memory:');
  try {
    const sp = (i: number, over: Partial<Span>): Span => ({ traceId: `t${i}`, spanId: `s${i}`, name: 'GET', kind: 2, startUs: 1e6 + i, endUs: 2e6 + i, service: 'a', attributes: { 'http.response.status_code': 200, x: 1 }, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'a' } }, ...over });
    const cases: Span[][] = [
      [sp(1, { name: 'odd\x1f2' }), sp(2, { attributes: { 'http.response.status_code': 503 } })],
      [sp(3, { startUs: 1e6 + 0.5 }), sp(4, { attributes: { 'http.response.status_code': '502' }, status: { code: 0, message: 'bad gateway' } })],
      [sp(5, { attributes: { 'http.response.status_code': 499.5 } }), sp(6, { parentSpanId: 's5', attributes: { 'http.response.status_code': 200 } })],
    ];
    for (const [i, spans] of cases.entries()) {
      const window = { fromUs: 1e6 + i * 1e9 - 1, toUs: 1e6 + i * 1e9 + 1e6 };
      await store.telemetry.ingest({ spans: spans.map((s) => ({ ...s, startUs: s.startUs + i * 1e9, endUs: s.endUs + i * 1e9 })), logs: [], metrics: [], errors: [] });
      const full = await store.telemetry.querySpans({ window });
      assert.equal(full.length, 2);
      assert.deepStrictEqual((await store.telemetry.querySpans({ window, fields: 'rca' })).map(rcaView), full.map(rcaView));
    }
  } finally {
    await store.close();
  }
});
