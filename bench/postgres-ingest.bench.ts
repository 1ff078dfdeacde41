/**
 * Ingest into the PostgreSQL backend (a real server started for the bench): spans/s in batches of 1,000 with
 * rollups, next to the SQLite backend on the same batches in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Span } from '../src/signals/model.js';
import { openStore } from '../src/store/open.js';
import { postgresBin, startPostgres } from '../test/helpers/postgres.js';

if (!postgresBin()) {
  console.log('postgres-ingest: skipped (apt-get install postgresql)');
  console.log(JSON.stringify({ bench: 'postgres-ingest', skipped: 'postgresql not installed' }));
  process.exit(0);
}
const N = Number(process.env.BENCH_SPANS ?? 100_000);
const res = ['a', 'b', 'c', 'd'].map((s) => ({ attributes: { 'service.name': s, 'service.version': '1' } }));
const batch = (b: number): Span[] =>
  Array.from({ length: 1000 }, (_, i) => {
    const start = 1_700_000_000_000_000 + b * 100_000 + i * 100;
    return { traceId: (b * 1000 + i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /x', kind: (i % 3 ? 3 : 2) as Span['kind'], startUs: start, endUs: start + 1000 + i, service: res[i % 4]!.attributes['service.name'], attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': `/x/${i}` }, events: [], links: [], status: { code: 0 }, resource: res[i % 4]! };
  });
const batches = Array.from({ length: 20 }, (_, b) => batch(b));
const pg = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'tswarm-pgb-'));
try {
  const rate = async (loc: string): Promise<number> => {
    const store = await openStore(loc);
    const t0 = performance.now();
    for (let b = 0; b < N / 1000; b++) await store.telemetry.ingest({ spans: batches[b % 20]!, logs: [], metrics: [], errors: [] });
    const r = N / ((performance.now() - t0) / 1000);
    await store.close();
    return r;
  };
  const pgRate = await rate(pg.url);
  const sqliteRate = await rate(join(dir, 'm.db'));
  console.log(`postgres ingest: ${Math.round(pgRate).toLocaleString()} spans/s (sqlite ${Math.round(sqliteRate).toLocaleString()} spans/s, ratio ${(pgRate / sqliteRate).toFixed(2)})`);
  console.log(JSON.stringify({ bench: 'postgres-ingest', spans: N, postgresSpansPerSec: Math.round(pgRate), sqliteSpansPerSec: Math.round(sqliteRate), ratio: +(pgRate / sqliteRate).toFixed(3) }));
} finally {
  pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
