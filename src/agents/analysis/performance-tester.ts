/**
 * qe-performance-tester: baselines per service (latency percentiles from rollup histograms, error rate,
 * throughput), anomalies against them, lasting regressions (energy change points) tied to the nearest deploy,
 * and SLO burn-rate alerts. Every stored metric series (saturation gauges such as cpu, memory and queue depth,
 * counters as rates, histograms as interval means) gets a baseline with its daily profile and goes through the
 * streaming detector that NAB scores (algorithms/perf/metric-anomalies.ts). Baselines are stored as "performance
 * baselines" in the pattern store; a service without history of its own starts from the transfer specialist's
 * borrowed baseline.
 */
import { createHash } from 'node:crypto';
import type { Agent, AgentContext, AgentTask, Finding, TimeWindow } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import type { Rollup } from '../../store/store.js';
import { countOver, quantileFromBuckets } from '../../algorithms/perf/rollup-summary.js';
import { excessEvidence, type TailCount } from '../../algorithms/perf/exact-tests.js';
import { groupBy } from '../../util/group-by.js';
import { SLO_CONFIG_KIND } from '../../config/slo-config.js';
import { burnAlerts, describeBudget, describeSlo, errorBudget, longestWindow, runsOutWithinWindow, sloStatus, slosFor, type ErrorBudget, type Slo, type SliBucket } from '../../algorithms/perf/slo.js';
import { firstStarts, windowRollups } from './sli-history.js';
import { ROLLUP_LATENCY_BOUNDS_US } from '../../store/store.js';
import type { LogRecord, MetricPoint, Span } from '../../signals/model.js';
import { RollupAccumulator, isRequestSpan, uniformRollups } from '../../store/rollup.js';
import { predictiveStd, type PriorStats } from '../../algorithms/learning/transfer.js';
import { expectedAt, updateProfile, type HourlyProfile } from '../../algorithms/perf/seasonal-baseline.js';
import { METRIC_ANOMALY_THRESHOLD, MetricDetectorCache, historyStart, joinSeriesPages, metricSeriesFrom, replayBlockUs, robustSummary, samplingInterval, type MetricAnomaly, type MetricSeries } from '../../algorithms/perf/metric-anomalies.js';
import { foldMetricBaseline, type MetricLevel } from '../../algorithms/perf/metric-baseline.js';
import { INDICATOR_RULES, nearestSystemChange, regressionsIn, type Indicator, type Regression, type SystemChange } from '../../algorithms/perf/regressions.js';
import { describeDisturbances, disturbanceAt, knownDisturbances, type KnownDisturbance } from '../own-disturbances.js';
import { asSystemChange, changeEvidence, declaredChanges, recordAnnounced } from '../declared-changes.js';
import { withAnnounced } from '../../algorithms/perf/announced-changes.js';
import { declaredSuffix, settingPhrase } from '../../signals/change-event.js';
import { attributionPhrase, flagAttribution, withLogEvaluations, type FlagAttribution } from '../../algorithms/perf/flags.js';

const bucketOf = (rollups: readonly Rollup[]): number => rollups[0]?.bucketUs ?? 10e6;

export interface ServicePerfSeries {
  service: string;
  t: number[];
  /** Set when the series is one operation's (perfSeries with `byOperation`). */
  operation?: string;
  p95Ms: (number | null)[];
  p50Ms: (number | null)[];
  p99Ms: (number | null)[];
  errorRate: number[];
  rps: number[];
  sli: SliBucket[];
  /** Per bucket: the latency histogram over ROLLUP_LATENCY_BOUNDS_US (latency SLIs are counted off it). */
  hist: number[][];
}

/** A bucket's bad requests for `slo`: failed ones for availability, ones slower than the threshold for latency. */
export function sliFor(s: Pick<ServicePerfSeries, 'sli' | 'hist'>, slo: Slo): SliBucket[] {
  if (slo.kind !== 'latency' || slo.latencyMs === undefined) return s.sli;
  const thresholdUs = slo.latencyMs * 1000;
  return s.sli.map((b, i) => ({ ...b, bad: countOver(s.hist[i] ?? [], thresholdUs) }));
}

export function perfSeries(input: readonly Rollup[], byOperation = false): ServicePerfSeries[] {
  const rollups = uniformRollups(input);
  const by = new Map<string, Map<number, { req: number; err: number; buckets: number[]; width: number }>>();
  for (const r of rollups) {
    const key = byOperation ? `${r.service}\u0000${r.operation}` : r.service;
    let m = by.get(key);
    if (!m) by.set(key, (m = new Map()));
    let b = m.get(r.bucketStartUs);
    if (!b) m.set(r.bucketStartUs, (b = { req: 0, err: 0, buckets: new Array<number>(ROLLUP_LATENCY_BOUNDS_US.length + 1).fill(0), width: r.bucketUs }));
    b.req += r.requests;
    b.err += r.errors;
    r.latencyBuckets.forEach((c, i) => (b!.buckets[i] = (b!.buckets[i] ?? 0) + c));
  }
  return [...by.entries()].map(([key, m]) => {
    const [service, operation] = byOperation ? (key.split('\u0000') as [string, string]) : [key, undefined];
    const rows = [...m.entries()].sort((a, b) => a[0] - b[0]);
    const q = (x: number[], p: number): number | null => {
      const v = quantileFromBuckets(x, p);
      return v === undefined ? null : v / 1000;
    };
    return {
      service,
      ...(operation !== undefined ? { operation } : {}),
      t: rows.map(([t]) => t),
      p95Ms: rows.map(([, b]) => q(b.buckets, 0.95)),
      p50Ms: rows.map(([, b]) => q(b.buckets, 0.5)),
      p99Ms: rows.map(([, b]) => q(b.buckets, 0.99)),
      errorRate: rows.map(([, b]) => (b.req ? b.err / b.req : 0)),
      rps: rows.map(([, b]) => b.req / (b.width / 1e6)),
      sli: rows.map(([t, b]) => ({ startUs: t, total: b.req, bad: b.err })),
      hist: rows.map(([, b]) => b.buckets),
    };
  });
}

/** The store's rollup rule (server/consumer spans, or roots) at any bucket width. */
export function rollupsFromSpans(spans: readonly Span[], bucketUs: number): Rollup[] {
  const acc = new RollupAccumulator(bucketUs);
  for (const sp of spans) acc.add(sp);
  return acc.values();
}

/**
 * The first request span inside a flagged bucket that shows the anomaly itself (slower than the threshold, or
 * failed), and a few exemplar traces. A bucket only says "somewhere in these 10 s"; a bucket that straddles the
 * fault's start would otherwise read as a detection up to a bucket before it.
 */
export function onsetInBucket(spans: readonly Span[], isBad: (s: Span) => boolean, exemplars = 5): { onsetUs: number; traceIds: string[] } | undefined {
  const bad = spans.filter((s) => isRequestSpan(s) && isBad(s)).sort((a, b) => a.startUs - b.startUs);
  if (!bad.length) return undefined;
  return { onsetUs: bad[0]!.startUs, traceIds: [...new Set(bad.map((s) => s.traceId))].slice(0, exemplars) };
}

/** Median and MAD spread, the spread at least a tenth of the median: a judging baseline must not be razor-thin. */
function robust(xs: readonly number[]): { median: number; scale: number; n: number } {
  const r = robustSummary(xs);
  return r.n ? { ...r, scale: Math.max(r.scale, Math.abs(r.median) * 0.1, 1e-6) } : r;
}

/** The robust median of `xs` at the indexes `idx` (null or missing counts as no value). */
const medianAt = (xs: readonly (number | null)[], idx: readonly number[]): number => robust(idx.map((i) => xs[i] ?? NaN)).median;

/**
 * A budget is called spent only over at least a day of data: a young service judged on its first minutes would
 * "spend" a 30-day budget in one short incident, which the burn-rate alerts already report as what it is.
 */
const MIN_BUDGET_COVERAGE_US = 864e8;

/**
 * The error budget of the SLO window is spent: not an incident (the burn alerts page for those) but the signal of an
 * error budget policy (SRE Workbook, ch. 4): reliability work comes before new features until it recovers. One per
 * service, SLO and UTC day, so it is news once a day while it lasts.
 */
function budgetSpentFinding(agentId: string, service: string, slo: Slo, budget: ErrorBudget, badWord: string, window: TimeWindow, now: number): Finding {
  const days = +(budget.windowUs / 864e8).toFixed(1);
  const used = +(1 - budget.remaining).toFixed(2);
  return {
    id: stableId('budget-spent', service, slo.kind, String(slo.latencyMs ?? ''), String(Math.floor(window.toUs / 864e8))),
    agentId,
    kind: 'budget-spent',
    category: 'performance-insights',
    title: `${service} has spent its ${days}-day error budget (${describeSlo(slo)}): ${used}× of it used`,
    severity: 'medium',
    confidence: 0.9,
    subject: { service, metric: slo.kind === 'latency' ? 'latency' : 'availability' },
    evidence: {
      chain: [
        `SLO: ${describeSlo(slo)}; error budget ${+(100 * (1 - slo.objective)).toFixed(3)}% of requests over ${days} days`,
        `${Math.round(budget.bad).toLocaleString('en-US')} ${badWord} of ${budget.total.toLocaleString('en-US')} over the last ${+(budget.coveredUs / 864e8).toFixed(1)} days, where the objective allows ${budget.allowed.toLocaleString('en-US', { maximumFractionDigits: 1 })}`,
        'error budget policy: reliability work before new features for this service until the budget recovers',
      ],
    },
    basis: 'measured',
    window,
    createdUs: now,
    data: { slo, budget },
  };
}

/**
 * Pages of `maxMetricPoints` one metric read may take (see metricSeries' query): a read holds one page of point
 * objects at a time and the series of all pages as numbers (16 bytes a point), so 4 pages of the default 5 M stay
 * within a few hundred MB.
 */
const METRIC_READ_PAGES = 4;

function stableId(...parts: string[]): string {
  return `perf-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16)}`;
}

export class PerformanceTester implements Agent {
  readonly id = AGENT_IDS.performanceTester;
  readonly layer = 'analysis' as const;
  readonly description = 'Learns performance baselines, detects anomalies, regressions (change points) and SLO burns';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const now = ctx.clock.nowUs();
    const window: TimeWindow = task.window ?? { fromUs: now - 15 * 60e6, toUs: now };
    const span = window.toUs - window.fromUs;
    const historyUs = Number(task.params.historyUs ?? Math.max(span * 4, 3600e6));
    const onlyServices = task.params.services as string[] | undefined;
    // One width throughout: a history reaching past the store's full-resolution tier holds wider buckets.
    let rollups = uniformRollups(await ctx.store.telemetry.rollups({ window: { fromUs: window.fromUs - historyUs, toUs: window.toUs }, ...(onlyServices ? { services: onlyServices } : {}) }));
    const bucketUs = rollups[0]?.bucketUs ?? 10e6;
    if (span / bucketUs < 30) {
      // A short window has too few stored rollup buckets to judge: re-aggregate its spans at a finer step.
      const fine = Math.max(1e6, Math.floor(span / 60 / 1e6) * 1e6);
      const spans = await ctx.store.telemetry.querySpans({ window: { fromUs: window.fromUs - Math.min(historyUs, 10 * span), toUs: window.toUs }, ...(onlyServices ? { services: onlyServices } : {}), limit: 2_000_000 });
      rollups = rollupsFromSpans(spans, fine);
    }
    const series = perfSeries(rollups);
    // The swarm's own chaos experiments and load tests: their buckets are neither baseline nor anomaly nor regression.
    const known = await knownDisturbances(ctx, { fromUs: window.fromUs - historyUs, toUs: window.toUs });
    // Changes declared by whoever made them, from 5 minutes before the window on (the reach of nearestSystemChange).
    const declared = (await declaredChanges(ctx.store, { fromUs: window.fromUs - 300e6, toUs: window.toUs + 300e6 })).map(asSystemChange);
    const declaredOf = (svc: string): SystemChange[] => declared.filter((d) => d.service === svc);
    ctx.progress({ done: 1, total: 3, message: `${series.length} services, ${rollups.length} rollups` });
    // SLOs: the task's, else the config file's (stored by analyze / serve), else 99.5% availability for every service.
    const declaredSlos: Slo[] = (task.params.slos as Slo[] | undefined) ?? (await ctx.store.patterns.get<{ slos: Slo[] }>(SLO_CONFIG_KIND, 'current'))?.value.slos ?? [];
    const findings: Finding[] = [];
    const baselines: { key: string; value: unknown; service: string }[] = [];
    // Every request of the longest SLO window (errorBudget counts each SLO's own), closed hours from the digest.
    const budgetRollups = await windowRollups(ctx.store, window.toUs - longestWindow(declaredSlos), window.toUs, rollups, onlyServices);
    const budgetSeries = new Map(perfSeries(budgetRollups).map((x) => [x.service, x]));
    const budgetFrom = firstStarts(budgetRollups);
    for (const s of series) {
      if (ctx.signal.aborted) throw new Error('aborted');
      const own = s.t.map((t) => disturbanceAt(known, t, t + bucketOf(rollups), s.service));
      const inWin = s.t.map((t) => t >= window.fromUs && t < window.toUs);
      const hist = s.t.map((t, i) => t < window.fromUs && !own[i]);
      // Baseline: history before the window; a young service uses the first third of the window, or a borrowed one.
      let baseIdx = hist.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
      let basis = 'history';
      if (baseIdx.length < 6) {
        const wi = inWin.map((w, i) => (w && !own[i] ? i : -1)).filter((i) => i >= 0);
        baseIdx = wi.slice(0, Math.max(3, Math.floor(wi.length / 3)));
        basis = 'early window';
      }
      // Where the swarm disturbed the service, its indicators are unknown to the regression search and the profiles.
      const p95 = s.p95Ms.map((x, i) => (own[i] ? NaN : x ?? NaN));
      const errorRate = s.errorRate.map((x, i) => (own[i] ? NaN : x));
      const rps = s.rps.map((x, i) => (own[i] ? NaN : x));
      let latBase = robust(baseIdx.map((i) => p95[i]!));
      if (basis === 'early window') {
        const borrowed = await ctx.store.patterns.get<{ prior: PriorStats & { from: string } }>('transfer-baseline', `${s.service}|latency-mean-ms`);
        if (borrowed && baseIdx.length < 3) {
          latBase = { median: borrowed.value.prior.mean, scale: Math.max(predictiveStd(borrowed.value.prior), 1e-6), n: borrowed.value.prior.n };
          basis = `borrowed from ${borrowed.value.prior.from}`;
        }
      }
      const errBase = robust(baseIdx.map((i) => errorRate[i]!));
      const rpsBase = robust(baseIdx.map((i) => rps[i]!));
      // The daily profiles kept online in the stored baselines (see seasonal-baseline.ts): the hour's normal.
      const p95Stored = (await ctx.store.patterns.get<{ hourly?: HourlyProfile; weekly?: HourlyProfile }>('performance-baseline', `${s.service}|p95`))?.value;
      const rpsStored = (await ctx.store.patterns.get<{ hourly?: HourlyProfile; weekly?: HourlyProfile }>('performance-baseline', `${s.service}|rps`))?.value;
      const p95Profile = p95Stored?.hourly;
      baselines.push({ key: `${s.service}|error-rate`, service: s.service, value: { median: errBase.median, scale: errBase.scale, n: errBase.n, basis } });
      baselines.push({ key: `${s.service}|rps`, service: s.service, value: { median: rpsBase.median, scale: rpsBase.scale, n: rpsBase.n, basis, hourly: updateProfile(rpsStored?.hourly, s.t, rps, 24), weekly: updateProfile(rpsStored?.weekly, s.t, rps, 168) } });
      const baseSet = new Set(baseIdx);
      const latencyHits = new Set<number>();
      // Anomaly: at least two buckets in the window beyond 5 robust deviations (one bucket is noise).
      for (const [metric, xs, raw, base, unit] of [
        // Latency changes under ~10 ms are not worth a person's attention, however unusual.
        ['latency p95', p95, s.p95Ms, { ...latBase, scale: Math.max(latBase.scale, 2) }, 'ms'],
        ['error rate', errorRate, s.errorRate, { ...errBase, scale: Math.max(errBase.scale, 0.01) }, ''],
      ] as const) {
        // Latency is judged against the hour's normal once the daily (or weekly) profile knows it; otherwise the flat baseline.
        const expect = (i: number): { level: number; scale: number; seasonal: 'day' | 'week' | false } => {
          const e = unit === 'ms' ? expectedAt(p95Profile, s.t[i]!, p95Stored?.weekly) : undefined;
          // A quarter of the level: what a p95 read off the rollup histogram (bounds 1.5× apart) can be off by.
          return e ? { level: e.level, scale: Math.max(e.spread, 0.25 * e.level, 2), seasonal: e.period } : { level: base.median, scale: base.scale, seasonal: false as const };
        };
        const hits: number[] = [];
        const ownHits = new Set<KnownDisturbance>();
        for (let i = 0; i < xs.length; i++) {
          if (!inWin[i] || baseSet.has(i)) continue;
          // A bucket the swarm disturbed is judged on its raw value only to say what was left out.
          const x = own[i] ? raw[i] : xs[i];
          if (typeof x !== 'number' || !Number.isFinite(x)) continue;
          const e = expect(i);
          if ((x - e.level) / e.scale < 5) continue;
          const d = own[i];
          if (d) ownHits.add(d);
          else hits.push(i);
        }
        if (unit === 'ms') for (const i of hits) latencyHits.add(i);
        if (hits.length < 2) continue;
        // A p95 over few requests is their slowest one, and an error rate over two requests is 0 or 50%: the
        // requests must show it (exact-tests.ts), more of them slow (or failed) than the threshold allows, or, with
        // a few at least, than the baseline's buckets had; otherwise a quiet service's one hiccup per bucket would
        // be an "anomaly". Counted over every bucket from the first flagged one to the last, not the flagged ones
        // alone: each of those is over by selection.
        const during: number[] = [];
        for (let i = hits[0]!; i <= hits[hits.length - 1]!; i++) if (inWin[i] && !own[i] && !baseSet.has(i)) during.push(i);
        const count = (idx: Iterable<number>): TailCount => {
          const c = { over: 0, total: 0 };
          for (const i of idx) {
            if (unit === 'ms') {
              const e = expect(i);
              c.over += countOver(s.hist[i]!, (e.level + 5 * e.scale) * 1000);
            } else c.over += s.sli[i]!.bad;
            c.total += s.sli[i]!.total;
          }
          return c;
        };
        const tail = { flagged: count(during), baseline: count(baseIdx) };
        // Under the null, a request is over the p95's threshold with probability 5%; it fails at the threshold's rate.
        const first = hits[0]!;
        const at = expect(first);
        const nullShare = unit === 'ms' ? 0.05 : Math.min(1, at.level + 5 * at.scale);
        if (!excessEvidence(tail.flagged, tail.baseline.total ? tail.baseline : undefined, nullShare)) continue;
        const bucketEnd = s.t[first]! + bucketOf(rollups);
        const inBucket = await ctx.store.telemetry.querySpans({ services: [s.service], window: { fromUs: s.t[first]!, toUs: bucketEnd }, limit: 50_000 });
        const slowUs = (at.level + 5 * at.scale) * 1000;
        const onset = onsetInBucket(inBucket, unit === 'ms' ? (sp) => sp.endUs - sp.startUs >= slowUs : (sp) => sp.status.code === 2);
        const firstUs = Math.max(s.t[first]!, onset?.onsetUs ?? s.t[first]!);
        // The slow (or failed) requests of the flagged buckets against the rest, by the flag variants they carry
        // (over all of them: the first bucket alone may hold the seconds of a restart that slowed everything).
        const lastEnd = s.t[hits[hits.length - 1]!]! + bucketOf(rollups);
        // Flag evaluations the service logged as Events (the current convention) join its spans (flags.ts).
        const flagLogs = await serviceLogs(ctx, s.service, firstUs - 300e6, Math.max(lastEnd, bucketEnd));
        // The first bucket's spans are at hand: only the later flagged buckets are read, within the same bound.
        const rest = lastEnd > bucketEnd && inBucket.length < 50_000 ? await ctx.store.telemetry.querySpans({ services: [s.service], window: { fromUs: bucketEnd, toUs: lastEnd }, limit: 50_000 - inBucket.length }) : [];
        const flagged = withLogEvaluations(rest.length ? [...inBucket, ...rest] : inBucket, flagLogs);
        const flag = flagAttribution(flagged, s.service, unit === 'ms' ? (sp) => sp.endUs - sp.startUs >= slowUs : (sp) => sp.status.code === 2);
        // A deploy or config change of this service in the 5 minutes up to the onset: the likeliest cause, said so.
        // The bucket's spans are at hand; only the minutes before it are read.
        const before = await ctx.store.telemetry.querySpans({ services: [s.service], window: { fromUs: firstUs - 300e6, toUs: s.t[first]! }, limit: 50_000 });
        const logsBefore = flagLogs.filter((l) => l.timeUs < bucketEnd);
        const near = nearestSystemChange(withLogEvaluations([...before, ...inBucket], logsBefore), firstUs, 300e6, withAnnounced(declaredOf(s.service), logsBefore));
        const change = near && near.atUs <= bucketEnd ? near : undefined;
        const peak = Math.max(...hits.map((i) => xs[i]!));
        // An error rate is told over the buckets from the first flagged one to the last (failed / requests): a bucket
        // of few requests can read 100% when half of them fail, and the headline should say half. The peak bucket
        // stays in the chain.
        const requests = tail.flagged.total;
        const failed = unit === 'ms' ? 0 : tail.flagged.over;
        const told = unit === 'ms' || !(requests > 0) ? peak : failed / requests;
        const ratio = at.level > 0 ? told / at.level : Infinity;
        findings.push({
          id: stableId('anomaly', s.service, metric, String(Math.floor(s.t[first]! / 60e6))),
          agentId: this.id,
          kind: 'anomaly',
          category: 'performance-insights',
          title: `${s.service} ${metric} ${unit === 'ms' ? `${peak.toFixed(0)} ms` : `${(100 * told).toFixed(1)}%`} vs ${at.seasonal === 'week' ? 'usual at this hour of the week' : at.seasonal ? 'usual at this hour' : 'baseline'} ${unit === 'ms' ? `${at.level.toFixed(0)} ms` : `${(100 * at.level).toFixed(1)}%`}${Number.isFinite(ratio) ? ` (${ratio.toFixed(1)}×)` : ''}`,
          severity: metric === 'error rate' && told > 0.05 ? 'high' : ratio > 3 ? 'high' : 'medium',
          confidence: Math.min(0.95, 0.5 + 0.05 * hits.length),
          subject: { service: s.service, metric },
          evidence: {
            metrics: [{ series: metric, service: s.service, window: { fromUs: firstUs, toUs: s.t[hits[hits.length - 1]!]! + bucketOf(rollups) }, baseline: +at.level.toFixed(4), observed: +told.toFixed(4), ...(unit ? { unit } : {}) }],
            ...(onset ? { traceIds: onset.traceIds } : {}),
            ...changeEvidence(change),
            chain: [
              at.seasonal ? `baseline for this hour of the ${at.seasonal} (${at.seasonal === 'week' ? 'weekly' : 'daily'} profile over ${((p95Profile!.watermarkUs - p95Profile!.firstUs) / 86_400e6).toFixed(1)} days): ${at.level.toFixed(3)}, spread ${at.scale.toFixed(3)}` : `baseline (${basis}): median ${base.median.toFixed(3)}, spread ${base.scale.toFixed(3)}`,
              `${hits.length} buckets beyond 5 spreads, the first from ${new Date(s.t[first]! / 1000).toISOString()}; ${Math.round(tail.flagged.over)} of ${Math.round(tail.flagged.total)} requests from the first to the last ${unit === 'ms' ? 'were over the threshold' : 'failed'}, ${Math.round(tail.baseline.over)} of ${Math.round(tail.baseline.total)} in the baseline${unit !== 'ms' && told < peak ? `; ${(100 * peak).toFixed(0)}% in the worst bucket` : ''}`,
              ...(onset ? [`first ${unit === 'ms' ? `request over ${(slowUs / 1000).toFixed(1)} ms` : 'failed request'} in it at ${new Date(onset.onsetUs / 1000).toISOString()} (trace ${onset.traceIds[0]})`] : []),
              ...(change ? [`${((firstUs - change.atUs) / 1e6).toFixed(0)} s after ${changePhrase(change)}`] : []),
              ...(flag ? [attributionPhrase(flag, unit === 'ms' ? `were over ${(slowUs / 1000).toFixed(1)} ms` : 'failed')] : []),
              ...(ownHits.size ? [`left out: buckets during ${describeDisturbances([...ownHits])}`] : []),
            ],
          },
          basis: 'measured',
          // From the onset to the last flagged bucket: an anomaly is merged with the service's other findings of that
          // stretch, not with everything up to the window's end.
          window: { fromUs: firstUs, toUs: lastEnd },
          createdUs: now,
          data: { ...(flag ? { flag } : {}), firstDetectionUs: firstUs, bucketStartUs: s.t[first]!, series: s.t.map((t, i) => [t, xs[i]]).filter((_, i) => inWin[i] || hist[i]).slice(-300), baseline: at.level, spread: at.scale, seasonal: at.seasonal },
        });
      }
      // The anomalous buckets do not teach the daily profile that they are normal.
      const normalIdx = s.t.map((_, i) => i).filter((i) => !latencyHits.has(i) && !own[i]);
      const [nt, nx] = [normalIdx.map((i) => s.t[i]!), normalIdx.map((i) => p95[i]!)];
      baselines.push({ key: `${s.service}|p95`, service: s.service, value: { medianMs: latBase.median, scaleMs: latBase.scale, n: latBase.n, p50Ms: medianAt(s.p50Ms, baseIdx), p99Ms: medianAt(s.p99Ms, baseIdx), basis, hourly: updateProfile(p95Profile, nt, nx, 24), weekly: updateProfile(p95Stored?.weekly, nt, nx, 168) } });
      // Regressions: lasting change points for the worse in p95, error rate and throughput within the window, each
      // tied to the nearest deploy or config change (algorithms/perf/regressions.ts).
      const serviceRegressions: { finding: Finding; metric: Indicator; cp: Regression; change?: SystemChange }[] = [];
      for (const [metric, xs] of [['latency p95', p95], ['error rate', errorRate], ['throughput', rps]] as const) {
        const rule = INDICATOR_RULES[metric];
        for (const cp of regressionsIn(s.t, xs, rule, window.fromUs)) {
          const at = cp.atUs;
          const range = { fromUs: at - 300e6, toUs: Math.min(window.toUs, at + 300e6) };
          const logs = await serviceLogs(ctx, s.service, range.fromUs, range.toUs);
          const spans = withLogEvaluations(await ctx.store.telemetry.querySpans({ services: [s.service], window: range, limit: 50_000 }), logs);
          const change = nearestSystemChange(spans, at, 300e6, withAnnounced(declaredOf(s.service), logs));
          // Less traffic with no change to the system is demand, not a regression.
          if (metric === 'throughput' && !change) continue;
          // After the change point: the requests over the midpoint of before and after (or failed), by flag variant.
          const midUs = ((cp.before + cp.after) / 2) * 1000;
          const flag = metric === 'throughput' ? undefined : flagAttribution(spans.filter((sp) => sp.startUs >= at), s.service, metric === 'latency p95' ? (sp) => sp.endUs - sp.startUs >= midUs : (sp) => sp.status.code === 2);
          const finding = regressionFinding(this.id, s.service, metric, cp, change, window, now, flag && { attribution: flag, bad: metric === 'latency p95' ? `were over ${(midUs / 1000).toFixed(0)} ms` : 'failed' });
          serviceRegressions.push({ finding, metric, cp, ...(change ? { change } : {}) });
        }
      }
      findings.push(...foldThroughput(serviceRegressions));
      const defaultSlo = !declaredSlos.some((d) => d.service === s.service || d.service === '*');
      for (const slo of slosFor(s.service, declaredSlos)) {
        const sli = sliFor(s, slo);
        const latency = slo.kind === 'latency';
        // What is left of the budget over the SLO's window: how long the service can go on like this.
        const budget = errorBudget(slo, sliFor(budgetSeries.get(s.service) ?? s, slo), window.toUs, sloStatus(slo, sli, window.toUs).burn['1h'], budgetFrom.get(s.service));
        const budgetLine = `${describeBudget(budget)}${runsOutWithinWindow(budget, window.toUs) ? `; at the last hour's burn the rest is gone by ${new Date(budget.exhaustedAtUs! / 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}`;
        const badWord = latency ? `requests over ${slo.latencyMs} ms` : 'failed requests';
        if (budget.remaining < 0 && budget.coveredUs >= MIN_BUDGET_COVERAGE_US) findings.push(budgetSpentFinding(this.id, s.service, slo, budget, badWord, window, now));
        for (const alert of burnAlerts(slo, sli, window.toUs)) {
          // The budget the swarm's own experiments burned is burned all the same (users saw those errors), but the
          // reader should know how much of it was the experiment.
          let bad = 0;
          let ownBad = 0;
          const byOwn = new Set<KnownDisturbance>();
          sli.forEach((b, i) => {
            if (b.startUs < window.toUs - alert.rule.longUs || b.startUs >= window.toUs) return;
            bad += b.bad;
            const d = own[i];
            if (d && b.bad) {
              ownBad += b.bad;
              byOwn.add(d);
            }
          });
          findings.push({
            // The availability one keeps the id it had before latency SLOs (verdicts refer to it).
            id: latency ? stableId('slo-burn', s.service, 'latency', String(slo.latencyMs), alert.rule.name, String(Math.floor(window.toUs / 3600e6))) : stableId('slo-burn', s.service, alert.rule.name, String(Math.floor(window.toUs / 3600e6))),
            agentId: this.id,
            kind: 'slo-burn',
            category: 'performance-insights',
            title: latency
              ? `${s.service} burns its latency budget (${describeSlo(slo)}) ${alert.shortBurn.toFixed(1)}× too fast (${alert.rule.name})`
              : `${s.service} burns its ${describeSlo(slo)} budget ${alert.shortBurn.toFixed(1)}× too fast (${alert.rule.name})`,
            severity: alert.rule.severity === 'page' ? 'critical' : 'medium',
            confidence: Math.min(0.95, 0.6 + 0.35 * alert.coverage),
            subject: { service: s.service, metric: latency ? 'latency' : 'availability' },
            evidence: {
              chain: [
                `SLO: ${describeSlo(slo)}${defaultSlo ? ' (the default: none declared for this service)' : ''}; error budget ${+(100 * (1 - slo.objective)).toFixed(3)}% of requests`,
                `burn ${alert.longBurn.toFixed(1)}× over the long window (${(100 * alert.coverage).toFixed(0)}% covered by data), ${alert.shortBurn.toFixed(1)}× over the short one; threshold ${alert.rule.factor}×`,
                ...(ownBad ? [`${Math.round(ownBad)} of the ${Math.round(bad)} ${badWord} in the long window came during ${describeDisturbances([...byOwn])}`] : []),
                budgetLine,
              ],
            },
            basis: 'measured',
            window,
            createdUs: now,
            data: { rule: alert.rule.name, longBurn: alert.longBurn, shortBurn: alert.shortBurn, slo, budget },
          });
        }
      }
    }
    // Per operation: latency percentiles, error rate and throughput from the history before the window (the
    // window's first third for a young operation). Stored for comparison and impact analysis; anomalies are
    // judged per service above, where the traffic is enough to be judged. The swarm's own buckets are left out here too.
    for (const o of perfSeries(rollups, true).slice(0, Number(task.params.maxOperations ?? 2000))) {
      const usable = o.t.map((_, i) => i).filter((i) => !disturbanceAt(known, o.t[i]!, o.t[i]! + bucketOf(rollups), o.service));
      const before = usable.filter((i) => o.t[i]! < window.fromUs);
      const idx = before.length >= 6 ? before : usable.slice(0, Math.max(3, Math.floor(usable.length / 3)));
      const med = (xs: readonly (number | null)[]): number => medianAt(xs, idx);
      baselines.push({ key: `${o.service}|op:${o.operation}`, service: o.service, value: { operation: o.operation, p50Ms: med(o.p50Ms), p95Ms: med(o.p95Ms), p99Ms: med(o.p99Ms), errorRate: med(o.errorRate), rps: med(o.rps), n: idx.length, basis: before.length >= 6 ? 'history' : 'early window' } });
    }
    const fromMetrics = findings.length;
    await this.metricSeries(task, ctx, window, now, onlyServices, findings, baselines, known);
    // A stored metric's alarm (CPU, memory, queue depth …) is tied to the change of its service just before it, as
    // the latency anomalies are: declared, or seen on the service's spans in the 5 minutes up to the alarm.
    for (const f of findings.slice(fromMetrics, fromMetrics + MAX_METRIC_CHANGE_LOOKUPS)) {
      const svc = f.subject.service;
      const atUs = Number(f.data?.firstDetectionUs);
      if (f.kind !== 'anomaly' || !svc || !Number.isFinite(atUs)) continue;
      const logs = await serviceLogs(ctx, svc, atUs - 300e6, atUs + 1);
      const spans = withLogEvaluations(await ctx.store.telemetry.querySpans({ services: [svc], window: { fromUs: atUs - 300e6, toUs: atUs + 1 }, limit: 50_000 }), logs);
      const near = nearestSystemChange(spans, atUs, 300e6, withAnnounced(declaredOf(svc), logs));
      if (!near || near.atUs > atUs) continue;
      Object.assign(f.evidence, changeEvidence(near));
      f.evidence.chain = [...(f.evidence.chain ?? []), `${((atUs - near.atUs) / 1e6).toFixed(0)} s after ${changePhrase(near)}`];
    }
    await ctx.store.patterns.putMany('performance-baseline', baselines);
    await recordAnnounced(ctx.store, findings);
    ctx.progress({ done: 3, total: 3, message: `${findings.length} findings` });
    return findings;
  }

  /**
   * Saturation and any other stored metric (cpu, memory, queue depth, counters, histograms): a baseline per
   * series, with its daily profile once two days are stored, and the streaming detector's alarms in the window
   * (see algorithms/perf/metric-anomalies.ts). The replay starts one history block before the window's block.
   */
  private async metricSeries(task: AgentTask, ctx: AgentContext, window: TimeWindow, now: number, onlyServices: string[] | undefined, findings: Finding[], baselines: { key: string; value: unknown; service: string }[], known: readonly KnownDisturbance[]): Promise<void> {
    const threshold = Number(task.params.metricThreshold ?? METRIC_ANOMALY_THRESHOLD);
    const maxSeries = Number(task.params.maxMetricSeries ?? 10_000);
    const services = onlyServices ? { services: onlyServices } : {};
    const limit = Number(task.params.maxMetricPoints ?? 5_000_000);
    // A read that reaches the limit goes on in pages from its last timestamp (the read is oldest first), up to
    // METRIC_READ_PAGES pages, each turned into series before the next is read (numbers, not point objects): one
    // service's series of one name can pass the limit alone (a few thousand pods of one deployment), and cut there
    // the newest points, the window's, would be the ones missing. Past the pages the rest is left out, and said.
    const query = async (fromUs: number, names?: string[], only?: string[]): Promise<MetricSeries[]> => {
      const pages: MetricSeries[][] = [];
      const carry = new Map<string, MetricPoint>();
      let from = fromUs;
      let read = 0;
      for (let page = 1; ; page++) {
        const got = await ctx.store.telemetry.queryMetrics({ window: { fromUs: from, toUs: window.toUs }, ...(names ? { names } : {}), ...(only ? { services: only } : services), limit });
        if (got.length < limit) {
          pages.push(metricSeriesFrom(got, carry));
          break;
        }
        // The last timestamp may have more points than this page holds: it starts the next page (unless the whole
        // page is that one timestamp: then the next page starts after it, and what did not fit is lost).
        const last = got[got.length - 1]!.timeUs;
        let keep = got.length;
        while (keep > 0 && got[keep - 1]!.timeUs === last) keep--;
        pages.push(metricSeriesFrom(keep ? got.slice(0, keep) : got, carry));
        read += keep || got.length;
        from = keep ? last : last + 1;
        if (page >= METRIC_READ_PAGES || !keep) {
          ctx.log.warn(`performance tester: ${read} metric points read from ${new Date(fromUs / 1000).toISOString()}${names ? ` for ${names.length} metric names` : ''} in ${page} page(s) of ${limit}; later points are left out (maxMetricPoints, or fewer series per store)`);
          break;
        }
      }
      return pages.length === 1 ? pages[0]! : joinSeriesPages(pages);
    };
    const cache = cacheFor(ctx.store, Number(task.params.metricDetectors ?? 1000));
    const blockStartOf = (name: string): number => historyStart(window.fromUs, cache.blocks.get(name)!);
    // The recent points: those since the last point fed to the detectors still current, or (no state kept) the
    // window and the hour before it, which also tells how often each new series is sampled.
    const current = cache.kept().filter((r) => cache.blocks.has(r.meta.name) && blockStartOf(r.meta.name) === r.blockStart);
    const recentFrom = current.length ? Math.min(...current.map((r) => r.lastT)) : window.fromUs - 3600e6;
    const recent = await query(recentFrom);
    if (!recent.length && !current.length) return;
    // A name's replay block is fixed the first time it is seen, from its sparsest series.
    const byName = (xs: readonly MetricSeries[]): Map<string, MetricSeries[]> => groupBy(xs, (m) => m.name);
    const recentByName = byName(recent);
    const fresh = [...recentByName.keys()].filter((n) => !cache.blocks.has(n));
    const thin = fresh.filter((n) => recentByName.get(n)!.some((m) => samplingInterval(m.t) === undefined));
    const probeByName = byName(current.length && thin.length ? await query(window.fromUs - 3600e6, thin) : []);
    for (const name of fresh) {
      const seen = [...recentByName.get(name)!, ...(probeByName.get(name) ?? [])];
      const gap = Math.max(...seen.map((m) => samplingInterval(m.t) ?? Number(task.params.metricIntervalUs ?? 60e6)));
      cache.blocks.set(name, replayBlockUs(gap));
    }
    // Series without a detector for this block read their block from its start. One read per block start would
    // hold every such series' block at once (10,000 series x ~3,000 points is past any sane read limit, and the
    // read is oldest first, so the cut-off points would be the window's): names are read in batches of about
    // `limit` points, estimated from the recent read's points per name, and each batch is analysed and dropped
    // before the next is read; a name over the limit alone is read a few services at a time, and one service's
    // series of one name over the limit in pages (query above; past METRIC_READ_PAGES cut, and logged).
    const replayNames = new Map<number, Set<string>>();
    for (const m of recent) {
      const bs = blockStartOf(m.name);
      if (cache.resumeAfter(m.key, bs) === undefined) replayNames.set(bs, (replayNames.get(bs) ?? new Set()).add(m.name));
    }
    const recentPoints = new Map<string, number>();
    const recentByService = new Map<string, Map<string, number>>();
    for (const m of recent) {
      recentPoints.set(m.name, (recentPoints.get(m.name) ?? 0) + m.t.length);
      let by = recentByService.get(m.name);
      if (!by) recentByService.set(m.name, (by = new Map()));
      by.set(m.service, (by.get(m.service) ?? 0) + m.t.length);
    }
    const recentSpan = Math.max(1, window.toUs - recentFrom);
    const batches: { bs: number; names: string[]; services?: string[] }[] = [];
    for (const [bs, names] of replayNames) {
      const scale = (window.toUs - bs) / recentSpan;
      const sized = [...names].sort().map((n) => [n, (recentPoints.get(n) ?? 0) * scale] as [string, number]);
      // A name over the limit alone is read a few services at a time (one service's series over it, in pages).
      for (const [n, est] of sized) {
        if (est <= limit) continue;
        const bySvc = [...recentByService.get(n)!].sort((a, b) => a[0].localeCompare(b[0])).map(([svc, k]) => [svc, k * scale] as [string, number]);
        for (const group of packUnder(bySvc, limit)) batches.push({ bs, names: [n], services: group });
      }
      for (const group of packUnder(sized.filter(([, est]) => est <= limit), limit)) batches.push({ bs, names: group });
    }
    const replayed = new Set(batches.flatMap((b) => b.names));
    // Kept series with nothing new: the alarms remembered for this window.
    const read = new Set(recent.map((m) => m.key));
    const remembered = new Set<string>();
    for (const r of current) {
      if (read.has(r.meta.key)) continue;
      remembered.add(r.meta.key);
      const m: MetricSeries = { ...r.meta, t: [], v: [], exemplars: [] };
      for (const a of cache.alarmsIn(r.meta.key, r.blockStart, window.fromUs, window.toUs)) if (!disturbanceAt(known, a.prevUs, a.atUs, m.service)) findings.push(metricFinding(this.id, m, a, r.blockStart, threshold, window, now));
    }
    const total = recent.length;
    if (total > maxSeries) ctx.log.warn(`performance tester: ${total} metric series, analysing the first ${maxSeries} (maxMetricSeries)`);
    let done = 0;
    const analyse = async (series: readonly MetricSeries[]): Promise<void> => {
      for (const m of series) {
        if (done >= maxSeries) return;
        if (remembered.has(m.key)) continue;
        if (ctx.signal.aborted) throw new Error('aborted');
        if (done % 500 === 499) ctx.progress({ done: 2, total: 3, message: `metric series ${done + 1}/${Math.min(total, maxSeries)}` });
        done++;
        const blockStart = blockStartOf(m.name);
        const hist = m.t.findIndex((t) => t >= window.fromUs);
        // The stored baseline is kept online (metric-baseline.ts): every cycle folds in the points newer than its
        // watermark, whether the series replayed its block or continued from its kept detector.
        const key = `${m.service}|metric:${m.key.slice(m.service.length + 1)}`;
        const prev = (await ctx.store.patterns.get<MetricLevel>('performance-baseline', key))?.value;
        const b = foldMetricBaseline(prev, m.t, m.v, hist < 0 ? m.t.length : hist);
        if (b) baselines.push({ key, service: m.service, value: { metric: m.name, view: m.view, ...(m.unit ? { unit: m.unit } : {}), ...b } });
        // The detector sees every point (it is streaming); an alarm over the swarm's own experiment is not reported.
        for (const a of cache.detect(m, blockStart, window.fromUs, window.toUs, { threshold })) if (!disturbanceAt(known, a.prevUs, a.atUs, m.service)) findings.push(metricFinding(this.id, m, a, blockStart, threshold, window, now));
      }
    };
    // Series continuing from kept detectors first (their recent points are all they need), then the replay batches.
    await analyse(recent.filter((m) => !replayed.has(m.name)));
    for (const { bs, names, services: only } of batches) {
      const wanted = new Set(names);
      const inBatch = (m: MetricSeries): boolean => wanted.has(m.name) && (!only || only.includes(m.service));
      const kept = new Set(recent.filter((m) => inBatch(m) && cache.resumeAfter(m.key, bs) !== undefined).map((m) => m.key));
      const fromBlock = await query(bs, names, only);
      // A series of a replayed name that still has its detector goes on from it (detect skips what it was fed).
      const got = new Set(fromBlock.map((m) => m.key));
      await analyse([...fromBlock, ...recent.filter((m) => inBatch(m) && !got.has(m.key) && kept.has(m.key))]);
    }
  }
}

/** Consecutive runs of (id, size) whose sizes add up to at most `limit` (an item over it alone is a run of its own). */
function packUnder(items: readonly [string, number][], limit: number): string[][] {
  const out: string[][] = [];
  let run: string[] = [];
  let size = 0;
  for (const [id, n] of items) {
    if (run.length && size + n > limit) {
      out.push(run);
      run = [];
      size = 0;
    }
    run.push(id);
    size += n;
  }
  if (run.length) out.push(run);
  return out;
}

/** Detector state kept between cycles, per store (a store re-opened or another store starts afresh). */
const caches = new WeakMap<object, MetricDetectorCache>();
function cacheFor(store: object, maxSeries: number): MetricDetectorCache {
  let c = caches.get(store);
  if (!c || c.maxSeries !== maxSeries) caches.set(store, (c = new MetricDetectorCache(maxSeries)));
  return c;
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

/**
 * A service's log lines in [fromUs, toUs): where its flag evaluations recorded as Events are (flags.ts), and the
 * config changes and flag flips it announces (announced-changes.ts).
 */
function serviceLogs(ctx: AgentContext, service: string, fromUs: number, toUs: number): Promise<LogRecord[]> {
  return ctx.store.telemetry.queryLogs({ services: [service], window: { fromUs, toUs }, limit: 50_000 });
}

/** Metric alarms looked up for a nearby change per cycle (one span read each). */
const MAX_METRIC_CHANGE_LOOKUPS = 50;

function metricFinding(agentId: string, m: MetricSeries, a: MetricAnomaly, blockStart: number, threshold: number, window: TimeWindow, now: number): Finding {
  const what = `${m.name}${m.view === 'rate' ? ' rate/s' : m.view === 'mean' ? ' mean' : ''}${m.key.includes('{') ? ` ${m.key.slice(m.key.indexOf('{'))}` : ''}`;
  const unit = m.unit && m.unit !== '1' ? ` ${m.unit}` : '';
  const next = a.atUs + Math.max(1, a.atUs - a.prevUs);
  return {
    id: stableId('metric-anomaly', m.key, String(Math.floor(a.atUs / 60e6))),
    agentId,
    kind: 'anomaly',
    category: 'performance-insights',
    title: `${m.service} ${what} ${fmt(a.value)}${unit} vs baseline ${fmt(a.baseline.median)}${unit} (anomaly score ${a.score.toFixed(2)})`,
    severity: a.score >= 0.95 ? 'high' : 'medium',
    confidence: Math.min(0.95, a.score),
    subject: { service: m.service, metric: m.name },
    evidence: {
      metrics: [{ series: what, service: m.service, window: { fromUs: a.atUs, toUs: next }, baseline: +a.baseline.median.toPrecision(6), observed: +a.value.toPrecision(6), ...(m.unit ? { unit: m.unit } : {}) }],
      ...(a.traceIds.length ? { traceIds: a.traceIds } : {}),
      chain: [
        `streaming detector (CAD OSE + robust-z + Fuzzy ART, the one NAB scores) over the ${a.seen} points of ${what} up to this one since ${new Date(blockStart / 1000).toISOString()}, each scored before it was learned`,
        `score ${a.score.toFixed(3)} ≥ ${threshold} (NAB low-FP threshold); the ${a.baseline.n} points before: median ${fmt(a.baseline.median)}, spread ${fmt(a.baseline.scale)}`,
        ...(a.traceIds.length ? [`exemplar traces at this point: ${a.traceIds.join(', ')}`] : []),
      ],
    },
    basis: 'measured',
    window: { fromUs: a.atUs, toUs: window.toUs },
    createdUs: now,
    data: { firstDetectionUs: a.atUs, score: a.score, view: m.view, series: a.context, baseline: a.baseline.median, spread: a.baseline.scale },
  };
}

/** "the deploy of v2", "the flag flip new-pricing: off → on", "the config change cache.ttl: 30 → 5", with who made it or the line that announced it. */
function changePhrase(change: SystemChange): string {
  const what = change.kind === 'deploy' ? `the deploy of ${change.value}` : `the ${change.kind === 'flag' ? 'flag flip' : 'config change'} ${settingPhrase(change.key, change.value, change.previous)}`;
  return what + declaredSuffix(change.declared);
}

const fmtIndicator = (metric: Indicator, x: number): string => (metric === 'latency p95' ? `${x.toFixed(0)} ms` : metric === 'error rate' ? `${(100 * x).toFixed(1)}%` : `${x.toFixed(1)} req/s`);

const sameChange = (a: SystemChange | undefined, b: SystemChange | undefined): boolean =>
  a !== undefined && b !== undefined && a.service === b.service && a.kind === b.kind && a.key === b.key && a.value === b.value && a.atUs === b.atUs;

/**
 * A throughput fall tied to the same change as a latency or error-rate regression of the service is that
 * regression's effect, not a second finding: where clients wait for each answer (a closed loop, a worker pool, a
 * user retrying less), slower or failing requests are fewer requests. It goes into that finding's evidence; a fall
 * with a change of its own, or with no other regression, stays a finding (fewer requests is then the news).
 */
export function foldThroughput<R extends { finding: Finding; metric: Indicator; cp: Regression; change?: SystemChange }>(regs: readonly R[]): Finding[] {
  const out: Finding[] = [];
  for (const r of regs) {
    const host = r.metric === 'throughput' ? (regs.find((x) => x.metric === 'latency p95' && sameChange(x.change, r.change)) ?? regs.find((x) => x.metric === 'error rate' && sameChange(x.change, r.change))) : undefined;
    if (!host) {
      out.push(r.finding);
      continue;
    }
    const e = host.finding.evidence;
    e.metrics = [...(e.metrics ?? []), ...(r.finding.evidence.metrics ?? [])];
    e.chain = [
      ...(e.chain ?? []),
      `throughput fell with it, ${fmtIndicator('throughput', r.cp.before)} → ${fmtIndicator('throughput', r.cp.after)} (${(100 * r.cp.magnitude).toFixed(0)}%, change point at ${new Date(r.cp.atUs / 1000).toISOString()}, p = ${r.cp.pValue.toFixed(3)}): where callers wait for each answer, slower or failing requests are fewer`,
    ];
    host.finding.data = { ...host.finding.data, throughput: { changePointUs: r.cp.atUs, before: r.cp.before, after: r.cp.after, magnitude: r.cp.magnitude, pValue: r.cp.pValue } };
  }
  return out;
}

/** A regression finding: the change point, its before/after and significance, the change nearest to it, and the flag variant its bad requests carry. */
export function regressionFinding(agentId: string, service: string, metric: Indicator, cp: Regression, change: SystemChange | undefined, window: TimeWindow, now: number, flags?: { attribution: FlagAttribution; bad: string }): Finding {
  const flag = flags?.attribution;
  const verb = metric === 'latency p95' ? 'regressed' : metric === 'error rate' ? 'rose' : 'fell';
  const after = change ? (change.kind === 'deploy' ? ` after deploy of ${change.value}` : ` after ${change.kind === 'flag' ? 'flag flip' : 'config change'} ${settingPhrase(change.key, change.value)}`) : '';
  const unit = metric === 'latency p95' ? 'ms' : metric === 'throughput' ? 'req/s' : '';
  const round = (x: number): number => +x.toFixed(metric === 'error rate' ? 4 : 2);
  return {
    // The latency one keeps the id it had before error rate and throughput were watched (verdicts refer to it).
    id: metric === 'latency p95' ? stableId('regression', service, String(Math.floor(cp.atUs / 60e6))) : stableId('regression', service, metric, String(Math.floor(cp.atUs / 60e6))),
    agentId,
    kind: 'regression',
    category: 'performance-insights',
    title: metric === 'latency p95'
      ? `${service} latency p95 regressed ${cp.before.toFixed(0)} → ${cp.after.toFixed(0)} ms (+${(100 * cp.magnitude).toFixed(0)}%)${after}`
      : `${service} ${metric} ${verb} ${fmtIndicator(metric, cp.before)} → ${fmtIndicator(metric, cp.after)}${metric === 'throughput' ? ` (${(100 * cp.magnitude).toFixed(0)}%)` : ''}${after}`,
    severity: metric === 'error rate' ? (cp.after > 0.05 ? 'high' : 'medium') : Math.abs(cp.magnitude) > (metric === 'throughput' ? 0.5 : 1) ? 'high' : 'medium',
    confidence: Math.min(0.95, 1 - cp.pValue),
    subject: { service, metric, ...(change?.kind === 'deploy' ? { version: change.value } : {}) },
    evidence: {
      metrics: [{ series: metric, service, window: { fromUs: cp.atUs, toUs: window.toUs }, baseline: round(cp.before), observed: round(cp.after), ...(unit ? { unit } : {}) }],
      ...changeEvidence(change),
      chain: [
        `energy change point at ${new Date(cp.atUs / 1000).toISOString()} (p = ${cp.pValue.toFixed(3)}): ${fmtIndicator(metric, cp.before)} before, ${fmtIndicator(metric, cp.after)} after`,
        change
          ? `nearest change: ${changePhrase(change)} of ${service} at ${new Date(change.atUs / 1000).toISOString()}`
          : 'no deploy, config change or flag flip of this service near the change',
        ...(flag ? [attributionPhrase(flag, flags!.bad)] : []),
      ],
    },
    basis: 'measured',
    window: { fromUs: cp.atUs, toUs: window.toUs },
    createdUs: now,
    data: { ...(flag ? { flag } : {}), changePointUs: cp.atUs, metric, before: cp.before, after: cp.after, magnitude: cp.magnitude, pValue: cp.pValue, ...(change?.kind === 'deploy' ? { deploy: changeEvidence(change).deploys![0] } : {}), ...(change && change.kind !== 'deploy' ? { configChange: change } : {}) },
  };
}
