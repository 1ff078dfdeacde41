/**
 * Verdict-driven re-weighting of evidence sources (e.g. the root-cause analyzer's metrics, traces and logs
 * scores). The learner is Hedge (multiplicative weights, Freund & Schapire 1997): after each incident with a
 * verdict, every source pays a loss in [0,1] for how badly it ranked the truth, and its weight is multiplied by
 * exp(-eta * loss). Hedge is the textbook choice because its regret against the best single source is bounded
 * with no assumption on how cases are generated — recorded incidents are few and not i.i.d. A floor keeps every
 * source alive: a signal that was useless for latency faults may be the only one that sees a crash loop.
 */

export type SignalScores = Readonly<Record<string, ReadonlyMap<string, number> | Readonly<Record<string, number>>>>;

export interface WeightState {
  weights: Record<string, number>;
  /** How many verdicts updated the weights. */
  updates: number;
}

export interface HedgeOptions {
  /** Learning rate. 0.5 adapts within a handful of cases without flapping on one. */
  eta?: number;
  /** No weight goes below this share of an equal split. */
  floorShare?: number;
}

function entries(m: ReadonlyMap<string, number> | Readonly<Record<string, number>>): [string, number][] {
  return m instanceof Map ? [...m.entries()] : Object.entries(m);
}

export function initialWeights(signals: readonly string[]): WeightState {
  const w: Record<string, number> = {};
  for (const s of signals) w[s] = 1 / signals.length;
  return { weights: w, updates: 0 };
}

/** Scores of one source normalised to [0,1] by its maximum, so sources with different scales combine. */
function normalised(m: ReadonlyMap<string, number> | Readonly<Record<string, number>>): Map<string, number> {
  const es = entries(m).filter(([, v]) => Number.isFinite(v));
  const max = Math.max(0, ...es.map(([, v]) => v));
  return new Map(es.map(([k, v]) => [k, max > 0 ? Math.max(0, v) / max : 0]));
}

/** Weighted combination of per-source candidate scores, ranked best first. */
export function combine(scores: SignalScores, state: WeightState): { candidate: string; score: number }[] {
  const total = new Map<string, number>();
  for (const [signal, m] of Object.entries(scores)) {
    const w = state.weights[signal] ?? 0;
    for (const [c, v] of normalised(m)) total.set(c, (total.get(c) ?? 0) + w * v);
  }
  return [...total.entries()].map(([candidate, score]) => ({ candidate, score })).sort((a, b) => b.score - a.score || a.candidate.localeCompare(b.candidate));
}

/**
 * 1-based rank of a candidate under one source, ties at their mid-rank (a source that cannot tell the truth from
 * another candidate has not ranked it first); candidates it did not score rank last.
 */
function rankIn(m: Map<string, number>, candidate: string): number {
  const v = m.get(candidate);
  if (v === undefined) return m.size + 1;
  let better = 0;
  let ties = 0;
  for (const x of m.values()) {
    if (x > v) better++;
    else if (x === v) ties++;
  }
  return better + 1 + (ties - 1) / 2;
}

export type Outcome = { confirmed: string } | { rejected: string };

/**
 * Loss of each source for one verdict. Confirmed truth: 1 - 1/rank (0 when the source ranked it first).
 * A rejected candidate with no known truth: the source's normalised score for it (it vouched for a wrong answer).
 */
export function losses(scores: SignalScores, outcome: Outcome): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [signal, m] of Object.entries(scores)) {
    const n = normalised(m);
    if ('confirmed' in outcome) out[signal] = 1 - 1 / rankIn(n, outcome.confirmed);
    else out[signal] = n.get(outcome.rejected) ?? 0;
  }
  return out;
}

export function update(state: WeightState, scores: SignalScores, outcome: Outcome, opts: HedgeOptions = {}): WeightState {
  const eta = opts.eta ?? 0.5;
  const floorShare = opts.floorShare ?? 0.2;
  const l = losses(scores, outcome);
  const w: Record<string, number> = { ...state.weights };
  for (const s of Object.keys(l)) if (!(s in w)) w[s] = 1 / Math.max(1, Object.keys(l).length);
  for (const [s, loss] of Object.entries(l)) w[s] = w[s]! * Math.exp(-eta * loss);
  const keys = Object.keys(w);
  const floor = floorShare / keys.length;
  let sum = keys.reduce((a, k) => a + w[k]!, 0);
  for (const k of keys) w[k] = Math.max(floor, w[k]! / sum);
  sum = keys.reduce((a, k) => a + w[k]!, 0);
  for (const k of keys) w[k] = w[k]! / sum;
  return { weights: w, updates: state.updates + 1 };
}

export interface OnlineCase {
  id: string;
  scores: SignalScores;
  truth: string;
}

export interface OnlineEvalResult {
  /** AC@1 with fixed equal weights. */
  staticAc1: number;
  /** AC@1 when each case is ranked with the weights learned from the verdicts of the cases before it. */
  learnedAc1: number;
  /** The same, counting only the second half of the sequence (after the learner has seen some verdicts). */
  staticAc1Later: number;
  learnedAc1Later: number;
  finalWeights: Record<string, number>;
  cases: number;
}

/**
 * Prequential (test-then-train) evaluation: each case is first ranked with the current weights, scored, and only
 * then its verdict updates them — the learner never sees a case's truth before ranking it.
 */
export function prequential(cases: readonly OnlineCase[], signals: readonly string[], opts: HedgeOptions = {}): OnlineEvalResult {
  const fixed = initialWeights(signals);
  let learned = initialWeights(signals);
  let s1 = 0;
  let l1 = 0;
  let s1Later = 0;
  let l1Later = 0;
  const half = Math.floor(cases.length / 2);
  cases.forEach((c, i) => {
    const sTop = combine(c.scores, fixed)[0]?.candidate;
    const lTop = combine(c.scores, learned)[0]?.candidate;
    const sHit = sTop === c.truth ? 1 : 0;
    const lHit = lTop === c.truth ? 1 : 0;
    s1 += sHit;
    l1 += lHit;
    if (i >= half) {
      s1Later += sHit;
      l1Later += lHit;
    }
    learned = update(learned, c.scores, { confirmed: c.truth }, opts);
  });
  const n = cases.length || 1;
  const later = Math.max(1, cases.length - half);
  return {
    staticAc1: s1 / n,
    learnedAc1: l1 / n,
    staticAc1Later: s1Later / later,
    learnedAc1Later: l1Later / later,
    finalWeights: learned.weights,
    cases: cases.length,
  };
}
