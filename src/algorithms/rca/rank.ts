/**
 * Root-cause ranking: per-signal service scores (metrics, traces, logs) combined with learned weights (Hedge,
 * re-weighted by verdicts — see algorithms/learning/signal-weights.ts), deploys as strong direct evidence, the
 * fault type each candidate looks like, and the evidence chain a person can follow.
 */
import { combine, initialWeights, type WeightState } from '../learning/signal-weights.js';
import { scoreIndicators, serviceScores, topologyAdjust, type IndicatorScore, type ScoreOptions, type ServiceSeries } from './metrics.js';

export const RCA_SIGNALS = ['metrics', 'traces', 'logs'] as const;
/** A clear anomaly: 10 robust deviations (CLEAR_SCORE is its log1p, the unit service scores are in). */
const CLEAR_Z = 10;
const CLEAR_SCORE = Math.log1p(CLEAR_Z);
export type RcaSignal = (typeof RCA_SIGNALS)[number];

export type FaultType = 'cpu' | 'memory' | 'latency' | 'errors' | 'code-exception' | 'dependency-outage' | 'bad-deploy' | 'bad-config' | 'unknown';

export interface RcaInput {
  series: Partial<Record<RcaSignal, ServiceSeries>>;
  edges: { source: string; target: string }[];
  /** Onset and window sizes in the series' time unit (seconds). */
  onset: number;
  preSpan: number;
  postSpan: number;
  deploys?: { service: string; version: string; atUs: number }[];
  /** Services whose config changed after the onset (traces.ts: configChangesAfter): direct evidence, as a deploy. */
  configChanges?: { service: string; config: string; previous?: string; atUs: number }[];
  /** Services that exist but are not candidates (load generators, databases without telemetry). */
  exclude?: string[];
  weights?: WeightState;
  /** Multipliers of the metrics ranker's indicator kinds, learned from verdicts (1 or missing = unchanged). */
  kindWeights?: Readonly<Record<string, number>>;
  /** Baseline time ranges to leave out (the swarm's own experiments), see ScoreOptions.quiet. */
  quiet?: readonly { fromS: number; toS: number }[];
}

export interface Candidate {
  service: string;
  score: number;
  rank: number;
  faultType: FaultType;
  indicators: IndicatorScore[];
  perSignal: Partial<Record<RcaSignal, number>>;
}

export interface RcaResult {
  candidates: Candidate[];
  /** Per-signal normalised service scores, kept so a later verdict can re-weight the signals. */
  signalScores: Record<string, Record<string, number>>;
  weights: Record<string, number>;
}

function faultTypeOf(top: IndicatorScore[], deployed: boolean, reconfigured = false): FaultType {
  if (deployed) return 'bad-deploy';
  if (reconfigured) return 'bad-config';
  const first = top.find((t) => t.score > 3) ?? top[0];
  if (!first) return 'unknown';
  const byKind = (k: string): boolean => top.some((t) => t.kind === k && t.score > 3);
  if (top.some((t) => t.indicator === 'new-errors' && t.score > 3)) return 'code-exception';
  // Resource exhaustion explains the latency it causes: prefer it when it is comparably strong.
  const resource = top.find((t) => (t.kind === 'cpu' || t.kind === 'memory') && t.direction > 0 && t.score > 3 && Math.log1p(t.score) >= 0.5 * Math.log1p(first.score));
  if (resource) return resource.kind === 'cpu' ? 'cpu' : 'memory';
  if (first.indicator === 'error-origin' && first.direction > 0) return byKind('latency-server') ? 'dependency-outage' : 'errors';
  if (first.kind === 'cpu') return 'cpu';
  if (first.kind === 'memory') return 'memory';
  if (first.kind === 'latency-server' || first.kind === 'latency-client' || first.kind === 'latency-network' || first.kind === 'network') return 'latency';
  if (first.kind === 'errors') return 'errors';
  return 'unknown';
}

/**
 * How each signal's indicators are scored. Traces and logs count events (failures, error lines), where a single
 * occurrence from a clean record is weak but specific evidence; metrics are gauges, where one sample is noise.
 * Exported so the verdict loop's view of the metrics ranker (agents/detection/rca-sources.ts) scores alike.
 */
export function signalScoreOptions(sig: RcaSignal, quiet?: readonly { fromS: number; toS: number }[]): ScoreOptions {
  return { relFloor: sig === 'logs' ? 0 : 0.05, absFloor: sig === 'logs' ? 0.5 : sig === 'traces' ? 0.005 : 1e-6, quiet, ...(sig === 'metrics' ? {} : { once: 0.5 }) };
}

/** Every signal's indicator scores of one incident: the costly half of the ranking, done once per incident. */
export type ScoredSignals = Partial<Record<RcaSignal, IndicatorScore[]>>;

export function scoreSignals(input: Pick<RcaInput, 'series' | 'onset' | 'preSpan' | 'postSpan' | 'quiet'>): ScoredSignals {
  const scored: ScoredSignals = {};
  for (const sig of RCA_SIGNALS) {
    const s = input.series[sig];
    if (!s || !s.size) continue;
    scored[sig] = scoreIndicators(s, input.onset, input.preSpan, input.postSpan, signalScoreOptions(sig, input.quiet));
  }
  return scored;
}

export function rankRootCauses(input: RcaInput): RcaResult {
  return rankScored(scoreSignals(input), input);
}

/**
 * The cheap half: service scores per signal, their weighted combination and the candidates. Ranking one incident
 * under several weightings (what the verdict loop's guard needs: each expert's top) re-runs only this.
 */
export function rankScored(scored: ScoredSignals, input: RcaInput): RcaResult {
  const exclude = new Set(input.exclude ?? []);
  const perSignal: Partial<Record<RcaSignal, Map<string, { score: number; top: IndicatorScore[] }>>> = {};
  const signalScores: Record<string, Record<string, number>> = {};
  // Weak evidence (a service failing once or twice after a clean record: a bug on a path light traffic rarely
  // takes) counts only when nothing else is a clear anomaly; beside a CPU burn elsewhere it is more likely chance.
  const standout = Math.max(0, ...Object.values(scored).flatMap((l) => l.filter((i) => !i.weak && !exclude.has(i.service)).map((i) => i.score)));
  for (const sig of RCA_SIGNALS) {
    const ind = scored[sig];
    if (!ind) continue;
    // Learned kind multipliers apply to the metrics ranker only: trace and log kinds are other evidence.
    const svc = serviceScores(ind.filter((i) => !exclude.has(i.service) && (!i.weak || standout < CLEAR_Z)), sig === 'metrics' ? input.kindWeights : undefined);
    // Metrics-only evidence cannot tell a victim from its culprit; discount services whose callees look worse.
    const raw = new Map([...svc].map(([k, v]) => [k, v.score]));
    const adjusted = sig === 'metrics' && input.edges.length ? topologyAdjust(raw, input.edges) : raw;
    for (const [k, v] of adjusted) svc.get(k)!.score = v;
    perSignal[sig] = svc;
    signalScores[sig] = Object.fromEntries([...svc].map(([k, v]) => [k, v.score]));
  }
  const deployed = new Set((input.deploys ?? []).map((d) => d.service));
  const present = Object.keys(signalScores);
  const weights = input.weights ?? initialWeights(present.length ? present : [...RCA_SIGNALS]);
  // Signals that are absent for this incident give their weight to the others: the present ones' weights sum to 1,
  // so stored equal weights over all three signals rank (and score, beside the fixed deploy bonus) exactly as no
  // stored weights do.
  const given = present.map((p) => weights.weights[p] ?? 1 / present.length);
  const sum = given.reduce((a, b) => a + b, 0);
  const active: WeightState = { weights: Object.fromEntries(present.map((p, i) => [p, !input.weights ? given[i]! : sum > 0 ? given[i]! / sum : 0])), updates: weights.updates };
  // Each signal's scores are normalised by their maximum before they are combined, which makes a signal that
  // barely saw anything (two error lines) as loud as one that saw a clear anomaly. A signal counts in full only
  // when its strongest service is a clear anomaly (CLEAR_SCORE ≈ log1p of 10 robust deviations), in proportion
  // below that.
  const confident: WeightState = {
    weights: Object.fromEntries(Object.entries(active.weights).map(([sig, w]) => [sig, w * Math.min(1, Math.max(0, ...Object.values(signalScores[sig] ?? {})) / CLEAR_SCORE)])),
    updates: active.updates,
  };
  const combined = combine(signalScores, confident);
  // A signal that has nothing on a service (too few spans before the onset to form a baseline, say) is missing
  // evidence, not evidence of innocence: the service's score is the weighted mean over the signals that do
  // cover it (the missing one imputed at that mean).
  const total = Object.values(confident.weights).reduce((a, b) => a + b, 0);
  const covered = (svc: string): number => Object.entries(confident.weights).reduce((a, [sig, w]) => a + (signalScores[sig]?.[svc] !== undefined ? w : 0), 0);
  const scores = new Map(combined.map((c) => [c.candidate, covered(c.candidate) > 0 ? (c.score * total) / covered(c.candidate) : c.score]));
  // A deploy or a config change after the onset is direct evidence; one bonus per service when it had both.
  const reconfigured = new Set((input.configChanges ?? []).map((c) => c.service));
  for (const d of new Set([...deployed, ...reconfigured])) if (!exclude.has(d)) scores.set(d, (scores.get(d) ?? 0) + 0.5);
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const candidates: Candidate[] = ranked.map(([service, score], i) => {
    const indicators = RCA_SIGNALS.flatMap((s) => perSignal[s]?.get(service)?.top ?? []).sort((a, b) => b.score - a.score);
    return {
      service,
      score,
      rank: i + 1,
      faultType: faultTypeOf(indicators, deployed.has(service), reconfigured.has(service)),
      indicators: indicators.slice(0, 5),
      perSignal: Object.fromEntries(RCA_SIGNALS.filter((s) => signalScores[s]?.[service] !== undefined).map((s) => [s, signalScores[s]![service]!])),
    };
  });
  return { candidates, signalScores, weights: active.weights };
}

/** RCAEval's accuracy figures: AC@k = share of cases with the truth in the top k; Avg@5 = mean of AC@1..5. */
export function accuracyAtK(rankings: { truth: string; ranking: string[] }[]): { cases: number; ac1: number; ac3: number; ac5: number; avg5: number } {
  const n = rankings.length;
  if (!n) return { cases: 0, ac1: 0, ac3: 0, ac5: 0, avg5: 0 };
  const acK = (k: number): number => rankings.filter((r) => r.ranking.slice(0, k).includes(r.truth)).length / n;
  const ac = [1, 2, 3, 4, 5].map(acK);
  return { cases: n, ac1: ac[0]!, ac3: ac[2]!, ac5: ac[4]!, avg5: ac.reduce((a, b) => a + b, 0) / 5 };
}
