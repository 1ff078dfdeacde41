import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storeContract, type ContractHooks } from '../contract.js';
import { openStore } from '../open.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { SqliteStore } from './index.js';
import type { ErrorEvent, LogRecord, Resource, Span } from '../../signals/model.js';
import { tempDir, REPO_ROOT } from '../../../test/helpers/env.js';

/** A trigger refusing deletes from the rollup table: compaction fails as on a full disk, ingest (upserts) works. */
const sqliteHooks: ContractHooks = {
  async breakCompaction(s) {
    const db = (s as SqliteStore).db;
    db.exec("CREATE TRIGGER refuse_compaction BEFORE DELETE ON rollups BEGIN SELECT RAISE(ABORT, 'deletes refused by the test'); END");
    return async () => void db.exec('DROP TRIGGER refuse_compaction');
  },
};
storeContract('sqlite', () => openStore(':memory:'), sqliteHooks);
// A file database writes through its writer thread (packed rows, group commit): the same contract must hold.
const fileDirs: { cleanup(): void }[] = [];
storeContract('sqlite file (writer thread)', () => {
  const d = tempDir('contract');
  fileDirs.push(d);
  return openStore(join(d.path, 'memory.db'));
}, sqliteHooks);
after(() => fileDirs.forEach((d) => d.cleanup()));

test('sqlite: migrations are versioned; reopening an old database upgrades it, a newer one is refused', () => {
  const db = new Database(':memory:');
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 1)), [1]);
  assert.deepEqual(migrate(db), MIGRATIONS.slice(1).map((m) => m.version));
  assert.deepEqual(migrate(db), []);
  db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 'x')").run();
  assert.throws(() => migrate(db), /schema version 999, newer than this tswarm understands/);
});

test('sqlite: a batch acknowledged by ingest() survives kill -9 of the writing process', async () => {
  const dir = tempDir('durable');
  const path = join(dir.path, 'memory.db');
  const script = `
    import { openStore } from ${JSON.stringify(join(REPO_ROOT, 'src/store/open.ts'))};
    const s = await openStore(${JSON.stringify(path)});
    const res = { attributes: { 'service.name': 'svc' } };
    for (let i = 0; i < 20; i++) {
      const spans = Array.from({ length: 500 }, (_, j) => ({ traceId: 't' + i, spanId: 's' + i + '-' + j, name: 'op', kind: 2, startUs: 1e6 + j, endUs: 2e6, service: 'svc', attributes: {}, events: [], links: [], status: { code: 0 }, resource: res }));
      await s.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
      process.stdout.write('acked ' + (i + 1) + '\\n');
    }
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /acked (\d+)\s*$/.exec(d.toString());
      if (m) acked = Number(m[1]);
      if (acked >= 20) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => resolve());
    child.on('error', reject);
  });
  await new Promise((r) => child.once('exit', r).once('close', r));
  assert.equal(acked, 20);
  const s = await openStore(path);
  try {
    assert.equal((await s.telemetry.querySpans({})).length, 20 * 500);
    assert.equal((await s.telemetry.stats())[0]!.spans, 20 * 500);
  } finally {
    await s.close();
    dir.cleanup();
  }
});

// The trace index lives in sorted runs plus an unindexed tail (migration 3); lookups must return exactly what a
// scan would, across runs, tail, pruning (which can make SQLite reuse rowids) and a database upgraded from v2.
test('sqlite: trace lookups across index runs, the tail, pruning and rowid reuse match a full scan', async () => {
  const s = await openStore(':memory:', { traceRunRows: 300 });
  const res = { attributes: { 'service.name': 'svc' } };
  const mk = (b: number, n: number, t0: number): Parameters<typeof s.telemetry.ingest>[0] => ({
    spans: Array.from({ length: n }, (_, j) => ({ traceId: `t${(b * 7 + j) % 53}`, spanId: `s${b}-${j}`, name: 'op', kind: 2 as const, startUs: t0 + j, endUs: t0 + j + 10, service: `svc${j % 3}`, attributes: {}, events: [], links: [], status: { code: (j % 4 ? 0 : 2) as 0 | 2 }, resource: res })),
    logs: [],
    metrics: [],
    errors: [],
  });
  const check = async (label: string): Promise<void> => {
    const all = await s.telemetry.querySpans({});
    for (const ids of [['t1'], ['t2', 't40', 'nope'], ['t52']]) {
      const want = all.filter((x) => ids.includes(x.traceId)).map((x) => x.spanId).sort();
      const got = (await s.telemetry.querySpans({ traceIds: ids })).map((x) => x.spanId).sort();
      assert.deepEqual(got, want, `${label}: ${ids.join(',')}`);
      const filtered = (await s.telemetry.querySpans({ traceIds: ids, services: ['svc1'], errorsOnly: true })).map((x) => x.spanId).sort();
      assert.deepEqual(filtered, all.filter((x) => ids.includes(x.traceId) && x.service === 'svc1' && x.status.code === 2).map((x) => x.spanId).sort(), `${label} filtered`);
    }
  };
  for (let b = 0; b < 10; b++) await s.telemetry.ingest(mk(b, b % 2 ? 170 : 450, 1_000_000 * (b + 1)));
  await check('runs + tail');
  // Old rows go: whole runs become dead and are dropped.
  await s.telemetry.prune(4_000_000);
  await check('after pruning old rows');
  // Everything goes, so SQLite restarts rowids at 1, below what the runs covered.
  await s.telemetry.prune(1e12);
  assert.equal((await s.telemetry.querySpans({})).length, 0);
  for (let b = 20; b < 24; b++) await s.telemetry.ingest(mk(b, 170, 1_000_000 * (b + 1)));
  await check('after rowid reuse');
  await s.close();

  // A v2 database with spans upgrades: its rows become run 0 and stay findable.
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS.slice(0, 2));
  db.prepare("INSERT INTO resources (json) VALUES ('{\"attributes\":{}}')").run();
  db.prepare("INSERT INTO spans VALUES ('tx', 's1', NULL, 'svc', 'op', 2, 5, 6, 0, 1, '{}')").run();
  migrate(db);
  assert.deepEqual(db.prepare('SELECT run, trace_id, row FROM span_trace_idx').all(), [{ run: 0, trace_id: 'tx', row: 1 }]);
  assert.deepEqual(db.prepare('SELECT tail_from FROM span_trace_state').get(), { tail_from: 2 });
  db.close();
});

test('sqlite: a v3 database (scope inside the JSON rest) upgrades to v4; old and new spans read back with their scopes', async () => {
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS.slice(0, 3));
  db.prepare('INSERT INTO resources (json) VALUES (?)').run(JSON.stringify({ attributes: { 'service.name': 'svc' } }));
  db.prepare("INSERT INTO spans VALUES ('5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174', NULL, 'svc', 'old', 2, 5, 6, 0, 1, ?)").run(JSON.stringify({ a: { k: 1 }, sc: { name: 'old-scope', version: '1' } }));
  const store = new SqliteStore(db);
  await store.telemetry.ingest({
    spans: [{ traceId: '5b8efff798038103d269b633813fc60d', spanId: 'eee19b7ec3c1b175', name: 'new', kind: 2, startUs: 7, endUs: 8, service: 'svc', attributes: { k: 2 }, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'svc' } }, scope: { name: 'new-scope' } }],
    logs: [],
    metrics: [],
    errors: [],
  });
  const spans = await store.telemetry.querySpans({});
  assert.deepEqual(spans.map((s) => [s.name, s.attributes, s.scope]), [
    ['old', { k: 1 }, { name: 'old-scope', version: '1' }],
    ['new', { k: 2 }, { name: 'new-scope' }],
  ]);
  // The new span's scope is stored once, by reference, not in its rest.
  assert.deepEqual(db.prepare("SELECT s.rest, sc.json FROM spans s JOIN scopes sc ON sc.id = s.scope_id WHERE s.name = 'new'").get(), { rest: '{"a":{"k":2}}', json: '{"name":"new-scope"}' });
  await store.close();
});

test('sqlite: prune keeps the per-service counters exactly what a recount of the stored rows gives', async () => {
  const store = new SqliteStore(new Database(':memory:'));
  const recount = (): unknown =>
    store.db
      .prepare(
        "SELECT service, signal, count, first_us, last_us FROM (SELECT service, 'spans' AS signal, count(*) AS count, min(start_us) AS first_us, max(start_us) AS last_us FROM spans GROUP BY service UNION ALL SELECT service, 'logs', count(*), min(time_us), max(time_us) FROM logs GROUP BY service UNION ALL SELECT service, 'errors', count(*), min(time_us), max(time_us) FROM errors GROUP BY service) ORDER BY service, signal",
      )
      .all();
  const stored = (): unknown => store.db.prepare('SELECT service, signal, count, first_us, last_us FROM service_stats ORDER BY service, signal').all();
  const resource = (service: string): Resource => ({ attributes: { 'service.name': service } });
  // 26,000 spans (more than one 20,000-row delete chunk), logs and errors; 'early' only has old data.
  for (let b = 0; b < 26; b++) {
    const services = b < 3 ? ['early', 'a', 'b'] : ['a', 'b', 'c'];
    const spans: Span[] = Array.from({ length: 1000 }, (_, i) => {
      const service = services[i % 3]!;
      const t = 1_000_000 + b * 1000 + i;
      return { traceId: (b * 1000 + i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'op', kind: 2, startUs: t, endUs: t + 5, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: resource(service) };
    });
    const logs: LogRecord[] = spans.slice(0, 50).map((s) => ({ timeUs: s.startUs, service: s.service, severityNumber: 9, body: 'x', attributes: {}, resource: s.resource }));
    const errors: ErrorEvent[] = spans.slice(0, 5).map((s) => ({ timeUs: s.startUs, service: s.service, type: 'E', message: 'm', fingerprint: 'f', frames: [], source: 'span', attributes: {}, resource: s.resource }) as ErrorEvent);
    await store.telemetry.ingest({ spans, logs, metrics: [], errors });
  }
  assert.deepEqual(stored(), recount());
  for (const cutoff of [1_002_500, 1_004_000, 1_024_500, 1_030_000]) {
    await store.telemetry.prune(cutoff);
    assert.deepEqual(stored(), recount(), `after pruning before ${cutoff}`);
  }
  assert.deepEqual(stored(), []);
  await store.close();
});
