import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FIT_CASES, fitCaseOf, fitExponents, fitTop, fittedMultipliers, initialKindFit, kindFitUpdate } from './kind-fit.js';
import { FITTED, asMultipliers, expertWeights, experts, guardedUpdate, initialGuarded, prequentialGuarded, type RankedCase } from './signal-weights.js';

// kind → candidate → score, the shape a finding's `kindScores` has.
const victimLoud = { errors: { web: 15 }, cpu: { db: 5, web: 1 }, 'latency-server': { web: 3, db: 2 } };

test('the fit model is the ranker\'s rule: strongest kind plus a quarter of the strongest other kind, ties by name', () => {
  const c = fitCaseOf(victimLoud, 'db');
  // web 15 + 3/4 = 15.75 vs db 5 + 2/4 = 5.5
  assert.equal(fitTop(c), 'web');
  // CPU x4: db 20 + 0.5 = 20.5 vs web 15 + 0.75
  assert.equal(fitTop(c, { cpu: 2 }), 'db');
  // Equal scores: the name decides, as in rankBySources.
  assert.equal(fitTop(fitCaseOf({ cpu: { b: 2, a: 2 } }, 'b')), 'a');
});

test('no verdicts, or only rejections, fit nothing: the fitted expert is equal weights', () => {
  assert.deepEqual(fitExponents([]), {});
  const s = kindFitUpdate(undefined, victimLoud, { rejected: 'web' });
  assert.deepEqual(s, initialKindFit());
  assert.deepEqual(fittedMultipliers(s, ['cpu', 'errors']), { cpu: 1, errors: 1 });
});

test('named culprits the loud victim outscored: the fit moves the kinds until the culprits come first, and no further', () => {
  let s = kindFitUpdate(undefined, victimLoud, { confirmed: 'db' });
  assert.equal(fitTop(s.cases[0]!, s.exponents), 'db');
  // The smallest move that does it on this case: CPU x4 (x2 leaves web ahead: 10.5 vs 15.75) — or errors x1/4
  // (web 3.75 + 0.75 = 4.5 vs 5.5); the search tries kinds in name order and CPU comes first.
  assert.deepEqual(s.exponents, { cpu: 2 });
  // A case where the fit cannot help (the culprit is weaker in every kind it has) does not move it.
  s = kindFitUpdate(s, { cpu: { api: 1, gw: 3 }, errors: { gw: 2 } }, { confirmed: 'api' });
  assert.deepEqual(s.exponents, { cpu: 2 });
  // Two cases that equal weights get right and CPU x4 wrong (x 16 over y 14): no multipliers on the grid serve
  // both kinds of case (db over web needs CPU above 3x errors, y over x below 3.5x), equal weights miss 2 of the
  // 4 as CPU x2 does, and a move is kept only when it lowers the misses: the fit is back to equal weights.
  s = kindFitUpdate(s, { cpu: { x: 4 }, errors: { y: 14 } }, { confirmed: 'y' });
  s = kindFitUpdate(s, { cpu: { x: 4 }, errors: { y: 14 } }, { confirmed: 'y' });
  assert.deepEqual(s.exponents, {});
});

test('a stored case keeps the strongest candidates and the named culprit however weak; storage is bounded', () => {
  const scores = { cpu: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${String(i).padStart(2, '0')}`, 20 - i])) };
  const c = fitCaseOf(scores, 's19');
  assert.equal(Object.keys(c.x).length, 9);
  assert.ok('s19' in c.x && 's00' in c.x && !('s10' in c.x));
  let s = initialKindFit();
  for (let i = 0; i < MAX_FIT_CASES + 5; i++) s = kindFitUpdate(s, { cpu: { a: 1 + i } }, { confirmed: 'a' });
  assert.equal(s.cases.length, MAX_FIT_CASES);
  assert.equal(s.cases.at(-1)!.x.a!.cpu, MAX_FIT_CASES + 5);
});

test('in the guard: the fitted expert joins with static\'s record and answer, and its weights are its multipliers', () => {
  // A state from before the fitted expert, where every expert has missed one verdict.
  let g = initialGuarded(['cpu', 'errors']);
  g = { ...g, misses: Object.fromEntries(Object.keys(g.misses).map((e) => [e, 1])) };
  assert.ok(!experts(g).includes(FITTED));
  g = guardedUpdate(g, victimLoud, { confirmed: 'db' }, { static: 'web', learned: 'web', 'without:cpu': 'web', 'without:errors': 'db' }, { fit: true });
  assert.equal(g.misses[FITTED], 2, 'static\'s record (1) and static\'s answer on this verdict (a miss)');
  assert.deepEqual(g.fit!.exponents, { cpu: 2 });
  assert.deepEqual(asMultipliers(expertWeights(g, FITTED)), { cpu: 4, errors: 1, 'latency-server': 1 });
  assert.equal(g.following, 'static');
  // Without `fit` the expert is not kept (the signal weights never have one).
  assert.ok(!experts(guardedUpdate(initialGuarded(['a']), { a: { x: 1 } }, { confirmed: 'x' }, { static: 'x' })).includes(FITTED));
});

test('prequential: where a victim ties the culprit on errors and leads on latency and workload, no single kind dropped helps; the fitted expert is right from the second verdict and followed once two ahead', () => {
  const mk = (i: number): RankedCase => {
    const scores = { errors: { [`edge${i}`]: 15, [`svc${i}`]: 15 }, 'latency-server': { [`edge${i}`]: 4 }, workload: { [`edge${i}`]: 2 }, cpu: { [`svc${i}`]: 1.2 } };
    // The real ranker's rule on these scores (as rankBySources with no topology), under the expert's multipliers.
    const rank = (w: Readonly<Record<string, number>>): string[] => [fitTop(fitCaseOf(scores, `svc${i}`), Object.fromEntries(Object.entries(asMultipliers(w)).map(([k, v]) => [k, Math.log2(v)])))!];
    return { id: `c${i}`, truth: `svc${i}`, scores, rank };
  };
  const cases = Array.from({ length: 6 }, (_, i) => mk(i));
  const off = prequentialGuarded(cases);
  const on = prequentialGuarded(cases, { fit: true });
  for (const e of ['static', 'without:errors', 'without:latency-server', 'without:workload', 'without:cpu']) assert.equal(off.final.misses[e], 6, e);
  assert.deepEqual(on.fittedHits, [0, 1, 1, 1, 1, 1]);
  assert.equal(on.final.following, FITTED);
  // Static misses cases 0–2, the fitted expert only case 0: two ahead after case 2, followed from case 3.
  assert.deepEqual(on.hits, [0, 0, 0, 1, 1, 1]);
  assert.ok(on.hits.reduce((a, b) => a + b) > off.hits.reduce((a, b) => a + b), JSON.stringify(off.hits));
});
