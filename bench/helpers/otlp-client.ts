/**
 * The ingest bench's load: a separate process (as exporters and Collectors are) posting pre-encoded OTLP
 * requests over 8 keep-alive connections. argv: url kind(traces|logs) json(0|1) requests. Prints elapsed ms.
 */
import { Pool } from 'undici';
import { encode } from './otlp-payloads.js';

const [url, kind, json, n] = process.argv.slice(2) as [string, 'traces' | 'logs', string, string];
const isJson = json === '1';
const payloads = Array.from({ length: 20 }, (_, b) => encode(kind, isJson, b));
const requests = Number(n);
const pool = new Pool(url, { connections: 8, pipelining: 1 });
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const r = await pool.request({ path: `/v1/${kind}`, method: 'POST', body: payloads[i % payloads.length], headers: { 'content-type': isJson ? 'application/json' : 'application/x-protobuf' } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}`);
    }
  }),
);
process.stdout.write(String(performance.now() - t0));
await pool.close();
