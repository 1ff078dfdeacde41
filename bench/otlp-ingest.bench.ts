/**
 * OTLP ingest end to end: HTTP POST → decode → SQLite file DB (rollups included), protobuf and JSON, traces and
 * logs, from 8 concurrent connections of a client in its own process (as exporters are), so the receiver is what is measured. Next to it, in the same run, the
 * decode-only rate of the same payload (the ceiling the store must not fall far below), and peak RSS.
 * BENCH_SPANS sets the spans sent per encoding (default 300,000); with BENCH_SPANS=10000000 it shows memory
 * staying bounded under retention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeLogsWire, decodeTracesWire } from '../src/signals/otlp/wire.js';
import { decodeLogs, decodeTraces } from '../src/signals/otlp/decode.js';
import { encode, PER_REQ } from './helpers/otlp-payloads.js';
import { openStore } from '../src/store/open.js';
import { startReceiver } from '../src/signals/otlp/server.js';

const N = Number(process.env.BENCH_SPANS ?? 300_000);
const CLIENT = fileURLToPath(new URL('./helpers/otlp-client.ts', import.meta.url));

/** The exporters run in their own process: the receiver's process is what is measured. */
function runClient(url: string, kind: string, json: boolean, requests: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CLIENT, url, kind, json ? '1' : '0', String(requests)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`client exited ${code}`))));
  });
}
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
const results: Record<string, number> = {};
for (const kind of ['traces', 'logs'] as const) {
  for (const json of [false, true]) {
    const label = `${kind}-${json ? 'json' : 'protobuf'}`;
    const payloads = Array.from({ length: 20 }, (_, b) => encode(kind, json, b));
    // Decode only: the same payloads through the same decoder, no store.
    const t0 = performance.now();
    let decoded = 0;
    for (let i = 0; decoded < Math.min(N, 200_000); i++) {
      const buf = payloads[i % payloads.length]!;
      // The receiver's own decode path: protobuf straight off the wire, JSON through JSON.parse + decode.ts.
      const r = json ? (kind === 'traces' ? decodeTraces : decodeLogs)(JSON.parse(buf.toString('utf8')) as Record<string, unknown>) : kind === 'traces' ? decodeTracesWire(buf) : decodeLogsWire(buf);
      decoded += r.batch.spans.length + r.batch.logs.length;
    }
    const decodeRate = decoded / ((performance.now() - t0) / 1000);
    const dir = mkdtempSync(join(tmpdir(), 'tswarm-otlp-bench-'));
    const store = await openStore(join(dir, 'memory.db'), { retentionUs: N > 2_000_000 ? 30 * 60e6 : undefined });
    const rx = await startReceiver({ port: 0, store, bodyLimitBytes: 64 << 20 });
    const requests = Math.ceil(N / PER_REQ);
    // Distinct batches are replayed; the store takes them all (no de-duplication on ingest).
    const ms = await runClient(rx.url, kind, json, requests);
    const e2eRate = (requests * PER_REQ) / (ms / 1000);
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
