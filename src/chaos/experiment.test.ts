/**
 * Experiments as users run them: dry runs that inject nothing, the allow-list, a real gap found in the testbed
 * with no toxic left behind, and a runner killed with SIGKILL whose toxic still expires at the deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runCli, tempDir } from '../../test/helpers/env.js';
import { startChaosApi } from './api.js';
import { runExperiment, ExperimentError } from './experiment.js';
import { startShopWithProxies, runSuite } from './run-suite.js';
import { gapsFromJournal } from '../algorithms/chaos/gaps.js';

test('dry run states the blast radius and injects nothing; targets off the allow-list are refused', async () => {
  const exp = { title: 't', method: [{ type: 'action', name: 'slow', provider: { type: 'toxic', api: 'http://127.0.0.1:1', proxy: 'p', toxic: { type: 'latency', attributes: { latency: 100 } } } }] };
  const j = await runExperiment(exp, { dryRun: true });
  assert.equal(j.dry_run, true);
  assert.deepEqual(j.run, []);
  assert.match(j.blast_radius[0]!, /proxy p: latency/);
  await assert.rejects(runExperiment({ title: 'evil', method: [{ type: 'probe', name: 'x', provider: { type: 'http', url: 'http://192.168.1.10/' } }] }), (e: Error) => e instanceof ExperimentError && /not on the allow-list/.test(e.message));
  assert.equal(gapsFromJournal(j).length, 0, 'a dry run never yields a finding');
});

test('the testbed suite finds the missing timeout on checkout → payment with evidence, and leaves no toxic behind', { timeout: 120_000 }, async () => {
  const shop = await startShopWithProxies();
  try {
    const { journals } = await runSuite(shop, { only: ['payment is slow'] });
    assert.equal(journals.length, 1);
    const j = journals[0]!;
    assert.equal(j.status, 'completed');
    assert.equal(j.deviated, true);
    const [gap] = gapsFromJournal(j);
    assert.ok(gap && !gap.held);
    assert.equal(gap.mechanism, 'no-timeout');
    assert.equal(gap.dependency, 'payment');
    assert.ok(gap.during.p95_ms! - gap.before.p95_ms! > 1400, JSON.stringify(gap));
    assert.deepEqual([...shop.api.proxies.values()].map((p) => p.toxics.size), [0, 0, 0, 0]);
  } finally {
    await shop.stop();
  }
});

test('a runner killed with SIGKILL mid-experiment leaves no toxic: the proxy enforces the max duration', { timeout: 60_000 }, async () => {
  const up = http.createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  const upPort = (up.address() as { port: number }).port;
  const api = await startChaosApi({ port: 0 });
  const dir = tempDir('chaos-kill');
  try {
    await fetch(`${api.url}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'svc', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upPort}` }) });
    const file = join(dir.path, 'exp.json');
    writeFileSync(file, JSON.stringify({
      title: 'long latency',
      configuration: { max_duration_s: 3 },
      method: [
        { type: 'action', name: 'slow', provider: { type: 'toxic', api: api.url, proxy: 'svc', toxic: { type: 'latency', attributes: { latency: 500 } } } },
        { type: 'probe', name: 'wait', provider: { type: 'process', path: 'sleep', arguments: ['30'] } },
      ],
    }));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/interfaces/cli/entry.ts'), 'chaos', 'run', file, '--db', join(dir.path, 'm.db'), '--journal', join(dir.path, 'j.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes('probe wait') && resolve()));
    assert.equal(api.proxies.get('svc')!.toxics.size, 1, 'the toxic is active');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(api.proxies.get('svc')!.toxics.size, 0, 'gone at the experiment deadline');
    const dry = await runCli(['chaos', 'run', file, '--dry-run', '--journal', join(dir.path, 'dry.json')]);
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /dry run of "long latency": nothing injected/);
  } finally {
    await api.close();
    up.close();
    dir.cleanup();
  }
});
