/**
 * The verdict loop end to end, through the shipped path: the root-cause agent ranks an incident from a store and
 * reports a finding; a person's verdict is recorded as `tswarm verdict` / MCP `verdict_record` / the dashboard record
 * it (store.learning.recordVerdict); the learning coordinator's cycle turns verdicts into learned state in the store;
 * the agent's next run ranks with it. Incidents are metrics-only gauges, each in its own window.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../src/store/open.js';
import { silentLogger } from '../src/fleet/logger.js';
import type { Finding } from '../src/fleet/contracts.js';
import type { MetricPoint } from '../src/signals/model.js';
import type { MemoryStore } from '../src/store/store.js';
import type { GuardedWeightState } from '../src/algorithms/learning/signal-weights.js';
import type { GuardedCaseLearner } from '../src/algorithms/learning/rank-learner.js';
import { RootCauseAnalyzer } from '../src/agents/detection/root-cause-analyzer.js';
import { CASE_LEARNER_KIND, LearningCoordinator, METRIC_KINDS, SIGNAL_WEIGHTS_KIND, learnRankingFromVerdicts, type LearnedRankingState } from '../src/agents/learning/learning-coordinator.js';
import { join } from 'node:path';
import { SHARED_DATA, hasSharedData } from './helpers/env.js';
import { replayVerdicts } from './helpers/verdict-replay.js';
import { asMultipliers, prequentialGuarded } from '../src/algorithms/learning/signal-weights.js';
import { prequentialCaseLearner } from '../src/algorithms/learning/rank-learner.js';
import { readNezhaCases, type RcaCase } from '../src/agents/detection/rca-cases.js';
import { runRca } from '../src/agents/detection/rca-run.js';
import { recordHumanVerdict } from '../src/agents/feedback/memory-ops.js';
import { prequentialServiceBias, rankScore, recurrenceRankings, runStarts, seededShuffle, truthPositions } from '../src/algorithms/learning/replay-controls.js';
import { NOT_CANDIDATES, candidateCase, metricSourceTable, perSourceScores, rankBySources } from '../src/agents/detection/rca-sources.js';

const RCA = 'qe-root-cause-analyzer';
const STEP_S = 5;
const WINDOW_S = 600;
const T0_S = 1_700_000_000 - (1_700_000_000 % STEP_S);

/**
 * One incident in window `i`: every listed indicator is flat (100 ± 1) and jumps at the onset by `z` robust
 * deviations (the scale is the 5% floor of the median, 5), so each service's evidence strength is set exactly.
 */
function incident(i: number, jumps: Record<string, Record<string, number>>): { points: MetricPoint[]; fromUs: number; toUs: number; onsetUs: number } {
  const fromS = T0_S + i * 2 * WINDOW_S;
  const onsetS = fromS + WINDOW_S / 2;
  const points: MetricPoint[] = [];
  for (let t = fromS; t < fromS + WINDOW_S; t += STEP_S) {
    for (const [service, inds] of Object.entries(jumps)) {
      for (const [name, z] of Object.entries(inds)) {
        const value = 100 + ((t / STEP_S) % 3) - 1 + (t >= onsetS ? 5 * z : 0);
        points.push({ type: 'gauge', name, service, value, timeUs: t * 1e6, attributes: {}, resource: { attributes: { 'service.name': service } } });
      }
    }
  }
  return { points, fromUs: fromS * 1e6, toUs: (fromS + WINDOW_S) * 1e6, onsetUs: onsetS * 1e6 };
}

async function rca(store: MemoryStore, inc: ReturnType<typeof incident>, id: string): Promise<Finding> {
  await store.telemetry.ingest({ spans: [], logs: [], metrics: inc.points, errors: [] });
  const [f] = await new RootCauseAnalyzer().run(
    { id, kind: 'rca', params: { onsetUs: inc.onsetUs }, window: { fromUs: inc.fromUs, toUs: inc.toUs } },
    { store, log: silentLogger, clock: { nowUs: () => inc.toUs }, signal: new AbortController().signal, upstream: [], progress() {} },
  );
  assert.ok(f, `${id}: an incident is found`);
  // What the fleet does with an agent's findings: they go to memory, where verdicts refer to them.
  await store.findings.upsert([f], id);
  return f;
}

let verdictAt = 1;
/** A person's verdict; `cause`: the culprit named with it (`--cause`), kept on the finding as recordHumanVerdict keeps it. */
async function verdict(store: MemoryStore, f: Finding, v: 'confirmed' | 'rejected', cause?: string): Promise<void> {
  if (cause) {
    const { firstCycleId: _first, lastCycleId, ...stored } = (await store.findings.get(f.id))!;
    await store.findings.upsert([{ ...stored, data: { ...stored.data, confirmedCause: cause } }], lastCycleId);
  }
  await store.learning.recordVerdict({ findingId: f.id, verdict: v, by: 'oncall', atUs: verdictAt++, automatic: false });
  // The coordinator's cycle folds the new verdicts into the learned state.
  await new LearningCoordinator().run(
    { id: `learn-${verdictAt}`, kind: 'learn', params: {} },
    { store, log: silentLogger, clock: { nowUs: () => 1e15 + verdictAt }, signal: new AbortController().signal, upstream: [], progress() {} },
  );
}

const order = (f: Finding): string[] => (f.data!.candidates as { service: string }[]).map((c) => c.service);

test('kind weights: rejections naming no cause leave the ranking; two that name the culprit make the agent rank it first (by the weights Hedge learned against latency); one does not', async () => {
  const store = await openStore(':memory:');
  try {
    // The victim's latency is the loudest jump; the culprit's CPU is what dropping latency leaves on top.
    const jumps = { web: { request_latency_ms: 100 }, db: { cpu_usage: 30 } };
    const first = await rca(store, incident(0, jumps), 'k0');
    assert.deepEqual(order(first), ['web', 'db'], 'no verdict yet: the shipped ranking');
    // The finding carries what the loop needs, from the real ranker.
    assert.equal((first.data!.kindExpertTops as Record<string, string>)['without:latency-server'], 'db');
    assert.equal((first.data!.kindExpertTops as Record<string, string>).static, 'web');
    // "web was wrong", with no cause: that does not say db was right, so no expert is credited and the ranking stays.
    await verdict(store, first, 'rejected');
    const plain = await rca(store, incident(1, jumps), 'k1');
    await verdict(store, plain, 'rejected');
    const unnamed = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, `${RCA}/${METRIC_KINDS}`))!.value;
    assert.equal(unnamed.following, 'static');
    assert.equal(new Set(Object.values(unnamed.misses)).size, 1, JSON.stringify(unnamed.misses));
    assert.deepEqual(order(await rca(store, incident(2, jumps), 'k2')), ['web', 'db']);
    // The culprit named (`rejected --cause db`): every expert's answer is known.
    const second = await rca(store, incident(3, jumps), 'k3');
    await verdict(store, second, 'rejected', 'db');
    const third = await rca(store, incident(4, jumps), 'k4');
    assert.deepEqual(order(third), ['web', 'db'], 'one verdict is not enough to leave the shipped ranking');
    await verdict(store, third, 'rejected', 'db');
    const kinds = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, `${RCA}/${METRIC_KINDS}`))!.value;
    // Hedge's weights learned from every rejection that latency vouched for the wrong answer; equal weights without
    // latency are as good on the named verdicts, and Hedge's come first in the guard's order.
    assert.equal(kinds.following, 'learned', JSON.stringify(kinds.misses));
    assert.equal(kinds.misses['without:latency-server'], kinds.misses.learned);
    assert.ok(kinds.misses.static! >= kinds.misses.learned! + 2);
    // The only signal was never dropped: an expert without any evidence has no answer to be judged on.
    const signals = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, RCA))!.value;
    assert.equal(signals.following, 'static');
    const fourth = await rca(store, incident(5, jumps), 'k5');
    assert.equal(fourth.subject.service, 'db', JSON.stringify(fourth.data!.candidates));
    assert.equal(order(fourth)[0], 'db');
  } finally {
    await store.close();
  }
});

test('case-based re-ranking: confirmed culprits teach a profile; once it beats the shipped ranking by two verdicts the agent ranks by it', async () => {
  const store = await openStore(':memory:');
  try {
    // Three incidents where the culprit (strongest in CPU, some latency) is ranked first and confirmed: the loop
    // stores its profile and the blamed-nearly victim's (latency only).
    for (let i = 0; i < 3; i++) {
      const f = await rca(store, incident(i, { [`api-${i}`]: { cpu_usage: 50, request_latency_ms: 5 }, [`gw-${i}`]: { request_latency_ms: 20 } }), `a${i}`);
      assert.equal(f.subject.service, `api-${i}`);
      await verdict(store, f, 'confirmed');
    }
    // Then incidents where a victim is louder than the culprit in every kind they share — no kind weighting can put
    // the culprit first — but the culprit's profile is the one verdicts confirmed. New names each time: only the
    // profile carries over.
    const phaseB = (i: number): Record<string, Record<string, number>> => ({ [`svc-${i}`]: { cpu_usage: 50, request_latency_ms: 5 }, [`edge-${i}`]: { request_latency_ms: 200, cpu_usage: 60 } });
    const b1 = await rca(store, incident(3, phaseB(3)), 'b3');
    assert.deepEqual(order(b1), ['edge-3', 'svc-3'], 'not yet: the learned ranking has no record');
    assert.equal((b1.data!.caseTops as { learned?: string }).learned, 'svc-3', 'the learned ranking already prefers the culprit');
    // A rejection naming the culprit shows the learned ranking right (one naming none would not: the guard counts
    // it against both rankings).
    await verdict(store, b1, 'rejected', 'svc-3');
    const b2 = await rca(store, incident(4, phaseB(4)), 'b4');
    assert.deepEqual(order(b2), ['edge-4', 'svc-4'], 'one miss ahead is not enough (switch margin 2)');
    await verdict(store, b2, 'rejected', 'svc-4');
    const g = (await store.patterns.get<GuardedCaseLearner>(CASE_LEARNER_KIND, RCA))!.value;
    assert.equal(g.guard.following, 'learned');
    assert.deepEqual(g.guard.misses, { static: 2, learned: 0 });
    assert.ok(!JSON.stringify(g).includes('svc-'), 'profiles carry no service names');
    // The kind weights could not have done it: every kind expert blamed the victim.
    const kinds = (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, `${RCA}/${METRIC_KINDS}`))!.value;
    assert.equal(kinds.following, 'static');
    const b3 = await rca(store, incident(5, phaseB(5)), 'b5');
    assert.deepEqual(order(b3), ['svc-5', 'edge-5']);
    assert.equal(b3.subject.service, 'svc-5');
    assert.ok(b3.evidence.chain!.some((c) => /ranked above edge-5 .* by the verdict loop/.test(c)), JSON.stringify(b3.evidence.chain));
    // Scores stay the shipped ones (the evidence's strength); only the order is learned.
    const scores = (b3.data!.candidates as { score: number }[]).map((c) => c.score);
    assert.ok(scores[0]! < scores[1]!);
  } finally {
    await store.close();
  }
});

test('a verdict folded in right away (learnRankingFromVerdicts) is used by the next ranking and not learned again by the coordinator\'s cycle', async () => {
  const store = await openStore(':memory:');
  try {
    const jumps = { web: { request_latency_ms: 100 }, db: { cpu_usage: 30 } };
    for (let i = 0; i < 2; i++) {
      const f = await rca(store, incident(i, jumps), `n${i}`);
      assert.equal(f.subject.service, 'web');
      await store.findings.upsert([{ ...f, data: { ...f.data, confirmedCause: 'db' } }], `n${i}`);
      await store.learning.recordVerdict({ findingId: f.id, verdict: 'rejected', by: 'oncall', atUs: 100 + i, automatic: false });
      assert.equal(await learnRankingFromVerdicts(store), 1);
    }
    assert.equal((await rca(store, incident(2, jumps), 'n2')).subject.service, 'db');
    const updates = async (): Promise<number> => (await store.patterns.get<GuardedWeightState>(SIGNAL_WEIGHTS_KIND, `${RCA}/${METRIC_KINDS}`))!.value.updates;
    assert.equal(await updates(), 2);
    await new LearningCoordinator().run({ id: 'cycle', kind: 'learn', params: {} }, { store, log: silentLogger, clock: { nowUs: () => 1e15 }, signal: new AbortController().signal, upstream: [], progress() {} });
    assert.equal(await updates(), 2, 'each verdict is learned once');
    assert.equal(await learnRankingFromVerdicts(store), 0);
  } finally {
    await store.close();
  }
});

test('a verdict that names the real cause (tswarm verdict <id> rejected --cause db; MCP and HTTP alike) is kept on the finding and learned at once', async () => {
  const store = await openStore(':memory:');
  try {
    const jumps = { web: { request_latency_ms: 100 }, db: { cpu_usage: 30 } };
    const f = await rca(store, incident(0, jumps), 'c0');
    assert.equal(f.subject.service, 'web');
    // Contradictions are refused before anything is recorded.
    await assert.rejects(recordHumanVerdict(store, { findingId: f.id, verdict: 'confirmed', cause: 'db' }, 'cli'), /"confirmed" says the top candidate \(web\) was the cause/);
    await assert.rejects(recordHumanVerdict(store, { findingId: f.id, verdict: 'rejected', cause: 'web' }, 'cli'), /"rejected" says the top candidate \(web\) was not the cause/);
    assert.equal((await store.learning.verdicts({ findingIds: [f.id] })).length, 0);
    const r = await recordHumanVerdict(store, { findingId: f.id, verdict: 'rejected', cause: 'db' }, 'cli');
    assert.equal(r.learned, 1, 'learned at once, not at the next coordinator cycle');
    const stored = (await store.findings.get(f.id))!;
    assert.equal(stored.data!.confirmedCause, 'db');
    assert.equal(stored.firstCycleId, 'c0');
    // The case learner was taught the named culprit's profile (+1), not just "the top was wrong" (−1).
    const g = (await store.patterns.get<GuardedCaseLearner>(CASE_LEARNER_KIND, RCA))!.value;
    assert.deepEqual(g.learner.profiles.map((p) => p.y), [1, -1], JSON.stringify(g).slice(0, 300));
    // A cause is only meaningful on a root-cause finding.
    const other: Finding = { ...f, id: 'anomaly-1', kind: 'anomaly', category: 'performance-insights' };
    await store.findings.upsert([other], 'c0');
    await assert.rejects(recordHumanVerdict(store, { findingId: other.id, verdict: 'rejected', cause: 'db' }, 'cli'), /only be named for a root-cause finding/);
    await assert.rejects(recordHumanVerdict(store, { findingId: 'nope', verdict: 'rejected' }, 'cli'), /no finding "nope"/);
  } finally {
    await store.close();
  }
});

test('a store from before the ranking cursor: verdicts the old single loop already learned are not learned again', async () => {
  const store = await openStore(':memory:');
  try {
    const f = await rca(store, incident(0, { web: { request_latency_ms: 100 }, db: { cpu_usage: 30 } }), 'old');
    await store.learning.recordVerdict({ findingId: f.id, verdict: 'rejected', by: 'oncall', atUs: 10, automatic: false });
    await store.learning.recordVerdict({ findingId: f.id, verdict: 'rejected', by: 'oncall', atUs: 20, automatic: false });
    // The synthesis cursor as the earlier coordinator left it after the first verdict.
    await store.patterns.put('learning-cursor', 'verdicts', { atUs: 10, ids: [`${f.id}@10`] });
    assert.equal(await learnRankingFromVerdicts(store), 1);
  } finally {
    await store.close();
  }
});

/**
 * Recorded incidents through the shipped path, in time order (prequential: each is ranked with the state the verdicts
 * before it left, then its verdict is learned): runRca with the learned state → the finding's verdict data
 * (verdictData) → the coordinator's update (learnFromVerdict). Verdicts name the true culprit (`confirmedCause`), as
 * the design evaluations assume. With one learner at a time the shipped path ships exactly what those evaluations
 * measured (reweighting.test.ts); together they are what ships.
 */
const skipNezha = !hasSharedData('rca/nezha') && 'shared data not present';
test('Nezha replay through the shipped path: each learner ships exactly what its evaluation measured; all together OB 52/56 → 52, Train Ticket 7/45 → 7 (last 16: 2 → 3); top-only verdicts (no cause named) never below it: OB 52, TT 7', { skip: skipNezha }, () => {
  const all = readNezhaCases(join(SHARED_DATA, 'rca/nezha')).sort((a, b) => a.injectS! - b.injectS!);
  const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);
  type Part = keyof LearnedRankingState;
  // `named`: the verdict names the culprit. Otherwise it is what `tswarm verdict` can say today: the top candidate
  // confirmed or rejected.
  const replay = (cases: readonly RcaCase[], parts: readonly Part[], named = true): number[] =>
    replayVerdicts(cases, parts, named).rankings.map((r, i) => (r[0] === cases[i]!.truth!.service ? 1 : 0));

  // Before any verdict, ranking with the (empty) learned state is the unlearned ranking, scores and all.
  for (const c of all) assert.deepEqual(runRca(c, { exclude: NOT_CANDIDATES, learned: {} }).candidates, runRca(c, { exclude: NOT_CANDIDATES }).candidates, c.id);
  for (const system of ['online-boutique', 'train-ticket']) {
    const cases = all.filter((c) => c.system === system);
    const truths = cases.map((c) => c.truth!.service);
    const tables = cases.map((c) => metricSourceTable(c));
    const staticHits = cases.map((c, i) => (runRca(c, { exclude: NOT_CANDIDATES }).candidates[0]?.service === truths[i] ? 1 : 0));
    // Kind weights alone: the guarded loop over the kind multipliers of the same ranker, with the expert fitted to
    // the stored verdicts (kind-fit.ts) as the coordinator keeps it.
    const kinds = prequentialGuarded(cases.map((c, i) => ({ id: c.id, truth: truths[i]!, scores: perSourceScores(tables[i]!), rank: (w) => rankBySources(tables[i]!, asMultipliers(w)) })), { fit: true });
    assert.deepEqual(replay(cases, ['kinds']), kinds.hits, `${system}: kind weights`);
    // The case-based re-ranker alone.
    const cc = prequentialCaseLearner(cases.map((c, i) => candidateCase(tables[i]!, c.id)), truths);
    assert.deepEqual(replay(cases, ['cases']), cc.guardedHits, `${system}: case-based re-ranker`);
    // Everything the agent reads. The learners interact (kind multipliers move the base the re-ranker votes on);
    // the guards keep the whole within a case of the unlearned ranking.
    const together = replay(cases, ['signals', 'kinds', 'cases']);
    assert.ok(sum(together) >= sum(staticHits) - 1, `${system}: all learners ${sum(together)} vs static ${sum(staticHits)}`);
    if (system === 'train-ticket') assert.ok(sum(together.slice(29)) >= sum(staticHits.slice(29)), `TT last 16: ${sum(together.slice(29))} vs ${sum(staticHits.slice(29))}`);
    // Top-only verdicts: a rejection naming no cause moves no guard (signal-weights.ts guardedUpdate), so they rank
    // as no verdicts do: OB 52, TT 7 (before that rule OB 51: a rejection credited every expert whose top differed).
    const topOnly = replay(cases, ['signals', 'kinds', 'cases'], false);
    assert.ok(sum(topOnly) >= sum(staticHits), `${system}: top-only verdicts ${sum(topOnly)} vs static ${sum(staticHits)}`);
    if (system === 'train-ticket') assert.ok(sum(topOnly.slice(29)) >= sum(staticHits.slice(29)), `TT last 16, top-only: ${sum(topOnly.slice(29))} vs ${sum(staticHits.slice(29))}`);
  }
});


/**
 * The replay's figures, and the two controls any claim of learning on Nezha needs (replay-controls.ts): the
 * faults come in runs (the same service 2–4 times in a row), so the cases that start a run and a shuffled order
 * say what was learned from the evidence rather than from the schedule. Same shipped path as above; rankings are
 * scored by AC@1 and Avg@5, day 1 and day 2 apart. Nothing shipped was changed or tuned here. The identity
 * learner's settings (lr 1, 20 negatives) are the best in time order of the four tried (lr 0.3 / 1 × 5 / 20
 * negatives, both systems, all cases: TT 10–19 of 45, shuffled 5.7–7.7, run starts 1–4 of 20 at every setting) —
 * chosen in its favour, which the controls then refute; the shuffles are the first 10 seeds. What survives the
 * shuffle is an Avg@5 gain (TT 0.258 → 0.32–0.35): a prior over the 10 of 46 services the campaign faults, not
 * evidence read better (AC@1 no better, Online Boutique 4–12 cases worse).
 */
test('Nezha controls: gains that survive run starts and shuffled order (case learner) vs gains that are the fault schedule (recurrence, service identity)', { skip: skipNezha }, (t) => {
  const all = readNezhaCases(join(SHARED_DATA, 'rca/nezha')).sort((a, b) => a.injectS! - b.injectS!);
  type Part = keyof LearnedRankingState;
  const replay = (cases: readonly RcaCase[], parts: readonly Part[]): string[][] => replayVerdicts(cases, parts).rankings;

  const fmt = (s: ReturnType<typeof rankScore>): string => `${s.top1}/${s.cases} Avg@5 ${s.avg5.toFixed(3)}`;
  const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  for (const system of ['online-boutique', 'train-ticket']) {
    const cases = all.filter((c) => c.system === system);
    const truths = cases.map((c) => c.truth!.service);
    const day = cases.map((c) => c.id.split('/')[1]);
    const day2 = day.map((d) => d !== day[0]);
    const starts = runStarts(truths);
    const repeats = starts.map((s) => !s);
    const staticR = cases.map((c) => runRca(c, { exclude: NOT_CANDIDATES }).candidates.map((x) => x.service));
    const score = (r: readonly (readonly string[])[], mask?: readonly boolean[]): ReturnType<typeof rankScore> => rankScore(truthPositions(r, truths), mask);
    const line = (name: string, r: readonly (readonly string[])[]): string => `${system} ${name}: all ${fmt(score(r))}; day 2 ${fmt(score(r, day2))}; run starts ${fmt(score(r, starts))}; repeats ${fmt(score(r, repeats))}`;
    const caseR = replay(cases, ['cases']);
    const allR = replay(cases, ['signals', 'kinds', 'cases']);
    const recurrence = recurrenceRankings(staticR, truths);
    const tables = cases.map((c) => metricSourceTable(c));
    const cc = cases.map((c, i) => candidateCase(tables[i]!, c.id));
    const identity = prequentialServiceBias(cc, truths);
    const discountOnly = prequentialServiceBias(cc, truths, { discountOnly: true });
    for (const [name, r] of [['static', staticR], ['case learner', caseR], ['all learners', allR], ['recurrence', recurrence], ['service identity', identity], ['service discount only', discountOnly]] as const) t.diagnostic(line(name, r));
    const st = { all: score(staticR), starts: score(staticR, starts), day2: score(staticR, day2) };
    // Shuffled order, through the shipped path for the case learner (the guard included) and the pure identity
    // learner; static is order-free.
    const shuffled = { cases: [] as number[], casesAvg5: [] as number[], identity: [] as number[], identityAvg5: [] as number[], discount: [] as number[], discountAvg5: [] as number[] };
    for (let seed = 1; seed <= 10; seed++) {
      const order = seededShuffle(cases.map((_, i) => i), seed);
      const tr = order.map((i) => truths[i]!);
      const sc = rankScore(truthPositions(replay(order.map((i) => cases[i]!), ['cases']), tr));
      const si = rankScore(truthPositions(prequentialServiceBias(order.map((i) => cc[i]!), tr), tr));
      shuffled.cases.push(sc.top1);
      shuffled.casesAvg5.push(sc.avg5);
      shuffled.identity.push(si.top1);
      shuffled.identityAvg5.push(si.avg5);
      const sd = rankScore(truthPositions(prequentialServiceBias(order.map((i) => cc[i]!), tr, { discountOnly: true }), tr));
      shuffled.discount.push(sd.top1);
      shuffled.discountAvg5.push(sd.avg5);
    }
    t.diagnostic(`${system} shuffled ×10: case learner ${mean(shuffled.cases).toFixed(1)} Avg@5 ${mean(shuffled.casesAvg5).toFixed(3)} (min ${Math.min(...shuffled.cases)}, max ${Math.max(...shuffled.cases)}); service identity ${mean(shuffled.identity).toFixed(1)} Avg@5 ${mean(shuffled.identityAvg5).toFixed(3)}; discount only ${mean(shuffled.discount).toFixed(1)} Avg@5 ${mean(shuffled.discountAvg5).toFixed(3)}`);
    // The schedule: repeating the last verdict's culprit reads no evidence, finds every repeat and no run start.
    assert.equal(score(recurrence, repeats).top1, repeats.filter(Boolean).length, `${system}: recurrence finds every repeat`);
    assert.ok(score(recurrence, starts).top1 <= 1, `${system}: recurrence on run starts ${score(recurrence, starts).top1}`);
    // Service identity: on Train Ticket far above static in time order (19 vs 7, Avg@5 0.587 vs 0.258) — and
    // below it on the run starts (1 vs 7) and in shuffled order (6.1): its gain is the repeats, not the evidence.
    // On Online Boutique it loses outright (40 vs 52).
    const id = { all: score(identity), starts: score(identity, starts) };
    if (system === 'train-ticket') {
      assert.ok(id.all.top1 >= st.all.top1 + 8 && id.all.avg5 >= st.all.avg5 + 0.2, `TT identity ${fmt(id.all)} vs static ${fmt(st.all)}`);
      assert.ok(id.starts.top1 <= st.starts.top1 - 3, `TT identity on run starts ${fmt(id.starts)} vs static ${fmt(st.starts)}`);
      assert.ok(mean(shuffled.identity) <= st.all.top1, `TT identity shuffled ${mean(shuffled.identity)} vs static ${st.all.top1}`);
    } else assert.ok(id.all.top1 <= st.all.top1 - 5, `OB identity ${fmt(id.all)} vs static ${fmt(st.all)}`);
    // Per-service reliability as a discount only (a blamed non-culprit's offset falls, none ever rises above a
    // fresh service's): Train Ticket Avg@5 0.258 → 0.449 in time order (day 2: 0.224 → 0.482), AC@1 7 → 11 — the
    // figure the issue asks for — but run starts 7 → 3 and shuffled 6.3 (Avg@5 0.274): what it learns is that the
    // services left undiscounted are the ones being faulted this hour. Online Boutique 52 → 44.
    const dc = { all: score(discountOnly), starts: score(discountOnly, starts) };
    if (system === 'train-ticket') {
      assert.ok(dc.all.avg5 >= st.all.avg5 + 0.15 && dc.all.top1 >= st.all.top1 + 2, `TT discount ${fmt(dc.all)} vs static ${fmt(st.all)}`);
      assert.ok(dc.starts.top1 <= st.starts.top1 - 2, `TT discount on run starts ${fmt(dc.starts)} vs static ${fmt(st.starts)}`);
      assert.ok(mean(shuffled.discount) <= st.all.top1 && mean(shuffled.discountAvg5) <= st.all.avg5 + 0.05, `TT discount shuffled ${mean(shuffled.discount)} / ${mean(shuffled.discountAvg5)}`);
    } else assert.ok(dc.all.top1 <= st.all.top1 - 4, `OB discount ${fmt(dc.all)} vs static ${fmt(st.all)}`);
    // The shipped case learner: its gain is small but not the schedule — no loss on run starts or shuffled, one
    // case more on Train Ticket's run starts and on its held-out day (8 vs 7, 3 vs 2); Avg@5 within 0.02 of
    // static (TT 0.244 vs 0.258: what it moves up to first it takes from places 2–5).
    const cl = { all: score(caseR), starts: score(caseR, starts), day2: score(caseR, day2) };
    assert.ok(cl.all.top1 >= st.all.top1 && cl.starts.top1 >= st.starts.top1 && cl.day2.top1 >= st.day2.top1, `${system} case learner ${fmt(cl.all)} (run starts ${fmt(cl.starts)}, day 2 ${fmt(cl.day2)}) vs static ${fmt(st.all)} (${fmt(st.starts)}, ${fmt(st.day2)})`);
    assert.ok(cl.all.avg5 >= st.all.avg5 - 0.02, `${system} case learner Avg@5 ${cl.all.avg5} vs ${st.all.avg5}`);
    assert.ok(mean(shuffled.cases) >= st.all.top1 - 0.5 && Math.min(...shuffled.cases) >= st.all.top1 - 1, `${system} case learner shuffled ${shuffled.cases.join(',')} vs static ${st.all.top1}`);
    if (system === 'train-ticket') assert.ok(cl.starts.top1 > st.starts.top1 && cl.day2.top1 > st.day2.top1, `TT case learner on run starts ${fmt(cl.starts)}, day 2 ${fmt(cl.day2)}`);
  }
});

/**
 * The kind weights as the coordinator keeps them (with the fitted expert, kind-fit.ts) when one indicator kind goes
 * bad: from the first third of each system on, one kind's values are moved to another service (each kind in turn),
 * as in reweighting.test.ts, which measures the loop without the fitted expert (later cases OB 0.827 → 0.877, TT
 * 0.179 → 0.213). With it: OB → 0.895, TT → 0.213. On the clean data the kind loop ships the same with and
 * without it (the replay above; the fitted expert alone ranks OB 51 of 56, TT 7 of 45: nothing to gain there).
 */
test('Nezha, one kind mislabelled from the first third on: the shipped kind loop (fitted expert included) lifts the later cases, OB 0.827 → 0.895, TT 0.179 → 0.213', { skip: skipNezha }, () => {
  const all = readNezhaCases(join(SHARED_DATA, 'rca/nezha')).sort((a, b) => a.injectS! - b.injectS!);
  const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const mislabelled = (t: ReturnType<typeof metricSourceTable>, source: string): ReturnType<typeof metricSourceTable> => {
    const services = [...t.best.keys()].sort();
    const best: typeof t.best = new Map([...t.best].map(([s, m]) => [s, new Map([...m].filter(([k]) => k !== source))]));
    services.forEach((s, i) => {
      const v = t.best.get(s)!.get(source);
      if (v) best.get(services[(i + 1) % services.length]!)!.set(source, v);
    });
    return { best, edges: t.edges };
  };
  const out: Record<string, { static: number; shipped: number }> = {};
  for (const system of ['online-boutique', 'train-ticket']) {
    const cases = all.filter((c) => c.system === system);
    const tables = cases.map((c) => metricSourceTable(c));
    const from = Math.floor(cases.length / 3);
    const kinds = [...new Set(tables.flatMap((t) => [...t.best.values()].flatMap((m) => [...m.keys()])))].sort();
    const st: number[] = [];
    const sh: number[] = [];
    for (const k of kinds) {
      const r = prequentialGuarded(cases.map((c, i) => {
        const t = i >= from ? mislabelled(tables[i]!, k) : tables[i]!;
        return { id: c.id, truth: c.truth!.service, scores: perSourceScores(t), rank: (w) => rankBySources(t, asMultipliers(w)) };
      }), { fit: true });
      st.push(mean(r.staticHits.slice(from)));
      sh.push(mean(r.hits.slice(from)));
    }
    out[system] = { static: mean(st), shipped: mean(sh) };
  }
  const ob = out['online-boutique']!;
  const tt = out['train-ticket']!;
  assert.ok(ob.shipped >= ob.static + 0.05, `OB later cases: ${ob.shipped.toFixed(3)} vs static ${ob.static.toFixed(3)}`);
  assert.ok(tt.shipped > tt.static + 0.01, `TT later cases: ${tt.shipped.toFixed(3)} vs static ${tt.static.toFixed(3)}`);
});
