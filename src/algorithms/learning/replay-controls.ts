/**
 * Controls for judging a verdict learner on recorded incidents. A prequential replay in time order (each case
 * ranked before its own verdict is learned) is necessary but not sufficient: benchmark fault campaigns inject
 * faults in runs — Nezha injects each fault into the same service two to four times in a row — so a learner that
 * remembers *which service* was to blame gains on every repeat without learning anything about the evidence.
 * "Put the previous verdict's culprit first" is the bare form of that, and on Nezha Train Ticket it beats every
 * ranking that reads the evidence (25 of 45 vs 7). A gain is only evidence of learning when it also shows
 *   - on the cases that start a run (the culprit differs from the previous case's), where recurrence gives nothing;
 *   - with the cases in a shuffled order, where the runs are broken up.
 * This module holds the scoring (AC@k, Avg@5), those two controls, the recurrence baseline and a service-identity
 * learner (the one the controls were made for: it is measured, not shipped). Pure: no I/O.
 */

import type { CandidateCase } from './rank-learner.js';
import { mulberry32 } from '../../util/random.js';

/** 0-based position of each truth in its ranking (Infinity when the ranking does not list it). */
export function truthPositions(rankings: readonly (readonly string[])[], truths: readonly string[]): number[] {
  return rankings.map((r, i) => {
    const p = r.indexOf(truths[i]!);
    return p < 0 ? Infinity : p;
  });
}

export interface RankScore {
  cases: number;
  /** Cases whose truth was ranked first (AC@1 × cases). */
  top1: number;
  ac1: number;
  /** Mean of AC@1 … AC@5 (RCAEval's Avg@5). */
  avg5: number;
}

/** AC@1 and Avg@5 of truth positions, optionally over a subset (`mask[i]` true keeps case i). */
export function rankScore(positions: readonly number[], mask?: readonly boolean[]): RankScore {
  const ps = mask ? positions.filter((_, i) => mask[i]) : [...positions];
  const n = ps.length;
  const top1 = ps.filter((p) => p === 0).length;
  let avg = 0;
  for (const p of ps) avg += Math.max(0, 5 - p) / 5;
  return { cases: n, top1, ac1: n ? top1 / n : 0, avg5: n ? avg / n : 0 };
}

/** Case i starts a run when its truth differs from case i-1's (the first case starts one). */
export function runStarts(truths: readonly string[]): boolean[] {
  return truths.map((t, i) => i === 0 || truths[i - 1] !== t);
}

/**
 * The recurrence baseline: the previous case's truth first, the rest in the given order. It reads no evidence;
 * whatever it scores is what the order of the cases gives away.
 */
export function recurrenceRankings(rankings: readonly (readonly string[])[], truths: readonly string[]): string[][] {
  return rankings.map((r, i) => {
    const prev = i > 0 ? truths[i - 1] : undefined;
    return prev === undefined || !r.includes(prev) ? [...r] : [prev, ...r.filter((s) => s !== prev)];
  });
}

/** A permutation of `items` fixed by `seed` (mulberry32 + Fisher–Yates), so a shuffled control is reproducible. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const rnd = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface ServiceBiasOptions {
  /** Step of the logistic update, in log-score units. */
  lr?: number;
  /** How many of the candidates ranked above the truth are pushed below it per verdict. */
  negatives?: number;
  /** Offsets may only fall (a service can be learned unreliable, never more likely than a fresh one). */
  discountOnly?: boolean;
}

/**
 * The service-identity learner: score(s) = log(base(s) / top base) + w[s], with one offset per service, updated
 * after each verdict by a pairwise logistic step between the confirmed culprit and the candidates ranked above it
 * ("X's evidence was blamed and the cause was Y": X's offset falls, Y's rises). It is what per-(service, indicator)
 * reliability reduces to when indicators are grouped by service, and what a re-ranker with service identity as a
 * feature learns. Kept as a control, not shipped: on Nezha its whole gain comes from repeats (see the module note).
 * Returns each case's ranking, ranked before its verdict was learned.
 */
export function prequentialServiceBias(cases: readonly CandidateCase[], truths: readonly string[], opts: ServiceBiasOptions = {}): string[][] {
  const lr = opts.lr ?? 1;
  const negatives = opts.negatives ?? 20;
  const w = new Map<string, number>();
  return cases.map((c, i) => {
    const top = Math.max(0, ...c.base.values());
    // A candidate without evidence sits at e^-7 of the top: below any scored one, still movable by an offset.
    const logBase = (s: string): number => Math.log(Math.max(top > 0 ? (c.base.get(s) ?? 0) / top : 0, 1e-3));
    const score = (s: string): number => logBase(s) + (w.get(s) ?? 0);
    const ranking = [...c.base.keys()].sort((a, b) => score(b) - score(a) || a.localeCompare(b));
    const truth = truths[i]!;
    const at = ranking.indexOf(truth);
    if (at > 0) {
      for (const n of ranking.slice(0, at).slice(0, negatives)) {
        const g = lr / (1 + Math.exp(score(truth) - score(n)));
        w.set(truth, Math.min(opts.discountOnly ? 0 : Infinity, (w.get(truth) ?? 0) + g));
        w.set(n, (w.get(n) ?? 0) - g);
      }
    }
    return ranking;
  });
}
