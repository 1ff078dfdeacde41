import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyFromVerdicts, trustOf, wilson } from './accuracy.js';
import { asGuarded, combine, guardedUpdate, initialGuarded, initialWeights, prequential, prequentialGuarded, update, type GuardedWeightState, type OnlineCase, type RankedCase } from './signal-weights.js';
import { MAX_PROFILES, caseFromFinding, caseLearnerUpdate, guardedCaseUpdate, guardedRanking, initialCaseLearner, initialGuardedCaseLearner, learnedRanking, learnedScores, prequentialCaseLearner, rankGuardUpdate, initialRankGuard, staticRanking, vote, type CandidateCase } from './rank-learner.js';
import { prequentialServiceBias, rankScore, recurrenceRankings, runStarts, seededShuffle, truthPositions } from './replay-controls.js';
import { ColdStartBaseline, borrow, rankDonors, replayColdStart, similarity, type ServiceProfile } from './transfer.js';
import { synthesise } from './synthesis.js';
import type { Finding } from '../../fleet/contracts.js';

test('accuracy per agent and kind from verdicts: latest verdict wins, small samples are smoothed', () => {
  const rows = accuracyFromVerdicts([
    { findingId: 'a', agentId: 'rca', kind: 'root-cause', verdict: 'rejected', automatic: true },
    { findingId: 'a', agentId: 'rca', kind: 'root-cause', verdict: 'confirmed', automatic: false },
    { findingId: 'b', agentId: 'rca', kind: 'root-cause', verdict: 'rejected', automatic: false },
    { findingId: 'c', agentId: 'pt', kind: 'anomaly', verdict: 'confirmed', automatic: false },
  ]);
  const rca = rows.find((r) => r.agentId === 'rca' && r.kind === 'root-cause')!;
  assert.equal(rca.total, 2);
  assert.equal(rca.precision, 0.5);
  assert.equal(rca.smoothed, 0.5);
  const pt = rows.find((r) => r.agentId === 'pt' && r.kind === '*')!;
  assert.equal(pt.precision, 1);
  assert.ok(pt.smoothed < 0.7, 'one confirmation is not certainty');
  assert.ok(trustOf(rows, 'pt', 'anomaly') > trustOf(rows, 'nobody'));
  const w = wilson(45, 50);
  assert.ok(w.low > 0.78 && w.high < 0.96);
});

test('hedge moves weight to the source that ranks the confirmed truth first and keeps a floor for the rest', () => {
  let s = initialWeights(['metrics', 'traces', 'logs']);
  const scores = {
    metrics: { a: 0.9, b: 0.2 },
    traces: { a: 0.1, b: 0.8 },
    logs: { a: 0.5, b: 0.5 },
  };
  for (let i = 0; i < 5; i++) s = update(s, scores, { confirmed: 'b' });
  assert.ok(s.weights.traces! > s.weights.logs! && s.weights.logs! > s.weights.metrics!);
  assert.ok(s.weights.metrics! >= 0.2 / 3 - 1e-12);
  assert.equal(combine(scores, s)[0]!.candidate, 'b');
  const sum = Object.values(s.weights).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9);
});

test('prequential evaluation: learned weights beat equal weights when one source is consistently misleading', () => {
  // A noisy source that points at a random wrong service in most cases, two honest sources that mostly agree.
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const services = ['a', 'b', 'c', 'd', 'e'];
  const cases: OnlineCase[] = [];
  for (let i = 0; i < 40; i++) {
    const truth = services[Math.floor(rnd() * services.length)]!;
    const decoy = services.filter((x) => x !== truth)[Math.floor(rnd() * 4)]!;
    const honest = (p: number): Record<string, number> => Object.fromEntries(services.map((x) => [x, x === truth ? p + rnd() * 0.3 : rnd() * 0.6]));
    cases.push({ id: `c${i}`, truth, scores: { metrics: honest(0.5), traces: honest(0.45), logs: Object.fromEntries(services.map((x) => [x, x === decoy ? 5 : rnd()])) } });
  }
  const r = prequential(cases, ['metrics', 'traces', 'logs']);
  assert.ok(r.learnedAc1Later > r.staticAc1Later, `${r.learnedAc1Later} > ${r.staticAc1Later}`);
  assert.ok(r.finalWeights.logs! < r.finalWeights.metrics!);
});

test('guarded loop: equal weights are kept while no expert is clearly better; a source that goes bad is left (AC@1 after the break 8/30 static, 19/30 guarded)', () => {
  // One honest source, one that is noise, and a third that is honest for 15 incidents, then points at a decoy with a loud score
  // (a mislabelled exporter). The ranker is the plain weighted combination.
  let seed = 11;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const services = ['a', 'b', 'c', 'd', 'e'];
  const cases: RankedCase[] = [];
  for (let i = 0; i < 45; i++) {
    const truth = services[i % 5]!;
    const decoy = services[(i + 2) % 5]!;
    const honest = (p: number): Record<string, number> => Object.fromEntries(services.map((x) => [x, x === truth ? p + rnd() * 0.3 : rnd() * 0.6]));
    const broken = i >= 15;
    const scores = { metrics: honest(0.5), traces: Object.fromEntries(services.map((x) => [x, rnd()])), logs: broken ? Object.fromEntries(services.map((x) => [x, x === decoy ? 5 : rnd()])) : honest(0.5) };
    cases.push({ id: `c${i}`, truth, scores, rank: (w) => combine(scores, { weights: { ...w }, updates: 0 }).map((r) => r.candidate) });
  }
  const r = prequentialGuarded(cases);
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  // Before the break no expert is clearly better: the guard ships exactly what equal weights ship.
  assert.deepEqual(r.hits.slice(0, 15), r.staticHits.slice(0, 15));
  // After it, equal weights keep following the decoy in most cases; the guard leaves them within a few verdicts.
  const later = r.hits.slice(15);
  const staticLater = r.staticHits.slice(15);
  assert.ok(sum(staticLater) <= 12, `static after the break: ${sum(staticLater)}/30`);
  assert.ok(sum(later) >= sum(staticLater) + 6, `guarded after the break: ${sum(later)}/30 vs static ${sum(staticLater)}/30`);
  assert.notEqual(r.final.following, 'static');
  assert.ok(r.final.weights.logs! < r.final.weights.metrics!);
});

test('guarded loop: a rejection naming no cause moves no expert ahead; a named cause is a miss for every expert that ranked another first; old Hedge state is not followed', () => {
  let s = initialGuarded(['metrics', 'traces']);
  const scores = { metrics: { a: 0.9, b: 0.1 }, traces: { a: 0.2, b: 0.8 } };
  const tops = { static: 'a', learned: 'a', 'without:metrics': 'b', 'without:traces': 'a' };
  // "a was wrong" does not say b was right: the expert that put b first is not credited.
  for (let i = 0; i < 3; i++) s = guardedUpdate(s, scores, { rejected: 'a' }, tops);
  assert.deepEqual(s.misses, { static: 3, learned: 3, 'without:metrics': 3, 'without:traces': 3 });
  assert.equal(s.following, 'static');
  assert.ok(s.learned.metrics! < s.learned.traces!, 'Hedge still learned that metrics vouched for the rejected answer');
  // The cause named: now every expert's answer is known.
  s = guardedUpdate(s, scores, { confirmed: 'b' }, tops);
  assert.deepEqual(s.misses, { static: 4, learned: 4, 'without:metrics': 3, 'without:traces': 4 });
  assert.equal(s.following, 'static', 'one verdict is not enough (switch margin 2)');
  s = guardedUpdate(s, scores, { confirmed: 'b' }, tops);
  assert.equal(s.following, 'without:metrics');
  assert.deepEqual(s.weights, { metrics: 0, traces: 0.5 });
  // A confirmed top is as good as a named cause: the experts that put another first missed.
  s = guardedUpdate(s, scores, { confirmed: 'b' }, { ...tops, static: 'b' });
  assert.deepEqual(s.misses, { static: 5, learned: 6, 'without:metrics': 3, 'without:traces': 6 });
  // A stored state from before the guard: its weights become the learned expert, equal weights are followed.
  const old = asGuarded({ weights: { metrics: 0.8, traces: 0.1, logs: 0.1 }, updates: 5 }, ['metrics', 'traces', 'logs']);
  assert.equal(old.following, 'static');
  assert.deepEqual(old.learned, { metrics: 0.8, traces: 0.1, logs: 0.1 });
  assert.ok(Math.abs(old.weights.metrics! - 1 / 3) < 1e-12);
});

const profile = (p: Partial<ServiceProfile> & { service: string }): ServiceProfile => ({ neighbours: [], operations: [], runtime: {}, templates: [], ...p });

test('donors rank by neighbourhood, operations, runtime and templates; the same service elsewhere is the best donor', () => {
  const target = profile({ service: 'cart-v2', neighbours: ['frontend', 'checkout', 'redis'], operations: ['GET /api/cart', 'POST /api/cart/items'], runtime: { lang: 'nodejs' }, templates: ['t1', 't2'] });
  const cart = profile({ service: 'cart', neighbours: ['frontend', 'checkout', 'redis'], operations: ['GET /api/cart', 'POST /api/cart/items', 'DELETE /api/cart'], runtime: { lang: 'nodejs' }, templates: ['t1', 't2', 't3'] });
  const email = profile({ service: 'email', neighbours: ['checkout'], operations: ['POST /send'], runtime: { lang: 'nodejs' }, templates: ['t9'] });
  const ranked = rankDonors(target, [email, cart]);
  assert.equal(ranked[0]!.donor, 'cart');
  assert.ok(ranked[0]!.score > 0.7);
  assert.ok(!ranked.some((r) => r.donor === 'email' && r.score > ranked[0]!.score));
  const staging = similarity(profile({ service: 'cart', environment: 'production' }), profile({ service: 'cart', environment: 'staging' }));
  assert.equal(staging.parts.identity, 1);
});

test('cold start: a borrowed baseline detects a fault right after start, without it the detector is still warming up', () => {
  let seed = 3;
  const gauss = (): number => {
    seed = (seed * 16807) % 2147483647;
    const u = seed / 2147483647;
    seed = (seed * 16807) % 2147483647;
    const v = seed / 2147483647;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const series = Array.from({ length: 60 }, (_, i) => (i >= 8 ? 200 : 50) + 5 * gauss());
  const without = replayColdStart(series, 8);
  const donor = borrow({ mean: 52, std: 6, n: 500 }, 'cart', 0.8);
  const withT = replayColdStart(series, 8, donor);
  assert.equal(withT.delay, 0);
  assert.equal(withT.falseAlarms, 0);
  assert.ok(without.delay === undefined || without.delay > withT.delay!);
});

test('cold start: a donor whose jitter matches but whose level sits 30–55% off neither alarms on the fresh service nor misses its fault', () => {
  // The testbed's shape: email's p50 0.64 ± 0.04 ms lends to shipping, which runs at 0.46 ms (or 1 ms on a loaded
  // machine) until a 250 ms delay. Taking the donor's level as the service's flagged every point before the fault.
  for (const level of [0.46, 1.0]) {
    const series = [...Array.from({ length: 6 }, (_, i) => level * (1 + 0.03 * Math.sin(i))), ...Array.from({ length: 8 }, () => 290)];
    const t = replayColdStart(series, 6, borrow({ mean: 0.643, std: 0.0406, n: 21 }, 'email', 0.65));
    assert.equal(t.falseAlarms, 0, `level ${level}`);
    assert.equal(t.delay, 0, `level ${level}`);
  }
});

test('cold start: a prior that the first points all refuse is dropped, and the service then learns on its own data', () => {
  const series = Array.from({ length: 80 }, (_, i) => 40 + (i % 5));
  const prior = borrow({ mean: 2, std: 0.1, n: 100 }, 'wrong-donor', 0.9);
  const b = new ColdStartBaseline(prior, 30, 5);
  let alerts = 0;
  for (const x of series) {
    const z = b.score(x);
    if (z !== undefined && z > 4) {
      alerts++;
      b.refuse(x);
    } else b.add(x);
  }
  assert.equal(alerts, 5, 'alarms stop once the prior is refuted');
  assert.equal(b.hasPrior, false);
  assert.equal(b.observations, 80, 'the refused points became own data');
  // A shift after points the prior accepted is a fault: the prior stays and the fault keeps alarming.
  const c = new ColdStartBaseline(borrow({ mean: 42, std: 1.5, n: 100 }, 'good-donor', 0.9), 30, 5);
  for (const x of series.slice(0, 10)) c.add(x);
  for (let i = 0; i < 10; i++) {
    assert.ok(c.score(200)! > 4);
    c.refuse(200);
  }
  assert.equal(c.hasPrior, true);
});

const finding = (over: Partial<Finding> & { id: string }): Finding => ({
  agentId: 'qe-chaos-engineer',
  kind: 'resilience-gap',
  category: 'resilience-gaps',
  title: 'checkout has no timeout on payment',
  severity: 'high',
  confidence: 0.6,
  subject: { service: 'checkout', dependency: 'payment' },
  evidence: {},
  basis: 'measured',
  createdUs: 0,
  ...over,
});

test('synthesis merges corroborating findings into one learning, strengthens it with verdicts and decays it when not seen', () => {
  const day = 86_400_000_000;
  const l1 = synthesise([], [finding({ id: 'f1', evidence: { experiments: ['E12'] } }), finding({ id: 'f2', agentId: 'qe-root-cause-analyzer', kind: 'resilience-gap' })], [], 0);
  assert.equal(l1.length, 1);
  assert.ok(l1[0]!.strength > 0.8, 'two independent observations at 0.6 → 0.84');
  assert.match(l1[0]!.statement, /checkout has no timeout on payment \(chaos experiment E12; 2 observations by chaos-engineer, root-cause-analyzer\)/);
  const l2 = synthesise(l1, [], [{ findingId: 'f1', verdict: 'confirmed' }], day);
  assert.equal(l2[0]!.confirmations, 1);
  const l3 = synthesise(l2, [], [], day + 60 * day);
  assert.ok(l3[0]!.retired, 'unseen for two months → retired');
  const l4 = synthesise(l3, [finding({ id: 'f3' })], [], day + 61 * day);
  assert.equal(l4[0]!.retired, false);
  assert.equal(l4[0]!.observations, 3);
});

test('a chaos experiment that reproduces the failure confirms the RCA hypothesis automatically', async () => {
  const { openStore } = await import('../../store/open.js');
  const { synthesiseLearnings } = await import('../../agents/learning/learning-coordinator.js');
  const store = await openStore(':memory:');
  try {
    const rca = finding({ id: 'rca-1', agentId: 'qe-root-cause-analyzer', kind: 'root-cause', category: 'resilience-gaps', subject: { service: 'payment' }, data: { faultType: 'latency' } });
    const gap = finding({ id: 'gap-1', subject: { service: 'checkout', dependency: 'payment' }, evidence: { experiments: ['E-1'] } });
    await store.findings.upsert([rca, gap], 'c1');
    await synthesiseLearnings(store, [rca, gap], 1, 'qe-learning-coordinator');
    const [v] = await store.learning.verdicts({ findingIds: ['rca-1'] });
    assert.equal(v?.verdict, 'confirmed');
    assert.equal(v?.automatic, true);
    assert.match(v!.reason!, /reproduced/);
    await synthesiseLearnings(store, [rca, gap], 2, 'qe-learning-coordinator');
    assert.equal((await store.learning.verdicts({ findingIds: ['rca-1'] })).length, 1, 'once only');
  } finally {
    await store.close();
  }
});

test('verdicts on root-cause findings update the guarded signal-weights the RCA agent reads; rejected logs-led answers drop logs once the cause is named', async () => {
  const { openStore } = await import('../../store/open.js');
  const { synthesiseLearnings, SIGNAL_WEIGHTS_KIND } = await import('../../agents/learning/learning-coordinator.js');
  const store = await openStore(':memory:');
  try {
    // Three incidents where logs alone pointed at "cart" and a person rejected it, naming "payment"
    // (`--cause payment`); the analyzer ranked each one under every expert (expertTops): without logs, "payment"
    // would have come first.
    const scores = { metrics: { payment: 0.6, cart: 0.3 }, traces: { payment: 0.5, cart: 0.4 }, logs: { cart: 5, payment: 0.1 } };
    const tops = { static: 'cart', learned: 'cart', 'without:metrics': 'cart', 'without:traces': 'cart', 'without:logs': 'payment' };
    // The same for the metrics ranker's indicator kinds (a separate weight set).
    const kindScores = { 'latency-client': { cart: 5, payment: 0.1 }, cpu: { payment: 2, cart: 0.5 } };
    const kindTops = { static: 'cart', learned: 'cart', 'without:latency-client': 'payment', 'without:cpu': 'cart' };
    for (let i = 1; i <= 3; i++) {
      const f = finding({ id: `rca-w${i}`, agentId: 'qe-root-cause-analyzer', kind: 'root-cause', subject: { service: 'cart' }, data: { topCandidate: 'cart', confirmedCause: 'payment', signalScores: scores, expertTops: tops, kindScores, ...(i < 3 ? { kindExpertTops: kindTops } : {}) } });
      await store.findings.upsert([f], `c${i}`);
      await store.learning.recordVerdict({ findingId: f.id, verdict: 'rejected', by: 'oncall', atUs: i, automatic: false });
      await synthesiseLearnings(store, [], 10 + i, 'qe-learning-coordinator');
      const w = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, 'qe-root-cause-analyzer'))!.value;
      assert.equal(w.updates, i);
      assert.equal(w.following, i < 2 ? 'static' : 'without:logs', `after ${i} verdicts`);
    }
    const w = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, 'qe-root-cause-analyzer'))!.value;
    assert.equal(w.weights.logs, 0);
    assert.ok(w.learned.logs! < w.learned.metrics!, 'Hedge also learned against logs');
    const k = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, 'qe-root-cause-analyzer/metric-kinds'))!.value;
    assert.equal(k.following, 'without:latency-client');
    // The third finding came without the agent's per-expert tops: Hedge learned from it, the guard's record did not move.
    assert.equal(k.updates, 3);
    assert.equal(k.misses.static, 2);
  } finally {
    await store.close();
  }
});

test('code owners: CODEOWNERS rules (last match wins), else the top git authors', async () => {
  const { parseCodeowners, ownersOf } = await import('../../agents/learning/owners.js');
  const rules = parseCodeowners('* @everyone\n/testbed/ @shop-team\n*.md @docs\n');
  assert.deepEqual(ownersOf('testbed/service/defects.ts', rules, []), { owners: ['@shop-team'], source: 'CODEOWNERS' });
  assert.deepEqual(ownersOf('README.md', rules, []).owners, ['@docs']);
  const commits = [1, 2, 3].map((i) => ({ sha: String(i), time: i, author: i < 3 ? 'alice' : 'bob', parents: 1, message: 'x', files: [{ path: 'src/a.ts', added: 1, deleted: 0 }] }));
  assert.deepEqual(ownersOf('src/a.ts', [], commits), { owners: ['alice', 'bob'], source: 'git' });
});

/**
 * Incidents of two fault classes: the culprit is strongest in its own server latency, a victim in client latency;
 * the shipped score slightly prefers the loudest victim in half of them. Names change every case, so only the
 * profile can carry over.
 */
function profileCases(n: number): { cases: CandidateCase[]; truths: string[] } {
  const cases: CandidateCase[] = [];
  const truths: string[] = [];
  for (let i = 0; i < n; i++) {
    const culprit = `svc-${i}-a`;
    const victim = `svc-${i}-b`;
    const bystander = `svc-${i}-c`;
    const victimLouder = i % 2 === 0;
    cases.push({
      id: `c${i}`,
      base: new Map([[culprit, 1], [victim, victimLouder ? 1.1 : 0.8], [bystander, 0.3]]),
      features: new Map<string, Record<string, number>>([
        [culprit, { 'rel:latency-server': 1, 'rel:latency-client': 0.3, 'top:latency-server': 1 }],
        [victim, { 'rel:latency-server': 0.2, 'rel:latency-client': 1, 'top:latency-client': 1 }],
        [bystander, { 'rel:cpu': 1, 'top:cpu': 1 }],
      ]),
    });
    truths.push(culprit);
  }
  return { cases, truths };
}

test('case-based loop: before any verdict it ranks exactly as the shipped ranker; it learns a culprit profile across service names (AC@1 of 40: static 0.500, learned 0.975, guarded 0.925)', () => {
  const { cases, truths } = profileCases(40);
  assert.deepEqual(learnedRanking(initialCaseLearner(), cases[0]!), staticRanking(cases[0]!));
  const r = prequentialCaseLearner(cases, truths);
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  assert.equal(sum(r.staticHits), 20);
  assert.ok(sum(r.learnedHits) >= 38, `learned ${sum(r.learnedHits)}`);
  // The guard ships static until the learned ranking is two verdicts ahead, then follows it.
  assert.equal(r.final.guard.following, 'learned');
  assert.ok(sum(r.guardedHits) >= sum(r.learnedHits) - 3 && sum(r.guardedHits) > sum(r.staticHits));
  // Stored profiles are bounded and carry no service names.
  let s = initialCaseLearner();
  for (let i = 0; i < MAX_PROFILES; i++) s = caseLearnerUpdate(s, cases[i % 40]!, { confirmed: truths[i % 40]! });
  assert.equal(s.profiles.length, MAX_PROFILES);
  assert.ok(!JSON.stringify(s).includes('svc-'));
});

test('case-based loop: a rejected candidate is a negative example; a verdict on an unknown candidate teaches nothing', () => {
  const { cases } = profileCases(1);
  const c = cases[0]!;
  const victim = 'svc-0-b';
  let s = initialCaseLearner();
  for (let i = 0; i < 3; i++) s = caseLearnerUpdate(s, c, { rejected: victim });
  assert.equal(vote(s, c.features.get(victim)!), -1);
  // Its score falls by the vote's full weight (with only negatives stored, every profile's vote is negative).
  assert.ok(Math.abs(learnedScores(s, c).get(victim)! - (1 - 0.2)) < 1e-9);
  assert.deepEqual(caseLearnerUpdate(initialCaseLearner(), c, { confirmed: 'not-a-candidate' }).profiles, []);
  // A case rebuilt from what a finding stored ranks like the original.
  const stored = caseFromFinding(c.id, [...c.base].map(([service, score]) => ({ service, score })), Object.fromEntries(c.features));
  assert.deepEqual(learnedRanking(s, stored), learnedRanking(s, c));
});

test('rank guard: follows the learned ranking only two misses ahead and goes back as soon as the lead is gone', () => {
  let g = initialRankGuard();
  g = rankGuardUpdate(g, true, false);
  assert.equal(g.following, 'static');
  g = rankGuardUpdate(g, true, false);
  assert.equal(g.following, 'learned');
  g = rankGuardUpdate(g, false, true);
  assert.equal(g.following, 'learned');
  g = rankGuardUpdate(g, false, true);
  assert.equal(g.following, 'static');
  // What ships under each state.
  const { cases, truths } = profileCases(6);
  let gc = initialGuardedCaseLearner();
  for (let i = 0; i < 5; i++) {
    const c = cases[i]!;
    gc = guardedCaseUpdate(gc, c, { confirmed: truths[i]! }, { static: staticRanking(c)[0], learned: learnedRanking(gc.learner, c)[0] });
  }
  const last = cases[5]!;
  assert.deepEqual(guardedRanking(gc, last), gc.guard.following === 'learned' ? learnedRanking(gc.learner, last) : staticRanking(last));
  // A rejection naming no cause is a miss for both rankings, whichever put the rejected candidate first (the other's
  // answer is unknown), while the rejected profile is still learned.
  let gr = initialGuardedCaseLearner();
  const c0 = cases[0]!;
  const top = staticRanking(c0)[0]!;
  const other = staticRanking(c0)[1]!;
  for (let i = 0; i < 3; i++) gr = guardedCaseUpdate(gr, c0, { rejected: top }, { static: top, learned: other });
  assert.deepEqual(gr.guard, { following: 'static', misses: { static: 3, learned: 3 } });
  assert.equal(gr.learner.profiles.length, 3);
});

test('replay controls: AC@1 / Avg@5 of truth positions, run starts, the recurrence baseline and a reproducible shuffle', () => {
  const pos = truthPositions([['a', 'b'], ['x', 'a'], ['1', '2', '3', '4', 'a'], ['1', '2', '3', '4', '5', 'a'], ['b']], ['a', 'a', 'a', 'a', 'a']);
  assert.deepEqual(pos, [0, 1, 4, 5, Infinity]);
  const s = rankScore(pos);
  assert.equal(s.top1, 1);
  assert.ok(Math.abs(s.avg5 - (1 + 0.8 + 0.2) / 5) < 1e-12);
  assert.equal(rankScore(pos, [false, true, false, false, false]).avg5, 0.8);
  const truths = ['a', 'a', 'b', 'b', 'b', 'c'];
  assert.deepEqual(runStarts(truths), [true, false, true, false, false, true]);
  const rec = recurrenceRankings(truths.map(() => ['c', 'b', 'a']), truths);
  assert.deepEqual(rec[0], ['c', 'b', 'a'], 'nothing to recur to yet');
  assert.deepEqual(rec[1], ['a', 'c', 'b']);
  assert.deepEqual(truthPositions(rec, truths).map((p) => p === 0), [false, true, false, true, true, false], 'every repeat, no run start');
  const xs = Array.from({ length: 20 }, (_, i) => i);
  const p1 = seededShuffle(xs, 1);
  assert.deepEqual([...p1].sort((a, b) => a - b), xs);
  assert.deepEqual(seededShuffle(xs, 1), p1);
  assert.notDeepEqual(seededShuffle(xs, 2), p1);
});

test('service-identity learner: where one service really is chronically noisy it learns that on run starts and in any order, not only on repeats', () => {
  // 12 services; "noisy" is loudest in every incident; the culprit, drawn at random, is second. Static finds none.
  let seed = 11;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const services = Array.from({ length: 12 }, (_, i) => `s${i}`);
  const truths: string[] = [];
  const cases: CandidateCase[] = [];
  for (let i = 0; i < 30; i++) {
    const truth = services[1 + Math.floor(rnd() * (services.length - 1))]!;
    const base = new Map(services.map((s) => [s, s === 's0' ? 10 : s === truth ? 6 : 1 + rnd() * 3]));
    truths.push(truth);
    cases.push({ id: `c${i}`, base, features: new Map() });
  }
  const staticHits = rankScore(truthPositions(cases.map(staticRanking), truths));
  assert.equal(staticHits.top1, 0);
  const starts = runStarts(truths);
  const learned = (cs: CandidateCase[], tr: string[]): number[] => truthPositions(prequentialServiceBias(cs, tr), tr);
  const r = learned(cases, truths);
  // Measured: 24/30, 23 of the 28 run starts, 23–26 in three shuffled orders (the misses: a past culprit's raised
  // offset outranking the next one).
  assert.ok(rankScore(r).top1 >= 20, `time order ${rankScore(r).top1}/30`);
  assert.ok(rankScore(r, starts).top1 >= 20, `run starts ${rankScore(r, starts).top1}/${rankScore(r, starts).cases}`);
  const order = seededShuffle(cases.map((_, i) => i), 3);
  assert.ok(rankScore(learned(order.map((i) => cases[i]!), order.map((i) => truths[i]!))).top1 >= 20, 'shuffled too');
  // Discount only (offsets never rise above a fresh service's): 29/30 — only the first case, before any verdict.
  assert.ok(rankScore(truthPositions(prequentialServiceBias(cases, truths, { discountOnly: true }), truths)).top1 >= 27);
});
