/**
 * Root-cause analysis at scale: a 1-hour window holding 1,000,000 spans, 100,000 log lines and 1,000 metric
 * series (BENCH_SPANS to change). Target ≤ 5 s. Two figures:
 *  - in memory: `runRca` on the arrays, the analysis alone (the figure this bench always printed);
 *  - end to end (the acceptance one): the same spans sent as protobuf OTLP requests through the receiver's row path
 *    (decodeTracesRows + ingestTraceRows, rest column as protobuf bytes, six attributes per span as the HTTP
 *    instrumentation sets), logs and metrics ingested, into a SQLite file; then the agent itself
 *    (`RootCauseAnalyzer.run`) on a freshly opened store: its queries, then the analysis, timed apart through the
 *    agent's progress reports, wall and CPU time (process.cpuUsage, which a loaded machine distorts far less).
 * BENCH_RCA=memory|store|both|pg (default both; pg: the agent over the PostgreSQL backend, a real server started for
 * the run, spans ingested through the store's batch API — PostgreSQL is the memory several swarm processes share). BENCH_DB=<file> keeps the built store and reuses it on the next run
 * (a store built before migration 5 has no rca_hint on its rows: it is read the slower way older stores are).
 * BENCH_PEER=1 adds server.address/server.port to every span (as HTTP server spans of the stable semantic
 * conventions carry): the read before the column one handed every such span's rest over, its worst case.
 * BENCH_OUTAGE=1: every hop is a client span (with its peer) and the callee's server span, and svc-7 stops
 * answering at the onset (its callers' calls fail, reaching nothing): the case where the analysis does read peers
 * (of the failed calls, and of the calls of the same operations that got through). BENCH_CHECK=1 also compares
 * the RCA answer over the column read with the one over the object read (querySpans 'rca'), untimed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorEvent, LogRecord, MetricPoint, Span } from '../src/signals/model.js';
import { runRca } from '../src/agents/detection/rca-run.js';
import { RootCauseAnalyzer } from '../src/agents/detection/root-cause-analyzer.js';
import { peerNeeded } from '../src/algorithms/rca/traces.js';
import { OTLP } from '../src/signals/otlp/proto.js';
import { decodeTracesRows } from '../src/signals/otlp/wire.js';
import { openSqlite } from '../src/store/sqlite/index.js';
import { openStore } from '../src/store/open.js';
import type { MemoryStore } from '../src/store/store.js';
import { postgresBin, startPostgres } from '../test/helpers/postgres.js';
import { silentLogger } from '../src/fleet/logger.js';

const N = Number(process.env.BENCH_SPANS ?? 1_000_000);
const MODE = process.env.BENCH_RCA ?? 'both';
const PEER = process.env.BENCH_PEER === '1';
const OUTAGE = process.env.BENCH_OUTAGE === '1';
const CHECK = process.env.BENCH_CHECK === '1';
const VARIANT = `${PEER ? ', peer attributes on every span' : ''}${OUTAGE ? ', svc-7 unreachable: failed client calls' : ''}`;
const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
const t0Us = 1_700_000_000_000_000;
const hourUs = 3600e6;
const onsetUs = t0Us + 0.7 * hourUs;
let spans: Span[] = [];
const res = services.map((s) => ({ attributes: { 'service.name': s, 'service.version': '1.0.0' } }));
let id = 1;
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
for (let t = 0; spans.length < N; t++) {
  // Traces spread over the hour: 4 spans each (7 with the client spans of BENCH_OUTAGE).
  const start = t0Us + Math.floor((t * hourUs) / (N / (OUTAGE ? 7 : 4)));
  const traceId = hex(t + 1, 32);
  // a chain of 4 services per trace; svc-7 goes slow after the onset
  let parent: string | undefined;
  for (let k = 0; k < 4; k++) {
    const si = (t + k * 5) % services.length;
    const slow = si === 7 && start > onsetUs && !OUTAGE ? 200_000 : 0;
    if (OUTAGE && k > 0) {
      // The caller's client span; after the onset a call to svc-7 fails without reaching it (connection refused).
      const down = si === 7 && start > onsetUs;
      const caller = services[(t + (k - 1) * 5) % services.length]!;
      const clientId = hex(id++, 16);
      spans.push({ traceId, spanId: clientId, parentSpanId: parent!, name: 'GET', kind: 3, startUs: start + k * 100 - 50, endUs: start + k * 100 + (down ? 1000 : 5200 + ((t * 7) % 3000)), service: caller, attributes: { 'server.address': services[si]!, 'server.port': 8080 }, events: [], links: [], status: { code: down ? 2 : 0 }, resource: res[services.indexOf(caller)]! });
      if (down) break;
      parent = clientId;
    }
    const spanId = hex(id++, 16);
    spans.push({ traceId, spanId, ...(parent ? { parentSpanId: parent } : {}), name: `op-${si}`, kind: 2, startUs: start + k * 100, endUs: start + k * 100 + 5000 + ((t * 7) % 3000) + slow, service: services[si]!, attributes: {}, events: [], links: [], status: { code: 0 }, resource: res[si]! });
    parent = spanId;
  }
}
let logs: LogRecord[] = Array.from({ length: 100_000 }, (_, i) => ({ timeUs: t0Us + Math.floor((i * hourUs) / 100_000), service: services[i % 20]!, severityNumber: i % 50 ? 9 : 17, body: `line ${i}`, attributes: {}, resource: res[i % 20]! }));
let metricPoints: MetricPoint[] = [];
for (let s = 0; s < 1000; s++) for (let k = 0; k < 60; k++) metricPoints.push({ type: 'gauge', name: `m${s % 50}`, service: services[s % 20]!, value: 1 + (k % 7) + (s % 20 === 7 && k > 42 ? 50 : 0), attributes: { series: s }, timeUs: t0Us + k * 60e6, resource: res[s % 20]! });
const errors: ErrorEvent[] = [];
spans.length = Math.min(spans.length, N);
console.error(`generated ${spans.length.toLocaleString()} spans, ${logs.length.toLocaleString()} logs, ${metricPoints.length.toLocaleString()} metric points`);

const cpuS = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
const out: Record<string, unknown> = { bench: 'rca', spans: N };

if (MODE !== 'store' && MODE !== 'pg') {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = runRca({ metrics: new Map(), edges: [], resolutionS: 30, spans, logs, errors, metricPoints });
  const ms = performance.now() - t0;
  const cpu = cpuS(process.cpuUsage(c0));
  console.log(`rca in memory: ${spans.length.toLocaleString()} spans + 100,000 logs + 1,000 series in ${(ms / 1000).toFixed(2)} s (CPU ${cpu.toFixed(2)} s); top candidate ${r.candidates[0]?.service} (injected svc-7)`);
  Object.assign(out, { seconds: +(ms / 1000).toFixed(2), cpuSeconds: +cpu.toFixed(2), top: r.candidates[0]?.service, correct: r.candidates[0]?.service === 'svc-7' });
}

/** The attributes a span is sent with: six as the HTTP instrumentation sets them (peers with BENCH_PEER), then its own. */
function sentAttributes(s: Span): Record<string, string | number> {
  return {
    'http.request.method': 'GET',
    'http.route': `/api/${s.name}/{id}`,
    ...(s.status.code === 2 ? {} : { 'http.response.status_code': 200 }),
    'url.path': `/api/${s.name}/${id % 977}`,
    'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
    'app.request_id': `r-${s.spanId}`,
    ...(PEER && s.kind !== 3 ? { 'server.address': s.service, 'server.port': 8080 } : {}),
    ...(s.attributes as Record<string, string | number>),
  };
}

/** OTLP protobuf export requests of 1,000 spans each, one resource per service, as an SDK batches them. */
function* requests(): Generator<Buffer> {
  const u64 = (us: number): { low: number; high: number } => {
    const ns = BigInt(us) * 1000n;
    return { low: Number(ns & 0xffffffffn) | 0, high: Number(ns >> 32n) | 0 };
  };
  const kv = (key: string, v: string | number): object => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } });
  for (let from = 0; from < spans.length; from += 1000) {
    const bySvc = new Map<string, object[]>();
    for (const s of spans.slice(from, from + 1000)) {
      const l = bySvc.get(s.service) ?? [];
      l.push({
        traceId: Buffer.from(s.traceId, 'hex'),
        spanId: Buffer.from(s.spanId, 'hex'),
        ...(s.parentSpanId ? { parentSpanId: Buffer.from(s.parentSpanId, 'hex') } : {}),
        name: s.name,
        kind: s.kind,
        startTimeUnixNano: u64(s.startUs),
        endTimeUnixNano: u64(s.endUs),
        attributes: Object.entries(sentAttributes(s)).map(([k, v]) => kv(k, v)),
        status: { code: s.status.code },
      });
      bySvc.set(s.service, l);
    }
    const obj = { resourceSpans: [...bySvc].map(([svc, l]) => ({ resource: { attributes: [kv('service.name', svc), kv('service.version', '1.0.0')] }, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.200.0' }, spans: l }] })) };
    yield Buffer.from(OTLP.traceRequest.encode(OTLP.traceRequest.fromObject(obj)).finish());
  }
}

/** The agent's run over a store, timed through its progress reports: start, queries done, analysis done, end. */
async function timedAgentRun(store: MemoryStore): Promise<{ marks: { at: number; cpu: NodeJS.CpuUsage }[]; top: string | undefined }> {
  const marks: { at: number; cpu: NodeJS.CpuUsage }[] = [];
  const mark = (): void => void marks.push({ at: performance.now(), cpu: process.cpuUsage() });
  mark();
  const [f] = await new RootCauseAnalyzer().run(
    { id: 'rca-bench', kind: 'rca', params: { symptoms: ['latency increase'] }, window: { fromUs: t0Us, toUs: t0Us + hourUs } },
    { store, log: silentLogger, clock: { nowUs: () => t0Us + hourUs }, signal: new AbortController().signal, upstream: [], progress: (p) => (p.done === 2 || p.done === 3 ? mark() : undefined) },
  );
  mark();
  return { marks, top: f?.subject.service };
}

/** "1.23 s wall, CPU 1.10 s — queries …, analysis …" from the four marks of timedAgentRun. */
function phases(marks: { at: number; cpu: NodeJS.CpuUsage }[]): { text: string; fields: Record<string, number> } {
  const [a, q, r, e] = marks as [(typeof marks)[0], (typeof marks)[0], (typeof marks)[0], (typeof marks)[0]];
  const wall = (x: (typeof marks)[0], y: (typeof marks)[0]): number => (y.at - x.at) / 1000;
  const cpu = (x: (typeof marks)[0], y: (typeof marks)[0]): number => cpuS({ user: y.cpu.user - x.cpu.user, system: y.cpu.system - x.cpu.system });
  return {
    text: `${wall(a, e).toFixed(2)} s wall, CPU ${cpu(a, e).toFixed(2)} s — queries ${wall(a, q).toFixed(2)} s (CPU ${cpu(a, q).toFixed(2)}), analysis ${wall(q, r).toFixed(2)} s (CPU ${cpu(q, r).toFixed(2)})`,
    fields: { e2eSeconds: +wall(a, e).toFixed(2), e2eCpuSeconds: +cpu(a, e).toFixed(2), querySeconds: +wall(a, q).toFixed(2), queryCpuSeconds: +cpu(a, q).toFixed(2), analysisSeconds: +wall(q, r).toFixed(2), analysisCpuSeconds: +cpu(q, r).toFixed(2) },
  };
}

if (MODE === 'pg') {
  if (!postgresBin()) {
    console.log(JSON.stringify({ bench: 'rca', mode: 'pg', skipped: 'postgresql not installed (apt-get install postgresql)' }));
    process.exit(0);
  }
  const pg = await startPostgres();
  try {
    const w = await openStore(pg.url);
    const b0 = performance.now();
    for (let from = 0; from < spans.length; from += 1000) await w.telemetry.ingest({ spans: spans.slice(from, from + 1000).map((s) => ({ ...s, attributes: sentAttributes(s) })), logs: [], metrics: [], errors: [] });
    await w.telemetry.ingest({ spans: [], logs, metrics: metricPoints, errors });
    await w.close();
    console.error(`PostgreSQL store built in ${((performance.now() - b0) / 1000).toFixed(1)} s`);
    spans = [];
    logs = [];
    metricPoints = [];
    const store = await openStore(pg.url);
    const { marks, top } = await timedAgentRun(store);
    // The peer in the same run: the agent over the object read (querySpans) it falls back to without the column read.
    const objectRead = Object.create(store.telemetry, { querySpanTable: { value: undefined } }) as typeof store.telemetry;
    const before = await timedAgentRun({ ...store, telemetry: objectRead });
    await store.close();
    const p = phases(marks);
    const b = phases(before.marks);
    console.log(`rca end to end (agent on PostgreSQL${VARIANT}): ${p.text}; top candidate ${top ?? 'none reported'} (injected svc-7)`);
    console.log(`  the same agent over the object read (querySpans): ${b.text}; ratio ${(p.fields.e2eSeconds! / b.fields.e2eSeconds!).toFixed(2)} (top ${before.top ?? 'none'})`);
    Object.assign(out, { mode: 'pg', ...p.fields, e2eTop: top, e2eCorrect: top === 'svc-7' && before.top === 'svc-7', objectReadSeconds: b.fields.e2eSeconds, peer: PEER, outage: OUTAGE });
  } finally {
    pg.stop();
  }
}

if (MODE !== 'memory' && MODE !== 'pg') {
  const keep = process.env.BENCH_DB;
  const dir = keep ? undefined : mkdtempSync(join(tmpdir(), 'tswarm-rca-bench-'));
  const file = keep ?? join(dir!, 'telemetry.db');
  try {
    if (!keep || !existsSync(file)) {
      const w = openSqlite(file);
      const b0 = performance.now();
      for (const buf of requests()) await w.telemetry.ingestTraceRows(decodeTracesRows(buf));
      await w.telemetry.ingest({ spans: [], logs, metrics: metricPoints, errors });
      await w.close();
      console.error(`store built in ${((performance.now() - b0) / 1000).toFixed(1)} s: ${file}`);
    }
    // The generated arrays go before the timed run: the agent's process holds no second copy of the telemetry, and
    // a heap twice the size makes every collection during the queries slower.
    spans = [];
    logs = [];
    metricPoints = [];
    const store = openSqlite(file, { writerThread: false });
    const { marks, top } = await timedAgentRun(store);
    if (CHECK) {
      // The column read against the object read it replaced, on this very store: the same RCA answer to the last field.
      const window = { fromUs: t0Us, toUs: t0Us + hourUs };
      const base = { metrics: new Map(), edges: [], resolutionS: 30 };
      const byObjects = runRca({ ...base, spans: await store.telemetry.querySpans({ window, limit: 1_000_000, fields: 'rca' }) });
      const byTable = runRca({ ...base, spanTable: await store.telemetry.querySpanTable({ window, limit: 1_000_000, fields: 'rca' }, peerNeeded) });
      assert.deepStrictEqual(byTable, byObjects);
      console.error(`check: the column read's RCA answer equals the object read's (top ${byObjects.candidates[0]?.service}, score ${byObjects.candidates[0]?.score.toFixed(3)})`);
    }
    await store.close();
    const p = phases(marks);
    console.log(`rca end to end (agent on a SQLite file, protobuf-row spans${VARIANT}): ${p.text}; top candidate ${top ?? 'none reported'} (injected svc-7)`);
    Object.assign(out, { ...p.fields, e2eTop: top, e2eCorrect: top === 'svc-7', peer: PEER, outage: OUTAGE });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(out));
