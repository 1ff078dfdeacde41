/**
 * Metric evidence for root-cause analysis: robust scoring of every service indicator against the pre-incident
 * window (BARO's RobustScorer idea: median and inter-quartile range, here with a scale floor so a flat baseline
 * does not turn noise into infinity), then the culprit/victim distinction from the topology — a culprit shows
 * internal anomalies (its own CPU, memory, server latency, errors), a victim mostly external ones (client
 * latency and errors that its callees explain).
 */

export type IndicatorKind = 'cpu' | 'memory' | 'latency-server' | 'latency-client' | 'latency-network' | 'errors' | 'workload' | 'network' | 'io' | 'other';

export interface Series {
  /** Seconds (or any monotonic unit), ascending. */
  t: number[];
  v: number[];
}

/** service → indicator name → series. */
export type ServiceSeries = Map<string, Map<string, Series>>;

/** Appends one point to a service's indicator series, creating both as needed. */
export function appendPoint(series: ServiceSeries, service: string, indicator: string, t: number, v: number): void {
  let inds = series.get(service);
  if (!inds) series.set(service, (inds = new Map()));
  let s = inds.get(indicator);
  if (!s) inds.set(indicator, (s = { t: [], v: [] }));
  s.t.push(t);
  s.v.push(v);
}

export interface IndicatorScore {
  service: string;
  indicator: string;
  kind: IndicatorKind;
  score: number;
  baseline: number;
  observed: number;
  /** Sign of the change: +1 up, -1 down. */
  direction: number;
  /** Scored from a single sample (see ScoreOptions.once): evidence to use only when nothing else stands out. */
  weak?: boolean;
}

/** What an indicator measures, from its name (RCAEval, Nezha, Prometheus and OTel naming). */
export function indicatorKind(name: string): IndicatorKind {
  // `<indicator>@<pod>`: one replica's series of the indicator (rca-cases.ts); the pod name says nothing of the kind.
  const n = name.toLowerCase().replace(/@[^@]*$/, '');
  // Indicators derived from traces and logs (traces.ts): own work vs. what callers see.
  if (n.startsWith('exclusive')) return 'latency-server';
  if (n.startsWith('response-time')) return 'latency-client';
  if (n.startsWith('error-origin') || n === 'new-errors' || n === 'error-logs') return 'errors';
  // Call-edge indicators (edges.ts): the time between pods is the callee's network; calls stopping are the
  // caller's behaviour changing (an early return or exception), counted with errors.
  if (n.startsWith('edge-net-latency')) return 'latency-network';
  if (n.startsWith('edge-in-latency')) return 'latency-client';
  if (n.startsWith('edge-calls')) return 'errors';
  if (/cpu/.test(n)) return 'cpu';
  if (/mem|rss|heap/.test(n)) return 'memory';
  if (/client.*lat|lat.*client/.test(n)) return 'latency-client';
  if (/lat|duration|p9\d|p50|response.?time/.test(n)) return 'latency-server';
  if (/err|fail|success|5xx|status|exception/.test(n)) return 'errors';
  if (/workload|qps|rps|request|throughput|ops/.test(n)) return 'workload';
  if (/net|byte|receive|transmit|packet/.test(n)) return 'network';
  if (/syscall|disk|io|fs/.test(n)) return 'io';
  return 'other';
}

/** How much an indicator kind says about the service itself being the cause. Internal > external. */
const KIND_WEIGHT: Record<IndicatorKind, number> = {
  cpu: 1,
  memory: 1,
  'latency-server': 1,
  errors: 1,
  'latency-client': 0.5,
  // Time between the caller's and the callee's view of a call: the callee's network, internal to it.
  'latency-network': 1,
  workload: 0.35,
  network: 0.5,
  io: 0.5,
  other: 0.3,
};

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface ScoreOptions {
  /** Scale floor as a share of the baseline median: changes under this relative size never score high. */
  relFloor?: number;
  /** Absolute floor for indicators whose baseline is ~0 (e.g. an error rate of 0). */
  absFloor?: number;
  /** How many samples of the incident window must deviate (the k-th largest deviation is the score). */
  persistence?: number;
  /**
   * Time ranges (s) the baseline leaves out: disturbances the swarm made itself (its chaos experiments and load
   * tests). "Normal" learned from the swarm's own load test would hide a real incident right after it.
   */
  quiet?: readonly { fromS: number; toS: number }[];
  /**
   * For event counts (errors that start in a service, new error fingerprints): when the baseline holds none at
   * all, a single sample with events is scored too, at this share of its deviation and marked weak. Persistence
   * guards against noise in gauges; a service that never failed and now fails once or twice is not noise but a
   * rare-path bug seen under light load — specific, though too thin to outrank a clear anomaly elsewhere.
   */
  once?: number;
}

const overlap = (from: number, to: number, quiet: readonly { fromS: number; toS: number }[]): number =>
  quiet.reduce((sum, q) => sum + Math.max(0, Math.min(to, q.toS) - Math.max(from, q.fromS)), 0);
const inQuiet = (t: number, quiet: readonly { fromS: number; toS: number }[]): boolean => quiet.some((q) => t >= q.fromS && t <= q.toS);

/**
 * Robust score of one indicator: the largest |x - median| / scale over the incident window, where scale is the
 * pre-window IQR/1.349 (≈σ for normal data), floored. NaNs are skipped; too few points → undefined.
 */
export function robustScore(pre: number[], post: number[], opts: ScoreOptions = {}): { score: number; baseline: number; observed: number; direction: number; weak?: true } | undefined {
  const a = pre.filter(Number.isFinite).sort((x, y) => x - y);
  const b = post.filter(Number.isFinite);
  if (a.length < 2 || b.length < 1) return undefined;
  const med = quantile(a, 0.5);
  const iqr = quantile(a, 0.75) - quantile(a, 0.25);
  const scale = Math.max(iqr / 1.349, Math.abs(med) * (opts.relFloor ?? 0.05), opts.absFloor ?? 1e-6);
  // A lasting shift, not one spike: the k-th largest deviation (k = 2 when the window allows), because a
  // single outlying sample is what noise looks like and faults persist for several samples.
  const devs = b.map((x) => ({ x, s: Math.abs(x - med) / scale })).sort((p, q) => q.s - p.s);
  const k = Math.min(devs.length - 1, (opts.persistence ?? 2) - 1);
  const pick = devs[Math.max(0, k)]!;
  const first = devs[0]!;
  // A clean record (≥ 5 samples, all zero) broken once: see ScoreOptions.once.
  if (opts.once !== undefined && pick.s === 0 && first.s > 0 && a.length >= 5 && a[0] === 0 && a[a.length - 1] === 0) {
    return { score: first.s * opts.once, baseline: med, observed: first.x, direction: Math.sign(first.x - med), weak: true };
  }
  return { score: pick.s, baseline: med, observed: pick.x, direction: Math.sign(pick.x - med) };
}

/** First index with t[i] >= x (t ascending). */
function lowerBound(t: readonly number[], x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Checked once per series (and again if points were appended since).
const sortedSeries = new WeakMap<readonly number[], { n: number; ok: boolean }>();
function ascending(t: readonly number[]): boolean {
  const c = sortedSeries.get(t);
  if (c && c.n === t.length) return c.ok;
  let ok = true;
  for (let i = 1; i < t.length && ok; i++) if (t[i]! < t[i - 1]!) ok = false;
  sortedSeries.set(t, { n: t.length, ok });
  return ok;
}

function scoreOne(s: Series, onset: number, preSpan: number, postSpan: number, opts: ScoreOptions): ReturnType<typeof robustScore> {
  const quiet = opts.quiet ?? [];
  if (!ascending(s.t)) {
    const pre: number[] = [];
    const post: number[] = [];
    for (let i = 0; i < s.t.length; i++) {
      const t = s.t[i]!;
      if (t >= onset - preSpan && t < onset) {
        if (!inQuiet(t, quiet)) pre.push(s.v[i]!);
      }
      else if (t >= onset && t <= onset + postSpan) post.push(s.v[i]!);
    }
    return robustScore(pre, post, opts);
  }
  // Ascending (the usual case): slice the two windows by binary search, so whole-day series and the onset scan
  // stay cheap.
  // Leaving quiet ranges out must not leave a thin baseline (a tiny IQR makes noise look like an incident): reach
  // further back until the baseline covers preSpan seconds of ordinary time.
  let from = onset - preSpan;
  for (let i = 0; i < 4 && quiet.length; i++) {
    const deficit = preSpan - (onset - from - overlap(from, onset, quiet));
    if (deficit <= 0.5) break;
    from -= deficit;
  }
  const a = lowerBound(s.t, from);
  const b = lowerBound(s.t, onset);
  let c = b;
  while (c < s.t.length && s.t[c]! <= onset + postSpan) c++;
  let pre = s.v.slice(a, b);
  if (quiet.length) pre = pre.filter((_, i) => !inQuiet(s.t[a + i]!, quiet));
  return robustScore(pre, s.v.slice(b, c), opts);
}

export function scoreIndicators(series: ServiceSeries, onset: number, preSpan: number, postSpan: number, opts: ScoreOptions = {}): IndicatorScore[] {
  const out: IndicatorScore[] = [];
  for (const [service, inds] of series) {
    for (const [indicator, s] of inds) {
      const r = scoreOne(s, onset, preSpan, postSpan, opts);
      if (!r) continue;
      const kind = indicatorKind(indicator);
      // Memory falling is a garbage collection or a restart, never a memory fault: only growth is evidence. (CPU
      // falling is kept: a culprit that fails fast does less work, and leaving it out lost cases on Nezha and the
      // testbed.)
      if (kind === 'memory' && r.direction < 0) continue;
      out.push({ service, indicator, kind, ...r });
    }
  }
  return out;
}

/**
 * Service score from its indicators: the strongest internal anomaly counts fully, external ones are discounted.
 * Scores are squashed with log1p so one absurd z (flat baselines) does not drown everything else.
 */
export function serviceScores(scores: readonly IndicatorScore[], multipliers?: Readonly<Record<string, number>>): Map<string, { score: number; top: IndicatorScore[] }> {
  const by = new Map<string, IndicatorScore[]>();
  for (const s of scores) {
    const l = by.get(s.service);
    if (l) l.push(s);
    else by.set(s.service, [s]);
  }
  const out = new Map<string, { score: number; top: IndicatorScore[] }>();
  for (const [svc, list] of by) {
    // `multipliers`: learned per-kind factors from verdicts (signal-weights.ts); a kind they do not name counts 1.
    const weighted = list.map((s) => ({ s, w: Math.log1p(s.score) * KIND_WEIGHT[s.kind] * (multipliers?.[s.kind] ?? 1) })).sort((a, b) => b.w - a.w);
    // Best indicator plus a smaller share of the best one of another kind: two independent anomalies are more
    // telling than one, and the p95 beside a p99 of the same latency is not an independent one.
    const other = weighted.find((x) => x.s.kind !== weighted[0]?.s.kind);
    const score = (weighted[0]?.w ?? 0) + 0.25 * (other?.w ?? 0);
    out.set(svc, { score, top: weighted.slice(0, 3).map((x) => x.s) });
  }
  return out;
}

/**
 * Victim discount: a service whose callees are at least as anomalous is more likely a victim. Subtracts a share
 * of the strongest callee score (propagation runs caller ← callee), keeping scores non-negative.
 */
export function topologyAdjust(scores: Map<string, number>, edges: readonly { source: string; target: string }[], share = 0.5): Map<string, number> {
  const callees = new Map<string, string[]>();
  for (const e of edges) {
    if (e.source === e.target) continue;
    const l = callees.get(e.source);
    if (l) l.push(e.target);
    else callees.set(e.source, [e.target]);
  }
  const out = new Map<string, number>();
  for (const [svc, s] of scores) {
    const worstCallee = Math.max(0, ...(callees.get(svc) ?? []).map((c) => scores.get(c) ?? 0));
    out.set(svc, worstCallee >= s ? Math.max(0, s - share * (worstCallee - s) - share * 0.1 * s) : s);
  }
  return out;
}

/**
 * Onset estimate when the given one is missing or may be off: the time after which the sum of squared robust
 * deviations across indicators jumps most (a mean-shift change point on the aggregate anomaly).
 */
export function estimateOnset(series: ServiceSeries, from: number, to: number): number | undefined {
  const times = new Set<number>();
  for (const inds of series.values()) for (const s of inds.values()) for (const t of s.t) if (t >= from && t <= to) times.add(t);
  const ts = [...times].sort((a, b) => a - b);
  if (ts.length < 6) return undefined;
  const agg = new Map<number, number>(ts.map((t) => [t, 0]));
  for (const inds of series.values()) {
    for (const s of inds.values()) {
      const vals = s.v.filter((_, i) => s.t[i]! >= from && s.t[i]! <= to && Number.isFinite(s.v[i]!));
      if (vals.length < 4) continue;
      const sorted = [...vals].sort((a, b) => a - b);
      const med = quantile(sorted, 0.5);
      const scale = Math.max((quantile(sorted, 0.75) - quantile(sorted, 0.25)) / 1.349, Math.abs(med) * 0.05, 1e-9);
      for (let i = 0; i < s.t.length; i++) {
        const t = s.t[i]!;
        if (agg.has(t) && Number.isFinite(s.v[i]!)) agg.set(t, agg.get(t)! + Math.min(100, ((s.v[i]! - med) / scale) ** 2));
      }
    }
  }
  const y = ts.map((t) => Math.log1p(agg.get(t)!));
  let best = -Infinity;
  let at: number | undefined;
  for (let k = 2; k < y.length - 1; k++) {
    const m1 = y.slice(0, k).reduce((a, b) => a + b, 0) / k;
    const m2 = y.slice(k).reduce((a, b) => a + b, 0) / (y.length - k);
    const gain = (m2 - m1) * Math.sqrt((k * (y.length - k)) / y.length);
    if (gain > best) {
      best = gain;
      at = ts[k];
    }
  }
  return at;
}
