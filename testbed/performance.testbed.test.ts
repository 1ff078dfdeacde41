/**
 * The performance tester on the real testbed (9 services → OTLP → receiver → store), not on synthetic spans:
 * a latency fault on shipping must show as an anomaly on shipping's p95 within 2 minutes of the injection, and a
 * bad deploy of currency (a new service.version that brings added latency) as a regression that names the new
 * version, and a flag rollout on catalog (a share of requests on a slow new code path) as a catalog finding tied to
 * the flag variant, whose slow requests it names, and a config push on shipping that only its log announces as a
 * shipping finding tied to that announcement. Budget: about 2.5 minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, tempDir } from '../test/helpers/env.js';
import { openStore } from '../src/store/open.js';
import { startReceiver } from '../src/signals/otlp/server.js';
import { PerformanceTester } from '../src/agents/analysis/performance-tester.js';
import { silentLogger } from '../src/fleet/logger.js';
import type { Finding, TimeWindow } from '../src/fleet/contracts.js';
import type { MemoryStore } from '../src/store/store.js';
import { BAD_VERSION, startTestbed } from './index.js';
import { declaredChanges } from '../src/agents/declared-changes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowUs = (): number => Date.now() * 1000;

function analyse(store: MemoryStore, window: TimeWindow): Promise<Finding[]> {
  return new PerformanceTester().run(
    { id: 'perf', kind: 'analyze-window', params: {}, window },
    { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} },
  );
}

test("on the testbed: a latency fault is an anomaly on the faulty service's p95 within 2 minutes; a bad deploy is a regression naming the new version", { timeout: 240_000 }, async () => {
  const dir = tempDir('perf-testbed');
  const store = await openStore(join(dir.path, 'memory.db'));
  const rx = await startReceiver({ port: await freePort(), store });
  const tb = await startTestbed({ otlpEndpoint: rx.url, seed: 6, exportIntervalMs: 1000 });
  let delayAt = 0;
  let delayEnd = 0;
  let deployAt = 0;
  try {
    tb.traffic.start({ model: 'closed', users: 6, thinkMs: 80, seed: 3, timeoutMs: 8000 });
    await sleep(35_000); // the normal period the baseline is learned from
    delayAt = nowUs();
    await tb.setFault('shipping', 'delay', { ms: 300, jitterMs: 0 });
    await sleep(25_000);
    await tb.clearFaults({ resetState: false });
    delayEnd = nowUs();
    await sleep(30_000); // recovered: the "before" of the deploy
    deployAt = nowUs();
    await tb.setFault('currency', 'deploy', { fault: 'delay', ms: 300, jitterMs: 0 });
    // At the same time a flag rollout on catalog: a third of its requests take a slow new code path.
    await tb.setFault('catalog', 'flag', { rate: 0.35, ms: 300 });
    // And a config push on shipping (its rates cache switched off) that only shipping's own log announces.
    await tb.setFault('shipping', 'config', { key: 'rates.cache.enabled', previous: 'true', value: 'false', rate: 1, ms: 400 });
    await sleep(30_000);
    await tb.traffic.stop();
    await sleep(2500); // the last OTLP exports
  } finally {
    await tb.stop();
    await rx.close();
  }
  try {
    // 1. latency fault: analysed over the fault window with the stored history before it as the baseline
    const f1 = await analyse(store, { fromUs: delayAt - 10e6, toUs: delayEnd });
    const anomaly = f1.find((f) => f.kind === 'anomaly' && f.subject.service === 'shipping' && /p95/.test(f.title));
    assert.ok(anomaly, `a p95 anomaly on shipping; got: ${f1.map((f) => `${f.kind} ${f.subject.service}: ${f.title}`).join(' | ')}`);
    const afterS = ((anomaly.data!.firstDetectionUs as number) - delayAt) / 1e6;
    // firstDetectionUs is the first slow request of shipping's inside the first flagged rollup bucket: at the
    // injection or after it (a second of slack for a request already running when the fault was set).
    assert.ok(afterS >= -1 && afterS <= 120, `first detected ${afterS.toFixed(1)} s after the injection`);
    assert.ok(anomaly.evidence.traceIds?.length, 'exemplar traces of the slow requests');
    assert.equal(anomaly.basis, 'measured');
    assert.ok(!f1.some((f) => f.kind === 'anomaly' && ['email', 'catalog', 'recommendation', 'cart'].includes(f.subject.service!)), `services off the shipping path stay quiet: ${f1.map((f) => `${f.kind} ${f.subject.service}: ${f.title}`).join(' | ')}`);

    // 2. bad deploy: a lasting change tied to the new service.version of currency
    const f2 = await analyse(store, { fromUs: deployAt - 25e6, toUs: nowUs() });
    const reg = f2.find((f) => f.kind === 'regression' && f.subject.service === 'currency');
    assert.ok(reg, `a regression on currency; got: ${f2.map((f) => `${f.kind} ${f.subject.service}: ${f.title}`).join(' | ')}`);
    assert.match(reg.title, new RegExp(`after deploy of ${BAD_VERSION.replace(/\./g, '\\.')}`));
    assert.equal(reg.evidence.deploys?.[0]?.version, BAD_VERSION);
    const changeS = ((reg.evidence.deploys![0]!.atUs ?? 0) - deployAt) / 1e6;
    assert.ok(changeS >= -1 && changeS <= 15, `the deploy named is the one made (${changeS.toFixed(1)} s after the switch)`);

    // 3. flag rollout: catalog's slowdown is tied to the flag variant its evaluations started serving, and its slow
    // requests are named as the ones with the flag on
    const onCatalog = f2.filter((f) => (f.kind === 'regression' || f.kind === 'anomaly') && f.subject.service === 'catalog');
    const tied = onCatalog.filter((f) => f.evidence.configChanges?.some((c) => c.kind === 'flag' && c.key === 'catalog.new-code-path' && c.value === 'on' && c.previous === 'off'));
    assert.ok(tied.length, `a catalog finding tied to the flag; got: ${onCatalog.map((f) => `${f.kind}: ${f.title}`).join(' | ') || f2.map((f) => `${f.kind} ${f.subject.service}: ${f.title}`).join(' | ')}`);
    for (const f of tied) {
      const flagS = (f.evidence.configChanges![0]!.atUs - deployAt) / 1e6;
      assert.ok(flagS >= -1 && flagS <= 15, `the flag change is dated at the rollout (${flagS.toFixed(1)} s after it)`);
    }
    assert.ok(tied.some((f) => f.evidence.chain!.some((c) => /requests with flag catalog\.new-code-path=on were over/.test(c))), tied.map((f) => f.evidence.chain!.join(' | ')).join(' || '));

    // 4. config push: shipping's slowdown is tied to the change its log announced (nothing on its spans says so),
    // and the change joins the change list as announced, not declared
    const onShipping = f2.filter((f) => (f.kind === 'regression' || f.kind === 'anomaly') && f.subject.service === 'shipping');
    const pushed = onShipping.filter((f) => f.evidence.configChanges?.some((c) => c.key === 'rates.cache.enabled' && c.value === 'false' && c.previous === 'true' && c.declared?.source === 'log' && c.declared.by === 'config-server'));
    assert.ok(pushed.length, `a shipping finding tied to the announced push; got: ${onShipping.map((f) => `${f.kind}: ${f.title}`).join(' | ') || f2.map((f) => `${f.kind} ${f.subject.service}: ${f.title}`).join(' | ')}`);
    for (const f of pushed) {
      const pushS = (f.evidence.configChanges![0]!.atUs - deployAt) / 1e6;
      assert.ok(pushS >= -1 && pushS <= 15, `the push is dated when it was made (${pushS.toFixed(1)} s after the switch)`);
    }
    const listed = (await declaredChanges(store, { fromUs: deployAt - 25e6, toUs: nowUs() })).filter((c) => c.service === 'shipping');
    assert.deepEqual(listed.map((c) => [c.kind, c.key, c.previous, c.value, c.by, c.source]), [['config', 'rates.cache.enabled', 'true', 'false', 'config-server', 'log']]);
  } finally {
    await store.close();
    dir.cleanup();
  }
});
