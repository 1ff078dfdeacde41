/**
 * The evidence sources the verdict loop re-weights, taken from what the shipped RCA ranker really combines on a
 * metrics-only case (Nezha, RCAEval): every indicator kind — pod resources, latencies, errors and the call-edge
 * indicators (edges.ts) — scored exactly as rankRootCauses scores them (same windows, the scoring options it
 * exports, the kind weights and victim discount; runRca builds the table from its own indicator scores). A kind multiplier of 1 everywhere reproduces the shipped ranking; the learner only moves
 * multipliers, so what it learns is a change to the ranker that ships, not to a side model of it.
 */
import { scoreIndicators, serviceScores, topologyAdjust, type IndicatorKind, type IndicatorScore, type ServiceSeries } from '../../algorithms/rca/metrics.js';
import { signalScoreOptions } from '../../algorithms/rca/rank.js';
import { asMultipliers, expertWeights, experts, type GuardedWeightState } from '../../algorithms/learning/signal-weights.js';
import { learnedRanking, staticRanking, type CandidateCase, type GuardedCaseLearner } from '../../algorithms/learning/rank-learner.js';
import type { RcaCase } from './rca-cases.js';

/**
 * One case's evidence: per service, the strongest weighted indicator (log1p(z) × kind weight) of each source. A
 * source is an indicator kind, or with `by: 'indicator'` an indicator name with the call-edge peer
 * and replica left out (`edge-in-latency:frontend` → `edge-in-latency`, `CpuUsage(m)@pod-2` → `CpuUsage(m)`), so
 * sources are shared by all services of a system.
 */
export interface SourceTable {
  /** service → source → best weighted value and the kind it belongs to. */
  best: Map<string, Map<string, { value: number; kind: IndicatorKind }>>;
  edges: { source: string; target: string }[];
}

export type SourceGrain = 'kind' | 'indicator';
// A replica's copy of an indicator (`<indicator>@<pod>`) is the same source as the indicator.
const sourceName = (indicator: string, kind: IndicatorKind, by: SourceGrain): string => (by === 'kind' ? kind : indicator.startsWith('edge-') ? indicator.split(':')[0]! : indicator.replace(/@[^@]*$/, ''));

/** Services the shipped evaluation never ranks (load generators, stores without telemetry of their own). */
export const NOT_CANDIDATES = ['traffic', 'loadgenerator', 'redis', 'sqlite'];

/**
 * The source table of a metrics-only case with a given onset, with runRca's windows (5 steps / ≥ 20 s before the
 * onset, 3 steps / ≥ 10 s after, bounded by the data).
 */
export function metricSourceTable(c: Pick<RcaCase, 'metrics' | 'edges' | 'injectS' | 'resolutionS'>, opts: { by?: SourceGrain; exclude?: readonly string[] } = {}): SourceTable {
  const res = Math.max(1, c.resolutionS);
  let minT = Infinity;
  let maxT = -Infinity;
  for (const inds of c.metrics.values()) for (const s of inds.values()) if (s.t.length) {
    minT = Math.min(minT, s.t[0]!);
    maxT = Math.max(maxT, s.t[s.t.length - 1]!);
  }
  const onset = c.injectS ?? (minT + maxT) / 2;
  const preSpan = Math.min(Math.max(5 * res, 20), onset - minT);
  const postSpan = Math.min(Math.max(3 * res, 10), maxT - onset + res);
  return sourceTableOf(c.metrics, { onset, preSpan, postSpan }, c.edges, opts);
}

/**
 * The source table of the metrics signal of any run (what rankRootCauses scores as `metrics`, with its floors):
 * runRca can build it from the same series, windows and quiet ranges it ranks with.
 */
export function sourceTableOf(
  metrics: ServiceSeries,
  w: { onset: number; preSpan: number; postSpan: number },
  edges: { source: string; target: string }[],
  opts: { by?: SourceGrain; exclude?: readonly string[]; quiet?: readonly { fromS: number; toS: number }[] } = {},
): SourceTable {
  return sourceTableOfScores(scoreIndicators(metrics, w.onset, w.preSpan, w.postSpan, signalScoreOptions('metrics', opts.quiet)), edges, opts);
}

/** The same from the metrics signal's indicator scores of a run (scoreSignals), without scoring them again. */
export function sourceTableOfScores(scores: readonly IndicatorScore[], edges: { source: string; target: string }[], opts: { by?: SourceGrain; exclude?: readonly string[] } = {}): SourceTable {
  const skip = new Set(opts.exclude ?? NOT_CANDIDATES);
  const by = opts.by ?? 'kind';
  const ind = scores.filter((i) => !skip.has(i.service));
  const best: SourceTable['best'] = new Map();
  // serviceScores of one source's indicators is that source's best weighted value (they share one kind, so there
  // is no second kind to add), which keeps the kind weights in one place (metrics.ts).
  const groups = new Map<string, typeof ind>();
  for (const i of ind) {
    const k = sourceName(i.indicator, i.kind, by);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }
  for (const [k, g] of groups) {
    for (const [svc, v] of serviceScores(g)) {
      let m = best.get(svc);
      if (!m) best.set(svc, (m = new Map()));
      m.set(k, { value: v.score, kind: g[0]!.kind });
    }
  }
  return { best, edges };
}

/**
 * Service scores under kind multipliers (missing kinds count 1): the strongest multiplied kind plus a quarter of
 * the strongest of another kind — serviceScores' rule — then the victim discount when there is a topology.
 */
export function sourceScores(t: SourceTable, multipliers: Readonly<Record<string, number>> = {}): Map<string, number> {
  const raw = new Map<string, number>();
  for (const [svc, kinds] of t.best) {
    let first = 0;
    let firstKind: IndicatorKind | undefined;
    for (const [k, v] of kinds) {
      const x = v.value * (multipliers[k] ?? 1);
      if (firstKind === undefined || x > first) {
        first = x;
        firstKind = v.kind;
      }
    }
    // The second term comes from another kind, as in serviceScores (p95 beside p99 is not independent evidence).
    let other = 0;
    for (const [k, v] of kinds) if (v.kind !== firstKind) other = Math.max(other, v.value * (multipliers[k] ?? 1));
    raw.set(svc, first + 0.25 * other);
  }
  return t.edges.length ? topologyAdjust(raw, t.edges) : raw;
}

/** Ranking under kind multipliers, best first, ties by name (as rankRootCauses breaks them). */
export function rankBySources(t: SourceTable, multipliers: Readonly<Record<string, number>> = {}): string[] {
  return [...sourceScores(t, multipliers)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s]) => s);
}

/** The sources present in a case: the ones a verdict on it can say something about. */
export function sourcesOf(t: SourceTable): string[] {
  const out = new Set<string>();
  for (const kinds of t.best.values()) for (const k of kinds.keys()) out.add(k);
  return [...out].sort();
}

/** Each source's own service scores (the source alone, with the victim discount): what Hedge over sources scores. */
export function perSourceScores(t: SourceTable): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const k of sourcesOf(t)) {
    const raw = new Map<string, number>();
    for (const [svc, kinds] of t.best) {
      const v = kinds.get(k);
      if (v) raw.set(svc, v.value);
    }
    out[k] = Object.fromEntries(t.edges.length ? topologyAdjust(raw, t.edges) : raw);
  }
  return out;
}

/**
 * What a root-cause finding carries for the kind-level verdict loop: each kind's own scores (Hedge's losses) and
 * what every expert of the guarded kind weights ranks first under this very ranker (the guard's record), as
 * `data.kindScores` / `data.kindExpertTops` (see learning-coordinator.ts).
 */
export function kindEvidence(t: SourceTable, state: GuardedWeightState): { kindScores: Record<string, Record<string, number>>; kindExpertTops: Record<string, string> } {
  const kindExpertTops: Record<string, string> = {};
  for (const e of experts(state)) {
    const top = rankBySources(t, asMultipliers(expertWeights(state, e)))[0];
    if (top !== undefined) kindExpertTops[e] = top;
  }
  return { kindScores: perSourceScores(t), kindExpertTops };
}

/**
 * One case as the case-based verdict loop sees it (rank-learner.ts): the shipped score of every candidate and its
 * evidence profile — its strength in each kind relative to the strongest service of that kind (`rel:<kind>`) and
 * which kind is its own strongest (`top:<kind>`). Relative strengths, not raw values: a profile has to compare
 * across incidents whose overall loudness differs, and across services.
 */
export function candidateCase(t: SourceTable, id: string, base?: ReadonlyMap<string, number>): CandidateCase {
  const strength = new Map<string, Map<string, number>>();
  for (const [svc, m] of t.best) strength.set(svc, new Map([...m].map(([k, v]) => [k, v.value])));
  // `base`: the run's own candidate scores when the ranking that ships combined more than this table's metrics.
  return { id, base: base ?? sourceScores(t), features: profiles(strength) };
}

/** Per candidate, `rel:<kind>` (its strength over the strongest candidate's in that kind) and `top:<kind>`. */
function profiles(strength: ReadonlyMap<string, ReadonlyMap<string, number>>): Map<string, Record<string, number>> {
  const maxOf = new Map<string, number>();
  for (const m of strength.values()) for (const [k, v] of m) maxOf.set(k, Math.max(maxOf.get(k) ?? 0, v));
  const out = new Map<string, Record<string, number>>();
  for (const [svc, m] of strength) {
    const x: Record<string, number> = {};
    let topKind: string | undefined;
    let topV = 0;
    // Kinds in name order, so a tie for the strongest kind resolves the same way whatever order they arrived in.
    for (const k of [...m.keys()].sort()) {
      const v = m.get(k)!;
      const mx = maxOf.get(k)!;
      if (mx > 0 && v > 0) x[`rel:${k}`] = v / mx;
      if (v > topV) {
        topV = v;
        topKind = k;
      }
    }
    if (topKind !== undefined) x[`top:${topKind}`] = 1;
    out.set(svc, x);
  }
  return out;
}

/**
 * The same profile from what any RCA result carries (every signal's strongest indicators per candidate, metrics,
 * traces and logs alike): what the root-cause agent can put on its finding for the verdict loop, whatever signals
 * the run had. Kinds of trace and log indicators are told apart by signal (`traces/latency-server` is exclusive
 * time, not the metric). Strength is log1p(z), the unit service scores are in; the kind weights cancel in a
 * within-kind ratio.
 */
export function runCandidateCase(run: { candidates: readonly { service: string; score: number; indicators: readonly { indicator: string; kind: IndicatorKind; score: number }[] }[] }, id: string, signalOf: (indicator: string) => string = () => 'metrics'): CandidateCase {
  const strength = new Map<string, Map<string, number>>();
  for (const c of run.candidates) {
    const m = new Map<string, number>();
    for (const i of c.indicators) {
      const sig = signalOf(i.indicator);
      const k = sig === 'metrics' ? i.kind : `${sig}/${i.kind}`;
      const v = Math.log1p(Math.max(0, i.score));
      if (v > (m.get(k) ?? 0)) m.set(k, v);
    }
    strength.set(c.service, m);
  }
  return { id, base: new Map(run.candidates.map((c) => [c.service, c.score])), features: profiles(strength) };
}

/**
 * What a root-cause finding carries for the case-based verdict loop (rank-learner.ts): each candidate's profile
 * (`data.candidateProfiles`), and what the shipped and the learned rankings put first when the case was ranked
 * (`data.caseTops`, the guard's record: judged on what would have shipped, before the verdict was known).
 */
export function caseEvidence(c: CandidateCase, g: GuardedCaseLearner): { candidateProfiles: Record<string, Record<string, number>>; caseTops: { static?: string; learned?: string } } {
  const tops: { static?: string; learned?: string } = {};
  const s = staticRanking(c)[0];
  const l = learnedRanking(g.learner, c)[0];
  if (s !== undefined) tops.static = s;
  if (l !== undefined) tops.learned = l;
  return { candidateProfiles: Object.fromEntries([...c.features].map(([svc, f]) => [svc, { ...f }])), caseTops: tops };
}
