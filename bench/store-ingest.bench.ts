/**
 * Store ingest: realistic spans (10 attributes, a resource shared per export, an exception event on 2 %) and
 * logs into a SQLite file DB in batches of 1,000 (what one OTLP export carries), rollups included.
 * Peer in the same run: the raw better-sqlite3 insert of the same rows without our schema (indexes, rollups,
 * resources) — the ceiling this machine allows. BENCH_SPANS sets the span count (default 300,000).
 * Trace ids carry a per-batch pseudo-random prefix (real trace ids are random; sequential ones would flatter any
 * index on them), and up to 8 batches are in flight at once, as the receiver has with 8 exporter connections
 * (a file store writes from its writer thread, so callers overlap with the commit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../src/store/open.js';
import type { LogRecord, Resource, Span } from '../src/signals/model.js';

const N = Number(process.env.BENCH_SPANS ?? 300_000);
const BATCH = 1000;
const services = ['frontend', 'checkout', 'cart', 'payment', 'shipping', 'currency', 'catalog'];
const resources: Resource[] = services.map((s) => ({ attributes: { 'service.name': s, 'service.version': '1.4.2', 'host.name': `host-${s}`, 'telemetry.sdk.language': 'nodejs', 'process.pid': 1234 } }));

function spanBatch(b: number): Span[] {
  const out: Span[] = [];
  const base = 1_700_000_000_000_000 + b * 100_000;
  for (let i = 0; i < BATCH; i++) {
    const si = (b * BATCH + i) % services.length;
    const start = base + i * 100;
    out.push({
      traceId: (Math.imul(b + 1, 2654435761) >>> 0).toString(16).padStart(8, '0') + (b * BATCH + i).toString(16).padStart(24, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: i % 3 ? (i).toString(16).padStart(16, '0') : undefined,
      name: i % 2 ? 'GET /api/products/{id}' : 'POST /api/checkout',
      kind: (i % 3 ? 3 : 2) as Span['kind'],
      startUs: start,
      endUs: start + 1000 + (i % 500) * 37,
      service: services[si]!,
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/products/{id}', 'http.response.status_code': 200, 'url.path': `/api/products/${i}`, 'server.address': 'catalog', 'server.port': 8080, 'network.protocol.version': '1.1', 'user_agent.original': 'k6/0.50', 'app.request_id': `req-${b}-${i}`, 'app.cart_items': i % 7 },
      events: i % 50 === 0 ? [{ timeUs: start + 500, name: 'exception', attributes: { 'exception.type': 'TypeError', 'exception.message': 'x is undefined', 'exception.stacktrace': 'TypeError: x is undefined\n    at pay (/app/src/pay.ts:3:9)' } }] : [],
      links: [],
      status: { code: i % 50 === 0 ? 2 : 0 },
      resource: resources[si]!,
    });
  }
  return out;
}

function logBatch(b: number): LogRecord[] {
  const base = 1_700_000_000_000_000 + b * 100_000;
  return Array.from({ length: BATCH }, (_, i) => ({
    timeUs: base + i * 100,
    service: services[i % services.length]!,
    severityNumber: i % 20 ? 9 : 17,
    severityText: i % 20 ? 'INFO' : 'ERROR',
    body: `order ${b * BATCH + i} charged ${i % 100}.99 USD in ${i % 300} ms`,
    attributes: { 'app.request_id': `req-${b}-${i}`, 'code.function': 'charge' },
    traceId: (b * BATCH + i).toString(16).padStart(32, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    resource: resources[i % services.length]!,
  }));
}

const dir = mkdtempSync(join(tmpdir(), 'tswarm-bench-'));
let peakRss = 0;
const sample = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

// Peer: bare inserts of the same column values into an unindexed table, same pragmas, same batches.
const peerDb = new Database(join(dir, 'peer.db'));
peerDb.pragma('journal_mode = WAL');
peerDb.pragma('synchronous = NORMAL');
peerDb.exec('CREATE TABLE s (trace_id, span_id, parent, service, name, kind, start_us, end_us, status, rest)');
const pst = peerDb.prepare('INSERT INTO s VALUES (?,?,?,?,?,?,?,?,?,?)');
const ptx = peerDb.transaction((spans: Span[]) => {
  for (const s of spans) pst.run(s.traceId, s.spanId, s.parentSpanId ?? null, s.service, s.name, s.kind, s.startUs, s.endUs, s.status.code, JSON.stringify({ a: s.attributes, e: s.events }));
});
const batches = Array.from({ length: Math.min(50, Math.ceil(N / BATCH)) }, (_, b) => spanBatch(b));
let t0 = performance.now();
for (let b = 0; b < N / BATCH; b++) ptx(batches[b % batches.length]!);
const peerRate = N / ((performance.now() - t0) / 1000);
peerDb.close();

const store = await openStore(join(dir, 'memory.db'), { retentionUs: N > 2_000_000 ? 60_000_000_000 : undefined });
// CPU of the whole process (this thread, the writer thread, GC helpers): on a shared machine the wall-clock
// rates mostly measure the neighbours.
let cpu0 = process.cpuUsage();
t0 = performance.now();
const inFlight = new Set<Promise<unknown>>();
for (let b = 0; b < N / BATCH; b++) {
  const p = store.telemetry.ingest({ spans: b < batches.length ? batches[b]! : spanBatch(b), logs: [], metrics: [], errors: [] });
  inFlight.add(p);
  void p.then(() => inFlight.delete(p));
  if (inFlight.size >= 8) await Promise.race(inFlight);
  if (b % 20 === 0) sample();
}
await Promise.all(inFlight);
const spanRate = N / ((performance.now() - t0) / 1000);
let cpu = process.cpuUsage(cpu0);
const spanCpuUs = (cpu.user + cpu.system) / N;
const L = Math.min(N, 200_000);
cpu0 = process.cpuUsage();
t0 = performance.now();
for (let b = 0; b < L / BATCH; b++) {
  const p = store.telemetry.ingest({ spans: [], logs: logBatch(b), metrics: [], errors: [] });
  inFlight.add(p);
  void p.then(() => inFlight.delete(p));
  if (inFlight.size >= 8) await Promise.race(inFlight);
}
await Promise.all(inFlight);
const logRate = L / ((performance.now() - t0) / 1000);
cpu = process.cpuUsage(cpu0);
const logCpuUs = (cpu.user + cpu.system) / L;
sample();
t0 = performance.now();
const svc = await store.telemetry.querySpans({ services: ['checkout'], limit: 100_000 });
const queryMs = performance.now() - t0;
await store.close();
rmSync(dir, { recursive: true, force: true });

console.log(`store ingest: ${Math.round(spanRate).toLocaleString()} spans/s, ${Math.round(logRate).toLocaleString()} logs/s into SQLite (peer: bare inserts ${Math.round(peerRate).toLocaleString()} rows/s, ratio ${(spanRate / peerRate).toFixed(2)}); query ${svc.length.toLocaleString()} spans of one service in ${queryMs.toFixed(0)} ms; peak RSS ${(peakRss / 1e6).toFixed(0)} MB; CPU per item (all threads) ${spanCpuUs.toFixed(2)} µs per span, ${logCpuUs.toFixed(2)} µs per log`);
console.log(JSON.stringify({ bench: 'store-ingest', spans: N, spansPerSec: Math.round(spanRate), logsPerSec: Math.round(logRate), peerRowsPerSec: Math.round(peerRate), ratioToPeer: +(spanRate / peerRate).toFixed(3), queryOneServiceMs: Math.round(queryMs), cpuUsPerSpan: +spanCpuUs.toFixed(2), cpuUsPerLog: +logCpuUs.toFixed(2), peakRssMb: Math.round(peakRss / 1e6) }));
