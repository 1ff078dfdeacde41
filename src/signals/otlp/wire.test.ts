/**
 * The hand-written wire decoder gives exactly what protobufjs + decode.ts give, for traces and logs of every
 * shape the data model has (all AnyValue kinds, nesting, events, exceptions, links, statuses, flags, dropped
 * counts, rejected items) — a differential test over seeded random requests and hand-picked edge cases — and
 * turns truncated or garbage bytes into a WireError instead of a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OTLP } from './proto.js';
import { decodeLogs, decodeTraces } from './decode.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLogsWire, decodeSpanRest, decodeTracesRows, decodeTracesWire, WireError } from './wire.js';
import { openSqlite } from '../../store/sqlite/index.js';
import type { ErrorEvent, Span } from '../model.js';

let seed = 42;
const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const int = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const bytes = (n: number, zero = false): Buffer => Buffer.from(Array.from({ length: n }, () => (zero ? 0 : 1 + int(255))));
const long = (ns: bigint): { low: number; high: number; unsigned: boolean } => ({ low: Number(ns & 0xffffffffn) | 0, high: Number((ns >> 32n) & 0xffffffffn) | 0, unsigned: true });
const slong = (n: bigint): { low: number; high: number } => ({ low: Number(BigInt.asUintN(64, n) & 0xffffffffn) | 0, high: Number(BigInt.asUintN(64, n) >> 32n) | 0 });

function anyValue(depth = 0): object {
  const k = int(depth > 2 ? 5 : 8);
  switch (k) {
    case 0:
      return { stringValue: pick(['', 'GET', 'ünïcødé ✓', 'x'.repeat(300), 'line\nbreak']) };
    case 1:
      return { boolValue: rnd() < 0.5 };
    case 2:
      return { intValue: slong(pick([0n, 42n, -7n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 40n])) };
    case 3:
      return { doubleValue: pick([0, 3.25, -1e300, Number.NaN, Number.POSITIVE_INFINITY]) };
    case 4:
      return {};
    case 5:
      return { arrayValue: { values: Array.from({ length: int(4) }, () => anyValue(depth + 1)) } };
    case 6:
      return { kvlistValue: { values: attrs(depth + 1) } };
    default:
      return { bytesValue: bytes(int(6)) };
  }
}

function attrs(depth = 0): object[] {
  return Array.from({ length: int(5) }, (_, i) => (rnd() < 0.05 ? { key: `k${i}` } : { key: pick(['http.route', 'k', `a.${i}`, '', 'http.route']), value: anyValue(depth) }));
}

const STACK = 'TypeError: cannot read properties of undefined\n    at charge (/app/src/payment.ts:42:13)\n    at process (/app/src/checkout.ts:7:5)';

function span(): object {
  const start = 1_700_000_000_000_000_000n + BigInt(int(1e9));
  const bad = int(20);
  return {
    traceId: bad === 0 ? bytes(16, true) : bad === 1 ? bytes(8) : bytes(16),
    spanId: bad === 2 ? bytes(3) : bytes(8),
    ...(rnd() < 0.6 ? { parentSpanId: rnd() < 0.1 ? bytes(8, true) : bytes(8) } : {}),
    ...(rnd() < 0.2 ? { traceState: 'vendor=1' } : {}),
    ...(rnd() < 0.2 ? { flags: 1 + int(300) } : {}),
    name: pick(['GET /api/cart', '', 'checkout ✓']),
    kind: int(7),
    ...(bad === 3 ? {} : { startTimeUnixNano: long(start) }),
    endTimeUnixNano: long(bad === 4 ? start - 5000n : start + BigInt(int(1e9))),
    attributes: attrs(),
    ...(rnd() < 0.2 ? { droppedAttributesCount: 1 + int(9) } : {}),
    events: Array.from({ length: int(3) }, () =>
      rnd() < 0.4
        ? { timeUnixNano: long(start + 10n), name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }, { key: 'exception.message', value: { stringValue: 'boom' } }, { key: 'exception.stacktrace', value: { stringValue: STACK } }] }
        : { ...(rnd() < 0.5 ? { timeUnixNano: long(start + 20n) } : {}), name: 'retry', attributes: attrs(), ...(rnd() < 0.3 ? { droppedAttributesCount: 2 } : {}) },
    ),
    ...(rnd() < 0.2 ? { droppedEventsCount: 3 } : {}),
    links: Array.from({ length: int(2) }, () => ({ traceId: bytes(16), spanId: bytes(8), ...(rnd() < 0.5 ? { traceState: 'a=b' } : {}), attributes: attrs(), ...(rnd() < 0.5 ? { flags: 257 } : {}) })),
    ...(rnd() < 0.2 ? { droppedLinksCount: 1 } : {}),
    ...(rnd() < 0.7 ? { status: { code: int(4), ...(rnd() < 0.5 ? { message: 'failed ✗' } : {}) } } : {}),
  };
}

function resource(): object | undefined {
  if (rnd() < 0.1) return undefined;
  return { attributes: [...(rnd() < 0.9 ? [{ key: 'service.name', value: { stringValue: pick(['cart', 'payment', '']) } }] : []), { key: 'service.version', value: { stringValue: '1.2.3' } }, ...attrs()], ...(rnd() < 0.2 ? { droppedAttributesCount: 4 } : {}) };
}

function scope(): object | undefined {
  return rnd() < 0.2 ? undefined : { name: pick(['@opentelemetry/instrumentation-http', '']), ...(rnd() < 0.5 ? { version: '0.1' } : {}), ...(rnd() < 0.3 ? { attributes: attrs() } : {}) };
}

function traceRequest(): object {
  return {
    resourceSpans: Array.from({ length: 1 + int(3) }, () => ({
      ...(resource() ? { resource: resource() } : {}),
      scopeSpans: Array.from({ length: 1 + int(2) }, () => ({ ...(scope() ? { scope: scope() } : {}), spans: Array.from({ length: int(8) }, span) })),
    })),
  };
}

function logRequest(): object {
  return {
    resourceLogs: Array.from({ length: 1 + int(3) }, () => ({
      ...(resource() ? { resource: resource() } : {}),
      scopeLogs: Array.from({ length: 1 + int(2) }, () => ({
        ...(scope() ? { scope: scope() } : {}),
        logRecords: Array.from({ length: int(8) }, () => ({
          ...(rnd() < 0.8 ? { timeUnixNano: long(1_700_000_000_000_000_000n + BigInt(int(1e9))) } : {}),
          ...(rnd() < 0.5 ? { observedTimeUnixNano: long(1_700_000_000_500_000_000n) } : {}),
          severityNumber: int(25),
          ...(rnd() < 0.5 ? { severityText: pick(['INFO', 'ERROR']) } : {}),
          ...(rnd() < 0.9 ? { body: rnd() < 0.3 ? { stringValue: STACK } : anyValue() } : {}),
          attributes: rnd() < 0.1 ? [{ key: 'exception.type', value: { stringValue: 'Boom' } }] : attrs(),
          ...(rnd() < 0.2 ? { droppedAttributesCount: 3 } : {}),
          ...(rnd() < 0.3 ? { flags: 1 } : {}),
          ...(rnd() < 0.6 ? { traceId: rnd() < 0.2 ? bytes(16, true) : bytes(16) } : {}),
          ...(rnd() < 0.6 ? { spanId: bytes(8) } : {}),
          ...(rnd() < 0.2 ? { eventName: 'device.app.lifecycle' } : {}),
        })),
      })),
    })),
  };
}

const encode = (type: typeof OTLP.traceRequest, obj: object): Buffer => Buffer.from(type.encode(type.fromObject(obj)).finish());

test('traces: the wire decoder equals protobufjs + decode.ts on 300 random requests', () => {
  let spans = 0;
  let rejected = 0;
  for (let i = 0; i < 300; i++) {
    const buf = encode(OTLP.traceRequest, traceRequest());
    const ref = decodeTraces(OTLP.traceRequest.decode(buf) as unknown as Record<string, unknown>);
    const got = decodeTracesWire(buf);
    assert.deepStrictEqual(got, ref, `request ${i}`);
    spans += got.batch.spans.length;
    rejected += got.rejected;
  }
  assert.ok(spans > 1000 && rejected > 50, `coverage: ${spans} spans kept, ${rejected} rejected`);
});

test('logs: the wire decoder equals protobufjs + decode.ts on 300 random requests', () => {
  let logs = 0;
  let errors = 0;
  for (let i = 0; i < 300; i++) {
    const buf = encode(OTLP.logsRequest, logRequest());
    const received = 1_700_000_100_000_000;
    const ref = decodeLogs(OTLP.logsRequest.decode(buf) as unknown as Record<string, unknown>, received);
    const got = decodeLogsWire(buf, received);
    assert.deepStrictEqual(got, ref, `request ${i}`);
    logs += got.batch.logs.length;
    errors += got.batch.errors.length;
  }
  assert.ok(logs > 1000 && errors > 50, `coverage: ${logs} logs, ${errors} error events`);
});

test('truncated and garbage bytes are a WireError, never a crash or a silent half batch', () => {
  const buf = encode(OTLP.traceRequest, { resourceSpans: [{ scopeSpans: [{ spans: [span(), span(), span()] }] }] });
  for (const cut of [1, 5, 17, Math.floor(buf.length / 2), buf.length - 1]) assert.throws(() => decodeTracesWire(buf.subarray(0, cut)), WireError, `cut at ${cut}`);
  assert.throws(() => decodeTracesWire(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), /runs past the end/);
  assert.throws(() => decodeLogsWire(Buffer.from([0x0f, 0x01])), /invalid wire type 7/);
  assert.throws(() => decodeTracesWire(Buffer.alloc(11, 0xff)), /varint longer than 10 bytes/);
  assert.deepEqual(decodeTracesWire(Buffer.alloc(0)).batch.spans, [], 'an empty request is a valid empty export');
});

/** Resource and scope are stored as JSON (NaN becomes null there, as on every other path): compared through it. */
const norm = (s: Span): unknown => ({ ...s, resource: JSON.parse(JSON.stringify(s.resource)) as unknown, scope: s.scope && (JSON.parse(JSON.stringify(s.scope)) as unknown) });
const byId = (a: Span, b: Span): number => (a.traceId + a.spanId < b.traceId + b.spanId ? -1 : 1);

for (const writerThread of [false, true]) {
  test(`traces as rows (${writerThread ? 'file store, writer thread' : 'in-memory store'}): what is stored and read back equals the wire decoder's spans, errors and rejections`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tswarm-rows-'));
    const store = openSqlite(writerThread ? join(dir, 'm.db') : ':memory:');
    try {
      const want: Span[] = [];
      const wantErrors: ErrorEvent[] = [];
      let rows = 0;
      // Random requests, then one of 263 spans: every size of multi-row statement (200, 50, 10, 1) is used.
      for (let i = 0; i < 151; i++) {
        const buf = i < 150 ? encode(OTLP.traceRequest, traceRequest()) : manySpans(263);
        const ref = decodeTracesWire(buf);
        const got = decodeTracesRows(buf);
        assert.equal(got.rejected, ref.rejected, `request ${i}: rejected`);
        assert.deepStrictEqual(got.messages, ref.errors, `request ${i}: messages`);
        assert.deepStrictEqual(got.errors, ref.batch.errors, `request ${i}: error events`);
        const r = await store.telemetry.ingestTraceRows(got);
        assert.deepEqual(r, { spans: ref.batch.spans.length, logs: 0, metrics: 0, errors: ref.batch.errors.length });
        want.push(...ref.batch.spans);
        wantErrors.push(...ref.batch.errors);
        rows += got.count;
      }
      const stored = await store.telemetry.querySpans({});
      assert.ok(want.length > 500, `coverage: ${want.length} spans`);
      assert.equal(stored.length, want.length);
      assert.deepStrictEqual(stored.sort(byId).map(norm), want.sort(byId).map(norm));
      // Rollups and counters as the object path computes them.
      const ref = openSqlite(':memory:');
      await ref.telemetry.ingest({ spans: want, logs: [], metrics: [], errors: wantErrors });
      assert.deepStrictEqual(await store.telemetry.rollups({}), await ref.telemetry.rollups({}));
      assert.deepStrictEqual(await store.telemetry.stats(), await ref.telemetry.stats());
      assert.deepStrictEqual(await store.telemetry.queryErrors({}), await ref.telemetry.queryErrors({}));
      await ref.close();
      assert.ok(rows > 0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('traces as rows: malformed bytes anywhere are refused exactly when the wire decoder refuses them', () => {
  let refused = 0;
  for (let i = 0; i < 400; i++) {
    const buf = Buffer.from(encode(OTLP.traceRequest, traceRequest()));
    // Flip or cut a few bytes: inside attributes, events and links as often as in the columns.
    const k = int(3);
    const bad = k === 0 ? buf.subarray(0, int(buf.length)) : buf;
    if (k > 0) for (let j = 0; j < 1 + int(3); j++) if (buf.length) buf[int(buf.length)] = int(256);
    let want: unknown;
    let got: unknown;
    try {
      want = decodeTracesWire(bad);
    } catch (e) {
      want = e instanceof WireError ? `WireError: ${e.message}` : e;
    }
    try {
      const r = decodeTracesRows(bad);
      got = { rejected: r.rejected, spans: r.count };
    } catch (e) {
      got = e instanceof WireError ? `WireError: ${e.message}` : e;
    }
    if (typeof want === 'string') refused++;
    assert.deepStrictEqual(got, typeof want === 'string' ? want : { rejected: (want as ReturnType<typeof decodeTracesWire>).rejected, spans: (want as ReturnType<typeof decodeTracesWire>).batch.spans.length }, `request ${i}`);
  }
  assert.ok(refused > 50, `coverage: ${refused} refused`);
});

/** One scope of n plain spans with unique ids. */
function manySpans(n: number): Buffer {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: bytes(16),
    spanId: bytes(8),
    parentSpanId: bytes(8),
    name: `op-${i % 7}`,
    kind: 2,
    startTimeUnixNano: long(1_700_000_000_000_000_000n + BigInt(i)),
    endTimeUnixNano: long(1_700_000_000_000_100_000n + BigInt(i)),
    attributes: [{ key: 'url.path', value: { stringValue: `/p/${i}/${'x'.repeat(40)}` } }],
  }));
  return encode(OTLP.traceRequest, { resourceSpans: [{ scopeSpans: [{ spans }] }] });
}

test('traces as rows: a request larger than the scratch space (3,000 spans) grows it and keeps every id, number and rest byte', () => {
  const buf = manySpans(3000);
  for (let round = 0; round < 2; round++) {
    const want = decodeTracesWire(buf).batch.spans;
    const got = decodeTracesRows(buf);
    assert.equal(got.count, 3000);
    assert.equal(got.ids, want.map((s) => s.traceId + s.spanId + s.parentSpanId!).join(''));
    assert.deepEqual(Array.from({ length: 3000 }, (_, i) => got.nums[i * 10 + 1]), want.map((s) => s.startUs));
    assert.ok(got.nums[2999 * 10 + 6]! > 1 << 16, 'rest outgrew its first scratch buffer');
    for (const i of [0, 1500, 2999]) assert.deepStrictEqual(decodeSpanRest(got.rest.subarray(i ? got.nums[(i - 1) * 10 + 6] : 0, got.nums[i * 10 + 6]), 0).attributes, want[i]!.attributes);
  }
});
