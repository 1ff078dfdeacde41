/**
 * Analysis throughput with 1, 2 and 4 `tswarm worker` processes (BullMQ on a real redis-server, a real
 * PostgreSQL memory): 24 CPU-bound agent tasks (~250 ms of work each) per run. On this 2-core machine the curve
 * should rise from 1 to 2 workers and flatten after: the tasks are CPU-bound and there are two cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteFleet } from '../src/fleet/distributed.js';
import { openStore } from '../src/store/open.js';
import { silentLogger } from '../src/fleet/logger.js';
import { postgresBin, startPostgres } from '../test/helpers/postgres.js';
import { freeLoopbackPort } from '../src/util/net.js';

if (!existsSync('/usr/bin/redis-server') || !postgresBin()) {
  console.log('workers: skipped (needs redis-server and postgresql)');
  console.log(JSON.stringify({ bench: 'workers', skipped: true }));
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'tswarm-wb-'));
const plugin = join(dir, 'busy.mjs');
writeFileSync(plugin, `export const busy = { id: 'bench-busy', layer: 'analysis', description: 'a fixed amount of CPU work', async run(task) { let x = 0; for (let i = 0; i < 6e7; i++) x += Math.sqrt(i); return [{ id: 'busy-' + task.params.n, agentId: 'bench-busy', kind: 'test', category: 'learning-updates', title: String(x > 0), severity: 'info', confidence: 1, subject: {}, evidence: {}, basis: 'measured', createdUs: Date.now() * 1000 }]; } };\n`);
const port = await freeLoopbackPort();
const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const pg = await startPostgres();
const redisUrl = `redis://127.0.0.1:${port}`;
const fleet = new RemoteFleet(redisUrl);
const store = await openStore(pg.url);
const results: Record<string, number> = {};
try {
  for (const n of [1, 2, 4]) {
    const ws: ChildProcess[] = [];
    let readyCount = 0;
    for (let i = 0; i < n; i++) {
      const c = spawn(process.execPath, ['--import', 'tsx', 'src/interfaces/cli/entry.ts', 'worker', '--db', pg.url, '--redis', redisUrl, '--plugin', plugin], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => d.toString().includes('worker ready') && readyCount++);
      ws.push(c);
    }
    while (readyCount < n) await new Promise((r) => setTimeout(r, 100));
    const agent = fleet.agent('bench-busy');
    const ctx = { store, log: silentLogger, clock: { nowUs: () => Date.now() * 1000 }, signal: new AbortController().signal, upstream: [], progress() {} };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 24 }, (_, i) => agent.run({ id: `b${n}-${i}`, kind: 'x', params: { n: `${n}-${i}` } }, ctx)));
    const perS = 24 / ((performance.now() - t0) / 1000);
    results[`tasksPerSec_${n}`] = +perS.toFixed(2);
    for (const c of ws) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`workers: ${results.tasksPerSec_1} tasks/s with 1, ${results.tasksPerSec_2} with 2, ${results.tasksPerSec_4} with 4 workers (CPU-bound tasks; 2 cores: scaling stops at 2)`);
  console.log(JSON.stringify({ bench: 'workers', ...results }));
} finally {
  await fleet.close();
  await store.close();
  pg.stop();
  redis.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
