import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../../../test/helpers/env.js';
import { mulberry32 } from '../../util/random.js';
import { analyseHistory, type Row } from './bench-history.js';

/** 60 CI runs: latency_ms steps up 20% at run 40 (commit c40); ops/s is noise; rows arrive out of time order. */
function history(): Row[] {
  const rnd = mulberry32(11);
  const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({
    time: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString(),
    commit: `c${i}`,
    latency_ms: (i >= 40 ? 12 : 10) + 0.3 * (rnd() - 0.5),
    'ops/s': 5000 + 100 * (rnd() - 0.5),
  }));
  return [...rows.slice(30), ...rows.slice(0, 30)];
}

test('benchmark history: a lasting step in one metric is found at the run it starts with its commit; noise in another is not', () => {
  const r = analyseHistory(history());
  assert.deepEqual(r.metrics, ['latency_ms', 'ops/s']);
  assert.deepEqual(r.labels, ['time', 'commit']);
  assert.equal(r.changes.length, 1, JSON.stringify(r.changes));
  const c = r.changes[0]!;
  assert.equal(c.metric, 'latency_ms');
  assert.equal(c.labels.commit, 'c40');
  assert.ok(Math.abs(c.magnitude - 0.2) < 0.02 && c.pValue <= 0.01 && c.regression);
  // A drop in a higher-is-better metric is the regression; a rise is not.
  const faster = analyseHistory(history().map((x) => ({ ...x, 'ops/s': Number(x['ops/s']) * (Number(String(x.commit).slice(1)) >= 20 ? 1.3 : 1) })));
  const ops = faster.changes.find((x) => x.metric === 'ops/s')!;
  assert.equal(ops.labels.commit, 'c20');
  assert.equal(ops.regression, false);
});

test('tswarm regressions reads CSV and JSON lines, names the run, and refuses bad files with a clear message', async () => {
  const dir = tempDir('regressions');
  try {
    const rows = history();
    const csv = join(dir.path, 'bench.csv');
    writeFileSync(csv, ['time,commit,latency_ms,ops/s', ...rows.map((r) => `${String(r.time)},${String(r.commit)},${String(r.latency_ms)},${String(r['ops/s'])}`)].join('\n'));
    const a = await runCli(['regressions', csv]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /REGRESSION {2}latency_ms: (9\.9\d\d|10\.0\d) → 12\.0\d \(\+20\.\d%, p = 0\.0\d\d\) from run 41 \(time=2026-02-10T00:00:00\.000Z commit=c40\)/);
    const jl = join(dir.path, 'bench.jsonl');
    writeFileSync(jl, rows.map((r) => JSON.stringify(r)).join('\n'));
    const b = await runCli(['regressions', jl, '--json']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((JSON.parse(b.stdout) as { changes: { labels: { commit: string } }[] }).changes[0]!.labels.commit, 'c40');
    const bad = join(dir.path, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify(rows[0])}\n{"time": "x",\n`);
    const c = await runCli(['regressions', bad]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /bad\.jsonl:2: not JSON/);
    const words = join(dir.path, 'words.csv');
    writeFileSync(words, ['commit,branch', ...rows.map((r) => `${String(r.commit)},main`)].join('\n'));
    const d = await runCli(['regressions', words]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /no numeric metric columns/);
    const short = join(dir.path, 'short.csv');
    writeFileSync(short, 'commit,ms\na,1\nb,2\n');
    const e = await runCli(['regressions', short]);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /2 runs; a change point needs at least 8/);
  } finally {
    dir.cleanup();
  }
});
