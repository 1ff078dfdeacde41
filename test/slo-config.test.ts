/**
 * SLOs in the config file, end to end: `tswarm analyze` reads tswarm.config.yaml from where it runs, keeps its SLOs
 * in memory (so serve's and MCP's cycles use them too), and the report burns the latency budget of a service that
 * got slow. A bad entry is exit 2 naming the file, the entry and the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runCli, tempDir } from './helpers/env.js';
import { seedMemory } from './helpers/incident.js';

test('analyze judges the SLOs of tswarm.config.yaml and keeps them in memory; a bad SLO is exit 2 with the field named', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, 'm.db');
    await seedMemory(db);
    writeFileSync(
      join(dir.path, 'tswarm.config.yaml'),
      ['slos:', '  - service: payment', '    latency: 100ms', '    objective: 99', '  - service: "*"', '    availability: 99.9', ''].join('\n'),
    );
    const r = await runCli(['analyze', '--db', db, '--out', join(dir.path, 'out'), '--json'], { cwd: dir.path, timeoutMs: 170_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { sections: Record<string, { title: string; kind: string; subject: { service?: string }; evidence: { chain?: string[] } }[]> };
    const items = Object.values(report.sections).flat();
    // The queen folds payment's burn into its latency item (one item per service and symptom); its evidence says so.
    const payment = items.filter((i) => i.subject.service === 'payment').flatMap((i) => i.evidence.chain ?? []);
    const slo = payment.indexOf('SLO: 99% of requests under 100 ms; error budget 1% of requests');
    assert.ok(slo >= 0, payment.join(' | '));
    assert.match(payment[slo + 1]!, /^burn 1\d\.\d× over the long window/);
    const burns = items.filter((i) => i.kind === 'slo-burn').map((i) => i.title);
    assert.ok(burns.some((t) => /^checkout burns its 99\.9% availability budget/.test(t)), `the catch-all applies to services without their own: ${burns.join(' | ')}`);
    const { openStore } = await import('../src/store/open.js');
    const store = await openStore(db);
    try {
      const kept = await store.patterns.get<{ slos: unknown[]; file: string }>('slo-config', 'current');
      assert.equal(kept?.value.slos.length, 2);
      assert.equal(kept?.value.file, 'tswarm.config.yaml');
    } finally {
      await store.close();
    }

    const b = await runCli(['baselines', '--db', db], { cwd: dir.path });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /\nSLOs \(from tswarm\.config\.yaml\):\n( {2}\S+: .*\n)* {2}payment: 99% of requests under 100 ms \(30-day error budget overspent: [\d.]+× of it used \(\d+ min of data so far\)\)\n/);
    assert.match(b.stdout, /\n {2}checkout: 99\.9% availability \(30-day error budget (overspent: [\d.]+× of it used|\d+% left)/);

    writeFileSync(join(dir.path, 'bad.yaml'), ['slos:', '  - service: payment', '    availability: 0.999', ''].join('\n'));
    const bad = await runCli(['analyze', '--db', db, '--config', 'bad.yaml'], { cwd: dir.path });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /bad\.yaml: slos\[0\]\.availability: a percentage: at least 50 and under 100/);
    writeFileSync(join(dir.path, 'typo.yaml'), ['slo:', '  - service: payment', ''].join('\n'));
    const typo = await runCli(['analyze', '--db', db, '--config', 'typo.yaml'], { cwd: dir.path });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /typo\.yaml: unknown key slo \(known: sources, slos\)/);
    writeFileSync(join(dir.path, 'sources.yaml'), 'sources: 42\n');
    const sources = await runCli(['analyze', '--db', db, '--config', 'sources.yaml'], { cwd: dir.path });
    assert.equal(sources.code, 2);
    assert.match(sources.stderr, /sources\.yaml: sources must be a list of URLs/);
    const missing = await runCli(['serve', '--db', db, '--port', '0', '--config', 'nope.yaml'], { cwd: dir.path });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--config nope\.yaml: no such file/);
  } finally {
    dir.cleanup();
  }
});
