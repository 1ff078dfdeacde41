import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declaredChanges } from '../declared-changes.js';
import { changeList } from '../feedback/memory-ops.js';
import { openStore } from '../../store/open.js';
import { silentLogger } from '../../fleet/logger.js';
import type { LogRecord, Span } from '../../signals/model.js';
import { changePoints } from '../../algorithms/perf/changepoint.js';
import { burnAlerts, sloStatus, type SliBucket } from '../../algorithms/perf/slo.js';
import { PerformanceTester } from './performance-tester.js';
import { parseSlos, SLO_CONFIG_KIND } from '../../config/slo-config.js';
import type { Finding } from '../../fleet/contracts.js';
import type { MemoryStore } from '../../store/store.js';

/** The agent over `window`, its clock at the window's end. */
function analyse(store: MemoryStore, window: { fromUs: number; toUs: number }): Promise<Finding[]> {
  return new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
}

test('energy change points find a lasting shift with before/after values and ignore noise', () => {
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const ys = Array.from({ length: 80 }, (_, i) => (i < 50 ? 100 : 160) + 10 * (rnd() - 0.5));
  const cps = changePoints(ys);
  assert.equal(cps.length, 1);
  assert.ok(Math.abs(cps[0]!.index - 50) <= 1);
  assert.ok(Math.abs(cps[0]!.before - 100) < 3 && Math.abs(cps[0]!.after - 160) < 3);
  assert.ok(cps[0]!.pValue <= 0.01);
  assert.deepEqual(changePoints(Array.from({ length: 80 }, () => 100 + 10 * (rnd() - 0.5))), []);
});

test('SLO status: the burn over 5 minutes, an hour and 6 hours, and the rules firing', () => {
  const H = 3600e6;
  const now = 10 * H;
  // An hour of 100 requests per 10 s, 2 bad each; the last 5 minutes 20 bad.
  const buckets: SliBucket[] = Array.from({ length: 360 }, (_, i) => ({ startUs: now - H + i * 10e6, total: 100, bad: i >= 330 ? 20 : 2 }));
  const st = sloStatus({ service: 's', objective: 0.99, kind: 'availability' }, buckets, now);
  assert.deepEqual(st.burn, { '5m': 20, '1h': 3.5, '6h': 3.5 });
  assert.deepEqual(st.alerting, []);
  assert.deepEqual(sloStatus({ service: 's', objective: 0.999, kind: 'availability' }, buckets, now).alerting, ['1h/5m 14.4x', '6h/30m 6x']);
});

test('SLO burn: 14.4x over 1h and 5m pages; a short blip over 5m alone does not', () => {
  const H = 3600e6;
  const now = 10 * H;
  const steady: SliBucket[] = Array.from({ length: 360 }, (_, i) => ({ startUs: now - H + i * 10e6, total: 100, bad: 2 }));
  assert.equal(burnAlerts({ service: 's', objective: 0.999, kind: 'availability' }, steady, now)[0]?.rule.name, '1h/5m 14.4x');
  const blip: SliBucket[] = steady.map((b, i) => ({ ...b, bad: i >= 330 ? 5 : 0 }));
  assert.deepEqual(burnAlerts({ service: 's', objective: 0.999, kind: 'availability' }, blip, now), []);
});

function shop(deployAtS: number, endS: number): Span[] {
  const spans: Span[] = [];
  let id = 1;
  for (let i = 0; i < endS * 5; i++) {
    const t = 1_700_000_000_000_000 + i * 200_000;
    const after = t >= 1_700_000_000_000_000 + deployAtS * 1e6;
    const version = after ? '1.5.0-rc.1' : '1.4.2';
    const dur = (after ? 180_000 : 30_000) + (i % 5) * 2000;
    spans.push({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (id++).toString(16).padStart(16, '0'), name: 'GET /quote', kind: 2, startUs: t, endUs: t + dur, service: 'shipping', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'shipping', 'service.version': version } } });
  }
  return spans;
}

test('a bad deploy yields a latency anomaly and a regression naming the new service.version; baselines are stored', async () => {
  const store = await openStore(':memory:');
  try {
    const spans = shop(125, 240); // the deploy 5 s into a 10 s bucket
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: spans[0]!.startUs, toUs: spans[spans.length - 1]!.endUs + 1 };
    const f = await analyse(store, window);
    const anomaly = f.find((x) => x.kind === 'anomaly' && x.subject.service === 'shipping');
    assert.ok(anomaly, JSON.stringify(f.map((x) => x.title)));
    const detectedAfterS = ((anomaly.data!.firstDetectionUs as number) - spans[0]!.startUs) / 1e6 - 125;
    // The onset is the first slow request inside the flagged bucket, not the bucket's start.
    assert.ok(detectedAfterS >= 0 && detectedAfterS < 1, `detected ${detectedAfterS} s after the deploy`);
    const slow = new Set(spans.filter((s) => s.endUs - s.startUs >= 100_000).map((s) => s.traceId));
    assert.ok(anomaly.evidence.traceIds?.length, 'exemplar traces');
    assert.ok(anomaly.evidence.traceIds!.every((id) => slow.has(id)), 'the exemplars are slow requests');
    // The deploy just before the onset is in its evidence.
    assert.equal(anomaly.evidence.deploys?.[0]?.version, '1.5.0-rc.1');
    assert.ok(anomaly.evidence.chain!.some((c) => /^0 s after the deploy of 1\.5\.0-rc\.1$/.test(c)), anomaly.evidence.chain!.join(' | '));
    const reg = f.find((x) => x.kind === 'regression');
    assert.ok(reg, 'a regression finding');
    assert.match(reg.title, /after deploy of 1\.5\.0-rc\.1/);
    assert.equal(reg.evidence.deploys?.[0]?.version, '1.5.0-rc.1');
    assert.ok((await store.patterns.get('performance-baseline', 'shipping|p95'))!.value);
  } finally {
    await store.close();
  }
});

test("a quiet service's one slow request per bucket is no p95 anomaly; a slow path of 7% of a busy service's requests is one, against a baseline with none", async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    const span = (service: string, i: number, t: number, dur: number): Span => ({ traceId: `${service === 'email' ? 'e' : 'f'}${i.toString(16).padStart(31, '0')}`, spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /x', kind: 2, startUs: t, endUs: t + dur, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': service } } });
    // email: a request a second at 2 ms; from 120 s on, one in each of three 10 s buckets takes 20 ms (a hiccup
    // of the machine): each bucket's p95 is 10x the baseline, and it is one request in ten.
    for (let i = 0; i < 240; i++) spans.push(span('email', i, T + i * 1e6, [125, 135, 145].includes(i) ? 20_000 : 2000 + (i % 3) * 100));
    // frontend: 20 requests a second at 20 ms; from 120 s on, checkout (7% of them) takes 400 ms.
    for (let i = 0; i < 4800; i++) spans.push(span('frontend', i, T + i * 50_000, i >= 2400 && i % 100 < 7 ? 400_000 : 20_000 + (i % 7) * 300));
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: T + 100e6, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const anomalies = f.filter((x) => x.kind === 'anomaly');
    assert.ok(!anomalies.some((x) => x.subject.service === 'email'), anomalies.map((x) => x.title).join(' | '));
    const fe = anomalies.find((x) => x.subject.service === 'frontend' && x.subject.metric === 'latency p95');
    assert.ok(fe, JSON.stringify(f.map((x) => x.title)));
    assert.ok(fe.evidence.chain!.some((c) => /; \d+ of \d+ requests from the first to the last were over the threshold, 0 of \d+ in the baseline$/.test(c)), fe.evidence.chain!.join(' | '));
  } finally {
    await store.close();
  }
});

test('an error-rate anomaly is told over all its flagged buckets (failed / requests), not by its worst bucket', async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    // 5 requests/s for 240 s; from 120 s on, 9 in 10 fail in one 10 s bucket and 1 in 10 in the next: half of them.
    for (let i = 0; i < 1200; i++) {
      const t = T + i * 200_000;
      const bucket = Math.floor((t - T) / 10e6);
      const failed = bucket >= 12 && i % 10 < (bucket % 2 === 0 ? 9 : 1);
      spans.push({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /quote', kind: 2, startUs: t, endUs: t + 30_000, service: 'shipping', attributes: {}, events: [], links: [], status: { code: failed ? 2 : 0 }, resource: { attributes: { 'service.name': 'shipping', 'service.version': '1.4.2' } } });
    }
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: T, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const anomaly = f.find((x) => x.kind === 'anomaly' && x.subject.metric === 'error rate');
    assert.ok(anomaly, JSON.stringify(f.map((x) => x.title)));
    assert.match(anomaly.title, /^shipping error rate 50\.0% vs baseline 0\.0%/);
    assert.equal(anomaly.evidence.metrics![0]!.observed, 0.5);
    assert.ok(anomaly.evidence.chain!.some((c) => /; 300 of 600 requests from the first to the last failed, 0 of \d+ in the baseline; 90% in the worst bucket$/.test(c)), anomaly.evidence.chain!.join(' | '));
  } finally {
    await store.close();
  }
});

test("a quiet service's two failed requests in twenty are no error-rate anomaly; a slow trickle that fails a third of them is", async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    const span = (service: string, i: number, t: number, failed: boolean): Span => ({ traceId: `${service.slice(0, 1)}${i.toString(16).padStart(31, '0')}`, spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /x', kind: 2, startUs: t, endUs: t + 20_000, service, attributes: {}, events: [], links: [], status: { code: failed ? 2 : 0 }, resource: { attributes: { 'service.name': service } } });
    // A request a second each; after 120 s email fails two in twenty (in two buckets), ledger one in three.
    for (let i = 0; i < 240; i++) {
      spans.push(span('email', i, T + i * 1e6, i === 125 || i === 133));
      spans.push(span('ledger', i, T + i * 1e6, i >= 120 && i % 3 === 0));
    }
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: T + 100e6, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const anomalies = f.filter((x) => x.kind === 'anomaly' && x.subject.metric === 'error rate');
    assert.deepEqual(anomalies.map((x) => x.subject.service), ['ledger'], anomalies.map((x) => x.title).join(' | '));
  } finally {
    await store.close();
  }
});

test('errors that rise after a config change and traffic that halves after a deploy are regressions naming the change; traffic that halves with no change is demand, not a regression; traffic that falls because the deploy made requests slower is part of the latency regression', async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    let id = 1;
    const add = (service: string, t: number, resource: Record<string, string>, failed: boolean, extraUs = 0): void => {
      const n = id++;
      spans.push({ traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0'), name: 'GET /', kind: 2, startUs: t, endUs: t + 20_000 + (n % 5) * 1000 + extraUs, service, attributes: {}, events: [], links: [], status: { code: failed ? 2 : 0 }, resource: { attributes: { 'service.name': service, ...resource } } });
    };
    for (let i = 0; i < 2400; i++) {
      const t = T + i * 100_000; // 10 requests/s for 240 s; the changes at 120 s
      const late = i >= 1200;
      // cart: app.config.version 41 -> 42, and then one request in ten fails.
      add('cart', t, { 'service.version': '3.1.0', 'app.config.version': late ? '42' : '41' }, late && i % 10 === 3);
      // search: deploy 2.0.0 -> 2.1.0, and then 4 requests/s instead of 10.
      if (!late || i % 5 < 2) add('search', t, { 'service.version': late ? '2.1.0' : '2.0.0' }, false);
      // ads: the same fall in traffic, nothing changed in the service.
      if (!late || i % 5 < 2) add('ads', t, { 'service.version': '7.0.0' }, false);
      // checkout: deploy 5.0.0 -> 5.1.0 makes each request 60 ms slower, and its waiting callers send 4 a second.
      if (!late || i % 5 < 2) add('checkout', t, { 'service.version': late ? '5.1.0' : '5.0.0' }, false, late ? 60_000 : 0);
    }
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: T, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const regs = f.filter((x) => x.kind === 'regression');
    const err = regs.find((x) => x.subject.service === 'cart' && x.subject.metric === 'error rate');
    assert.ok(err, JSON.stringify(regs.map((x) => x.title)));
    assert.match(err.title, /^cart error rate rose 0\.0% → 1\d\.\d% after config change app\.config\.version=42$/);
    assert.deepEqual(err.evidence.configChanges?.map((c) => [c.key, c.previous, c.value]), [['app.config.version', '41', '42']]);
    assert.ok(Math.abs(Number(err.data!.changePointUs) - (T + 120e6)) <= 8e6, `${(Number(err.data!.changePointUs) - T) / 1e6} s`);
    const tput = regs.find((x) => x.subject.service === 'search' && x.subject.metric === 'throughput');
    assert.ok(tput, JSON.stringify(regs.map((x) => x.title)));
    assert.match(tput.title, /^search throughput fell 10\.\d req\/s → 4\.\d req\/s \(-\d+%\) after deploy of 2\.1\.0$/);
    assert.equal(tput.subject.version, '2.1.0');
    assert.deepEqual(regs.filter((x) => x.subject.service === 'ads').map((x) => x.title), []);
    // One finding for checkout: its latency regression, with the fall in traffic as its effect.
    const checkout = regs.filter((x) => x.subject.service === 'checkout');
    assert.deepEqual(checkout.map((x) => x.subject.metric), ['latency p95'], JSON.stringify(checkout.map((x) => x.title)));
    assert.match(checkout[0]!.title, /after deploy of 5\.1\.0$/);
    assert.ok(checkout[0]!.evidence.chain!.some((c) => /^throughput fell with it, 10\.\d req\/s → 4\.\d req\/s \(-\d+%/.test(c)), checkout[0]!.evidence.chain!.join(' | '));
    assert.deepEqual(checkout[0]!.evidence.metrics!.map((m) => m.series), ['latency p95', 'throughput']);
  } finally {
    await store.close();
  }
});

test('daily seasonality: after two days the noon peak is normal and a 03:00 spike to three times the usual is an anomaly; baselines per operation keep p50/p95/p99', { timeout: 120_000 }, async () => {
  const H = 3600e6;
  const T0 = Math.floor(1_700_000_000_000_000 / (24 * H)) * 24 * H; // a UTC midnight
  // Two requests every 10 s for three and a half days: 35 ms at 00:00, 125 ms at 12:00 (a daily cosine). On day 4,
  // 03:00–03:10, requests take 150 ms: three times the usual at 03:00, and within two flat spreads of the day's
  // median, so a flat baseline would not flag it.
  const spikeFrom = T0 + 75 * H;
  const spikeTo = spikeFrom + 10 * 60e6;
  const spans: Span[] = [];
  let id = 1;
  for (let t = T0; t < T0 + 84 * H; t += 5e6) {
    const hour = ((t - T0) / H) % 24;
    const normal = 80 - 45 * Math.cos((2 * Math.PI * hour) / 24);
    const ms = t >= spikeFrom && t < spikeTo ? 150 : normal * (0.97 + 0.06 * ((id * 7919) % 101) / 101);
    spans.push({ traceId: id.toString(16).padStart(32, '0'), spanId: (id++).toString(16).padStart(16, '0'), name: id % 2 ? 'GET /cart' : 'POST /cart', kind: 2, startUs: t, endUs: t + ms * 1000, service: 'cart', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'cart' } } });
  }
  const store = await openStore(':memory:');
  try {
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const found: string[] = [];
    // Cycles of 6 h, the way a scheduled run would go through the days.
    for (let from = T0 + 6 * H; from < T0 + 84 * H; from += 6 * H) {
      const window = { fromUs: from, toUs: from + 6 * H };
      const f = await analyse(store, window);
      for (const x of f.filter((x) => x.kind === 'anomaly' && /p95/.test(x.title))) found.push(`${new Date(Number(x.data!.firstDetectionUs) / 1000).toISOString()} ${x.title}`);
    }
    const afterTwoDays = found.filter((x) => Date.parse(x.slice(0, 24)) * 1000 >= T0 + 48 * H);
    assert.equal(afterTwoDays.length, 1, `one anomaly once the profile judges: ${found.join(' | ')}`);
    assert.ok(Date.parse(afterTwoDays[0]!.slice(0, 24)) * 1000 >= spikeFrom && Date.parse(afterTwoDays[0]!.slice(0, 24)) * 1000 < spikeTo, afterTwoDays[0]);
    assert.match(afterTwoDays[0]!, /vs usual at this hour \d+ ms/);
    const p95 = await store.patterns.get<{ hourly: { level: number[] } }>('performance-baseline', 'cart|p95');
    assert.ok(p95!.value.hourly.level[12]! > 2.5 * p95!.value.hourly.level[0]!, 'the stored profile: noon well above midnight');
    const op = await store.patterns.get<{ p50Ms: number; p95Ms: number; p99Ms: number }>('performance-baseline', 'cart|op:GET /cart');
    assert.ok(op && op.value.p50Ms <= op.value.p95Ms && op.value.p95Ms <= op.value.p99Ms, JSON.stringify(op?.value));
  } finally {
    await store.close();
  }
});

test("the swarm's own chaos experiment is not a performance anomaly; a slowdown after it is, saying what was left out", async () => {
  const T0 = 1_700_000_000_000_000;
  // shipping at 30 ms; 2 s slower while an experiment injected latency (100–130 s); 180 ms from 170 s on (a real fault).
  const spans: Span[] = [];
  for (let i = 0; i < 240 * 5; i++) {
    const t = T0 + i * 200_000;
    const s = (t - T0) / 1e6;
    const dur = (s >= 100 && s < 130 ? 2_000_000 : s >= 170 ? 180_000 : 30_000) + (i % 5) * 2000;
    spans.push({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /quote', kind: 2, startUs: t, endUs: t + dur, service: 'shipping', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'shipping', 'service.version': '1.4.2' } } });
  }
  const window = { fromUs: T0, toUs: T0 + 240e6 };
  const run = async (experiment: boolean) => {
    const store = await openStore(':memory:');
    try {
      await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
      // What the chaos engineer keeps of a run (the fields the other agents read).
      if (experiment) await store.patterns.put('chaos-journal', 'E-1', { experiment: { title: 'shipping stays fast when its cache is slow' }, start: new Date((T0 + 99e6) / 1000).toISOString(), end: new Date((T0 + 130e6) / 1000).toISOString(), dry_run: false });
      return await analyse(store, window);
    } finally {
      await store.close();
    }
  };
  const latency = (f: Awaited<ReturnType<typeof run>>) => f.filter((x) => x.subject.service === 'shipping' && x.subject.metric === 'latency p95');
  const atS = (f: { data?: Record<string, unknown> }): number => ((f.data!.firstDetectionUs as number) - T0) / 1e6;
  const blind = latency(await run(false)).filter((x) => x.kind === 'anomaly');
  assert.ok(blind.some((x) => atS(x) >= 100 && atS(x) < 131), `unrecorded, the experiment reads as an anomaly: ${blind.map(atS)}`);
  const cpS = (x: { data?: Record<string, unknown> }): number => ((x.data!.changePointUs as number) - T0) / 1e6;
  const told = await run(true);
  const anomalies = latency(told).filter((x) => x.kind === 'anomaly');
  assert.equal(anomalies.length, 1, anomalies.map((x) => x.title).join(' | '));
  assert.ok(atS(anomalies[0]!) >= 170 && atS(anomalies[0]!) < 171, `the real fault's onset: ${atS(anomalies[0]!)} s`);
  assert.ok(anomalies[0]!.evidence.chain!.includes(`left out: buckets during the swarm's own chaos experiment "shipping stays fast when its cache is slow"`), anomalies[0]!.evidence.chain!.join(' | '));
  // The lasting slowdown is a regression; the experiment's step up and down is none.
  const regressions = latency(told).filter((x) => x.kind === 'regression');
  assert.ok(regressions.length >= 1 && regressions.every((x) => cpS(x) >= 165), regressions.map((x) => `${x.title} at ${cpS(x)} s`).join(' | '));
});

test("an SLO burn says how much of it the swarm's own chaos experiment burned", async () => {
  const T0 = 1_700_000_000_000_000;
  const end = T0 + 65 * 60e6;
  // One request a second for 65 minutes; all fail during a 5-minute experiment that ends 1 minute before the end.
  const [chaosFrom, chaosTo] = [end - 6 * 60e6, end - 60e6];
  const spans: Span[] = [];
  for (let t = T0, i = 0; t < end; t += 1e6, i++) {
    const failed = t >= chaosFrom && t < chaosTo;
    spans.push({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /quote', kind: 2, startUs: t, endUs: t + 20_000, service: 'shipping', attributes: {}, events: [], links: [], status: { code: failed ? 2 : 0 }, resource: { attributes: { 'service.name': 'shipping' } } });
  }
  const store = await openStore(':memory:');
  try {
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    await store.patterns.put('chaos-journal', 'E-2', { experiment: { title: 'shipping survives its database failing' }, start: new Date(chaosFrom / 1000).toISOString(), end: new Date(chaosTo / 1000).toISOString(), dry_run: false });
    const window = { fromUs: end - 15 * 60e6, toUs: end };
    const f = await analyse(store, window);
    const burn = f.find((x) => x.kind === 'slo-burn' && x.subject.service === 'shipping' && x.data?.rule === '1h/5m 14.4x');
    assert.ok(burn, f.map((x) => x.title).join(' | '));
    // Users saw those errors, so the budget is burned all the same; the reader is told whose they were.
    assert.ok(burn.evidence.chain!.includes(`300 of the 300 failed requests in the long window came during the swarm's own chaos experiment "shipping survives its database failing"`), burn.evidence.chain!.join(' | '));
    assert.ok(!f.some((x) => x.kind === 'anomaly' && x.subject.service === 'shipping'), 'and the experiment is no anomaly');
  } finally {
    await store.close();
  }
});

test('a latency SLO from the config (stored in memory) burns on slow requests that fail nothing; without it only availability is judged', async () => {
  const T0 = 1_700_000_000_000_000;
  const end = T0 + 20 * 60e6;
  // Two requests a second for 20 minutes, 30 ms each; in the last 10 minutes two in five take 500 ms. None fails.
  const spans: Span[] = [];
  for (let t = T0, i = 0; t < end; t += 500_000, i++) {
    const slow = t >= end - 10 * 60e6 && i % 5 < 2;
    spans.push({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /quote', kind: 2, startUs: t, endUs: t + (slow ? 500_000 : 30_000), service: 'shipping', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'shipping' } } });
  }
  const store = await openStore(':memory:');
  try {
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const window = { fromUs: end - 15 * 60e6, toUs: end };
    const run = async (): Promise<Finding[]> => (await analyse(store, window)).filter((x) => x.kind === 'slo-burn');
    assert.deepEqual(await run(), [], 'the default availability SLO: nothing failed');
    await store.patterns.put(SLO_CONFIG_KIND, 'current', { slos: parseSlos([{ service: 'shipping', latency: '300ms', objective: 99 }, { service: '*', availability: 99.9 }]) });
    const burns = await run();
    const page = burns.find((x) => x.data?.rule === '1h/5m 14.4x');
    assert.ok(page, burns.map((x) => x.title).join(' | '));
    // 40% slow over the last 5 minutes against a 1% budget: 40×; 20% over the 20 minutes there are: 20×.
    assert.match(page.title, /^shipping burns its latency budget \(99% of requests under 300 ms\) 4\d\.\d× too fast \(1h\/5m 14\.4x\)$/);
    assert.equal(page.subject.metric, 'latency');
    assert.equal(page.severity, 'critical');
    assert.ok(page.evidence.chain![0]!.startsWith('SLO: 99% of requests under 300 ms; error budget 1% of requests'), page.evidence.chain!.join(' | '));
    assert.ok(Math.abs(Number(page.data!.longBurn) - 20) < 1.5, String(page.data!.longBurn));
    // What is left of the 30-day budget: 20% of 20 minutes' requests were slow against 1% allowed, 20× spent.
    assert.match(page.evidence.chain!.at(-1)!, /^30-day error budget overspent: (19|20|21)(\.\d+)?× of it used \(20 min of data so far\)$/);
    assert.ok(burns.every((x) => x.subject.metric === 'latency'), 'its own SLO replaces the catch-all for shipping');
    // The report's table of SLOs: where each stands at the window's end.
    const { collectFigures } = await import('../../feedback/collect-figures.js');
    const table = (await collectFigures(store, { findings: burns, window })).flatMap((x) => x.figures).find((x) => x.id === 'slos');
    assert.ok(table?.type === 'table');
    assert.deepEqual(table.columns, ['service', 'SLO', '5 min', '1 h', '6 h', 'firing', 'error budget']);
    assert.deepEqual(table.rows.map((r) => [r[0], r[1], r[5]]), [['shipping', '99% of requests under 300 ms', '1h/5m 14.4x, 6h/30m 6x']]);
    assert.match(String(table.rows[0]![2]), /^4\d×$/);
    // Its slow spell spent the budget of the little traffic seen so far many times over.
    assert.match(String(table.rows[0]![6]), /^overspent \d+(\.\d+)?×$/);
  } finally {
    await store.close();
  }
});

test('declared changes: a flag flip that shows on no span names the latency regression and anomaly after it; a declared deploy is the one seen on spans, dated when it was made; a traffic fall after a declared deploy is a regression', async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    let id = 1;
    const add = (service: string, t: number, version: string, durUs: number): void => {
      const n = id++;
      spans.push({ traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0'), name: 'GET /', kind: 2, startUs: t, endUs: t + durUs + (n % 5) * 1000, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': service, 'service.version': version } } });
    };
    for (let i = 0; i < 2400; i++) {
      const t = T + i * 100_000; // 10 requests/s for 240 s; the effects from 120 s
      const late = i >= 1200;
      // pricing: nothing on its spans changes but the latency (a flag flipped at run time).
      add('pricing', t, '5.0.0', late ? 150_000 : 20_000);
      // search: its new version's first span at 120 s; the pipeline declared the rollout at 100 s.
      add('search', t, late ? '2.1.0' : '2.0.0', late ? 150_000 : 20_000);
      // ads: traffic falls, nothing on its spans changes; a deploy was declared.
      if (!late || i % 5 < 2) add('ads', t, '7.0.0', 20_000);
    }
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const { recordChanges } = await import('../declared-changes.js');
    const { parseChanges } = await import('../../signals/change-event.js');
    await recordChanges(store, parseChanges([
      { service: 'pricing', kind: 'flag', key: 'new-pricing', value: 'on', previous: 'off', atUs: T + 118e6, by: 'flagd', url: 'https://flags.example/audit/9' },
      { service: 'search', version: '2.1.0', atUs: T + 100e6, by: 'deploy-pipeline' },
      { service: 'ads', version: '7.0.1', atUs: T + 119e6 },
      // Another service's change, and one long before: neither is near anything here.
      { service: 'cart', version: '9.9.9', atUs: T + 119e6 },
      { service: 'pricing', version: '4.0.0', atUs: T - 3600e6 },
    ], T + 240e6));
    const window = { fromUs: T, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const regs = f.filter((x) => x.kind === 'regression');
    const titles = JSON.stringify(f.map((x) => x.title));
    const pricing = regs.find((x) => x.subject.service === 'pricing' && x.subject.metric === 'latency p95');
    assert.ok(pricing, titles);
    assert.match(pricing.title, /after flag flip new-pricing=on$/);
    assert.deepEqual(pricing.evidence.configChanges, [{ service: 'pricing', key: 'new-pricing', value: 'on', previous: 'off', atUs: T + 118e6, kind: 'flag', declared: { by: 'flagd', url: 'https://flags.example/audit/9' } }]);
    assert.ok(pricing.evidence.chain!.some((c) => c.startsWith('nearest change: the flag flip new-pricing: off → on (declared by flagd, https://flags.example/audit/9) of pricing')), pricing.evidence.chain!.join(' | '));
    const anomaly = f.find((x) => x.kind === 'anomaly' && x.subject.service === 'pricing');
    assert.ok(anomaly, titles);
    assert.ok(anomaly.evidence.chain!.some((c) => /^\d s after the flag flip new-pricing: off → on \(declared by flagd/.test(c)), anomaly.evidence.chain!.join(' | '));
    const search = regs.find((x) => x.subject.service === 'search' && x.subject.metric === 'latency p95');
    assert.ok(search, titles);
    assert.deepEqual(search.evidence.deploys, [{ service: 'search', version: '2.1.0', atUs: T + 100e6, declared: { by: 'deploy-pipeline' } }]);
    const ads = regs.find((x) => x.subject.service === 'ads' && x.subject.metric === 'throughput');
    assert.ok(ads, titles);
    assert.match(ads.title, /after deploy of 7\.0\.1$/);
    assert.ok(!f.some((x) => /9\.9\.9|4\.0\.0/.test(JSON.stringify(x.evidence))), 'changes of other services or long before are cited nowhere');
    // The report draws every declared change in the window (cited or not) on the timeline, and a service's own on its plot.
    const { collectFigures } = await import('../../feedback/collect-figures.js');
    const figures = (await collectFigures(store, { findings: f, window })).flatMap((x) => x.figures);
    const timeline = figures.find((x) => x.type === 'timeline');
    assert.ok(timeline?.type === 'timeline');
    const changeEvents = timeline.events.filter((e) => e.kind === 'deploy').map((e) => [(e.atUs - T) / 1e6, e.label]);
    assert.deepEqual(changeEvents, [[100, 'deploy search 2.1.0'], [118, 'flag pricing new-pricing: off → on'], [119, 'deploy ads 7.0.1'], [119, 'deploy cart 9.9.9']]);
    const plot = figures.find((x) => x.type === 'timeseries' && x.id === 'p95-pricing');
    assert.ok(plot?.type === 'timeseries', figures.map((x) => x.id).join(', '));
    assert.deepEqual(plot.markers!.filter((m) => m.kind === 'deploy'), [{ x: T + 118e6, label: 'new-pricing', kind: 'deploy' }]);
  } finally {
    await store.close();
  }
});

test('a config change a service announces in its own log names the regression and anomaly after it; a poller\'s reloads name nothing', async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    let id = 1;
    for (let i = 0; i < 2400; i++) {
      const t = T + i * 100_000; // 10 requests/s for 240 s; both slow down from 120 s
      for (const service of ['pricing', 'search']) {
        const n = id++;
        spans.push({ traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0'), name: 'GET /', kind: 2, startUs: t, endUs: t + (i >= 1200 ? 150_000 : 20_000) + (n % 5) * 1000, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': service } } });
      }
    }
    const logLine = (service: string, atS: number, body: string): LogRecord => ({ timeUs: T + atS * 1e6, service, severityNumber: 9, body, attributes: {}, resource: { attributes: { 'service.name': service } } });
    const logs = [
      // pricing: an operator's change, 2 s before the slowdown, said in its structured log and nowhere else.
      logLine('pricing', 118, '{"level":"info","msg":"configuration changed","key":"cache.ttl","value":"0","previous":"300","by":"ops-console"}'),
      // search: it re-reads its config every 30 s and says so; one of them falls next to its slowdown.
      ...Array.from({ length: 8 }, (_, i) => logLine('search', 29 + i * 30, 'configuration reloaded')),
    ];
    await store.telemetry.ingest({ spans, logs, metrics: [], errors: [] });
    const window = { fromUs: T, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const titles = JSON.stringify(f.map((x) => x.title));
    const reg = (svc: string): Finding | undefined => f.find((x) => x.kind === 'regression' && x.subject.service === svc && x.subject.metric === 'latency p95');
    const pricing = reg('pricing');
    assert.ok(pricing, titles);
    assert.match(pricing.title, /after config change cache\.ttl=0$/);
    assert.deepEqual(pricing.evidence.configChanges, [{ service: 'pricing', key: 'cache.ttl', value: '0', previous: '300', atUs: T + 118e6, declared: { by: 'ops-console', description: 'configuration changed', source: 'log' } }]);
    assert.ok(pricing.evidence.chain!.some((c) => c.startsWith('nearest change: the config change cache.ttl: 300 → 0 (announced in its log by ops-console: "configuration changed") of pricing')), pricing.evidence.chain!.join(' | '));
    const anomaly = f.find((x) => x.kind === 'anomaly' && x.subject.service === 'pricing');
    assert.ok(anomaly, titles);
    assert.ok(anomaly.evidence.chain!.some((c) => /^\d s after the config change cache\.ttl: 300 → 0 \(announced in its log/.test(c)), anomaly.evidence.chain!.join(' | '));
    const search = reg('search');
    assert.ok(search, titles);
    assert.ok(!/after/.test(search.title) && !search.evidence.configChanges, `search's routine reloads are no change: ${search.title}`);

    // The cited announcement joins the change list (said to be announced, not declared); the poller's do not.
    const announced = { kind: 'config', service: 'pricing', key: 'cache.ttl', value: '0', previous: '300', atUs: T + 118e6, by: 'ops-console', description: 'configuration changed', source: 'log' };
    assert.deepEqual(await declaredChanges(store, window), [announced]);
    assert.match((await changeList(store, { days: 1e5 })).summary, /config pricing cache\.ttl: 300 → 0 by ops-console \(announced in its log\)$/);
    // The next cycle reads it back as it was recorded: the same evidence, still announced, the change listed once.
    const again = (await analyse(store, window)).find((x) => x.kind === 'regression' && x.subject.service === 'pricing' && x.subject.metric === 'latency p95');
    assert.deepEqual(again?.evidence.configChanges, pricing.evidence.configChanges);
    assert.deepEqual(await declaredChanges(store, window), [announced]);
    // On the report's timeline once, cited and listed alike.
    const { collectFigures } = await import('../../feedback/collect-figures.js');
    const timeline = (await collectFigures(store, { findings: f, window })).flatMap((x) => x.figures).find((x) => x.type === 'timeline');
    assert.ok(timeline?.type === 'timeline');
    assert.deepEqual(timeline.events.filter((e) => e.kind === 'deploy').map((e) => [(e.atUs - T) / 1e6, e.label]), [[118, 'config pricing cache.ttl: 300 → 0 (announced in its log)']]);
  } finally {
    await store.close();
  }
});

for (const recorded of ['span events', 'log events'] as const)
test(`flags (${recorded}): a canary variant that starts being served is the change a latency regression names, and its requests are named as the slow ones`, async () => {
  const store = await openStore(':memory:');
  try {
    const T = 1_700_000_000_000_000;
    const spans: Span[] = [];
    for (let i = 0; i < 2400; i++) {
      const t = T + i * 100_000; // 10 requests/s for 240 s; from 120 s one request in four gets new-pricing=on, and is slow
      const on = i >= 1200 && i % 4 === 0;
      const hex = (i + 1).toString(16);
      spans.push({
        traceId: hex.padStart(32, '0'), spanId: hex.padStart(16, '0'), name: 'GET /price', kind: 2, startUs: t, endUs: t + (on ? 250_000 : 20_000) + (i % 5) * 1000, service: 'pricing', attributes: {}, links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'pricing', 'service.version': '5.0.0' } },
        events: [{ name: 'feature_flag.evaluation', timeUs: t + 500, attributes: { 'feature_flag.key': 'new-pricing', 'feature_flag.result.variant': on ? 'on' : 'off', 'feature_flag.provider.name': 'flagd' } }],
      });
    }
    // The current convention: each evaluation an Event (a log record) on the request's span instead.
    const logs: LogRecord[] = recorded === 'span events' ? [] : spans.map((sp) => ({ timeUs: sp.events[0]!.timeUs, service: sp.service, severityNumber: 9, body: '', eventName: 'feature_flag.evaluation', attributes: sp.events[0]!.attributes, traceId: sp.traceId, spanId: sp.spanId, resource: sp.resource }));
    if (recorded === 'log events') for (const sp of spans) sp.events = [];
    await store.telemetry.ingest({ spans, logs, metrics: [], errors: [] });
    const window = { fromUs: T, toUs: T + 240e6 };
    const f = await analyse(store, window);
    const titles = JSON.stringify(f.map((x) => x.title));
    const reg = f.find((x) => x.kind === 'regression' && x.subject.service === 'pricing' && x.subject.metric === 'latency p95');
    assert.ok(reg, titles);
    assert.match(reg.title, /after flag flip new-pricing=on$/);
    assert.deepEqual(reg.evidence.configChanges, [{ service: 'pricing', key: 'new-pricing', value: 'on', previous: 'off', atUs: T + 120e6, kind: 'flag' }]);
    assert.ok(reg.evidence.chain!.some((c) => /^\d+ of the \d+ requests with flag new-pricing=on were over \d+ ms, against 0 of the \d+ with other variants \(Fisher p = /.test(c)), reg.evidence.chain!.join(' | '));
    assert.equal((reg.data!.flag as { variant: string }).variant, 'on');
    const anomaly = f.find((x) => x.kind === 'anomaly' && x.subject.service === 'pricing');
    assert.ok(anomaly, titles);
    assert.ok(anomaly.evidence.chain!.some((c) => /requests with flag new-pricing=on were over [\d.]+ ms/.test(c)), anomaly.evidence.chain!.join(' | '));
  } finally {
    await store.close();
  }
});
