/**
 * The verdict → re-weighting loop on recorded incidents, measured on the ranker that ships: cases arrive in time
 * order, each is ranked with the state learned from the verdicts before it, then its verdict (the confirmed root
 * cause) updates the state (prequential evaluation — no case's truth is seen before it is ranked). The sources are
 * the indicator kinds the shipped metrics ranker combines, call-edge indicators included (rca-sources.ts); weights
 * act as kind multipliers on it, so equal weights are exactly the shipped ranking.
 *
 * What was chosen on what: the guard's switch margin (2, of 1/2/3) was picked on Online Boutique, where it was best
 * on both the plain and the mislabelled runs (experts that halve a source as well as drop it changed nothing there,
 * so they were left out); Train Ticket
 * is the held-out figure (it would have picked margin 1). Hedge's own settings are the library defaults, unchanged.
 * The mislabelling scenario is constructed (a relabelling bug, each kind in turn, no choice of the worst one).
 *
 * The case-based loop (rank-learner.ts: each candidate's evidence profile, votes of the k nearest stored culprit /
 * blamed-victim profiles) was designed on Online Boutique and the first 29 Train Ticket cases (its first day and
 * the first case of the second): the features (relative strength per kind + strongest kind, of 9 feature
 * families), nearest neighbours over a linear pairwise learner, k = 3 and beta = 0.2 were picked there, out of
 * ~1,700 settings of both learners. The last 16 Train Ticket cases are the held-out figure (the whole sequence's
 * totals were also printed by some of the earlier sweeps, which were not selected on them). All 15 (beta, k)
 * settings of the final sweep beat static on all 45 Train Ticket cases (8 to 10 vs 7) and on the last 16 (3 vs
 * 2), so the figure is not one lucky setting — but it is one case out of 16; the guard ships 7 or 8 of 45. On the
 * testbed's recorded sets (not in ../shared/data) the unguarded learner loses 2 of 30 on set 1 and the guard
 * keeps 29/30, 30/30.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SHARED_DATA, hasSharedData } from '../../../test/helpers/env.js';
import { asMultipliers, initialGuarded, prequentialGuarded, type RankedCase } from '../../algorithms/learning/signal-weights.js';
import { readNezhaCases, type RcaCase } from './rca-cases.js';
import { runRca } from './rca-run.js';
import { caseFromFinding, initialGuardedCaseLearner, learnedRanking, prequentialCaseLearner, staticRanking } from '../../algorithms/learning/rank-learner.js';
import { NOT_CANDIDATES, candidateCase, caseEvidence, kindEvidence, runCandidateCase, metricSourceTable, perSourceScores, rankBySources, sourcesOf, type SourceTable } from './rca-sources.js';

const skip = !hasSharedData('rca/nezha') && 'shared data not present';
let loaded: RcaCase[] | undefined;
const nezha = (system: string): RcaCase[] => {
  loaded ??= readNezhaCases(join(SHARED_DATA, 'rca/nezha')).sort((a, b) => a.injectS! - b.injectS!);
  return loaded.filter((c) => c.system === system);
};

const ranked = (id: string, truth: string, t: SourceTable): RankedCase => ({ id, truth, scores: perSourceScores(t), rank: (w) => rankBySources(t, asMultipliers(w)) });

/**
 * A relabelling bug in one exporter: from some case on, one kind's values arrive under the next service's name
 * (services in name order, cyclic). The source keeps looking as anomalous as before, but at the wrong service.
 */
function mislabelled(t: SourceTable, source: string): SourceTable {
  const services = [...t.best.keys()].sort();
  const best: SourceTable['best'] = new Map([...t.best].map(([s, m]) => [s, new Map([...m].filter(([k]) => k !== source))]));
  services.forEach((s, i) => {
    const v = t.best.get(s)!.get(source);
    if (v) best.get(services[(i + 1) % services.length]!)!.set(source, v);
  });
  return { best, edges: t.edges };
}

const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);

test('the learner\'s sources are the shipped ranker: at equal weights they rank all 101 Nezha cases exactly as runRca does', { skip }, () => {
  let same = 0;
  const all = [...nezha('online-boutique'), ...nezha('train-ticket')];
  for (const c of all) {
    const shipped = runRca(c, { exclude: NOT_CANDIDATES }).candidates.map((x) => x.service);
    if (JSON.stringify(shipped) === JSON.stringify(rankBySources(metricSourceTable(c)))) same++;
  }
  assert.equal(same, all.length, 'rca-sources.ts no longer mirrors rankRootCauses (scoring options or combination changed)');
  // The call-edge kind is among the sources on Online Boutique (it was left out of the old per-kind scores).
  const c = nezha('online-boutique').find((x) => x.truth!.fault === 'network_delay')!;
  const t = metricSourceTable(c);
  assert.ok(sourcesOf(t).includes('latency-network'));
  // What a finding carries for the kind-level loop: the static expert's top is the shipped top; without the call-edge
  // network kind, a network delay is no longer found.
  const ev = kindEvidence(t, initialGuarded(sourcesOf(t)));
  assert.equal(ev.kindExpertTops.static, runRca(c, { exclude: NOT_CANDIDATES }).candidates[0]!.service);
  assert.equal(ev.kindExpertTops.static, c.truth!.service);
  assert.notEqual(ev.kindExpertTops['without:latency-network'], c.truth!.service);
  assert.deepEqual(Object.keys(ev.kindScores).sort(), sourcesOf(t));
});

test('verdict loop on Nezha in time order, ranker that ships: OB AC@1 0.929 static, 0.732 Hedge alone, 0.929 guarded; Train Ticket (held out) 0.156 / 0.156 / 0.156', { skip }, () => {
  for (const system of ['online-boutique', 'train-ticket']) {
    const cases = nezha(system).map((c) => ranked(c.id, c.truth!.service, metricSourceTable(c)));
    const r = prequentialGuarded(cases);
    const oneCase = 1 / cases.length;
    // The guard never ships much worse than equal weights (its cost is bounded by the switch margin).
    assert.ok(r.guardedAc1 >= r.staticAc1 - oneCase - 1e-9, `${system}: guarded ${r.guardedAc1} vs static ${r.staticAc1}`);
    if (system === 'online-boutique') {
      // Hedge alone over kinds is what the loop shipped before: far worse than equal weights on OB.
      assert.ok(r.hedgeAc1 < r.staticAc1 - 0.1, `OB: Hedge alone ${r.hedgeAc1} vs static ${r.staticAc1}`);
      assert.ok(r.guardedAc1 >= r.hedgeAc1 + 0.15, `OB: guarded ${r.guardedAc1} vs Hedge alone ${r.hedgeAc1}`);
    }
  }
});

test('one source mislabelled from the first third on (each kind in turn): later AC@1 OB 0.827 → 0.877 with the Hedge experts alone (0.895 with the fitted one that ships: test/verdict-loop.test.ts), Train Ticket (held out) 0.179 → 0.213', { skip }, () => {
  const out: Record<string, { static: number; guarded: number }> = {};
  for (const system of ['online-boutique', 'train-ticket']) {
    const base = nezha(system).map((c) => ({ c, t: metricSourceTable(c) }));
    const from = Math.floor(base.length / 3);
    const kinds = [...new Set(base.flatMap((x) => sourcesOf(x.t)))].sort();
    const staticLater: number[] = [];
    const guardedLater: number[] = [];
    for (const k of kinds) {
      const r = prequentialGuarded(base.map((x, i) => ranked(x.c.id, x.c.truth!.service, i >= from ? mislabelled(x.t, k) : x.t)));
      staticLater.push(mean(r.staticHits.slice(from)));
      guardedLater.push(mean(r.hits.slice(from)));
      // Before the break the guard ships about what equal weights ship (on TT it may already follow an expert that
      // is two verdicts better on the unbroken data).
      const before = (h: number[]): number => h.slice(0, from).reduce((a, b) => a + b, 0);
      assert.ok(before(r.hits) >= before(r.staticHits) - 1, `${system}, ${k}: before the break ${before(r.hits)} vs static ${before(r.staticHits)}`);
    }
    out[system] = { static: mean(staticLater), guarded: mean(guardedLater) };
  }
  const ob = out['online-boutique']!;
  const tt = out['train-ticket']!;
  assert.ok(ob.guarded >= ob.static + 0.03, `OB later cases: guarded ${ob.guarded.toFixed(3)} vs static ${ob.static.toFixed(3)}`);
  assert.ok(tt.guarded > tt.static + 0.01, `TT later cases: guarded ${tt.guarded.toFixed(3)} vs static ${tt.static.toFixed(3)}`);
});

test('case-based verdict loop, Nezha in time order: Train Ticket AC@1 0.156 static / 0.156 old guarded → 0.222 learned, 0.178 guarded (later half 0.261 → 0.304; last 16, held out: 2 → 3); Online Boutique 0.929 → 0.946 learned, 0.929 guarded', { skip }, () => {
  const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);
  const out: Record<string, { n: number; static: number[]; old: number[]; learned: number[]; guarded: number[] }> = {};
  for (const system of ['online-boutique', 'train-ticket']) {
    const cases = nezha(system);
    const tables = cases.map((c) => metricSourceTable(c));
    const cc = cases.map((c, i) => candidateCase(tables[i]!, c.id));
    // The loop re-ranks the shipped ranking: its static order is the one runRca ships (first test).
    cc.forEach((c, i) => assert.deepEqual(staticRanking(c), rankBySources(tables[i]!)));
    const truths = cases.map((c) => c.truth!.service);
    const r = prequentialCaseLearner(cc, truths);
    const old = prequentialGuarded(cases.map((c, i) => ranked(c.id, truths[i]!, tables[i]!)));
    out[system] = { n: cases.length, static: r.staticHits, old: old.hits, learned: r.learnedHits, guarded: r.guardedHits };
  }
  const ob = out['online-boutique']!;
  const tt = out['train-ticket']!;
  const half = Math.floor(tt.n / 2);
  const later = (h: number[]): number => sum(h.slice(half));
  const heldOut = (h: number[]): number => sum(h.slice(29));
  // Train Ticket: the learner finds more culprits than equal weights and than the kind-weight loop, on the whole
  // sequence, on its later half and on the held-out tail; the guard ships at least one more than static.
  assert.ok(sum(tt.learned) >= sum(tt.static) + 2, `TT learned ${sum(tt.learned)} vs static ${sum(tt.static)}`);
  assert.ok(sum(tt.learned) > sum(tt.old), `TT learned ${sum(tt.learned)} vs old guarded ${sum(tt.old)}`);
  assert.ok(later(tt.learned) > later(tt.static), `TT later half: learned ${later(tt.learned)} vs static ${later(tt.static)}`);
  assert.ok(heldOut(tt.learned) > heldOut(tt.static), `TT held-out tail: learned ${heldOut(tt.learned)} vs static ${heldOut(tt.static)}`);
  assert.ok(sum(tt.guarded) > sum(tt.static) && later(tt.guarded) > later(tt.static), `TT guarded ${sum(tt.guarded)} (later ${later(tt.guarded)}) vs static ${sum(tt.static)} (${later(tt.static)})`);
  // Online Boutique, where equal weights miss 4 of 56: no loss, and the guard costs at most one case.
  assert.ok(sum(ob.learned) >= sum(ob.static), `OB learned ${sum(ob.learned)} vs static ${sum(ob.static)}`);
  assert.ok(sum(ob.guarded) >= sum(ob.static) - 1, `OB guarded ${sum(ob.guarded)} vs static ${sum(ob.static)}`);
});

test('what a root-cause finding carries for the case-based loop: profiles in [0, 1] without service names, tops of both rankings, and a case rebuilt from them ranks as the original', { skip }, () => {
  const c = nezha('online-boutique').find((x) => x.truth!.fault === 'network_delay')!;
  const run = runRca(c, { exclude: NOT_CANDIDATES });
  const cc = candidateCase(metricSourceTable(c), c.id, new Map(run.candidates.map((x) => [x.service, x.score])));
  const ev = caseEvidence(cc, initialGuardedCaseLearner());
  assert.equal(ev.caseTops.static, run.candidates[0]!.service);
  assert.equal(ev.caseTops.learned, ev.caseTops.static, 'no verdict yet: the learned ranking is the shipped one');
  const values = Object.values(ev.candidateProfiles).flatMap((p) => Object.values(p));
  assert.ok(values.length > 0 && values.every((v) => v > 0 && v <= 1));
  const keys = Object.values(ev.candidateProfiles).flatMap((p) => Object.keys(p));
  assert.ok(keys.every((k) => /^(rel|top):[a-z-]+$/.test(k)), keys.find((k) => !/^(rel|top):[a-z-]+$/.test(k)));
  const rebuilt = caseFromFinding(c.id, run.candidates, ev.candidateProfiles);
  const g = prequentialCaseLearner([cc], [c.truth!.service]).final;
  assert.deepEqual(learnedRanking(g.learner, rebuilt), learnedRanking(g.learner, cc));
  // From the run alone (any signals): same shipped order, profiles of the same form.
  const fromRun = runCandidateCase(run, c.id);
  assert.deepEqual(staticRanking(fromRun), run.candidates.map((x) => x.service));
  assert.ok([...fromRun.features.values()].every((f) => Object.values(f).every((v) => v > 0 && v <= 1)));
});

test('the ceiling of kind weighting on Train Ticket: the best fixed kind multipliers in hindsight (chosen on all 45 cases with their truths) find 10 of 45: the most a loop that learns kind weights could reach is +3', { skip }, () => {
  const cases = nezha('train-ticket');
  const tables = cases.map((c) => metricSourceTable(c));
  const truths = cases.map((c) => c.truth!.service);
  const hits = (m: Record<string, number>): number => tables.reduce((n, t, i) => n + (rankBySources(t, m)[0] === truths[i] ? 1 : 0), 0);
  assert.equal(hits({}), 7);
  // The loud kinds (client and server latency, workload) from dropped to tripled, network and io from a third to
  // tripled: 1,125 weightings, every one scored on the truths it is then judged on.
  let best = 0;
  let at: Record<string, number> = {};
  const grid = [0, 0.1, 0.3, 1, 3];
  for (const lc of grid) for (const ls of grid) for (const wl of grid) for (const net of [0.3, 1, 3]) for (const io of [0.3, 1, 3]) {
    const m = { 'latency-client': lc, 'latency-server': ls, workload: wl, network: net, io };
    const h = hits(m);
    if (h > best) [best, at] = [h, m];
  }
  assert.equal(best, 10, `best in hindsight ${best}/45 at ${JSON.stringify(at)}`);
});
