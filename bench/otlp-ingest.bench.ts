/**
 * OTLP ingest end to end: HTTP POST → decode → SQLite file DB (rollups included), protobuf and JSON, traces and
 * logs, from 8 concurrent clients so the server is what is measured. Next to it, in the same run, the
 * decode-only rate of the same payload (the ceiling the store must not fall far below), and peak RSS.
 * BENCH_SPANS sets the spans sent per encoding (default 300,000); with BENCH_SPANS=10000000 it shows memory
 * staying bounded under retention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { OTLP } from '../src/signals/otlp/proto.js';
import { decodeLogs, decodeTraces } from '../src/signals/otlp/decode.js';
import { openStore } from '../src/store/open.js';
import { startReceiver } from '../src/signals/otlp/server.js';

const N = Number(process.env.BENCH_SPANS ?? 300_000);
const PER_REQ = 1000;
const services = ['frontend', 'checkout', 'cart', 'payment', 'shipping'];
const kv = (key: string, v: string | number): object => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } });
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

function traceRequest(batch: number, json: boolean): object {
  const base = BigInt(1_700_000_000_000_000_000n) + BigInt(batch) * 1_000_000_000n;
  const id = (n: number, w: number): string | Buffer => (json ? hex(n, w) : Buffer.from(hex(n, w), 'hex'));
  const t = (x: bigint): string | { low: number; high: number } => (json ? x.toString() : { low: Number(x & 0xffffffffn) | 0, high: Number(x >> 32n) | 0 });
  return {
    resourceSpans: services.map((svc, si) => ({
      resource: { attributes: [kv('service.name', svc), kv('service.version', '1.4.2'), kv('host.name', `h-${svc}`), kv('telemetry.sdk.language', 'nodejs')] },
      scopeSpans: [
        {
          scope: { name: '@opentelemetry/instrumentation-http', version: '0.223.0' },
          spans: Array.from({ length: PER_REQ / services.length }, (_, i) => {
            const k = batch * PER_REQ + si * 1000 + i;
            const start = base + BigInt(i) * 100_000n;
            return {
              traceId: id(k + 1, 32),
              spanId: id(k + 1, 16),
              ...(i % 3 ? { parentSpanId: id(k, 16) } : {}),
              name: i % 2 ? 'GET /api/products/{id}' : 'POST /api/checkout',
              kind: i % 3 ? 3 : 2,
              startTimeUnixNano: t(start),
              endTimeUnixNano: t(start + BigInt(1_000_000 + (i % 500) * 37_000)),
              attributes: [kv('http.request.method', 'GET'), kv('http.route', '/api/products/{id}'), kv('http.response.status_code', 200), kv('url.path', `/api/products/${i}`), kv('server.address', 'catalog'), kv('server.port', 8080), kv('app.request_id', `r-${k}`)],
              status: { code: i % 50 === 0 ? 2 : 0 },
            };
          }),
        },
      ],
    })),
  };
}

function logRequest(batch: number, json: boolean): object {
  const base = BigInt(1_700_000_000_000_000_000n) + BigInt(batch) * 1_000_000_000n;
  return {
    resourceLogs: services.map((svc) => ({
      resource: { attributes: [kv('service.name', svc)] },
      scopeLogs: [
        {
          logRecords: Array.from({ length: PER_REQ / services.length }, (_, i) => ({
            timeUnixNano: json ? (base + BigInt(i) * 1000n).toString() : { low: Number((base + BigInt(i) * 1000n) & 0xffffffffn) | 0, high: Number((base + BigInt(i) * 1000n) >> 32n) | 0 },
            severityNumber: i % 20 ? 9 : 17,
            severityText: i % 20 ? 'INFO' : 'ERROR',
            body: { stringValue: `order ${batch}-${i} charged ${i % 100}.99 USD in ${i % 300} ms` },
            attributes: [kv('app.request_id', `r-${batch}-${i}`)],
          })),
        },
      ],
    })),
  };
}

function encode(kind: 'traces' | 'logs', json: boolean, batch: number): Buffer {
  const obj = kind === 'traces' ? traceRequest(batch, json) : logRequest(batch, json);
  if (json) return Buffer.from(JSON.stringify(obj));
  const type = kind === 'traces' ? OTLP.traceRequest : OTLP.logsRequest;
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
const results: Record<string, number> = {};
for (const kind of ['traces', 'logs'] as const) {
  for (const json of [false, true]) {
    const label = `${kind}-${json ? 'json' : 'protobuf'}`;
    const payloads = Array.from({ length: 20 }, (_, b) => encode(kind, json, b));
    // Decode only: the same payloads through the same decoder, no store.
    let t0 = performance.now();
    let decoded = 0;
    for (let i = 0; decoded < Math.min(N, 200_000); i++) {
      const buf = payloads[i % payloads.length]!;
      const obj = json ? (JSON.parse(buf.toString('utf8')) as Record<string, unknown>) : (( kind === 'traces' ? OTLP.traceRequest : OTLP.logsRequest).decode(buf) as unknown as Record<string, unknown>);
      const r = kind === 'traces' ? decodeTraces(obj) : decodeLogs(obj);
      decoded += r.batch.spans.length + r.batch.logs.length;
    }
    const decodeRate = decoded / ((performance.now() - t0) / 1000);
    const dir = mkdtempSync(join(tmpdir(), 'tswarm-otlp-bench-'));
    const store = await openStore(join(dir, 'memory.db'), { retentionUs: N > 2_000_000 ? 30 * 60e6 : undefined });
    const rx = await startReceiver({ port: 0, store, bodyLimitBytes: 64 << 20 });
    const pool = new Pool(rx.url, { connections: 8, pipelining: 1 });
    const requests = Math.ceil(N / PER_REQ);
    let next = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= requests) return;
          // Distinct ids per request: replay the payloads but the store must take them all.
          const r = await pool.request({ path: `/v1/${kind}`, method: 'POST', body: payloads[i % payloads.length], headers: { 'content-type': json ? 'application/json' : 'application/x-protobuf' } });
          await r.body.dump();
          if (r.statusCode !== 200) throw new Error(`${label}: HTTP ${r.statusCode}`);
        }
      }),
    );
    const e2eRate = (requests * PER_REQ) / ((performance.now() - t0) / 1000);
    await pool.close();
    await rx.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    results[`${label}_perSec`] = Math.round(e2eRate);
    results[`${label}_decodeOnlyPerSec`] = Math.round(decodeRate);
    results[`${label}_ratio`] = +(e2eRate / decodeRate).toFixed(3);
    console.log(`${label}: ${Math.round(e2eRate).toLocaleString()} ${kind === 'traces' ? 'spans' : 'records'}/s end to end into SQLite; decode only ${Math.round(decodeRate).toLocaleString()}/s (ratio ${(e2eRate / decodeRate).toFixed(2)})`);
  }
}
clearInterval(sampler);
console.log(`peak RSS ${(peakRss / 1e6).toFixed(0)} MB over ${N.toLocaleString()} items per encoding`);
console.log(JSON.stringify({ bench: 'otlp-ingest', items: N, ...results, peakRssMb: Math.round(peakRss / 1e6) }));
