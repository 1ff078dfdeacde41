/**
 * qe-root-cause-analyzer: given an incident window (and optional symptoms), ranks root-cause candidates from the
 * stored traces (exclusive time, error origin, deploys), metrics (resource gauges) and logs (error bursts, new
 * fingerprints), ranked with what verdicts taught (the learning coordinator's guarded signal and metric-kind weights
 * and its case-based re-ranker, each followed only once it beats the unlearned ranking), and reports the top
 * one with its evidence chain — spans, code locations from stack traces, metric windows, deploys.
 */
import { signatureChanges } from '../../signals/resource-config.js';
import { createHash } from 'node:crypto';
import type { Agent, AgentContext, AgentTask, Finding, FeedbackCategory, Severity } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import type { GuardedWeightState, WeightState } from '../../algorithms/learning/signal-weights.js';
import type { GuardedCaseLearner } from '../../algorithms/learning/rank-learner.js';
import type { FaultType } from '../../algorithms/rca/rank.js';
import { spanTableOf } from '../../algorithms/rca/span-table.js';
import { peerNeeded } from '../../algorithms/rca/traces.js';
import { CASE_LEARNER_KIND, METRIC_KINDS, SIGNAL_WEIGHTS_KIND } from '../learning/learning-coordinator.js';
import { codeLocations, DECLARED_LEAD_S, runRca, type RcaRun } from './rca-run.js';
import { knownDisturbances } from '../own-disturbances.js';
import { asSystemChange, declaredChanges, recordAnnounced } from '../declared-changes.js';
import { announcedBeyond } from '../../algorithms/perf/announced-changes.js';
import type { SystemChange } from '../../algorithms/perf/regressions.js';
import { flagEvidence } from './rca-flags.js';
import { attributionPhrase, withLogEvaluations } from '../../algorithms/perf/flags.js';

/** The top candidate must stand out this much (log1p of a robust z, weighted) to be reported as a root cause. */
const MIN_SCORE = 0.25;

const DEFECT_FAULTS: FaultType[] = ['code-exception', 'errors', 'bad-deploy', 'bad-config'];

function stableId(...parts: string[]): string {
  return `rca-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16)}`;
}

/** Leading candidates whose logs are read for config changes they announced (one read of their lines near the onset). */
const ANNOUNCEMENT_CANDIDATES = 3;

export class RootCauseAnalyzer implements Agent {
  readonly id = AGENT_IDS.rootCauseAnalyzer;
  readonly layer = 'detection' as const;
  readonly description = 'Ranks root-cause candidates of an incident from traces, metrics and logs, with the evidence chain';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const now = ctx.clock.nowUs();
    const window = task.window ?? { fromUs: now - 15 * 60e6, toUs: now };
    const symptoms = (task.params.symptoms as string[] | undefined) ?? [];
    // Only the fields the analysis reads: reading every attribute of a million spans back cost more than the
    // analysis. As columns where the store can (no span objects; rests of only the spans the analysis asks about).
    const query = { window, limit: Number(task.params.maxSpans ?? 1_000_000), fields: 'rca' as const };
    const tel = ctx.store.telemetry;
    // Together: a store whose queries wait on a server (PostgreSQL) answers them side by side.
    const spansRead = tel.querySpanTable ? tel.querySpanTable(query, peerNeeded) : tel.querySpans(query).then(spanTableOf);
    const [spanTable, logs, errors, metricPoints] = await Promise.all([
      spansRead,
      tel.queryLogs({ window, minSeverity: 13, limit: 200_000 }),
      tel.queryErrors({ window, limit: 100_000 }),
      tel.queryMetrics({ window, limit: 500_000 }),
    ]);
    if (ctx.signal.aborted) throw new Error('aborted');
    ctx.progress({ done: 1, total: 4, message: `${spanTable.n} spans` });
    ctx.progress({ done: 2, total: 4, message: `${logs.length} warn/error logs, ${errors.length} errors, ${metricPoints.length} metric points` });
    const spanS = (window.toUs - window.fromUs) / 1e6;
    // ~120 buckets over the window, at least 1 s: fine enough to place the onset, coarse enough to be stable.
    const resolutionS = Math.max(1, Math.round(spanS / 120));
    // What verdicts taught (the learning coordinator stores it): guarded signal weights, guarded metric-kind
    // multipliers, the case-based re-ranker. Nothing stored ranks exactly as before any verdict.
    const [signals, kinds, cases] = await Promise.all([
      ctx.store.patterns.get<WeightState | GuardedWeightState>(SIGNAL_WEIGHTS_KIND, this.id),
      ctx.store.patterns.get<WeightState | GuardedWeightState>(SIGNAL_WEIGHTS_KIND, `${this.id}/${METRIC_KINDS}`),
      ctx.store.patterns.get<GuardedCaseLearner>(CASE_LEARNER_KIND, this.id),
    ]);
    const onsetS = typeof task.params.onsetUs === 'number' ? task.params.onsetUs / 1e6 : undefined;
    const known = await knownDisturbances(ctx, window);
    // From the lead before the window's start: an onset early in the window still sees the rollout before it.
    const declared = await declaredChanges(ctx.store, { fromUs: window.fromUs - DECLARED_LEAD_S * 1e6, toUs: window.toUs });
    let run: RcaRun;
    const rank = (announced?: SystemChange[]): RcaRun => {
      try {
        return runRca({ metrics: new Map(), edges: [], injectS: onsetS, resolutionS, spanTable, logs, errors, metricPoints }, { learned: { signals: signals?.value, kinds: kinds?.value, cases: cases?.value }, exclude: ['traffic'], known, declared, ...(announced ? { announced } : {}) });
      } catch (e) {
        throw new Error(`RCA failed on the window: ${(e as Error).message}`);
      }
    };
    run = rank();
    // Config changes the leading candidates announced in their own logs around the onset (announced-changes.ts):
    // the read above holds only warnings and errors, and an announcement is an info line. Read once the onset is
    // known, for the few services that matter (one read each, so a chatty one does not crowd the others out),
    // from 5 minutes before it (so a poller's restatements show as routine); ranked again only when one falls in
    // the reach a declared change has.
    const leaders = run.candidates.slice(0, ANNOUNCEMENT_CANDIDATES).map((c) => c.service);
    if (leaders.length) {
      const onset = Math.round(run.onsetS * 1e6);
      const reach = { fromUs: onset - 300e6, toUs: onset + Math.max(run.postSpanS, 60) * 1e6 };
      const infoLogs = (await Promise.all(leaders.map((svc) => tel.queryLogs({ services: [svc], window: reach, limit: 50_000 })))).flat();
      const announced = announcedBeyond(declared.map(asSystemChange), infoLogs).filter((a) => a.atUs >= onset - DECLARED_LEAD_S * 1e6);
      if (announced.length) run = rank(announced);
    }
    ctx.progress({ done: 3, total: 4 });
    const top = run.candidates[0];
    await ctx.store.learning.recordTrajectory({
      id: stableId('trajectory', task.id),
      agentId: this.id,
      taskId: task.id,
      ...(typeof task.params.cycleId === 'string' ? { cycleId: task.params.cycleId } : {}),
      decision: top ? `top candidate ${top.service} (${top.faultType}, score ${top.score.toFixed(3)})` : 'no candidate',
      evidence: { candidates: run.candidates.slice(0, 5).map((c) => ({ service: c.service, score: c.score, faultType: c.faultType })), weights: run.weights, onsetS: run.onsetS },
      findingIds: [],
      atUs: now,
    });
    // Weak evidence (a service that failed once or twice after a clean record) may name the culprit of an incident
    // someone reports (symptoms given), but is no incident by itself: an unprompted cycle would report every stray
    // error as a root cause.
    const reported = symptoms.length > 0;
    if (!top || top.score < MIN_SCORE || !top.indicators.some((i) => i.score > 4 && (reported || !i.weak))) {
      ctx.progress({ done: 4, total: 4, message: 'no incident' });
      return [];
    }
    // Feature flags on the culprit's own spans near the onset (the ranking's columnar read carries no span events).
    const onsetUs = Math.round(run.onsetS * 1e6);
    const afterS = Math.max(run.postSpanS, 60);
    const flagWindow = { fromUs: onsetUs - 300e6, toUs: onsetUs + afterS * 1e6 };
    const [flagSpans, flagLogs] = await Promise.all([
      ctx.store.telemetry.querySpans({ services: [top.service], window: flagWindow, limit: 50_000 }),
      // Evaluations logged as Events (any severity: the window's WARN+ read above has none of them).
      ctx.store.telemetry.queryLogs({ services: [top.service], window: flagWindow, limit: 50_000 }),
    ]);
    const flags = flagEvidence(
      withLogEvaluations(flagSpans, flagLogs),
      top.service,
      onsetUs,
      DECLARED_LEAD_S * 1e6,
      afterS * 1e6,
    );
    // A variant served from the onset that the bad requests carry: the fault is behind the flag, a bad config as a
    // declared flip or a config attribute change is (rank.ts); a new version says more and stays.
    if (flags?.change && flags.attribution && flags.attribution.key === flags.change.key && flags.attribution.variant === flags.change.value && top.faultType !== 'bad-deploy') top.faultType = 'bad-config';
    const second = run.candidates[1];
    const margin = second ? top.score - second.score : top.score;
    const weakOnly = !top.indicators.some((i) => i.score > 4 && !i.weak);
    const confidence = Math.max(0.3, Math.min(weakOnly ? 0.5 : 0.95, 0.5 + margin / Math.max(top.score, 1e-9) / 2));
    const category: FeedbackCategory = DEFECT_FAULTS.includes(top.faultType) ? 'defect-patterns' : 'resilience-gaps';
    const severity: Severity = top.indicators.some((i) => i.kind === 'errors' && i.score > 10) ? 'critical' : 'high';
    const code = codeLocations(run.errors);
    const chain = [...(symptoms.length ? [`symptoms: ${symptoms.join('; ')}`] : []), ...run.chain];
    for (const c of code) chain.push(`${c.n}× ${c.type}: ${c.message.slice(0, 120)} at ${c.file}:${c.line ?? '?'}${c.function ? ` in ${c.function}` : ''}`);
    // The flag change seen on the spans, unless it was declared (then it is in the run's config changes already).
    const seen = flags?.change;
    const fc = seen && !run.configChanges.some((c) => c.service === top.service && c.kind === 'flag' && c.config === `${seen.key}=${seen.value}`) ? seen : undefined;
    if (fc) {
      chain.push(`${top.service} started serving flag ${fc.key}=${fc.value} at ${new Date(fc.atUs / 1000).toISOString()} (none in its ${fc.before} evaluations before; ${(100 * fc.share).toFixed(0)}% of them since)`);
    }
    const fa = flags?.attribution;
    if (fa) chain.push(attributionPhrase(fa, flags!.bad));
    const origin = run.trace?.originSpans.get(top.service) ?? [];
    const finding: Finding = {
      id: stableId('root-cause', top.service, top.faultType, String(Math.floor(onsetUs / 60e6))),
      agentId: this.id,
      kind: 'root-cause',
      category,
      title: `${top.service} is the likely root cause (${top.faultType.replace('-', ' ')})${code[0] ? ` at ${code[0].file.split('/').slice(-2).join('/')}:${code[0].line ?? '?'}` : ''}`,
      summary: `Ranked first of ${run.candidates.length} services from ${Object.keys(run.signalScores).join(', ')} evidence; next: ${run.candidates.slice(1, 3).map((c) => c.service).join(', ') || 'none'}.`,
      severity,
      confidence,
      subject: { service: top.service, ...(code[0] ? { file: code[0].file } : {}) },
      evidence: {
        traceIds: [...new Set(origin.map((o) => o.traceId))].slice(0, 10),
        spanIds: origin.map((o) => o.spanId).slice(0, 10),
        metrics: top.indicators.slice(0, 4).map((i) => ({ series: i.indicator, service: i.service, window: { fromUs: onsetUs, toUs: Math.round((run.onsetS + run.postSpanS) * 1e6) }, baseline: round(i.baseline), observed: round(i.observed) })),
        code: code.map((c) => ({ file: c.file, ...(c.line !== undefined ? { line: c.line } : {}), ...(c.function ? { function: c.function } : {}), service: c.service })),
        fingerprints: [...new Set(run.errors.map((e) => e.fingerprint))].slice(0, 5),
        deploys: run.deploys.filter((d) => d.service === top.service),
        configChanges: [
          ...run.configChanges.filter((c) => c.service === top.service).flatMap((c) => signatureChanges(c.previous, c.config).map((d) => ({ service: c.service, ...d, atUs: c.atUs, ...(c.kind ? { kind: c.kind } : {}), ...(c.declared ? { declared: c.declared } : {}) }))),
          ...(fc ? [{ service: top.service, key: fc.key, value: fc.value, previous: fc.previous, atUs: fc.atUs, kind: 'flag' as const }] : []),
        ],
        chain,
      },
      basis: 'measured',
      window: { fromUs: Math.round((run.onsetS - run.preSpanS) * 1e6), toUs: Math.round((run.onsetS + run.postSpanS) * 1e6) },
      createdUs: now,
      data: {
        incident: task.params.incident ?? null,
        onsetUs,
        onsetEstimated: run.onsetEstimated,
        faultType: top.faultType,
        ...verdictData(run),
        ...(flags?.attribution ? { flag: flags.attribution } : {}),
      },
    };
    await recordAnnounced(ctx.store, [finding]);
    ctx.progress({ done: 4, total: 4, message: finding.title });
    return [finding];
  }
}

/**
 * The part of a root-cause finding's data a later verdict learns from (learning-coordinator.ts, learnFromVerdict):
 * the ranking, and — when the run ranked with learned state — every expert's top under the shipped ranker, the
 * kinds' own scores, the candidates' evidence profiles and both rankings' tops, all from before any verdict.
 */
export function verdictData(run: RcaRun): Record<string, unknown> {
  const l = run.learning;
  return {
    topCandidate: run.candidates[0]?.service,
    candidates: run.candidates.slice(0, 5).map((c) => ({ service: c.service, score: round(c.score), faultType: c.faultType, perSignal: c.perSignal })),
    signalScores: run.signalScores,
    weights: run.weights,
    ...(l ? { expertTops: l.expertTops, kindScores: l.kindScores, kindExpertTops: l.kindExpertTops, candidateProfiles: l.candidateProfiles, caseTops: l.caseTops } : {}),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export const rootCauseAnalyzer = new RootCauseAnalyzer();
