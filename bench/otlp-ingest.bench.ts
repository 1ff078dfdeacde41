/**
 * OTLP ingest end to end: HTTP POST → decode → SQLite file DB (rollups included), protobuf and JSON, traces and
 * logs, from 8 concurrent connections of a client in its own process (as exporters are), so the receiver's
 * process is what is measured. Every request carries fresh random-prefixed ids and time moving forward
 * (helpers/otlp-payloads.ts: patcher). Next to it, in the same run, the decode-only rate of the same payload
 * (the ceiling the store must not fall far below), measured before and after the end-to-end run — the ratio
 * uses the higher of the two, so a slow moment of a shared machine cannot flatter it — and peak RSS of the
 * receiver's process (its writer thread included).
 *
 * "Decode only" is decoding the payload into the signal model (Span / LogRecord objects), as it was when the
 * target was set. Protobuf traces into SQLite no longer take that path: the receiver decodes them straight to
 * store rows (wire.ts: decodeTracesRows), which is cheaper still; that rate is printed too ("row decode only"),
 * with the end-to-end ratio to it, so neither reading hides the other.
 *
 * BENCH_SPANS sets the items sent per encoding (default 300,000); BENCH_ONLY picks labels (e.g.
 * `traces-protobuf`). With more than 2M items it is the memory run: retention 30 min, 1 s of telemetry time per
 * request (so retention prunes), RSS printed at every million spans.
 *   BENCH_SPANS=10000000 BENCH_ONLY=traces-protobuf npm run bench -- otlp-ingest
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeLogsWire, decodeTracesRows, decodeTracesWire } from '../src/signals/otlp/wire.js';
import { decodeLogs, decodeTraces } from '../src/signals/otlp/decode.js';
import { encode, PER_REQ } from './helpers/otlp-payloads.js';
import { openStore } from '../src/store/open.js';
import { startReceiver } from '../src/signals/otlp/server.js';

const N = Number(process.env.BENCH_SPANS ?? 300_000);
const ONLY = process.env.BENCH_ONLY?.split(',');
const LONG = N > 2_000_000;
const CLIENT = fileURLToPath(new URL('./helpers/otlp-client.ts', import.meta.url));

/** The exporters run in their own process: the receiver's process is what is measured. */
function runClient(url: string, kind: string, json: boolean, requests: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CLIENT, url, kind, json ? '1' : '0', String(requests), LONG ? '1000' : '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`client exited ${code}`))));
  });
}

/**
 * CPU time per thread of this process (Linux /proc; ms), so a run on a shared machine still shows what the
 * receiver and writer threads cost per item — wall-clock rates there mostly measure the neighbours.
 */
function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
      // utime + stime, in clock ticks (USER_HZ = 100 on Linux).
      out.set(Number(t), (Number(parts[11]) + Number(parts[12])) * 10);
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return out;
}

let decodeCpuUs = 0;
function decodeOnly(kind: 'traces' | 'logs', json: boolean, payloads: Buffer[]): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let decoded = 0;
  for (let i = 0; decoded < Math.min(N, 200_000); i++) {
    const buf = payloads[i % payloads.length]!;
    // The receiver's own decode path: protobuf straight off the wire, JSON through JSON.parse + decode.ts.
    const r = json ? (kind === 'traces' ? decodeTraces : decodeLogs)(JSON.parse(buf.toString('utf8')) as Record<string, unknown>) : kind === 'traces' ? decodeTracesWire(buf) : decodeLogsWire(buf);
    decoded += r.batch.spans.length + r.batch.logs.length;
  }
  const c = process.cpuUsage(c0);
  decodeCpuUs = (c.user + c.system) / decoded;
  return decoded / ((performance.now() - t0) / 1000);
}

/** The receiver's own path for protobuf traces into SQLite: rows, not objects. [rate, CPU µs per span] */
function rowDecodeOnly(payloads: Buffer[]): [number, number] {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let decoded = 0;
  for (let i = 0; decoded < Math.min(N, 200_000); i++) decoded += decodeTracesRows(payloads[i % payloads.length]!).count;
  const c = process.cpuUsage(c0);
  return [decoded / ((performance.now() - t0) / 1000), (c.user + c.system) / decoded];
}

let peakRss = 0;
let rssAt: number[] = [];
let counted: () => number = () => 0;
const sampler = setInterval(() => {
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  const m = Math.floor(counted() / 1e6);
  if (LONG && m > rssAt.length) rssAt.push(Math.round(rss / 1e6));
}, 100);
const results: Record<string, number> = {};
for (const kind of ['traces', 'logs'] as const) {
  for (const json of [false, true]) {
    const label = `${kind}-${json ? 'json' : 'protobuf'}`;
    if (ONLY && !ONLY.includes(label)) continue;
    const payloads = Array.from({ length: 20 }, (_, b) => encode(kind, json, b));
    const decodeBefore = decodeOnly(kind, json, payloads);
    const rowsBefore = kind === 'traces' && !json ? rowDecodeOnly(payloads) : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'tswarm-otlp-bench-'));
    const store = await openStore(join(dir, 'memory.db'), { retentionUs: LONG ? 30 * 60e6 : undefined });
    const rx = await startReceiver({ port: 0, store, bodyLimitBytes: 64 << 20 });
    counted = () => rx.counters.spans + rx.counters.logs;
    rssAt = [];
    const requests = Math.ceil(N / PER_REQ);
    // One empty ingest first, so the writer thread exists before the CPU snapshot.
    await store.telemetry.ingest({ spans: [], logs: [], metrics: [], errors: [] });
    const cpu0 = threadCpuMs();
    const ms = await runClient(rx.url, kind, json, requests);
    const cpu1 = threadCpuMs();
    const e2eRate = (requests * PER_REQ) / (ms / 1000);
    const stored = kind === 'traces' ? (await store.telemetry.stats()).reduce((a, s) => a + s.spans, 0) : (await store.telemetry.stats()).reduce((a, s) => a + s.logs, 0);
    await rx.close();
    await store.close();
    const dbMb = Math.round((statSync(join(dir, 'memory.db')).size + (statSync(join(dir, 'memory.db-wal'), { throwIfNoEntry: false })?.size ?? 0)) / 1e6);
    rmSync(dir, { recursive: true, force: true });
    const decodeCpuBefore = decodeCpuUs;
    const decodeAfter = decodeOnly(kind, json, payloads);
    const rowsAfter = rowsBefore && rowDecodeOnly(payloads);
    const decodeRate = Math.max(decodeBefore, decodeAfter);
    const decodeCpu = Math.min(decodeCpuBefore, decodeCpuUs);
    // µs of CPU per item: this (receiver) thread, the busiest other thread (the SQLite writer), all the rest
    // (V8's GC and compiler helpers, libuv).
    const deltas = [...cpu1].map(([t, v]) => [t, v - (cpu0.get(t) ?? 0)] as const);
    const per = (ms: number): number => +((ms * 1000) / (requests * PER_REQ)).toFixed(2);
    const mainCpu = per(deltas.find(([t]) => t === process.pid)?.[1] ?? 0);
    const others = deltas.filter(([t]) => t !== process.pid).sort((a, b) => b[1] - a[1]);
    const writerCpu = per(others[0]?.[1] ?? 0);
    const restCpu = per(others.slice(1).reduce((a, [, v]) => a + v, 0));
    results[`${label}_perSec`] = Math.round(e2eRate);
    results[`${label}_decodeOnlyPerSec`] = Math.round(decodeRate);
    results[`${label}_ratio`] = +(e2eRate / decodeRate).toFixed(3);
    console.log(`${label}: ${Math.round(e2eRate).toLocaleString()} ${kind === 'traces' ? 'spans' : 'records'}/s end to end into SQLite; decode only ${Math.round(decodeRate).toLocaleString()}/s (before ${Math.round(decodeBefore).toLocaleString()}, after ${Math.round(decodeAfter).toLocaleString()}; ratio ${(e2eRate / decodeRate).toFixed(2)}); ${stored.toLocaleString()} stored at the end, DB ${dbMb} MB`);
    if (rowsBefore && rowsAfter) {
      const rate = Math.max(rowsBefore[0], rowsAfter[0]);
      const cpu = Math.min(rowsBefore[1], rowsAfter[1]);
      Object.assign(results, { [`${label}_rowDecodeOnlyPerSec`]: Math.round(rate), [`${label}_ratioToRowDecode`]: +(e2eRate / rate).toFixed(3), [`${label}_cpuUsRowDecodeOnly`]: +cpu.toFixed(2) });
      console.log(`${label}: row decode only (the receiver's own path for protobuf traces) ${Math.round(rate).toLocaleString()}/s, ${cpu.toFixed(2)} µs CPU per span; end to end ÷ row decode only ${(e2eRate / rate).toFixed(2)}`);
    }
    if (mainCpu > 0) {
      Object.assign(results, { [`${label}_cpuUsReceiver`]: mainCpu, [`${label}_cpuUsWriter`]: writerCpu, [`${label}_cpuUsOther`]: restCpu, [`${label}_cpuUsDecodeOnly`]: +decodeCpu.toFixed(2) });
      console.log(`${label}: CPU µs per item: receiver thread ${mainCpu}, writer thread ${writerCpu}, other threads ${restCpu}; decode only ${decodeCpu.toFixed(2)} (receiver thread ÷ decode only ${(decodeCpu / mainCpu).toFixed(2)})`);
    }
    if (LONG) {
      results[`${label}_storedAtEnd`] = stored;
      console.log(`${label}: RSS (MB) at each million items: ${rssAt.join(' ')}`);
    }
  }
}
clearInterval(sampler);
console.log(`peak RSS ${(peakRss / 1e6).toFixed(0)} MB over ${N.toLocaleString()} items per encoding`);
console.log(JSON.stringify({ bench: 'otlp-ingest', items: N, ...results, peakRssMb: Math.round(peakRss / 1e6) }));
