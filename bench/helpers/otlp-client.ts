/**
 * The ingest bench's load: a separate process (as exporters and Collectors are) posting OTLP requests over 8
 * keep-alive connections. Each request is a pre-encoded template with fresh ids and advanced timestamps
 * (otlp-payloads.ts: patcher), so the store sees what production sends: ids never seen before, time moving on.
 * argv: url kind(traces|logs) json(0|1) requests [stepMs]. Prints elapsed ms.
 */
import { Pool } from 'undici';
import { patcher } from './otlp-payloads.js';

const [url, kind, json, n, step] = process.argv.slice(2) as [string, 'traces' | 'logs', string, string, string | undefined];
const isJson = json === '1';
// Default 10 ms of telemetry time per request: 1,000 spans per 10 ms is 100k spans/s of "real" time.
const stepNs = BigInt(Number(step ?? 10) * 1e6);
const templates = Array.from({ length: 20 }, (_, b) => patcher(kind, isJson, b, stepNs));
const requests = Number(n);
// BENCH_CONNECTIONS: how many exports are in flight at once (default 8).
const conns = Number(process.env.BENCH_CONNECTIONS ?? 8);
const pool = new Pool(url, { connections: conns, pipelining: 1 });
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: conns }, async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const r = await pool.request({ path: `/v1/${kind}`, method: 'POST', body: templates[i % templates.length]!(i), headers: { 'content-type': isJson ? 'application/json' : 'application/x-protobuf' } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}`);
    }
  }),
);
process.stdout.write(String(performance.now() - t0));
await pool.close();
