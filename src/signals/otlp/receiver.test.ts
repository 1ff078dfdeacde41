/**
 * The receiver, specified with the real OpenTelemetry JS SDK as the client (OTLP/HTTP JSON and protobuf
 * exporters for traces, metrics and logs), plus the bad inputs a production endpoint meets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { context, trace, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as MetricJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter as LogJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { openStore } from '../../store/open.js';
import { startReceiver } from './server.js';
import { OTLP } from './proto.js';
import { flagEvaluations } from '../../algorithms/perf/flags.js';

async function sdkExport(base: string, encoding: 'json' | 'proto', service: string): Promise<void> {
  const resource = resourceFromAttributes({ 'service.name': service, 'service.version': '2.0.1', 'deployment.environment.name': 'test' });
  const traceExporter = encoding === 'json' ? new TraceJson({ url: `${base}/v1/traces` }) : new TraceProto({ url: `${base}/v1/traces` });
  const tp = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(traceExporter)] });
  const tracer = tp.getTracer('receiver-test');
  tracer.startActiveSpan('GET /api/cart', { kind: 1 }, (parent) => {
    const child = tracer.startSpan('SELECT cart', { attributes: { 'db.system.name': 'redis' } }, trace.setSpan(context.active(), parent));
    // A flag evaluation as OpenFeature's OpenTelemetry hook records it.
    child.addEvent('feature_flag.evaluation', { 'feature_flag.key': 'new-cart', 'feature_flag.result.variant': 'on', 'feature_flag.provider.name': 'flagd' });
    child.end();
    try {
      throw new TypeError('cart.items is undefined');
    } catch (e) {
      parent.recordException(e as Error);
      parent.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    }
    parent.end();
  });
  await tp.forceFlush();
  await tp.shutdown();

  const metricExporter = encoding === 'json' ? new MetricJson({ url: `${base}/v1/metrics` }) : new MetricProto({ url: `${base}/v1/metrics` });
  const mp = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })] });
  const meter = mp.getMeter('receiver-test');
  meter.createCounter('app.orders').add(3, { region: 'eu' });
  meter.createHistogram('http.server.request.duration', { unit: 's' }).record(0.12);
  meter.createObservableGauge('process.cpu.utilization').addCallback((r) => r.observe(0.42));
  await mp.forceFlush();
  await mp.shutdown();

  const logExporter = encoding === 'json' ? new LogJson({ url: `${base}/v1/logs` }) : new LogProto({ url: `${base}/v1/logs` });
  const lp = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
  const logger = lp.getLogger('receiver-test');
  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'cart loaded for user 42' });
  const err = new RangeError('quantity must be positive');
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'add to cart failed', attributes: { 'exception.type': err.name, 'exception.message': err.message, 'exception.stacktrace': err.stack ?? '' } });
  await lp.forceFlush();
  await lp.shutdown();
}

test('the OpenTelemetry JS SDK exports traces, metrics and logs over OTLP/HTTP JSON and protobuf; everything lands in memory', async () => {
  const store = await openStore(':memory:');
  const rx = await startReceiver({ port: 0, store });
  try {
    await sdkExport(rx.url, 'json', 'cart-json');
    await sdkExport(rx.url, 'proto', 'cart-proto');
    const stats = await store.telemetry.stats();
    for (const svc of ['cart-json', 'cart-proto']) {
      const s = stats.find((x) => x.service === svc);
      assert.ok(s, `${svc} stored`);
      assert.equal(s.spans, 2, `${svc} spans`);
      assert.equal(s.logs, 2, `${svc} logs`);
      assert.ok(s.metrics >= 3, `${svc} metrics ${s.metrics}`);
      assert.equal(s.errors, 2, `${svc}: the recorded exception and the error log`);
      const spans = await store.telemetry.querySpans({ services: [svc] });
      const parent = spans.find((x) => x.name === 'GET /api/cart')!;
      const child = spans.find((x) => x.name === 'SELECT cart')!;
      assert.equal(child.parentSpanId, parent.spanId);
      assert.equal(parent.status.code, 2);
      assert.equal(parent.resource.attributes['service.version'], '2.0.1');
      assert.equal(child.attributes['db.system.name'], 'redis');
      assert.deepEqual(flagEvaluations(child), [{ key: 'new-cart', variant: 'on' }], `${svc}: span events survive the store`);
      const errors = await store.telemetry.queryErrors({ services: [svc] });
      const ex = errors.find((e) => e.source === 'span')!;
      assert.equal(ex.type, 'TypeError');
      assert.equal(ex.message, 'cart.items is undefined');
      assert.ok(ex.frames.some((f) => f.inApp && f.file?.endsWith('receiver.test.ts')), 'frames point into this file');
      assert.equal(ex.release, '2.0.1');
      assert.equal(ex.traceId, parent.traceId);
      assert.ok(errors.some((e) => e.source === 'log' && e.type === 'RangeError'));
      const metrics = await store.telemetry.queryMetrics({ services: [svc] });
      assert.ok(metrics.some((m) => m.name === 'app.orders' && m.type === 'sum' && m.value === 3 && m.attributes.region === 'eu'));
      assert.ok(metrics.some((m) => m.name === 'http.server.request.duration' && m.type === 'histogram' && m.count === 1));
      assert.ok(metrics.some((m) => m.name === 'process.cpu.utilization' && m.type === 'gauge' && m.value === 0.42));
    }
  } finally {
    await rx.close();
    await store.close();
  }
});

const validSpan = (name: string, start = '1700000000000000000', end = '1700000000100000000'): object => ({
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  name,
  kind: 2,
  startTimeUnixNano: start,
  endTimeUnixNano: end,
});
const traces = (...spans: object[]): object => ({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input' } }] }, scopeSpans: [{ spans }] }] });

test('bad input gets a precise 4xx (or partial success), the server keeps serving and earlier data stays', async () => {
  const store = await openStore(':memory:');
  const rx = await startReceiver({ port: 0, store, bodyLimitBytes: 1024 * 1024 });
  const post = async (path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string; buf: Buffer }> => {
    const r = await request(`${rx.url}${path}`, { method: 'POST', body, headers });
    const buf = Buffer.from(await r.body.arrayBuffer());
    return { status: r.statusCode, text: buf.toString('utf8'), buf };
  };
  const json = { 'content-type': 'application/json' };
  try {
    const ok = await post('/v1/traces', JSON.stringify(traces(validSpan('first'))), json);
    assert.equal(ok.status, 200);

    const badProto = await post('/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
    assert.equal(badProto.status, 400);
    assert.match(OTLP.status.decode(badProto.buf).toJSON().message as string, /malformed protobuf/);

    const badJson = await post('/v1/logs', '{"resourceLogs": [', json);
    assert.equal(badJson.status, 400);
    assert.match(badJson.text, /invalid JSON/);

    const wrongType = await post('/v1/metrics', 'hello', { 'content-type': 'text/plain' });
    assert.equal(wrongType.status, 415);
    assert.match((JSON.parse(wrongType.text) as { message: string }).message, /unsupported Content-Type "text\/plain"/);

    const big = await post('/v1/traces', Buffer.alloc(2 * 1024 * 1024, 0x20), json);
    assert.equal(big.status, 413);
    assert.match(big.text, /exceeds the 1048576-byte limit/);

    // A gzip bomb: small on the wire, over the limit once decompressed.
    const bomb = await post('/v1/traces', gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20)), { ...json, 'content-encoding': 'gzip' });
    assert.equal(bomb.status, 413);

    const notGzip = await post('/v1/traces', 'plain', { ...json, 'content-encoding': 'gzip' });
    assert.equal(notGzip.status, 400);
    assert.match(notGzip.text, /not valid gzip/);

    // Unknown fields are ignored; NaN/negative durations are rejected item by item with partial success.
    const mixed = await post('/v1/traces', JSON.stringify({ ...traces({ ...validSpan('kept'), spanId: 'eee19b7ec3c1b175', futureField: 1 }, { ...validSpan('negative', '1700000000100000000', '1700000000000000000'), spanId: 'eee19b7ec3c1b176' }, { ...validSpan('nan', 'NaN'), spanId: 'eee19b7ec3c1b177' }), unknownTop: true }), json);
    assert.equal(mixed.status, 200);
    const partial = JSON.parse(mixed.text) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    assert.equal(partial.partialSuccess.rejectedSpans, 2);
    assert.match(partial.partialSuccess.errorMessage, /negative duration/);

    const hugeLog = await post('/v1/logs', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000000000000', body: { stringValue: 'x'.repeat(300_000) } }, { timeUnixNano: '1700000000000000000', body: { stringValue: 'fine' } }] }] }] }), json);
    assert.equal(hugeLog.status, 200);
    assert.match(hugeLog.text, /exceeds the 262144-character limit/);

    const gz = await post('/v1/traces', gzipSync(JSON.stringify(traces({ ...validSpan('gzipped'), spanId: 'eee19b7ec3c1b178' }))), { ...json, 'content-encoding': 'gzip' });
    assert.equal(gz.status, 200);

    const health = await request(`${rx.url}/healthz`);
    assert.equal(health.statusCode, 200);
    await health.body.text();
    const names = (await store.telemetry.querySpans({})).map((s) => s.name).sort();
    assert.deepEqual(names, ['first', 'gzipped', 'kept']);
  } finally {
    await rx.close();
    await store.close();
  }
});

test('with a bearer token the receiver refuses requests without it', async () => {
  const store = await openStore(':memory:');
  const rx = await startReceiver({ port: 0, store, token: 's3cret' });
  try {
    const body = JSON.stringify(traces(validSpan('authed')));
    const no = await request(`${rx.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(no.statusCode, 401);
    await no.body.text();
    const wrong = await request(`${rx.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    await wrong.body.text();
    const yes = await request(`${rx.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret' } });
    assert.equal(yes.statusCode, 200);
    await yes.body.text();
    assert.equal((await store.telemetry.querySpans({})).length, 1);
  } finally {
    await rx.close();
    await store.close();
  }
});

test('protobuf traces (the row path): partial success as on the object path, and onBatch still sees the decoded batch and the count of error spans', async () => {
  const store = await openStore(':memory:');
  const seen: { spans: string[]; errors: number; errorSpans: number }[] = [];
  const rx = await startReceiver({ port: 0, store, onBatch: (b, _r, counts) => seen.push({ spans: b.spans.map((s) => s.name), errors: b.errors.length, errorSpans: counts.errorSpans }) });
  try {
    const span = (name: string, spanId: string, start: number, end: number, events: object[] = []): object => ({
      traceId: Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'),
      spanId: Buffer.from(spanId, 'hex'),
      name,
      kind: 2,
      startTimeUnixNano: { low: start, high: 395_812_000, unsigned: true },
      endTimeUnixNano: { low: end, high: 395_812_000, unsigned: true },
      attributes: [{ key: 'http.route', value: { stringValue: '/cart' } }],
      events,
      ...(events.length ? { status: { code: 2, message: 'boom' } } : {}),
    });
    const exception = { timeUnixNano: { low: 1500, high: 395_812_000, unsigned: true }, name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }, { key: 'exception.message', value: { stringValue: 'boom' } }] };
    const msg = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'rows' } }] }, scopeSpans: [{ scope: { name: 'test-scope', version: '1' }, spans: [span('kept', 'eee19b7ec3c1b174', 1000, 2000, [exception]), span('negative', 'eee19b7ec3c1b175', 2000, 1000)] }] }] };
    const body = Buffer.from(OTLP.traceRequest.encode(OTLP.traceRequest.fromObject(msg)).finish());
    const r = await request(`${rx.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
    assert.equal(r.statusCode, 200);
    const res = OTLP.traceResponse.decode(Buffer.from(await r.body.arrayBuffer())).toJSON() as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } };
    assert.equal(Number(res.partialSuccess?.rejectedSpans), 1);
    assert.match(res.partialSuccess?.errorMessage ?? '', /negative duration/);
    assert.deepEqual(seen, [{ spans: ['kept'], errors: 1, errorSpans: 1 }]);
    assert.equal((await store.telemetry.querySpans({ services: ['rows'] }))[0]?.status.code, 2);
    const [stored] = await store.telemetry.querySpans({ services: ['rows'] });
    assert.equal(stored?.attributes['http.route'], '/cart');
    assert.deepEqual(stored?.scope, { name: 'test-scope', version: '1' });
    assert.equal(stored?.events[0]?.name, 'exception');
    const errors = await store.telemetry.queryErrors({ services: ['rows'] });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.type, 'TypeError');
  } finally {
    await rx.close();
    await store.close();
  }
});
