/**
 * A server whose store cannot do its housekeeping (rollup compaction refused, as by a full disk) keeps taking
 * telemetry, and says so where an operator looks: /healthz, the event stream and stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../src/store/open.js';
import { freePort, tempDir } from './helpers/env.js';

const DAY = 864e8;

/** One OTLP/JSON request: a server span of `api` at `startUs`. */
function otlp(i: number, startUs: number): string {
  const ns = (us: number): string => `${BigInt(Math.round(us)) * 1000n}`;
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
      scopeSpans: [{ spans: [{ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: `${(i + 1).toString(16).padStart(16, '0')}`, name: 'GET /a', kind: 2, startTimeUnixNano: ns(startUs), endTimeUnixNano: ns(startUs + 2_000), status: {} }] }],
    }],
  });
}

test('failed housekeeping: every request still stored, /healthz counts it, the event stream and stderr say it', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const db = join(dir.path, 'm.db');
  await (await openStore(db)).close();
  const raw = new Database(db);
  raw.exec("CREATE TRIGGER refuse_compaction BEFORE DELETE ON rollups BEGIN SELECT RAISE(ABORT, 'database or disk is full (refused by the test)'); END");
  raw.close();
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const server = await runServer({ db, host: '127.0.0.1', port: await freePort() });
  const events: unknown[] = [];
  server.hub.subscribe((ev) => {
    if (ev.type === 'store-housekeeping-failed') events.push(ev.data);
  });
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (stderr.push(String(chunk)), write(chunk, ...rest))) as typeof process.stderr.write;
  try {
    // 60 requests over 6 days of data time: the 50th ingest runs a compaction, which finds buckets to merge.
    const t0 = 1_700_000_000_000_000;
    for (let i = 0; i < 60; i++) {
      const r = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: otlp(i, t0 + (i * 6 * DAY) / 60) });
      assert.equal(r.status, 200, await r.text());
    }
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string; housekeeping?: { failures: number; last: { task: string; message: string } } };
    assert.equal(health.status, 'ok');
    assert.ok(health.housekeeping && health.housekeeping.failures >= 1, JSON.stringify(health));
    assert.equal(health.housekeeping.last.task, 'compaction');
    assert.match(health.housekeeping.last.message, /disk is full/);
    assert.equal(events.length, health.housekeeping.failures);
    assert.ok(stderr.some((l) => /^warning: the memory store's compaction failed \(database or disk is full .*\); the data is stored and the next run retries/.test(l)), stderr.join(''));
  } finally {
    process.stderr.write = write;
    await server.close();
  }
  const store = await openStore(db);
  try {
    assert.equal((await store.telemetry.stats())[0]!.spans, 60, 'each request stored once');
  } finally {
    await store.close();
    dir.cleanup();
  }
});
