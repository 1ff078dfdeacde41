/**
 * Pattern tracking: counts per (template, service) per time bucket, and what changed in a window against the
 * baseline learned from the buckets before it:
 *   - new:   never seen in the baseline;
 *   - rare:  seen fewer than `rareMax` times in the whole baseline;
 *   - burst: observed count is improbably high for a Poisson with the baseline's mean rate (one-sided p < alpha),
 *            with at least `minCount` occurrences and `minRatio` times the expected count;
 *   - drop:  expected at least `minCount` but observed improbably few (one-sided p < alpha).
 * Error co-occurrence: templates whose lines carry trace ids of traces that had an error (join on trace id).
 *
 * Poisson rather than a z-score because template counts are small integers where a normal approximation lies;
 * a rate floor (half an occurrence per baseline span) keeps a zero baseline from making any count infinitely
 * surprising. Pure: callers feed events with timestamps.
 *
 * Quiet ranges (the swarm's own load tests and chaos experiments) are cut out of both the window and the baseline:
 * their lines are not counted and their time is not in the spans the rates are taken over, so a load test neither
 * bursts in the window nor raises the baseline's rate for later windows.
 */

export interface PatternEvent {
  templateId: string;
  service: string;
  timeUs: number;
  traceId?: string;
  /** The line was logged at error severity or above. */
  error?: boolean;
}

export type ChangeKind = 'new' | 'rare' | 'burst' | 'drop';

export interface PatternChange {
  kind: ChangeKind;
  templateId: string;
  service: string;
  observed: number;
  /** Expected count in the window from the baseline rate. */
  expected: number;
  /** One-sided Poisson p-value (1 for `new`/`rare`). */
  p: number;
  baselineTotal: number;
  traceIds: string[];
  errorLines: number;
  /**
   * Time of its first line in the window (µs); for a drop, when the rate fell: the last line before the deficit
   * (or the window's start when it runs from there; dropOnset).
   */
  firstUs: number;
  /** Time of its last line in the window (µs); for a drop, the window's end (the deficit lasts to it). */
  lastUs: number;
}

export interface TrackerOptions {
  alpha?: number;
  minCount?: number;
  minRatio?: number;
  rareMax?: number;
  maxTraceIds?: number;
}

const DEFAULTS: Required<TrackerOptions> = { alpha: 1e-3, minCount: 5, minRatio: 3, rareMax: 2, maxTraceIds: 10 };

/** log P(X = k) for X ~ Poisson(lambda). */
function logPmf(k: number, lambda: number): number {
  if (lambda <= 0) return k === 0 ? 0 : -Infinity;
  let lf = 0;
  for (let i = 2; i <= k; i++) lf += Math.log(i);
  return k * Math.log(lambda) - lambda - lf;
}

/** P(X >= k). Summed in log space from k upward until terms vanish; bounded to 10,000 terms. */
export function poissonUpper(k: number, lambda: number): number {
  if (k <= 0) return 1;
  let sum = 0;
  let logP = logPmf(k, lambda);
  for (let i = k; i < k + 10_000; i++) {
    const p = Math.exp(logP);
    sum += p;
    if (p < sum * 1e-12 && i > lambda) break;
    logP += Math.log(lambda) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

/** P(X <= k). */
export function poissonLower(k: number, lambda: number): number {
  if (k < 0) return 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(logPmf(i, lambda));
  return Math.min(1, sum);
}

interface Acc {
  count: number;
  firstUs: number;
  lastUs: number;
  errors: number;
  traceIds: Set<string>;
}

export interface TimeRange {
  fromUs: number;
  toUs: number;
}

/** Sorted, non-overlapping copies of the ranges (so overlaps are not counted twice). */
function merged(ranges: readonly TimeRange[]): TimeRange[] {
  const out: TimeRange[] = [];
  for (const r of [...ranges].filter((x) => x.toUs > x.fromUs).sort((a, b) => a.fromUs - b.fromUs)) {
    const last = out[out.length - 1];
    if (last && r.fromUs <= last.toUs) last.toUs = Math.max(last.toUs, r.toUs);
    else out.push({ ...r });
  }
  return out;
}

/** Time of [fromUs, toUs) not inside any of the (merged) ranges. */
function openTime(fromUs: number, toUs: number, quiet: readonly TimeRange[]): number {
  let t = Math.max(0, toUs - fromUs);
  for (const q of quiet) t -= Math.max(0, Math.min(toUs, q.toUs) - Math.max(fromUs, q.fromUs));
  return t;
}

function isQuiet(t: number, quiet: readonly TimeRange[]): boolean {
  for (const q of quiet) if (t >= q.fromUs && t < q.toUs) return true;
  return false;
}

function accumulate(events: readonly PatternEvent[], fromUs: number, toUs: number, maxTrace: number, quiet: readonly TimeRange[]): Map<string, Acc> {
  const m = new Map<string, Acc>();
  for (const e of events) {
    if (e.timeUs < fromUs || e.timeUs >= toUs || (quiet.length && isQuiet(e.timeUs, quiet))) continue;
    const k = `${e.templateId}\u0000${e.service}`;
    let a = m.get(k);
    if (!a) m.set(k, (a = { count: 0, firstUs: e.timeUs, lastUs: e.timeUs, errors: 0, traceIds: new Set() }));
    a.count++;
    if (e.timeUs < a.firstUs) a.firstUs = e.timeUs;
    if (e.timeUs > a.lastUs) a.lastUs = e.timeUs;
    if (e.error) a.errors++;
    if (e.traceId && a.traceIds.size < maxTrace) a.traceIds.add(e.traceId);
  }
  return m;
}

/**
 * When a rate fell inside the window: the start of the stretch to the window's end whose deficit is the most
 * significant (Poisson log-likelihood ratio of the lines after τ against `ratePerUs` × the open time after τ,
 * over τ = the window's start and each line's time). A template that stops ten minutes into a fifteen-minute
 * window is dated by its last line, not by the window's start (where the timeline had put it).
 */
export function dropOnset(lineTimes: number[], ratePerUs: number, window: { fromUs: number; toUs: number }, quiet: readonly TimeRange[] = []): number {
  const ts = [...lineTimes].sort((a, b) => a - b);
  let best = window.fromUs;
  let bestLlr = -Infinity;
  for (let i = -1; i < ts.length; i++) {
    const tau = i < 0 ? window.fromUs : ts[i]!;
    const n = ts.length - 1 - i;
    const e = ratePerUs * openTime(tau, window.toUs, quiet);
    if (!(n < e)) continue;
    const llr = (n > 0 ? n * Math.log(n / e) - n : 0) + e;
    if (llr > bestLlr) {
      bestLlr = llr;
      best = tau;
    }
  }
  return best;
}

/**
 * Compares a window with its baseline (events in `[baselineFromUs, window.fromUs)`), both without the `quiet`
 * ranges. Returns changes sorted by surprise (smallest p first, then largest count).
 */
export function detectChanges(
  events: readonly PatternEvent[],
  window: { fromUs: number; toUs: number },
  baselineFromUs: number,
  options: TrackerOptions = {},
  quietRanges: readonly TimeRange[] = [],
): PatternChange[] {
  const o = { ...DEFAULTS, ...options };
  if (!(window.toUs > window.fromUs)) throw new Error(`window must have toUs > fromUs (got ${window.fromUs}..${window.toUs})`);
  const quiet = merged(quietRanges);
  const span = openTime(window.fromUs, window.toUs, quiet);
  const baseSpan = openTime(baselineFromUs, window.fromUs, quiet);
  // A window the swarm disturbed from end to end has nothing left to judge.
  if (!(span > 0)) return [];
  const cur = accumulate(events, window.fromUs, window.toUs, o.maxTraceIds, quiet);
  const base = baseSpan > 0 ? accumulate(events, baselineFromUs, window.fromUs, 0, quiet) : new Map<string, Acc>();
  const scale = baseSpan > 0 ? span / baseSpan : 0;
  const out: PatternChange[] = [];
  for (const [k, a] of cur) {
    const [templateId, service] = k.split('\u0000');
    const b = base.get(k)?.count ?? 0;
    const common = { templateId, service, observed: a.count, baselineTotal: b, traceIds: [...a.traceIds], errorLines: a.errors, firstUs: a.firstUs, lastUs: a.lastUs };
    if (baseSpan > 0 && b === 0) {
      out.push({ kind: 'new', ...common, expected: 0, p: 1 });
      continue;
    }
    const expected = Math.max(b, 0.5) * scale;
    if (baseSpan > 0 && b <= o.rareMax) out.push({ kind: 'rare', ...common, expected, p: 1 });
    if (baseSpan > 0 && a.count >= o.minCount && a.count >= o.minRatio * expected) {
      const p = poissonUpper(a.count, expected);
      if (p < o.alpha) out.push({ kind: 'burst', ...common, expected, p });
    }
  }
  if (baseSpan > 0) {
    const drops: PatternChange[] = [];
    for (const [k, b] of base) {
      const expected = b.count * scale;
      if (expected < o.minCount) continue;
      const observed = cur.get(k)?.count ?? 0;
      if (observed * o.minRatio > expected) continue;
      const p = poissonLower(observed, expected);
      if (p < o.alpha) {
        const [templateId, service] = k.split('\u0000');
        drops.push({ kind: 'drop', templateId: templateId!, service: service!, observed, expected, p, baselineTotal: b.count, traceIds: [], errorLines: 0, firstUs: window.fromUs, lastUs: window.toUs });
      }
    }
    if (drops.length) {
      // The lines of the dropped templates in the window: few by definition, read in one pass.
      const times = new Map(drops.map((d) => [`${d.templateId}\u0000${d.service}`, [] as number[]]));
      for (const e of events) {
        if (e.timeUs < window.fromUs || e.timeUs >= window.toUs || (quiet.length && isQuiet(e.timeUs, quiet))) continue;
        times.get(`${e.templateId}\u0000${e.service}`)?.push(e.timeUs);
      }
      for (const d of drops) d.firstUs = dropOnset(times.get(`${d.templateId}\u0000${d.service}`)!, d.expected / span, window, quiet);
      out.push(...drops);
    }
  }
  return out.sort((x, y) => x.p - y.p || y.observed - x.observed);
}

export interface CoOccurrence {
  templateId: string;
  /** Lines of this template on traces that had an error span. */
  onErrorTraces: number;
  /** Lines of this template that carry any trace id. */
  withTrace: number;
  traceIds: string[];
}

/** Templates whose lines land on error traces (joined on trace id), most frequent first. */
export function errorCoOccurrence(events: readonly PatternEvent[], errorTraceIds: ReadonlySet<string>, maxTraceIds = 10): CoOccurrence[] {
  const m = new Map<string, CoOccurrence>();
  for (const e of events) {
    if (!e.traceId) continue;
    let c = m.get(e.templateId);
    if (!c) m.set(e.templateId, (c = { templateId: e.templateId, onErrorTraces: 0, withTrace: 0, traceIds: [] }));
    c.withTrace++;
    if (errorTraceIds.has(e.traceId)) {
      c.onErrorTraces++;
      if (c.traceIds.length < maxTraceIds && !c.traceIds.includes(e.traceId)) c.traceIds.push(e.traceId);
    }
  }
  return [...m.values()].filter((c) => c.onErrorTraces > 0).sort((a, b) => b.onErrorTraces - a.onErrorTraces);
}

/** Counts per template/service/bucket (for rate charts and rollups). */
export function bucketCounts(events: readonly PatternEvent[], bucketUs: number): Map<string, Map<number, number>> {
  if (!(bucketUs > 0)) throw new Error(`bucketUs must be > 0, got ${bucketUs}`);
  const out = new Map<string, Map<number, number>>();
  for (const e of events) {
    const k = `${e.templateId}\u0000${e.service}`;
    const b = Math.floor(e.timeUs / bucketUs) * bucketUs;
    let m = out.get(k);
    if (!m) out.set(k, (m = new Map()));
    m.set(b, (m.get(b) ?? 0) + 1);
  }
  return out;
}
