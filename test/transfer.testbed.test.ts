/**
 * Transfer cold start on the real testbed: shipping is treated as a service that just appeared (its history
 * starts 20 s into the run, a few seconds before a latency fault hits it). The transfer specialist picks its most
 * similar service from the knowledge graph built from the stored traces and borrows that service's latency
 * baseline. With the borrowed prior the fault is flagged at once; without it, the detector is still warming up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, tempDir } from './helpers/env.js';
import { openStore } from '../src/store/open.js';
import { startReceiver } from '../src/signals/otlp/server.js';
import { LearningCoordinator } from '../src/agents/learning/learning-coordinator.js';
import { buildProfiles, robustStats } from '../src/agents/learning/transfer-specialist.js';
import { rollupsFromSpans, perfSeries } from '../src/agents/analysis/performance-tester.js';
import { borrow, rankDonors, replayColdStart } from '../src/algorithms/learning/transfer.js';
import { silentLogger } from '../src/fleet/logger.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a fresh service gets useful anomaly detection sooner with a transferred baseline than without', { timeout: 180_000 }, async () => {
  const dir = tempDir('transfer');
  const store = await openStore(join(dir.path, 'memory.db'));
  const rx = await startReceiver({ port: await freePort(), store });
  const { startTestbed } = await import('../testbed/index.js');
  const tb = await startTestbed({ otlpEndpoint: rx.url, seed: 4 });
  let faultAtUs = 0;
  try {
    tb.traffic.start({ model: 'closed', users: 8, thinkMs: 50, seed: 9 });
    await sleep(26_000);
    faultAtUs = Date.now() * 1000;
    await tb.setFault('shipping', 'delay', { ms: 250 });
    await sleep(12_000);
    await tb.traffic.stop();
    await sleep(2500);
  } finally {
    await tb.stop();
  }
  try {
    const spans = await store.telemetry.querySpans({ limit: 2_000_000 });
    const t0 = spans[0]!.startUs;
    await new LearningCoordinator().run({ id: 'lc', kind: 'x', params: {}, window: { fromUs: t0, toUs: Date.now() * 1000 } }, { store, log: silentLogger, clock: { nowUs: () => Date.now() * 1000 }, signal: new AbortController().signal, upstream: [], progress() {} });
    const profiles = await buildProfiles(store);
    const target = profiles.find((p) => p.service === 'shipping')!;
    const donors = rankDonors(target, profiles.filter((p) => p.service !== 'shipping' && p.service !== 'frontend'));
    assert.ok(donors.length > 0, 'a similar service exists');
    const donor = donors[0]!;
    const series = perfSeries(rollupsFromSpans(spans, 1e6));
    const mean = (svc: string, from: number, to: number): number[] => {
      const s = series.find((x) => x.service === svc)!;
      return s.t.map((t, i) => [t, s.p50Ms[i]] as const).filter(([t, v]) => t >= from && t < to && v !== null).map(([, v]) => v!);
    };
    // The donor's history before the fault; shipping's own life starts 20 s in, ~6 s before the fault.
    const donorStats = robustStats(mean(donor.donor, t0 + 5e6, faultAtUs));
    const freshStart = t0 + 20e6;
    const own = mean('shipping', freshStart, faultAtUs + 12e6);
    const onset = mean('shipping', freshStart, faultAtUs).length;
    const without = replayColdStart(own, onset);
    const withT = replayColdStart(own, onset, borrow(donorStats, donor.donor, donor.score));
    const seen = JSON.stringify({ donorStats, own: own.map((x) => +x.toFixed(3)), onset });
    process.stderr.write(`donor ${donor.donor} (similarity ${donor.score.toFixed(2)}); with transfer: delay ${withT.delay} s, ${withT.falseAlarms} false alarms; without: ${without.delay ?? 'never'} s\n`);
    assert.ok(withT.delay !== undefined && withT.delay <= 3, `detected within 3 s with transfer (${withT.delay}; ${seen})`);
    assert.ok(without.delay === undefined || without.delay > withT.delay, 'later or never without it');
    // Measured: 0–1 false alarms with two busy loops on both cores (the borrowed noise comes from another service
    // and does not know this one's jitter yet). Before the level had its own prior, a donor 50% off flagged every
    // point (CI: 6 of 6).
    assert.ok(withT.falseAlarms <= 3, `false alarms in the ~6 s before the fault: ${withT.falseAlarms} (${seen})`);
  } finally {
    await rx.close();
    await store.close();
    dir.cleanup();
  }
});
