/**
 * The testbed end to end: the real shop (9 service processes + redis-server) exporting OTLP to the swarm's real
 * receiver and store; every fault type injected once, briefly, and checked from the STORED telemetry; a short case
 * recorded and parsed back; the scenario plan reproducible from its seed. Budget: about 2 minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { REPO_ROOT, runCli, tempDir } from '../test/helpers/env.js';
import type { MemoryStore } from '../src/store/store.js';
import type { Span } from '../src/signals/model.js';
import { BAD_VERSION, FAULT_TYPES, SCENARIO_FAULTS, SERVICE_NAMES, startTestbed, type Testbed } from './index.js';
import { announcedChanges } from '../src/algorithms/perf/announced-changes.js';
import { planScenario, planSet } from './scenario.js';
import { flagEvaluations } from '../src/algorithms/perf/flags.js';
import { runCase, type TelemetrySink } from './record.js';
import { nextCaseDir, writeCase, buildMetricRows, csvLine } from './case-writer.js';
import { freeLoopbackPort } from './supervisor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const receiverReady = existsSync(join(REPO_ROOT, 'src/signals/otlp/server.ts')) && existsSync(join(REPO_ROOT, 'src/store/open.ts'));

test('scenario plans are reproducible from the seed and a set covers every fault type', async () => {
  const a = planScenario('random', 7, { normalMs: 60_000, afterMs: 60_000 });
  const b = planScenario('random', 7, { normalMs: 60_000, afterMs: 60_000 });
  assert.deepEqual(a, b);
  const others = [1, 2, 3, 4, 5, 6, 8, 9].map((s) => planScenario('random', s, { normalMs: 60_000, afterMs: 60_000 }));
  assert.ok(others.some((p) => p.service !== a.service || p.fault !== a.fault || p.injectAtMs !== a.injectAtMs), 'different seeds give different plans');
  const set = planSet(30, 1, { normalMs: 20_000, afterMs: 20_000 });
  assert.equal(set.length, 30);
  assert.deepEqual(new Set(set.map((p) => p.fault)), new Set(SCENARIO_FAULTS));
  assert.ok(!set.some((p) => p.fault === 'config') && FAULT_TYPES.includes('config'), 'a config push (announced in its log) is injected by name only');
  assert.ok(new Set(set.map((p) => p.service)).size >= 6);
  for (const p of set) assert.ok(!p.noise.some((n) => n.service === p.service), 'noise never hits the root cause');
  assert.throws(() => planScenario('cart_nosuchfault', 1, { normalMs: 5000, afterMs: 5000 }), /unknown fault "nosuchfault"/);
  assert.throws(() => planScenario('email_outage', 1, { normalMs: 5000, afterMs: 5000 }), /does not apply to email/);

  // the CLI's dry run prints the same choices twice
  const r1 = await runCli(['testbed', 'record', '--scenario', 'random', '--seed', '7', '--dry-run']);
  const r2 = await runCli(['testbed', 'record', '--scenario', 'random', '--seed', '7', '--dry-run']);
  assert.equal(r1.code, 0, r1.stderr);
  const p1 = JSON.parse(r1.stdout) as { service: string; fault: string; injectAtMs: number };
  assert.deepEqual(JSON.parse(r2.stdout), p1);
  assert.equal(p1.service, a.service);
  assert.equal(p1.fault, a.fault);
  assert.equal(p1.injectAtMs, a.injectAtMs);
  const bad = await runCli(['testbed', 'record', '--scenario', 'payment_nosuch', '--dry-run']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown fault "nosuch"/);
});

test('case metrics are derived per service and second from spans and gauges', () => {
  const res = { attributes: {} };
  const span = (service: string, startS: number, ms: number, err = false): Span => ({
    traceId: 't', spanId: 's', name: 'GET /x', kind: 2, startUs: startS * 1e6, endUs: startS * 1e6 + ms * 1000, service,
    attributes: { 'http.response.status_code': err ? 503 : 200 }, events: [], links: [], status: { code: err ? 2 : 0 }, resource: res,
  });
  const spans = [span('a', 100, 10), span('a', 100, 30), span('a', 101, 100, true), span('b', 100, 5)];
  const gauge = (service: string, t: number, name: string, value: number) => ({ type: 'gauge' as const, name, service, attributes: {}, timeUs: t * 1e6, resource: res, value });
  const m = buildMetricRows(['a', 'b'], spans, [gauge('a', 100.5, 'process.cpu.utilization', 0.5), gauge('a', 100.2, 'process.memory.usage', 1e8)], 100, 103);
  assert.deepEqual(m.header.slice(0, 7), ['time', 'a_cpu', 'a_mem', 'a_latency-50', 'a_latency-90', 'a_error', 'a_workload']);
  assert.equal(m.rows.length, 3);
  assert.deepEqual(m.rows[0].slice(0, 7), [100, 0.5, 1e8, 20, 28, 0, 2]);
  // second 101: one failing slow request; gauges carried forward
  assert.deepEqual(m.rows[1].slice(0, 7), [101, 0.5, 1e8, 100, 100, 1, 1]);
  assert.equal(csvLine(['a,b', 'line1\nline2 "q"', 3]), '"a,b","line1\nline2 ""q""",3\n');
});

async function openSink(dbPath: string, port: number): Promise<TelemetrySink> {
  const { openReceiverSink } = await import('./sink.js');
  return openReceiverSink(dbPath, port);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const durMs = (s: Span) => (s.endUs - s.startUs) / 1000;
const isServer = (s: Span) => s.kind === 2;
const httpCode = (s: Span) => Number(s.attributes['http.response.status_code'] ?? 0);

test('every fault type is visible in the stored telemetry where it should be; a recorded case is complete', { skip: receiverReady ? false : 'OTLP receiver / store not in the tree yet', timeout: 240_000 }, async () => {
  const tmp = tempDir('tswarm-testbed-e2e-');
  const port = await freeLoopbackPort();
  let sink: TelemetrySink | undefined;
  let tb: Testbed | undefined;
  try {
    sink = await openSink(join(tmp.path, 'telemetry.db'), port);
    const store: MemoryStore = sink.store;
    tb = await startTestbed({ otlpEndpoint: `http://127.0.0.1:${port}`, seed: 3, exportIntervalMs: 1000 });
    assert.equal(tb.services.length, SERVICE_NAMES.length);
    // bad input to the admin API gets a clear 400, and the service keeps serving
    const badRes = await fetch(`${tb.services.find((s) => s.name === 'payment')!.adminUrl}/faults`, { method: 'POST', body: '{"fault":"nosuch"}' });
    assert.equal(badRes.status, 400);
    assert.match(((await badRes.json()) as { error: string }).error, /unknown fault "nosuch"/);
    await assert.rejects(tb.setFault('email', 'outage'), /does not apply to email/);
    // a config push names a setting, and changes it: free text or a no-op push is refused before anything is logged
    await assert.rejects(tb.setFault('email', 'config', { key: 'smtp host; rm -rf', previous: 'a', value: 'b' }), /parameter key must be a setting's name/);
    await assert.rejects(tb.setFault('email', 'config', { key: 'smtp.host', previous: 'a', value: 'a' }), /value must differ from previous/);
    await assert.rejects(tb.setFault('email', 'deploy', { fault: 'config' }), /not a config push/);
    const prom = await (await fetch(tb.services[0].metricsUrl)).text();
    assert.match(prom, /process_cpu_user_seconds_total/);

    tb.traffic.start({ model: 'closed', users: 6, thinkMs: 80, seed: 5, timeoutMs: 8000 });
    await sleep(5000);
    const baseline = { fromUs: (Date.now() - 4000) * 1000, toUs: Date.now() * 1000 };

    // each fault on its own for a few seconds; windows skip the first 400 ms after the switch
    const windows: Record<string, { fromUs: number; toUs: number }> = {};
    const plan: [string, string, Record<string, number | string>][] = [
      ['payment', 'delay', { ms: 400, jitterMs: 0 }],
      ['catalog', 'cpu', { duty: 0.8 }],
      ['recommendation', 'mem', { mbPerSecond: 30, capMb: 300 }],
      ['currency', 'loss', { rate: 0.6 }],
      ['shipping', 'error', { rate: 0.8 }],
      ['payment', 'exception', { rate: 1 }],
      ['cart', 'bug', { rate: 1 }],
      ['cart', 'outage', {}],
      ['catalog', 'slowquery', { ms: 250 }],
      ['currency', 'deploy', { fault: 'error', rate: 0.8 }],
      ['catalog', 'flag', { rate: 0.5, ms: 300 }],
      ['shipping', 'config', { key: 'rates.cache.enabled', previous: 'true', value: 'false', rate: 1, ms: 300 }],
    ];
    for (const [service, fault, params] of plan) {
      await tb.setFault(service, fault, params);
      const from = Date.now() + 400;
      await sleep(fault === 'deploy' ? 4000 : fault === 'mem' ? 3500 : 3000);
      windows[`${service}_${fault}`] = { fromUs: from * 1000, toUs: Date.now() * 1000 };
      await tb.clearFaults({ resetState: false });
      await sleep(300);
    }
    assert.deepEqual(new Set(plan.map((p) => p[1])), new Set(FAULT_TYPES), 'every fault type is exercised');

    // a short labelled case on the same shop, written from the same store
    await tb.traffic.stop();
    const casePlan = { ...planScenario('shipping_delay', 11, { normalMs: 3000, afterMs: 3000 }), noise: [] };
    const { window } = await runCase(tb, casePlan);
    await sleep(3000); // last OTLP exports

    const spans = await store.telemetry.querySpans({ window: { fromUs: baseline.fromUs, toUs: Date.now() * 1000 }, limit: 2_000_000 });
    const inWin = (w: { fromUs: number; toUs: number }, s: Span) => s.startUs >= w.fromUs && s.startUs <= w.toUs;
    const serverDur = (w: { fromUs: number; toUs: number }, service: string, op?: string) =>
      mean(spans.filter((s) => isServer(s) && s.service === service && (!op || s.name === op) && inWin(w, s)).map(durMs));
    const errorsOf = (w: { fromUs: number; toUs: number }, service: string) => spans.filter((s) => s.service === service && inWin(w, s) && (s.status.code === 2 || httpCode(s) >= 500)).length;
    assert.ok(spans.length > 500, `enough spans stored (${spans.length})`);

    // delay: the payment spans and their caller's (checkout) spans are slower by about the added latency
    const w1 = windows.payment_delay;
    assert.ok(serverDur(w1, 'payment') - serverDur(baseline, 'payment') > 300, `payment slower: ${serverDur(w1, 'payment')} vs ${serverDur(baseline, 'payment')}`);
    assert.ok(serverDur(w1, 'checkout') - serverDur(baseline, 'checkout') > 300, `checkout (caller) slower: ${serverDur(w1, 'checkout')} vs ${serverDur(baseline, 'checkout')}`);
    // The median: one slow checkout in the 4 s baseline (a GC pause, a busy CI machine) moves a mean of a dozen.
    const checkouts = (w: { fromUs: number; toUs: number }) => spans.filter((s) => isServer(s) && s.service === 'frontend' && s.name === 'POST /api/checkout' && inWin(w, s)).map(durMs);
    assert.ok(median(checkouts(w1)) - median(checkouts(baseline)) > 300, `frontend checkout slower: median ${median(checkouts(w1))} ms of ${checkouts(w1).length} vs ${median(checkouts(baseline))} ms of ${checkouts(baseline).length}`);

    const metrics = await store.telemetry.queryMetrics({ window: { fromUs: baseline.fromUs, toUs: Date.now() * 1000 }, limit: 2_000_000 });
    const gaugeMax = (w: { fromUs: number; toUs: number }, service: string, name: string) =>
      Math.max(...metrics.filter((m) => m.type === 'gauge' && m.name === name && m.service === service && m.timeUs >= w.fromUs && m.timeUs <= w.toUs + 1e6).map((m) => (m.type === 'gauge' ? m.value : 0)));
    // cpu: the catalog's CPU gauge rises and its spans get slower
    assert.ok(gaugeMax(windows.catalog_cpu, 'catalog', 'process.cpu.utilization') > 0.5, `catalog cpu ${gaugeMax(windows.catalog_cpu, 'catalog', 'process.cpu.utilization')}`);
    assert.ok(gaugeMax(windows.catalog_cpu, 'catalog', 'process.cpu.utilization') > gaugeMax(baseline, 'catalog', 'process.cpu.utilization') + 0.2);
    // mem: the recommendation's resident set grows by tens of MB
    const memGrowth = gaugeMax(windows.recommendation_mem, 'recommendation', 'process.memory.usage') - gaugeMax(baseline, 'recommendation', 'process.memory.usage');
    assert.ok(memGrowth > 40e6, `recommendation RSS grew by ${(memGrowth / 1e6).toFixed(1)} MB`);
    // loss: callers of currency see reset connections (client spans in error), currency itself answers nothing for them
    const w4 = windows.currency_loss;
    const resetClients = spans.filter((s) => s.kind === 3 && inWin(w4, s) && (s.service === 'frontend' || s.service === 'checkout') && s.status.code === 2);
    assert.ok(resetClients.length > 0, 'callers of currency have failed client spans');
    assert.ok(errorsOf(w4, 'frontend') > 0);
    // error: shipping answers 5xx and checkout fails with it
    assert.ok(errorsOf(windows.shipping_error, 'shipping') > 0);
    assert.ok(errorsOf(windows.shipping_error, 'checkout') > 0 || errorsOf(windows.shipping_error, 'frontend') > 0);
    // exception: ErrorEvents of payment with the throwing frame in the testbed source
    const w6 = windows.payment_exception;
    const errs = await store.telemetry.queryErrors({ services: ['payment'], window: { fromUs: w6.fromUs - 400_000, toUs: w6.toUs + 1e6 }, limit: 10_000 });
    assert.ok(errs.length > 0, 'payment exceptions stored as ErrorEvents');
    assert.ok(
      errs.some((e) => e.frames.some((f) => (f.file ?? '').includes('testbed/service/defects') && typeof f.line === 'number')),
      `a stack frame points into testbed/service/defects: ${JSON.stringify(errs[0]?.frames.slice(0, 3))}`,
    );
    // bug: cart answers 200 with a wrong shape; its callers fail on it
    const w7 = windows.cart_bug;
    assert.equal(errorsOf(w7, 'cart'), 0, 'the buggy cart itself reports success');
    assert.ok(spans.some((s) => isServer(s) && s.service === 'cart' && inWin(w7, s)), 'cart served requests');
    assert.ok(errorsOf(w7, 'frontend') + errorsOf(w7, 'checkout') > 0, 'callers of cart fail');
    const w7logs = await store.telemetry.queryLogs({ window: { fromUs: w7.fromUs, toUs: w7.toUs + 1e6 }, minSeverity: 17, limit: 10_000 });
    assert.ok(w7logs.some((l) => (l.service === 'frontend' || l.service === 'checkout') && /is not a function/.test(l.body)), 'the callers log the TypeError');
    // outage: cart errors while its store is unreachable
    assert.ok(errorsOf(windows.cart_outage, 'cart') > 0);
    // slow query: catalog's spans slower by about the query time
    assert.ok(serverDur(windows.catalog_slowquery, 'catalog') - serverDur(baseline, 'catalog') > 150, `catalog slower: ${serverDur(windows.catalog_slowquery, 'catalog')}`);
    // flag: every request of catalog evaluates its flag (a feature_flag.evaluation event on the server span); "off"
    // before the fault, "on" for about half of them under it, and those take the slow new code path
    const variants = (w: { fromUs: number; toUs: number }, v: string) => spans.filter((s) => isServer(s) && s.service === 'catalog' && inWin(w, s) && flagEvaluations(s).some((f) => f.key === 'catalog.new-code-path' && f.variant === v));
    assert.equal(variants(baseline, 'on').length, 0);
    assert.ok(variants(baseline, 'off').length > 0, 'the flag is evaluated before the fault');
    const on = variants(windows.catalog_flag, 'on').map(durMs);
    const off = variants(windows.catalog_flag, 'off').map(durMs);
    assert.ok(on.length > 0 && off.length > 0, `both variants served (${on.length} on, ${off.length} off)`);
    assert.ok(median(on) - median(off) > 250, `the "on" requests are slower: median ${median(on)} vs ${median(off)} ms`);
    // bad deploy: the new service.version appears with the errors it brought
    const w10 = windows.currency_deploy;
    const deployed = spans.filter((s) => s.service === 'currency' && inWin(w10, s) && s.resource.attributes['service.version'] === BAD_VERSION);
    assert.ok(deployed.length > 0, 'spans with the new version');
    assert.ok(deployed.some((s) => httpCode(s) >= 500), 'the new version fails');
    assert.ok(!spans.some((s) => s.service === 'currency' && s.startUs < w10.fromUs - 1e6 && s.resource.attributes['service.version'] === BAD_VERSION), 'the old version before');
    // config push: shipping slower by about the pushed setting's cost, and the push and its rollback said in its
    // log, as the swarm reads announcements; nothing of it on the spans
    const w12 = windows.shipping_config;
    assert.ok(serverDur(w12, 'shipping') - serverDur(baseline, 'shipping') > 250, `shipping slower under the pushed config: ${serverDur(w12, 'shipping')} vs ${serverDur(baseline, 'shipping')}`);
    const shippingLogs = await store.telemetry.queryLogs({ services: ['shipping'], window: { fromUs: w12.fromUs - 1e6, toUs: w12.toUs + 2e6 }, limit: 10_000 });
    const pushes = announcedChanges(shippingLogs).map((c) => [c.kind, c.key, c.previous, c.value, c.declared?.by, c.declared?.source]);
    assert.deepEqual(pushes, [
      ['config', 'rates.cache.enabled', 'true', 'false', 'config-server', 'log'],
      ['config', 'rates.cache.enabled', 'false', 'true', 'config-server', 'log'],
    ]);
    assert.ok(!spans.some((s) => s.service === 'shipping' && Object.keys(s.resource.attributes).some((k) => k.includes('cache'))), 'no config attribute on the spans');

    // the recorded case: complete and parseable
    const { dir, rep } = nextCaseDir(join(tmp.path, 'cases'), casePlan.service, casePlan.fault);
    const counts = await writeCase({ store, dir, plan: casePlan, rep, window, services: [...SERVICE_NAMES], topology: tb.topology });
    assert.ok(dir.endsWith(join('shipping_delay', '1')));
    for (const f of ['inject_time.txt', 'metrics.csv', 'logs.csv', 'traces.csv', 'topology.csv', 'meta.json']) assert.ok(existsSync(join(dir, f)), f);
    const inject = Number(readFileSync(join(dir, 'inject_time.txt'), 'utf8').trim());
    assert.equal(inject, Math.floor(window.injectMs / 1000));
    const mrows = parse(readFileSync(join(dir, 'metrics.csv')), { columns: true }) as Record<string, string>[];
    assert.ok(mrows.length >= 5);
    for (const s of SERVICE_NAMES) for (const sig of ['cpu', 'mem', 'latency-50', 'latency-90', 'error', 'workload']) assert.ok(`${s}_${sig}` in mrows[0], `${s}_${sig}`);
    const after = mrows.filter((r) => Number(r.time) > inject);
    const before = mrows.filter((r) => Number(r.time) < inject);
    assert.ok(Math.max(...after.map((r) => Number(r['shipping_latency-90']))) > Math.max(...before.map((r) => Number(r['shipping_latency-90']))), 'shipping latency rises after the injection');
    const trows = parse(readFileSync(join(dir, 'traces.csv')), { columns: true }) as Record<string, string>[];
    assert.equal(trows.length, counts.spans);
    for (const c of ['time', 'traceID', 'spanID', 'parentSpanID', 'serviceName', 'methodName', 'operationName', 'startTime', 'duration', 'statusCode']) assert.ok(c in trows[0], c);
    const lrows = parse(readFileSync(join(dir, 'logs.csv')), { columns: true }) as Record<string, string>[];
    assert.ok(lrows.length > 0 && 'container_name' in lrows[0] && 'message' in lrows[0] && 'timestamp' in lrows[0]);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { service: string; fault: string; injectTime: number };
    assert.equal(meta.service, 'shipping');
    assert.equal(meta.fault, 'delay');
    assert.equal(meta.injectTime, inject);

    // the knowledge graph built from the stored traces equals the shop's real call graph, directions included
    const { graphUpdates } = await import('../src/agents/learning/learning-coordinator.js');
    const { impactFromTraces } = await import('../src/algorithms/graph/impact.js');
    const all = await store.telemetry.querySpans({ limit: 2_000_000 });
    const { map } = graphUpdates(all, [], Date.now() * 1000);
    const services = new Set<string>(SERVICE_NAMES);
    const built = new Set(map.edges.filter((e) => services.has(e.source) && services.has(e.target)).map((e) => `${e.source}->${e.target}`));
    const real = new Set(tb.topology.filter((e) => services.has(e.source) && services.has(e.target)).map((e) => `${e.source}->${e.target}`));
    assert.deepEqual([...built].sort(), [...real].sort());
    // impact of payment: the user-facing checkout operation reaches it on (almost) every request
    const impact = impactFromTraces(all, map.edges, 'payment');
    assert.ok(impact.transitiveDependents.includes('frontend') && impact.directDependents.includes('checkout'));
    const checkoutOp = impact.userFacing.find((u) => u.service === 'frontend' && /checkout/i.test(u.operation));
    // (well under 1 here: during the other faults many checkouts fail before they reach payment)
    assert.ok(checkoutOp && checkoutOp.share > 0.3, JSON.stringify(impact.userFacing));
    assert.ok(!impact.userFacing.some((u) => /home|product/.test(u.operation)), "browsing never reaches payment");
  } finally {
    await tb?.stop();
    await sink?.close();
    tmp.cleanup();
  }
});
