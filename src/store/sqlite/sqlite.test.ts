import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storeContract } from '../contract.js';
import { openStore } from '../open.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { tempDir, REPO_ROOT } from '../../../test/helpers/env.js';

storeContract('sqlite', () => openStore(':memory:'));

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
