/**
 * Scale-out: agent tasks on BullMQ (real redis-server) run by `tswarm worker` processes sharing a real
 * PostgreSQL memory. A worker killed with SIGKILL mid-task: its task is taken over by another worker, and no
 * finding is lost or duplicated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, freePort } from './helpers/env.js';
import { postgresBin, startPostgres } from './helpers/postgres.js';
import { RemoteFleet } from '../src/fleet/distributed.js';
import { openStore } from '../src/store/open.js';
import { silentLogger } from '../src/fleet/logger.js';

const ready = existsSync('/usr/bin/redis-server') && Boolean(postgresBin());

function worker(db: string, redis: string): ChildProcess & { out: string } {
  const c = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/interfaces/cli/entry.ts'), 'worker', '--db', db, '--redis', redis, '--plugin', join(REPO_ROOT, 'test/fixtures/slow-agent.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { out: string };
  c.out = '';
  c.stderr!.on('data', (d: Buffer) => (c.out += d.toString()));
  return c;
}

const waitFor = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('a worker killed mid-task: another worker finishes the task; findings are neither lost nor duplicated', { skip: !ready && 'needs redis-server and postgresql', timeout: 120_000 }, async () => {
  const port = await freePort();
  const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const pg = await startPostgres();
  const redisUrl = `redis://127.0.0.1:${port}`;
  const workers: (ChildProcess & { out: string })[] = [];
  const fleet = new RemoteFleet(redisUrl);
  const store = await openStore(pg.url);
  try {
    const w1 = worker(pg.url, redisUrl);
    workers.push(w1);
    await waitFor(() => w1.out.includes('worker ready'), 30_000, 'worker 1');
    const agent = fleet.agent('test-slow');
    const ctx = { store, log: silentLogger, clock: { nowUs: () => Date.now() * 1000 }, signal: new AbortController().signal, upstream: [], progress() {} };
    const running = agent.run({ id: 't1', kind: 'test', params: { n: 1, sleepMs: 4000, cycleId: 'c1' } }, ctx);
    await waitFor(() => w1.out.includes('started test-slow'), 20_000, 'worker 1 to start the task');
    const w2 = worker(pg.url, redisUrl);
    workers.push(w2);
    await waitFor(() => w2.out.includes('worker ready'), 30_000, 'worker 2');
    w1.kill('SIGKILL');
    const findings = await running;
    assert.equal(findings.length, 1);
    assert.match(w2.out, /done test-slow/, 'worker 2 finished the task');
    assert.match(findings[0]!.title, new RegExp(`pid ${w2.pid}`));
    const stored = (await store.findings.list({})).filter((f) => f.id === 'slow-1');
    assert.equal(stored.length, 1, 'stored once');
    // More tasks spread over the surviving worker; all complete.
    const more = await Promise.all([2, 3].map((n) => agent.run({ id: `t${n}`, kind: 'test', params: { n, sleepMs: 200, cycleId: 'c1' } }, ctx)));
    assert.deepEqual(more.map((f) => f[0]!.id), ['slow-2', 'slow-3']);
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await fleet.close();
    await store.close();
    pg.stop();
    redis.kill('SIGKILL');
  }
});
