/**
 * The load generator's honesty, measured: arrival rate accuracy, coordinated-omission correction against a
 * server that stalls, thresholds and exit code 99, the allow-list, and the USL fit on known parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { runLoad, stagedValue } from './generator.js';
import { fitUsl, findKnee, parseThreshold, uslThroughput } from '../algorithms/load/analysis.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../../test/helpers/env.js';
import { openStore } from '../store/open.js';
import { knownDisturbances } from '../agents/own-disturbances.js';
import type { LoadRunRecord } from '../agents/analysis/load-tester.js';

async function stallingServer(stallAtMs: number, stallMs: number): Promise<{ url: string; close(): void }> {
  let until = 0;
  const s = http.createServer((_req, res) => {
    const wait = until - Date.now();
    if (wait > 0) setTimeout(() => res.end('ok'), wait);
    else res.end('ok');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  if (stallAtMs >= 0) setTimeout(() => (until = Date.now() + stallMs), stallAtMs).unref();
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}/`, close: () => s.close() };
}

test('coordinated omission: a 1 s stall in a 10 s run at 1,000/s shows in our p99 (~900 ms analytically); a closed model hides it', { timeout: 60_000 }, async () => {
  const srv = await stallingServer(5000, 1000);
  try {
    const open = await runLoad({ requests: [{ url: srv.url }], model: { type: 'open', rate: 1000 }, duration: 10, connections: 100 });
    // Analytic: 1,000 of 10,000 requests fall in the stall, latencies uniform in (0, 1 s]: p99 = 1 s − 100/1,000 s.
    const analytic = 900;
    assert.ok(Math.abs(open.latency.p99 - analytic) / analytic <= 0.15, `p99 ${open.latency.p99.toFixed(0)} ms vs ${analytic} ms`);
    assert.ok(Math.abs(open.achievedRate - 1000) / 1000 <= 0.01, `achieved ${open.achievedRate.toFixed(1)}/s within 1% of 1,000/s`);
  } finally {
    srv.close();
  }
  const srv2 = await stallingServer(2000, 1000);
  try {
    const closed = await runLoad({ requests: [{ url: srv2.url }], model: { type: 'closed', vus: 10 }, duration: 5, connections: 10 });
    assert.ok(closed.latency.p99 < 100, `the uncorrected closed model's p99 misses the stall: ${closed.latency.p99.toFixed(1)} ms`);
  } finally {
    srv2.close();
  }
});

test('ramping arrival rate follows its stages', () => {
  const stages = [
    { duration: 10, target: 100 },
    { duration: 10, target: 100 },
    { duration: 5, target: 0 },
  ];
  assert.equal(stagedValue(stages, 5), 50);
  assert.equal(stagedValue(stages, 15), 100);
  assert.equal(stagedValue(stages, 22.5), 50);
});

test('thresholds are k6-like; a failed one exits 99; targets off the allow-list are refused', { timeout: 30_000 }, async () => {
  assert.deepEqual(parseThreshold('p(95)<300'), { expr: 'p(95)<300', metric: 'p', percentile: 95, op: '<', value: 300 });
  assert.equal(parseThreshold('p(99){GET /api/cart}<=500').tag, 'GET /api/cart');
  assert.throws(() => parseThreshold('p95 under 300'), /cannot read threshold/);
  const srv = await stallingServer(-1, 0);
  try {
    const ok = await runCli(['load', 'run', '--url', srv.url, '--rate', '200', '--duration', '2s', '--threshold', 'p(95)<500', 'error_rate<0.01', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const s = JSON.parse(ok.stdout) as { achievedRate: number; latency: { p99: number }; passed: boolean };
    assert.ok(s.passed && Math.abs(s.achievedRate - 200) < 4);
    const bad = await runCli(['load', 'run', '--url', srv.url, '--rate', '100', '--duration', '1s', '--threshold', 'p(50)<0.0001']);
    assert.equal(bad.code, 99);
    assert.match(bad.stdout, /✗ p\(50\)<0\.0001/);
    const denied = await runCli(['load', 'run', '--url', 'http://10.1.2.3/', '--rate', '10', '--duration', '1s']);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /not on the allow-list/);
  } finally {
    srv.close();
  }
});

test("a CLI load run is recorded in the swarm's memory (--db, or the default memory when it exists) and the analysis knows it as its own; --no-record and no memory leave none", { timeout: 60_000 }, async () => {
  const srv = await stallingServer(-1, 0);
  const dir = tempDir('load-record-');
  // The default memory is looked for in the working directory: none there at first.
  const env = { TSWARM_DB: '' };
  const run = (...extra: string[]) => runCli(['load', 'run', '--url', srv.url, '--rate', '50', '--duration', '1s', ...extra], { cwd: dir.path, env });
  const runs = async (db: string): Promise<LoadRunRecord[]> => {
    const store = await openStore(db);
    try {
      return (await store.patterns.list<LoadRunRecord>('load-run')).map((r) => r.value);
    } finally {
      await store.close();
    }
  };
  try {
    const none = await run();
    assert.equal(none.code, 0, none.stderr);
    assert.doesNotMatch(none.stderr, /recorded/);
    const db = join(dir.path, 'elsewhere.db');
    const given = await run('--db', db);
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stderr, /^recorded as L-[0-9a-f]{12} in .*elsewhere\.db/m);
    const [rec] = await runs(db);
    assert.ok(rec && rec.target === srv.url && rec.summary && rec.summary.requests >= 40, JSON.stringify(rec));
    assert.ok(rec.endUs! - rec.startUs! >= 0.9e6 && rec.endUs! - rec.startUs! < 10e6, `ran ${(rec.endUs! - rec.startUs!) / 1e6} s`);
    const store = await openStore(db);
    try {
      const known = await knownDisturbances({ store }, { fromUs: rec.startUs! - 60e6, toUs: rec.endUs! + 60e6 });
      assert.deepEqual(known.map((k) => k.what), [`load test of ${srv.url}`]);
    } finally {
      await store.close();
    }
    // The default memory (./.tswarm/memory.db, where `tswarm serve` collects) once it exists; --no-record skips it.
    mkdirSync(join(dir.path, '.tswarm'));
    const def = join(dir.path, '.tswarm', 'memory.db');
    await (await openStore(def)).close();
    assert.equal((await run()).code, 0);
    assert.equal((await runs(def)).length, 1);
    assert.equal((await run('--no-record')).code, 0);
    assert.equal((await runs(def)).length, 1);
  } finally {
    srv.close();
    dir.cleanup();
  }
});

test('the USL fit recovers σ and κ within 10% from throughput at known parameters; the knee is found', () => {
  const truth = { lambda: 1000, sigma: 0.05, kappa: 0.002 };
  let seed = 11;
  const noise = (): number => 1 + 0.01 * (((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
  const pts = [1, 2, 4, 8, 16, 24, 32, 48, 64].map((n) => ({ n, x: uslThroughput(truth, n) * noise() }));
  const f = fitUsl(pts);
  assert.ok(Math.abs(f.sigma - truth.sigma) / truth.sigma <= 0.1, `σ ${f.sigma}`);
  assert.ok(Math.abs(f.kappa - truth.kappa) / truth.kappa <= 0.1, `κ ${f.kappa}`);
  assert.ok(Math.abs(f.peakConcurrency - Math.sqrt((1 - 0.05) / 0.002)) < 3);
  const knee = findKnee(pts.map((p) => ({ ...p, p95Ms: 10 })));
  assert.ok(knee && knee.n >= 8 && knee.n <= 32, JSON.stringify(knee));
});
