/**
 * Pull sources. Prometheus: a real Prometheus server (Debian's) scraping a prom-client endpoint. Jaeger and Loki
 * have no installable server here, so they are tested against HTTP servers answering with the JSON their query
 * APIs document (Jaeger /api/traces, Loki /loki/api/v1/query_range) — recorded shapes, not our own invention.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import client from 'prom-client';
import { freePort, runCli, tempDir } from '../../../test/helpers/env.js';
import { openStore } from '../../store/open.js';
import { pullSource, SourceError } from './pull.js';

function jsonServer(routes: Record<string, (q: URLSearchParams) => unknown>): Promise<{ port: number; close(): void; seen: string[] }> {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push(u.pathname + u.search);
    const h = routes[u.pathname];
    if (!h) return void res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(h(u.searchParams)));
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r({ port: (s.address() as { port: number }).port, close: () => s.close(), seen })));
}

test('jaeger:// reads traces through the query API into spans with parents, kinds, errors and exceptions', async () => {
  const now = Date.now() * 1000;
  const srv = await jsonServer({
    '/api/services': () => ({ data: ['checkout', 'jaeger-query'] }),
    '/api/traces': () => ({
      data: [
        {
          traceID: 'abc123',
          spans: [
            { traceID: 'abc123', spanID: '1', operationName: 'POST /checkout', references: [], startTime: now - 2e6, duration: 300000, tags: [{ key: 'span.kind', type: 'string', value: 'server' }, { key: 'error', type: 'bool', value: true }], logs: [{ timestamp: now - 1.9e6, fields: [{ key: 'event', value: 'exception' }, { key: 'exception.type', value: 'TypeError' }, { key: 'exception.message', value: 'x is undefined' }, { key: 'exception.stacktrace', value: 'TypeError: x is undefined\n    at pay (/app/src/pay.ts:3:9)' }] }], processID: 'p1' },
            { traceID: 'abc123', spanID: '2', operationName: 'POST', references: [{ refType: 'CHILD_OF', traceID: 'abc123', spanID: '1' }], startTime: now - 1.99e6, duration: 100000, tags: [{ key: 'span.kind', value: 'client' }], processID: 'p1' },
          ],
          processes: { p1: { serviceName: 'checkout', tags: [{ key: 'hostname', value: 'h1' }] } },
        },
      ],
    }),
  });
  const store = await openStore(':memory:');
  try {
    const msg = await pullSource(`jaeger://127.0.0.1:${srv.port}?range=1h`, store);
    assert.match(msg, /2 spans and 1 errors from 1 service/);
    const spans = await store.telemetry.querySpans({});
    const child = spans.find((s) => s.spanId === '0000000000000002')!;
    assert.equal(child.parentSpanId, '0000000000000001');
    assert.equal(child.kind, 3);
    assert.equal(spans.find((s) => s.kind === 2)!.status.code, 2);
    assert.equal((await store.telemetry.queryErrors({}))[0]!.frames[0]!.file, '/app/src/pay.ts');
    assert.ok(srv.seen.some((p) => p.startsWith('/api/traces?service=checkout')));
  } finally {
    await store.close();
    srv.close();
  }
});

test('loki:// reads log streams with LogQL; failures name the source without its secrets', async () => {
  const ns = (ms: number): string => `${ms}000000`;
  const now = Date.now();
  const srv = await jsonServer({
    '/loki/api/v1/query_range': (q) => ({ status: 'success', data: { resultType: 'streams', result: [{ stream: { app: 'cart', level: 'error' }, values: [[ns(now - 1000), 'Error: redis down\n    at connect (/app/src/redis.ts:9:3)'], [ns(now - 500), 'retrying']] }], query: q.get('query') } }),
  });
  const store = await openStore(':memory:');
  try {
    const msg = await pullSource(`loki://127.0.0.1:${srv.port}?query=${encodeURIComponent('{app="cart"}')}&range=5m`, store);
    assert.match(msg, /2 log lines and 1 errors/);
    const logs = await store.telemetry.queryLogs({});
    assert.deepEqual(logs.map((l) => [l.service, l.severityNumber]), [['cart', 17], ['cart', 17]]);
    await assert.rejects(pullSource('loki://admin:s3cret@127.0.0.1:1?query=x', store), (e: Error) => e instanceof SourceError && /unreachable/.test(e.message) && !e.message.includes('s3cret'));
  } finally {
    await store.close();
    srv.close();
  }
});

test('prometheus:// against a real Prometheus server: gauges and histograms turned back into percentiles', { skip: !existsSync('/usr/bin/prometheus') && 'prometheus not installed (apt-get install prometheus)', timeout: 90_000 }, async () => {
  const reg = new client.Registry();
  const g = new client.Gauge({ name: 'shop_queue_depth', help: 'q', labelNames: ['service'], registers: [reg] });
  const h = new client.Histogram({ name: 'shop_request_seconds', help: 'h', labelNames: ['service'], buckets: [0.01, 0.05, 0.1, 0.5, 1], registers: [reg] });
  g.set({ service: 'cart' }, 7);
  const timer = setInterval(() => {
    for (let i = 0; i < 50; i++) h.observe({ service: 'cart' }, i < 45 ? 0.02 : 0.4);
  }, 200);
  const target = http.createServer(async (_q, res) => res.writeHead(200, { 'content-type': reg.contentType }).end(await reg.metrics()));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  const tport = (target.address() as { port: number }).port;
  const dir = tempDir('prom');
  const pport = await freePort();
  // Prometheus also remote-writes what it scrapes to our receiver.
  const rxStore = await openStore(':memory:');
  const { startReceiver } = await import('../otlp/server.js');
  const rx = await startReceiver({ port: 0, store: rxStore });
  writeFileSync(join(dir.path, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nremote_write:\n  - url: ${rx.url}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\nscrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:${tport}']\n`);
  const prom = spawn('/usr/bin/prometheus', [`--config.file=${join(dir.path, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir.path, 'data')}`, `--web.listen-address=127.0.0.1:${pport}`], { stdio: 'ignore' });
  const store = await openStore(':memory:');
  try {
    for (let i = 0; i < 60; i++) {
      const r = await fetch(`http://127.0.0.1:${pport}/api/v1/query?query=shop_request_seconds_bucket`).then((x) => x.json() as Promise<{ data?: { result: unknown[] } }>).catch(() => undefined);
      if (r?.data?.result.length) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    await new Promise((res) => setTimeout(res, 4000));
    const gauge = await pullSource(`prometheus://127.0.0.1:${pport}?match=shop_queue_depth&range=2m&step=1`, store);
    assert.match(gauge, /metric points/);
    const hist = await pullSource(`prometheus://127.0.0.1:${pport}?match=shop_request_seconds_bucket&range=2m&step=1`, store);
    assert.match(hist, /3 series queries/);
    const points = await store.telemetry.queryMetrics({});
    assert.ok(points.some((p) => p.name === 'shop_queue_depth' && p.type === 'gauge' && p.value === 7 && p.service === 'cart'));
    const p95 = points.filter((p) => p.name === 'shop_request_seconds.p95' && p.type === 'gauge' && Number.isFinite(p.value));
    assert.ok(p95.length > 0, 'p95 series from the histogram');
    const last = p95[p95.length - 1]! as { value: number };
    assert.ok(last.value > 0.1 && last.value <= 0.5, `p95 ≈ 0.4 s bucket: ${last.value}`);
    // The seed's shape end to end: analyze pulling metrics from Prometheus, traces and logs from files.
    const traceFile = join(dir.path, 'traces.jsonl');
    const t = BigInt(Date.now()) * 1_000_000n;
    writeFileSync(traceFile, JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] }, scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /cart', kind: 2, startTimeUnixNano: String(t - 1_000_000_000n), endTimeUnixNano: String(t - 990_000_000n) }] }] }] }) + '\n');
    const logFile = join(dir.path, 'cart.log');
    writeFileSync(logFile, `${new Date().toISOString()} INFO cart loaded\n`);
    const db = join(dir.path, 'analyze.db');
    const ok = await runCli(['analyze', '--db', db, '--out', join(dir.path, 'report'), '--metrics', `prometheus://127.0.0.1:${pport}?match=shop_queue_depth&range=2m&step=1`, '--traces', `file://${traceFile}`, '--logs', `file://${logFile}`], { timeoutMs: 120_000 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /pulled \d+ metric points/);
    assert.match(ok.stderr, /pulled 1 file\(s\): 1 spans/);
    assert.ok(existsSync(join(dir.path, 'report', 'report.html')));
    for (let i = 0; i < 40 && !(await rxStore.telemetry.queryMetrics({ names: ['shop_queue_depth'] })).length; i++) await new Promise((res) => setTimeout(res, 500));
    const written = await rxStore.telemetry.queryMetrics({ names: ['shop_queue_depth'] });
    assert.ok(written.length > 0 && written.every((p) => p.service === 'cart' && p.attributes.job === 'shop' && p.type === 'gauge' && p.value === 7), 'remote-write from the real Prometheus arrives');
    const bad = await runCli(['analyze', '--db', join(dir.path, 'm.db'), '--metrics', 'prometheus://127.0.0.1:1?match=up']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), /^tswarm: prometheus:\/\/127\.0\.0\.1:1: unreachable/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  } finally {
    clearInterval(timer);
    prom.kill('SIGTERM');
    await rx.close();
    await rxStore.close();
    target.close();
    await store.close();
    dir.cleanup();
  }
});

test('cloudwatch:// pages through FilterLogEvents (AWS SDK v3 client) from a local endpoint speaking the JSON protocol', async () => {
  const calls: { target: string; body: Record<string, unknown> }[] = [];
  const now = Date.now();
  const srv = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const parsed = JSON.parse(body) as Record<string, unknown>;
    calls.push({ target: String(req.headers['x-amz-target']), body: parsed });
    const page = parsed.nextToken
      ? { events: [{ logStreamName: 'cart/1', timestamp: now - 1000, message: 'ERROR TypeError: qty is undefined\n    at add (/app/src/cart.ts:12:7)', eventId: '2' }] }
      : { events: [{ logStreamName: 'cart/1', timestamp: now - 2000, message: 'INFO cart loaded', eventId: '1' }], nextToken: 'page-2' };
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(page));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const env = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' });
  const store = await openStore(':memory:');
  try {
    const msg = await pullSource(`cloudwatch://app-logs?endpoint=http://127.0.0.1:${port}&range=1h`, store);
    assert.match(msg, /2 log events and 1 errors from 2 page\(s\)/);
    assert.equal(calls[0]!.target, 'Logs_20140328.FilterLogEvents');
    assert.equal(calls[0]!.body.logGroupName, 'app-logs');
    assert.equal(calls[1]!.body.nextToken, 'page-2');
    const logs = await store.telemetry.queryLogs({});
    assert.deepEqual(logs.map((l) => l.service), ['cart', 'cart']);
    assert.equal((await store.telemetry.queryErrors({}))[0]!.frames[0]!.file, '/app/src/cart.ts');
    await assert.rejects(pullSource('cloudwatch://app-logs?endpoint=http://127.0.0.1:1&range=1h', store), (e: Error) => e instanceof SourceError && /cloudwatch:\/\/app-logs: unreachable/.test(e.message));
  } finally {
    process.env = env;
    await store.close();
    srv.close();
  }
});
