/**
 * PostgreSQL's column read of the RCA's spans (querySpanTable, span-table-read.ts) against its object read, on a
 * real server: on random stores — rows with and without the rca_hint column (written before it existed), ids of
 * the usual form and not, repeated ids, parents outside the window, HTTP statuses as numbers, strings and
 * fractions — the table, the peers the analysis asks for and the whole RCA answer equal those over querySpans.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Span } from '../../signals/model.js';
import { runRca } from '../../agents/detection/rca-run.js';
import { peerNeeded, traceIndicators } from '../../algorithms/rca/traces.js';
import { spanTableOf } from '../../algorithms/rca/span-table.js';
import { openStore } from '../open.js';
import type { MemoryStore } from '../store.js';
import { postgresBin, startPostgres } from '../../../test/helpers/postgres.js';
import { columns, objects, t0Us, traffic, view } from '../../../test/helpers/span-traffic.js';

const available = Boolean(postgresBin());
let server: { url: string; stop(): void } | undefined;
let db = 0;

/** A store on a fresh database of the test server, and a client on the same database. */
async function fresh(): Promise<{ store: MemoryStore; sql: pg.Client }> {
  const name = `spantable_${++db}`;
  const admin = new pg.Client({ connectionString: server!.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = server!.url.replace(/\/postgres$/, `/${name}`);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  return { store: await openStore(url), sql };
}

if (available) {
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  test('PostgreSQL: the column read gives the table, the peers and the RCA answer of the object read, on random stores', { timeout: 120_000 }, async () => {
    let failedSeen = 0;
    let peersRead = 0;
    for (let seed = 1; seed <= 3; seed++) {
      const gen = traffic(seed, 1200);
      const { store, sql } = await fresh();
      try {
        await store.telemetry.ingest({ spans: objects(gen, 0, false), logs: [], metrics: [], errors: [] });
        await store.telemetry.ingest({ spans: objects(gen, 100e6, true), logs: [], metrics: [], errors: [] });
        // Rows as a store written before the hint column holds them: the read then looks at the rest's text.
        if (seed !== 3) await sql.query(`UPDATE spans SET rca_hint = NULL WHERE ${seed === 1 ? 'start_us % 2 = 0' : 'true'}`);
        for (const window of [{ fromUs: t0Us, toUs: t0Us + 40e6 }, { fromUs: t0Us + 100e6, toUs: t0Us + 140e6 }, { fromUs: t0Us + 10e6, toUs: t0Us + 120e6 }]) {
          const full = await store.telemetry.querySpans({ window });
          const want = spanTableOf(full);
          const asked: number[] = [];
          const got = await store.telemetry.querySpanTable!({ window, fields: 'rca' }, (t) => {
            const need = peerNeeded(t);
            asked.push(...need);
            return need;
          });
          assert.deepStrictEqual(columns(got), columns(want), `seed ${seed}: columns`);
          for (const i of asked) assert.equal(got.peer(i), want.peer(i), `seed ${seed}: peer of span ${i}`);
          peersRead += asked.length;
          failedSeen += got.failed.reduce((a, b) => a + b, 0);
          assert.deepStrictEqual(view(traceIndicators(got, 2e6)), view(traceIndicators(full, 2e6)), `seed ${seed}: trace evidence`);
          const a = runRca({ metrics: new Map(), edges: [], resolutionS: 2, spans: full });
          const b = runRca({ metrics: new Map(), edges: [], resolutionS: 2, spanTable: got });
          assert.deepStrictEqual(b, a, `seed ${seed}: RCA answer`);
          const lim = await store.telemetry.querySpanTable!({ window, limit: 555, fields: 'rca' }, peerNeeded);
          assert.deepStrictEqual(columns(lim), columns(spanTableOf(await store.telemetry.querySpans({ window, limit: 555 }))));
        }
      } finally {
        await store.close();
        await sql.end();
      }
    }
    assert.ok(failedSeen > 300, `failed ${failedSeen}`);
    assert.ok(peersRead > 30, `peers ${peersRead}`);
  });

  test('PostgreSQL: names or ids holding the line separator are read as span objects (same table)', async () => {
    const { store, sql } = await fresh();
    try {
      const sp = (i: number, over: Partial<Span>): Span => ({ traceId: `t${i}`, spanId: `s${i}`, name: 'GET', kind: 2, startUs: 1e6 + i, endUs: 2e6 + i, service: 'a', attributes: { 'http.response.status_code': 200 }, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'a' } }, ...over });
      await store.telemetry.ingest({ spans: [sp(1, { name: 'odd\x1f2' }), sp(2, { parentSpanId: 's1', attributes: { 'http.response.status_code': 503 } }), sp(3, { service: 'x\x1fy', parentSpanId: 's2', status: { code: 2 } })], logs: [], metrics: [], errors: [] });
      const window = { fromUs: 0, toUs: 1e7 };
      const full = await store.telemetry.querySpans({ window });
      const got = await store.telemetry.querySpanTable!({ window, fields: 'rca' }, peerNeeded);
      assert.equal(got.n, 3);
      assert.deepStrictEqual(columns(got), columns(spanTableOf(full)));
      assert.deepStrictEqual([...got.failed], [0, 1, 1]);
    } finally {
      await store.close();
      await sql.end();
    }
  });
  test('PostgreSQL: opening a store written before the hint column fills rca_hint once, by the ingest rule', async () => {
    const { store, sql } = await fresh();
    const url = (sql as unknown as { connectionParameters: { database: string } }).connectionParameters.database;
    try {
      const sp = (i: number, status: unknown): Span => ({ traceId: `t${i}`, spanId: `s${i}`, name: 'GET', kind: 2, startUs: 1e6 + i, endUs: 2e6 + i, service: 'a', attributes: status === undefined ? {} : { 'http.response.status_code': status as number }, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'a' } } });
      const statuses: unknown[] = [200, 503, '502', '499.5', 500.5, undefined, 'x'];
      await store.telemetry.ingest({ spans: statuses.map((st, i) => sp(i, st)), logs: [], metrics: [], errors: [] });
      const hints = async (): Promise<(number | null)[]> => (await sql.query<{ rca_hint: number | null }>('SELECT rca_hint FROM spans ORDER BY start_us')).rows.map((r) => r.rca_hint);
      const want = await hints();
      assert.deepEqual(want, [0, 1, 1, 0, 1, 0, 0]);
      // As a store from before version 2 holds them, then opened again by this version.
      await sql.query('UPDATE spans SET rca_hint = NULL');
      await sql.query('DELETE FROM schema_migrations WHERE version = 3');
      await store.close();
      const again = await openStore(server!.url.replace(/\/postgres$/, `/${url}`));
      await again.close();
      assert.deepEqual(await hints(), want);
      assert.equal((await sql.query('SELECT 1 FROM schema_migrations WHERE version = 3')).rowCount, 1);
    } finally {
      await store.close().catch(() => undefined);
      await sql.end();
    }
  });
} else {
  test('postgres span table', { skip: 'PostgreSQL not installed (apt-get install postgresql)' }, () => {});
}
