/**
 * Runs the RCA method on one case (from disk or from stored telemetry): windows from the onset, indicator series
 * from metrics, traces and logs, the ranking, and the evidence chain.
 */
import { estimateOnset, indicatorKind, scoreIndicators, serviceScores, type ServiceSeries } from '../../algorithms/rca/metrics.js';
import { RCA_SIGNALS, rankScored, scoreSignals, type RcaInput, type RcaResult, type ScoredSignals } from '../../algorithms/rca/rank.js';
import { configChangesAfter, deploysAfter, logIndicators, traceIndicators, type TraceEvidence } from '../../algorithms/rca/traces.js';
import { spanTableOf, type SpanTable } from '../../algorithms/rca/span-table.js';
import { asGuarded, asMultipliers, expertWeights, experts, withSources, type GuardedWeightState, type WeightState } from '../../algorithms/learning/signal-weights.js';
import { initialGuardedCaseLearner, learnedRanking, type GuardedCaseLearner } from '../../algorithms/learning/rank-learner.js';
import { candidateCase, caseEvidence, perSourceScores, runCandidateCase, sourceTableOfScores, sourcesOf } from './rca-sources.js';
import type { ErrorEvent, LogRecord, MetricPoint, Span } from '../../signals/model.js';
import type { RcaCase } from './rca-cases.js';
import { describeDisturbances, KNOWN_SETTLE_S, settledRangesS, type KnownDisturbance } from '../own-disturbances.js';
import type { SystemChange } from '../../algorithms/perf/regressions.js';
import { announcedBeyond } from '../../algorithms/perf/announced-changes.js';
import { asSystemChange } from '../declared-changes.js';
import { declaredBy, declaredSuffix, type ChangeEvent } from '../../signals/change-event.js';
import type { DeclaredEvidence } from '../../fleet/contracts.js';

export interface RcaRun extends RcaResult {
  onsetS: number;
  onsetEstimated: boolean;
  preSpanS: number;
  postSpanS: number;
  trace?: TraceEvidence;
  deploys: { service: string; version: string; atUs: number; declared?: DeclaredEvidence }[];
  /** `config`/`previous` are signatures (`key=value; …`, resource-config.ts). */
  configChanges: { service: string; config: string; previous?: string; atUs: number; kind?: 'flag'; declared?: DeclaredEvidence }[];
  errors: ErrorEvent[];
  chain: string[];
  /** What the verdict loop needs to learn from a verdict on this run (only when RunOptions.learned is given). */
  learning?: RunLearning;
}

/**
 * The learned state a run ranks with (what the learning coordinator stored from verdicts). Missing parts are their
 * initial state, which ranks exactly as no learning.
 */
export interface LearnedState {
  /** Guarded weights of the signals (metrics, traces, logs). */
  signals?: WeightState | GuardedWeightState;
  /** Guarded weights of the metric indicator kinds: multipliers of the metrics ranker. */
  kinds?: WeightState | GuardedWeightState;
  /** The case-based re-ranker (rank-learner.ts). */
  cases?: GuardedCaseLearner;
}

export interface RunLearning {
  /** What each expert of the signal weights ranks first for this incident (the guard's record). */
  expertTops: Record<string, string>;
  /** Each metric kind's own service scores, and what each expert of the kind weights ranks first. */
  kindScores: Record<string, Record<string, number>>;
  kindExpertTops: Record<string, string>;
  /** Every candidate's evidence profile, and what the shipped and the case-learned rankings put first. */
  candidateProfiles: Record<string, Record<string, number>>;
  caseTops: { static?: string; learned?: string };
  /** The shipped top when the case-based learner, being followed, put another candidate first. */
  rerankedFrom?: string;
}

/** Gauges per service and second-bucket (CPU, memory, event-loop delay) from OTel metric points. */
export function gaugeSeries(points: readonly MetricPoint[], bucketS: number): ServiceSeries {
  const acc = new Map<string, { sum: number; n: number }>();
  for (const p of points) {
    if (p.type !== 'gauge' && p.type !== 'sum') continue;
    if (p.type === 'sum' && p.monotonic) continue;
    const t = Math.floor(p.timeUs / 1e6 / bucketS) * bucketS;
    const k = `${p.service}\u0000${p.name}\u0000${t}`;
    const a = acc.get(k) ?? { sum: 0, n: 0 };
    a.sum += p.value;
    a.n++;
    acc.set(k, a);
  }
  const series: ServiceSeries = new Map();
  for (const k of [...acc.keys()].sort((a, b) => Number(a.split('\u0000')[2]) - Number(b.split('\u0000')[2]))) {
    const [svc, name, t] = k.split('\u0000') as [string, string, string];
    const a = acc.get(k)!;
    let inds = series.get(svc);
    if (!inds) series.set(svc, (inds = new Map()));
    let s = inds.get(name);
    if (!s) inds.set(name, (s = { t: [], v: [] }));
    s.t.push(Number(t));
    s.v.push(a.sum / a.n);
  }
  return series;
}

/**
 * Onset by scanning: the time at which the most anomalous service looks most anomalous when everything before is
 * its baseline. Needs no global model of "normal", so start-up transients early in the window do not pull it.
 */
export function scanOnset(series: ServiceSeries, minT: number, maxT: number, res: number, known: readonly KnownDisturbance[] = []): number | undefined {
  const pre = Math.max(5 * res, 10);
  const post = Math.max(3 * res, 6);
  let best = -Infinity;
  let at: number | undefined;
  const quiet = settledRangesS(known);
  for (let t = minT + pre; t <= maxT - post; t += res) {
    // A disturbance of some services leaves their scores out at its time; one of all of them, the time itself.
    const during = known.filter((k) => t >= k.fromS - post && t <= k.toS + KNOWN_SETTLE_S);
    if (during.some((k) => !k.services)) continue;
    const theirs = new Set(during.flatMap((k) => k.services ?? []));
    const svc = serviceScores(scoreIndicators(series, t, pre * 2, post, { quiet }));
    const top = Math.max(0, ...[...svc].filter(([name]) => !theirs.has(name)).map(([, v]) => v.score));
    if (top > best + 1e-9) {
      best = top;
      at = t;
    }
  }
  return at;
}

/** Exception types that mean the code itself is wrong (JS, Python, JVM, .NET, Go panics), not a dependency. */
const PROGRAMMING_ERRORS = /^(TypeError|RangeError|ReferenceError|SyntaxError|AssertionError|AttributeError|KeyError|IndexError|ValueError|ZeroDivisionError|NullPointerException|ClassCastException|ArrayIndexOutOfBoundsException|IllegalArgumentException|IllegalStateException|NullReferenceException|InvalidCastException|IndexOutOfRangeException|runtime error)\b/;

export interface RunOptions {
  /** Signal weights to rank with (default: the followed expert's of `learned.signals`, else equal). */
  weights?: WeightState;
  /** Learned state: kind multipliers and the case-based re-ranker apply, and the run reports `learning`. */
  learned?: LearnedState;
  exclude?: string[];
  known?: readonly KnownDisturbance[];
  /** Changes declared by whoever made them (agents/declared-changes.ts) in the analysed window. */
  declared?: readonly ChangeEvent[];
  /**
   * Config changes and flag flips the services announced in their logs (announced-changes.ts: announcedBeyond the
   * declared ones); they count as declared changes do, by the same reach around the onset.
   */
  announced?: readonly SystemChange[];
  /**
   * Read the announcements out of the case's own logs (`c.logs`: a case folder or a recorded store holds every
   * severity), beside `announced`. The agent reads them itself (its window read holds warnings and errors only).
   */
  readAnnouncements?: boolean;
}

/** A declared or announced config change or flag flip as the run lists it: `key=value` (the key alone when no value was said). */
function configEntry(c: { service: string; kind: string; key: string; value: string; previous?: string; atUs: number; declared?: DeclaredEvidence }): RcaRun['configChanges'][number] {
  return { service: c.service, config: c.value === '' ? c.key : `${c.key}=${c.value}`, ...(c.previous !== undefined ? { previous: `${c.key}=${c.previous}` } : {}), atUs: c.atUs, ...(c.kind === 'flag' ? { kind: 'flag' as const } : {}), ...(c.declared ? { declared: c.declared } : {}) };
}

/**
 * How long before the onset a declared change still counts as a suspect: a pipeline declares a deploy when the
 * rollout starts, and its first failing requests come once the new pods take traffic, seconds to minutes later.
 * (A change seen on spans is dated by its first span, which is at or after the onset.)
 */
export const DECLARED_LEAD_S = 120;

/**
 * `spans` as objects, or `spanTable` (span-table.ts: what a store reads as columns, without a million objects);
 * the answer is the same.
 */
export function runRca(c: Pick<RcaCase, 'metrics' | 'edges' | 'injectS' | 'resolutionS'> & { spans?: Span[]; spanTable?: SpanTable; logs?: LogRecord[]; errors?: ErrorEvent[]; metricPoints?: MetricPoint[] }, opts: RunOptions = {}): RcaRun {
  const res = Math.max(1, c.resolutionS);
  const metrics: ServiceSeries = new Map(c.metrics);
  if (c.metricPoints?.length) for (const [k, v] of gaugeSeries(c.metricPoints, res)) if (!metrics.has(k)) metrics.set(k, v);
  let minT = Infinity;
  let maxT = -Infinity;
  for (const inds of metrics.values()) for (const s of inds.values()) if (s.t.length) {
    minT = Math.min(minT, s.t[0]!);
    maxT = Math.max(maxT, s.t[s.t.length - 1]!);
  }
  const spans = c.spanTable ?? (c.spans?.length ? spanTableOf(c.spans) : undefined);
  const hasSpans = spans !== undefined && spans.n > 0;
  if (hasSpans) {
    minT = Math.min(minT, spans.startUs[0]! / 1e6);
    maxT = Math.max(maxT, spans.startUs[spans.n - 1]! / 1e6);
  }
  const trace = hasSpans ? traceIndicators(spans, res * 1e6) : undefined;
  let onset = c.injectS;
  let estimated = false;
  if (onset === undefined || !Number.isFinite(onset) || onset < minT || onset > maxT) {
    // Place the onset on the evidence that separates culprits: own time and error origin, plus resources.
    const forOnset: ServiceSeries = new Map(metrics);
    if (trace) {
      for (const [svc, inds] of trace.series) {
        const m = new Map(forOnset.get(svc) ?? []);
        for (const [k, v] of inds) if (k !== 'response-time-p90') m.set(k, v);
        forOnset.set(svc, m);
      }
    }
    onset = scanOnset(forOnset, minT, maxT, res, opts.known) ?? estimateOnset(forOnset, minT, maxT) ?? (minT + maxT) / 2;
    estimated = true;
  }
  // Windows: 5 resolution steps (≥ 20 s) before — short enough to stay clear of an earlier incident — and
  // 3 steps (≥ 10 s) after, bounded by the data.
  const preSpan = Math.min(Math.max(5 * res, 20), onset - minT);
  const postSpan = Math.min(Math.max(3 * res, 10), maxT - onset + res);
  // With traces at hand, latency/error/throughput columns derived from spans are replaced by the trace analysis
  // (which separates own time from callees'); the metrics signal keeps the resource indicators.
  if (hasSpans) {
    for (const [svc, inds] of metrics) {
      const kept = new Map([...inds].filter(([name]) => !['latency-server', 'latency-client', 'errors', 'workload'].includes(indicatorKind(name))));
      metrics.set(svc, kept);
    }
  }
  const series: Partial<Record<'metrics' | 'traces' | 'logs', ServiceSeries>> = { metrics };
  let deploys: RcaRun['deploys'] = [];
  let configChanges: RcaRun['configChanges'] = [];
  const edges = [...c.edges];
  if (hasSpans && trace) {
    series.traces = trace.series;
    for (const e of trace.edges) if (!edges.some((x) => x.source === e.source && x.target === e.target)) edges.push(e);
    deploys = deploysAfter(spans, onset * 1e6);
    configChanges = configChangesAfter(spans, onset * 1e6);
  }
  // Up to a minute (or the incident span) after the onset: a pipeline may report a little late; a deploy long
  // after the onset is the fix or a rollback, not the cause.
  const nearOnset = (atUs: number): boolean => atUs >= (onset - DECLARED_LEAD_S) * 1e6 && atUs <= (onset + Math.max(postSpan, 60)) * 1e6;
  for (const d of opts.declared ?? []) {
    if (!nearOnset(d.atUs)) continue;
    const declared: DeclaredEvidence = declaredBy(d);
    if (d.kind === 'deploy') {
      // The same version seen on the spans is this deploy: dated when it was made, with who made it.
      deploys = [...deploys.filter((x) => !(x.service === d.service && x.version === d.value)), { service: d.service, version: d.value, atUs: d.atUs, declared }];
    } else {
      configChanges.push(configEntry({ ...d, declared }));
    }
  }
  const announced = [...(opts.announced ?? []), ...(opts.readAnnouncements && c.logs?.length ? announcedBeyond((opts.declared ?? []).map(asSystemChange), c.logs) : [])];
  for (const a of announced) if (nearOnset(a.atUs)) configChanges.push(configEntry(a));
  deploys.sort((a, b) => a.atUs - b.atUs);
  configChanges.sort((a, b) => a.atUs - b.atUs);
  if (c.logs?.length || c.errors?.length) {
    const buckets: number[] = [];
    for (let t = Math.floor((onset - preSpan) / res) * res; t <= onset + postSpan; t += res) buckets.push(Math.round(t * 1e6));
    series.logs = logIndicators(c.logs ?? [], c.errors ?? [], res * 1e6, onset * 1e6, buckets, trace?.blame, trace ? new Set(trace.edges.map((e) => e.source)) : undefined);
  }
  // Stored signal weights rank as their followed expert's weights (an old plain Hedge state is not followed).
  const weights = opts.weights ?? (opts.learned?.signals ? asGuarded(opts.learned.signals, [...RCA_SIGNALS]) : undefined);
  // Services a disturbance of some services (a maintenance window, an experiment's fault) covers at the onset are
  // not candidates: what they show then is the planned work's.
  const disturbed = (opts.known ?? []).filter((k) => k.services && onset >= k.fromS && onset <= k.toS + KNOWN_SETTLE_S);
  const notCandidates = [...new Set(disturbed.flatMap((k) => k.services!))];
  const exclude = notCandidates.length ? [...(opts.exclude ?? []), ...notCandidates] : opts.exclude;
  const input: RcaInput = { series, edges, onset, preSpan, postSpan, deploys, configChanges, exclude, weights, quiet: settledRangesS(opts.known) };
  const scored = scoreSignals(input);
  const { result, learning } = opts.learned ? rankWithLearning(scored, input, opts.learned) : { result: rankScored(scored, input), learning: undefined };
  const chain: string[] = [];
  const top = result.candidates[0];
  if (top) {
    chain.push(`onset ${new Date(onset * 1000).toISOString()}${estimated ? ' (estimated from the data: the given time was missing or outside it)' : ''}; baseline ${preSpan.toFixed(0)} s before, incident ${postSpan.toFixed(0)} s after`);
    if (estimated && opts.known?.length) chain.push(`the onset search left out ${describeDisturbances(opts.known)}`);
    if (notCandidates.length) chain.push(`not candidates: ${notCandidates.join(', ')}, inside ${describeDisturbances(disturbed)} at the onset`);
    for (const i of top.indicators.slice(0, 3)) {
      chain.push(`${top.service} ${i.indicator}: ${fmt(i.baseline)} → ${fmt(i.observed)} (${i.weak ? 'once, after none before: weak evidence, counted because nothing else stands out' : `${i.score.toFixed(1)}× its normal spread`})`);
    }
    const broken = [...(trace?.blame.values() ?? [])].filter((b) => b.service === top.service);
    const brokenCallers = new Set(broken.map((b) => b.caller));
    if (broken.length) chain.push(`${broken.length} requests of its callers (${[...brokenCallers].join(', ')}) failed right after its answer (${broken[0]!.share === 1 ? 'every caller fails the same way: the answer is wrong' : 'blame shared with the caller'})`);
    const origin = trace?.originSpans.get(top.service);
    if (origin?.length) chain.push(`errors start in ${top.service}: e.g. span ${origin[0]!.name} in trace ${origin[0]!.traceId}${origin[0]!.message ? ` (${origin[0]!.message})` : ''}`);
    const callers = edges.filter((e) => e.target === top.service).map((e) => e.source);
    if (callers.length) chain.push(`its callers ${callers.join(', ')} see the effect (their own exclusive time and error origin stay lower)`);
    const dep = deploys.find((d) => d.service === top.service);
    if (dep) chain.push(`${top.service} changed version to ${dep.version} at ${new Date(dep.atUs / 1000).toISOString()}${declaredSuffix(dep.declared)}`);
    const conf = configChanges.find((d) => d.service === top.service);
    if (conf) chain.push(`${top.service} ${conf.kind === 'flag' ? 'flipped a flag' : 'changed config'}${conf.previous ? ` from ${conf.previous} to` : conf.declared?.source === 'log' ? '' : ' to'} ${conf.config} at ${new Date(conf.atUs / 1000).toISOString()}${declaredSuffix(conf.declared)}`);
    if (learning?.rerankedFrom) chain.push(`ranked above ${learning.rerankedFrom} (first by score) by the verdict loop: its evidence profile is closer to past confirmed culprits`);
    const second = result.candidates[1];
    if (second) chain.push(`next candidate ${second.service} scores ${second.score.toFixed(2)} vs ${top.score.toFixed(2)}`);
  }
  // The top candidate's own errors, and the errors its callers raised on its wrong answers (consumer errors the
  // trace analysis blamed on it): their stack frames are where the fault shows in code.
  const errs = (c.errors ?? []).filter((e) => e.timeUs >= onset! * 1e6 && top && (e.service === top.service || (e.spanId !== undefined && trace?.blame.get(e.spanId)?.service === top.service)));
  // The culprit throwing programming errors (TypeError, RangeError ...) itself says what kind of fault it is better
  // than which indicator moved most: failing every request looks like an outage on the indicators.
  if (top && (top.faultType === 'dependency-outage' || top.faultType === 'errors') && errs.some((e) => e.service === top.service && PROGRAMMING_ERRORS.test(e.type))) top.faultType = 'code-exception';
  return { ...result, onsetS: onset, onsetEstimated: estimated, preSpanS: preSpan, postSpanS: postSpan, ...(trace ? { trace } : {}), deploys, configChanges, errors: errs, chain, ...(learning ? { learning } : {}) };
}

/** The most frequent in-app stack frame (file:line) of the run's errors: where the fault shows in code. */
export function codeLocations(errors: readonly ErrorEvent[], limit = 3): { file: string; line?: number; function?: string; service: string; type: string; message: string; n: number }[] {
  const byLocation = new Map<string, { file: string; line?: number; function?: string; service: string; type: string; message: string; n: number }>();
  for (const e of errors) {
    const f = e.frames.find((x) => x.inApp && x.file);
    if (!f) continue;
    const k = `${f.file}:${f.line}`;
    const cur = byLocation.get(k);
    if (cur) cur.n++;
    else byLocation.set(k, { file: f.file!, ...(f.line !== undefined ? { line: f.line } : {}), ...(f.function ? { function: f.function } : {}), service: e.service, type: e.type, message: e.message, n: 1 });
  }
  return [...byLocation.values()].sort((a, b) => b.n - a.n).slice(0, limit);
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

/**
 * The ranking under what verdicts taught, and what the next verdict needs. Kind multipliers (the followed expert of
 * the kind weights) act on the metrics ranker; the case-based learner reorders the candidates only while its guard
 * follows it. Every expert's top is ranked by the real ranker from the same indicator scores (rankScored), so the
 * guards judge what would have shipped. Indicator names map back to the signal whose series hold them, so the
 * profile of a run with traces or logs tells trace and log kinds apart from metric ones.
 */
function rankWithLearning(scored: ScoredSignals, input: RcaInput, learned: LearnedState): { result: RcaResult; learning: RunLearning } {
  const table = sourceTableOfScores(scored.metrics ?? [], input.edges, { exclude: input.exclude ?? [] });
  const kinds = sourcesOf(table);
  const kindState = withSources(asGuarded(learned.kinds, kinds), kinds);
  const signalState = withSources(asGuarded(learned.signals, [...RCA_SIGNALS]), [...RCA_SIGNALS]);
  // The static experts rank with no weights at all (not equal ones, whose multipliers k × 1/k may be off by an ulp):
  // exactly the ranking of a store without verdicts.
  const atKinds = (e: string): RcaInput => (e === 'static' ? input : { ...input, kindWeights: asMultipliers(expertWeights(kindState, e)) });
  const shipped = atKinds(kindState.following);
  const result = rankScored(scored, shipped);
  // An expert that leaves no evidence at all (it drops the incident's only signal or kind) ranks by name: it has
  // no answer, and is left out of the tops (the coordinator counts that as a miss).
  const topOf = (r: RcaResult): string | undefined => (r.candidates[0] && r.candidates[0].score > 0 ? r.candidates[0].service : undefined);
  const expertTops: Record<string, string> = {};
  for (const e of experts(signalState)) {
    const top = topOf(rankScored(scored, { ...shipped, weights: e === 'static' ? undefined : { weights: expertWeights(signalState, e), updates: 0 } }));
    if (top !== undefined) expertTops[e] = top;
  }
  const kindExpertTops: Record<string, string> = {};
  for (const e of kinds.length ? experts(kindState) : []) {
    const top = topOf(rankScored(scored, atKinds(e)));
    if (top !== undefined) kindExpertTops[e] = top;
  }
  const base = new Map(result.candidates.map((c) => [c.service, c.score]));
  const signalOf = new Map<string, string>();
  for (const sig of RCA_SIGNALS) for (const inds of input.series[sig]?.values() ?? []) for (const name of inds.keys()) if (!signalOf.has(name)) signalOf.set(name, sig);
  const metricsOnly = !input.series.traces?.size && !input.series.logs?.size;
  const cc = metricsOnly ? candidateCase(table, 'run', base) : runCandidateCase(result, 'run', (name) => signalOf.get(name) ?? 'metrics');
  const cases = learned.cases ?? initialGuardedCaseLearner();
  const { candidateProfiles, caseTops } = caseEvidence(cc, cases);
  const learning: RunLearning = { expertTops, kindScores: perSourceScores(table), kindExpertTops, candidateProfiles, caseTops };
  if (cases.guard.following !== 'learned') return { result, learning };
  // The shipped scores stay on the candidates (the evidence's strength, and what a verdict's case is rebuilt from);
  // only their order is the learned one.
  const order = learnedRanking(cases.learner, cc);
  const by = new Map(result.candidates.map((c) => [c.service, c]));
  const candidates = order.map((s, i) => ({ ...by.get(s)!, rank: i + 1 }));
  const first = result.candidates[0]?.service;
  if (candidates[0] && candidates[0].service !== first && first !== undefined) learning.rerankedFrom = first;
  return { result: { ...result, candidates }, learning };
}
