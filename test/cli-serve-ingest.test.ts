/**
 * `tswarm serve`, `tswarm status` and `tswarm ingest` as a user runs them: a real server process that is
 * killed with SIGKILL after acknowledging data, file ingestion with the bad inputs people actually have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { REPO_ROOT, freePort, runCli, tempDir } from './helpers/env.js';

async function waitHealthy(url: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await request(`${url}/healthz`);
      await r.body.text();
      if (r.statusCode === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`server at ${url} did not become healthy`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const traces = (name: string, spanId: string): string =>
  JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'killed' } }] },
        scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId, name, kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000' }] }],
      },
    ],
  });

test('data acknowledged by `tswarm serve` with a 2xx survives kill -9; `tswarm status` shows it', async () => {
  const dir = tempDir('serve');
  const db = join(dir.path, 'memory.db');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/interfaces/cli/entry.ts'), 'serve', '--port', String(port), '--db', db], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url);
    for (let i = 0; i < 5; i++) {
      const r = await request(`${url}/v1/traces`, { method: 'POST', body: traces(`op${i}`, `eee19b7ec3c1b17${i}`), headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 200);
      await r.body.text();
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const status = await runCli(['status', '--db', db, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { totals: { spans: number }; services: { service: string; spans: number }[] };
    assert.equal(s.totals.spans, 5);
    assert.equal(s.services[0]!.service, 'killed');
    const human = await runCli(['status', '--db', db]);
    assert.match(human.stdout, /killed\s+5/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    dir.cleanup();
    if (stderr.includes('Error')) process.stderr.write(stderr);
  }
});

test('`tswarm ingest` reads plain logs with stack traces, JSON logs, OTLP/JSON and Sentry events; bad files get clear errors and earlier data stays', async () => {
  const dir = tempDir('ingest');
  const db = join(dir.path, 'memory.db');
  try {
    const plain = join(dir.path, 'checkout.log');
    writeFileSync(
      plain,
      [
        '2026-11-24 10:00:00,123 INFO  order 42 placed',
        '2026-11-24 10:00:01,456 ERROR payment failed',
        'TypeError: Cannot read properties of undefined (reading \'amount\')',
        '    at charge (/app/src/payment/charge.ts:42:17)',
        '    at async handler (/app/src/routes/pay.ts:10:5)',
        '    at process (node:internal/process/task_queues:95:5)',
        `2026-11-24 10:00:02,000 WARN  slow ${'x'.repeat(100_000)}`,
      ].join('\n'),
    );
    const jsonl = join(dir.path, 'cart.jsonl');
    writeFileSync(jsonl, [JSON.stringify({ level: 30, time: 1764000000000, msg: 'cart loaded', service: 'cart' }), '{not json', JSON.stringify({ level: 50, time: 1764000001000, msg: 'redis down', service: 'cart', err: { type: 'Error', message: 'ECONNREFUSED', stack: 'Error: ECONNREFUSED\n    at connect (/app/src/redis.ts:9:3)' } })].join('\n'));
    const otlp = join(dir.path, 'export.json');
    writeFileSync(otlp, traces('from-file', 'eee19b7ec3c1b171') + '\n');
    const sentry = join(dir.path, 'sentry-event.json');
    writeFileSync(sentry, JSON.stringify({ event_id: 'abc', timestamp: 1764000002.5, release: 'shop@1.2.0', tags: { service: 'frontend' }, exception: { values: [{ type: 'ValueError', value: 'bad qty 3', stacktrace: { frames: [{ filename: 'app/main.py', function: 'main', lineno: 3, in_app: true }, { filename: 'app/cart.py', function: 'add', lineno: 17, in_app: true }] } }] } }, null, 2));

    const r = await runCli(['ingest', '--db', db, plain, jsonl, otlp, sentry]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ingested 4 file\(s\): 1 spans, 0 metric points, 5 logs, 3 errors/);
    assert.match(r.stderr, /cart\.jsonl:2: invalid JSON/);
    assert.match(r.stderr, /checkout\.log:7: line of 100035 characters truncated/);

    const { openStore } = await import('../src/store/open.js');
    const store = await openStore(db);
    try {
      const errors = await store.telemetry.queryErrors({});
      const pay = errors.find((e) => e.type === 'TypeError')!;
      assert.equal(pay.frames[0]!.file, '/app/src/payment/charge.ts');
      assert.equal(pay.frames[0]!.line, 42);
      assert.equal(pay.frames[2]!.inApp, false);
      const py = errors.find((e) => e.type === 'ValueError')!;
      assert.deepEqual([py.service, py.release, py.frames[0]!.function], ['frontend', 'shop@1.2.0', 'add']);
      assert.ok(errors.some((e) => e.service === 'cart' && e.message === 'ECONNREFUSED'));
    } finally {
      await store.close();
    }

    const bin = join(dir.path, 'garbage.log');
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1, 2, 3, 0, 0xff]));
    const bad = await runCli(['ingest', '--db', db, bin]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /garbage\.log: binary data/);
    const missing = await runCli(['ingest', '--db', db, join(dir.path, 'nope.log')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /nope\.log: no such file or directory/);
    const status = await runCli(['status', '--db', db, '--json']);
    assert.equal((JSON.parse(status.stdout) as { totals: { logs: number } }).totals.logs, 5, 'data from before the bad files is intact');
  } finally {
    dir.cleanup();
  }
});
