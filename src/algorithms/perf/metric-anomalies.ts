/**
 * Streaming anomaly detection on stored metric series (OTLP gauges, counters, histograms, summaries): the NAB-
 * scored detector of `anomaly/detector.ts` run point by point over each series, scoring every point before it
 * learns it, so an alarm at time t used nothing after t.
 *
 * What a series is. OTLP points of one metric name, service and attribute set, in time order, turned into one
 * number per point that means the same thing from point to point:
 *   - gauges and non-monotonic sums (queue depth, memory in use): the value;
 *   - monotonic sums (request counters): the rate per second, from the delta of cumulative values (a counter that
 *     went down was reset, so that interval is skipped) or from a delta point over its own interval;
 *   - histograms, exponential histograms and summaries: the mean of the interval (Δsum / Δcount), e.g. the mean
 *     request duration; their exemplars are kept so an alarm can name the traces behind it.
 *
 * Replays start on a fixed grid. The agent runs in cycles over windows; each cycle replays the series from one
 * block before the block its window begins in (`historyStart`), so two cycles in the same block see the same
 * detector state at every point and report the same alarms, instead of alarms that come and go as the start of a
 * sliding history moves. A series' block is sized from its sampling interval (`replayBlockUs`): long enough for
 * 1,500 points, so the replay always covers the detector's probation, and a power of two of seconds, so the block
 * stays put while the interval wobbles.
 */
import type { Attributes, MetricPoint } from '../../signals/model.js';
import { StreamingDetector } from '../anomaly/detector.js';

export interface MetricSeries {
  /** service, name and attributes: one series. */
  key: string;
  service: string;
  name: string;
  unit?: string;
  /** What the values are: the metric's value, its rate per second, or the interval mean of a distribution. */
  view: 'value' | 'rate' | 'mean';
  attributes: Attributes;
  t: number[];
  v: number[];
  /** Exemplar trace ids with their times (from histogram points that carry exemplars). */
  exemplars: { timeUs: number; traceId: string }[];
}

function attrKey(a: Attributes): string {
  const keys = Object.keys(a).sort();
  return keys.length ? `{${keys.map((k) => `${k}=${JSON.stringify(a[k])}`).join(',')}}` : '';
}

/**
 * Groups points into series and turns each into comparable numbers (see the module comment). `carry`: for a read
 * in pages, each series' last point of the page before, in and out: a rate or an interval mean needs the point
 * before, and the first point of a page has it there (it is not emitted again).
 */
export function metricSeriesFrom(points: readonly MetricPoint[], carry?: Map<string, MetricPoint>): MetricSeries[] {
  const groups = new Map<string, MetricPoint[]>();
  // The canonical (sorted) attribute key costs a sort per point; points of one series repeat one serialisation.
  const canonical = new Map<string, string>();
  for (const p of points) {
    const raw = `${p.service}|${p.name}|${JSON.stringify(p.attributes)}`;
    let key = canonical.get(raw);
    if (key === undefined) canonical.set(raw, (key = `${p.service}|${p.name}${attrKey(p.attributes)}`));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(p);
  }
  const out: MetricSeries[] = [];
  for (const [key, ps] of groups) {
    ps.sort((a, b) => a.timeUs - b.timeUs);
    const first = ps[0]!;
    const s: MetricSeries = { key, service: first.service, name: first.name, ...(first.unit ? { unit: first.unit } : {}), view: 'value', attributes: first.attributes, t: [], v: [], exemplars: [] };
    let prev: MetricPoint | undefined = carry?.get(key);
    for (const p of ps) {
      if (prev && p.timeUs === prev.timeUs) continue;
      const x = valueOf(p, prev);
      if (p.type === 'histogram' || p.type === 'exponential_histogram' || p.type === 'summary') s.view = 'mean';
      else if (p.type === 'sum' && p.monotonic) s.view = 'rate';
      if (x !== undefined && Number.isFinite(x)) {
        s.t.push(p.timeUs);
        s.v.push(x);
      }
      for (const e of p.exemplars ?? []) if (e.traceId) s.exemplars.push({ timeUs: e.timeUs, traceId: e.traceId });
      prev = p;
    }
    if (prev) carry?.set(key, prev);
    if (s.t.length) out.push(s);
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** Series of a read in pages (oldest first) joined per key, in key order: each page's points follow the last's. */
export function joinSeriesPages(pages: readonly (readonly MetricSeries[])[]): MetricSeries[] {
  const by = new Map<string, MetricSeries>();
  for (const page of pages) {
    for (const m of page) {
      const s = by.get(m.key);
      if (!s) {
        by.set(m.key, { ...m, t: [...m.t], v: [...m.v], exemplars: [...m.exemplars] });
        continue;
      }
      // A counter's first page may hold one point only (no rate yet): the view is the one a later page found.
      if (m.view !== 'value') s.view = m.view;
      for (let i = 0; i < m.t.length; i++) {
        s.t.push(m.t[i]!);
        s.v.push(m.v[i]!);
      }
      for (const e of m.exemplars) s.exemplars.push(e);
    }
  }
  return [...by.values()].sort((a, b) => a.key.localeCompare(b.key));
}

function valueOf(p: MetricPoint, prev: MetricPoint | undefined): number | undefined {
  switch (p.type) {
    case 'gauge':
      return p.value;
    case 'sum': {
      if (!p.monotonic) return p.value;
      if (p.temporality === 'delta') {
        const dt = p.startTimeUs !== undefined ? (p.timeUs - p.startTimeUs) / 1e6 : prev ? (p.timeUs - prev.timeUs) / 1e6 : 0;
        return dt > 0 ? p.value / dt : undefined;
      }
      if (!prev || prev.type !== 'sum') return undefined;
      const dv = p.value - prev.value;
      const dt = (p.timeUs - prev.timeUs) / 1e6;
      return dv >= 0 && dt > 0 ? dv / dt : undefined;
    }
    case 'histogram':
    case 'exponential_histogram':
    case 'summary': {
      if (p.sum === undefined) return undefined;
      const cumulative = p.type === 'summary' || p.temporality === 'cumulative';
      if (!cumulative) return p.count > 0 ? p.sum / p.count : undefined;
      if (!prev || prev.type !== p.type || prev.sum === undefined) return undefined;
      const dc = p.count - prev.count;
      return dc > 0 ? (p.sum - prev.sum) / dc : undefined;
    }
  }
}

/**
 * The NAB low-FP profile's threshold for this detector on the whole corpus (`tswarm eval nab`: 0.814): the
 * standard profile's 0.775 raises about one alarm in 1,850 points outside NAB's windows, which for a series
 * sampled every 10 s is several a day.
 */
export const METRIC_ANOMALY_THRESHOLD = 0.814;
/** NAB's probationary period is 15% of a file, at most 750 points: the detector is not judged before it has seen that much. */
export const METRIC_PROBATION = 750;

export interface MetricAnomaly {
  key: string;
  /** Points the detector has seen in this replay block, this one included. */
  seen: number;
  atUs: number;
  /** The time of the point before it (the alarm covers the interval since). */
  prevUs: number;
  value: number;
  score: number;
  /** Median and robust spread of the up to 300 points before the alarm. */
  baseline: { median: number; scale: number; n: number };
  traceIds: string[];
  /** Up to 120 points before the alarm and the alarm itself, [time, value], for a plot. */
  context: [number, number][];
}

export interface DetectOptions {
  threshold?: number;
  probation?: number;
}

/** The start of the replay for a window starting at `fromUs`: one history block before the block it falls in. */
export function historyStart(fromUs: number, blockUs: number): number {
  return Math.floor(fromUs / blockUs) * blockUs - blockUs;
}

/** Points a replay block holds at least (twice the probation, so a window is judged on a warmed-up detector). */
export const REPLAY_BLOCK_POINTS = 2 * 750;

/** A series' replay block: `REPLAY_BLOCK_POINTS` sampling intervals, rounded up to a power of two of seconds. */
export function replayBlockUs(intervalUs: number): number {
  const s = Math.max(1, (intervalUs * REPLAY_BLOCK_POINTS) / 1e6);
  return 2 ** Math.ceil(Math.log2(s)) * 1e6;
}

/** Median gap between consecutive points, undefined with fewer than two. */
export function samplingInterval(t: readonly number[]): number | undefined {
  if (t.length < 2) return undefined;
  const gaps = t.slice(1).map((x, i) => x - t[i]!).filter((g) => g > 0).sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor(gaps.length / 2)] : undefined;
}

const RECENT = 300;
const CONTEXT = 120;
const KEPT_ALARMS = 200;

/** What a kept run knows of its series besides the detector: enough to report its remembered alarms. */
export type SeriesMeta = Omit<MetricSeries, 't' | 'v' | 'exemplars'>;

interface Run {
  meta: SeriesMeta;
  blockStart: number;
  detector: StreamingDetector;
  seen: number;
  lastT: number;
  /** The last RECENT points, a ring: an alarm's baseline and plot. */
  recentT: number[];
  recentV: number[];
  /** This block's alarms so far (the latest KEPT_ALARMS), for windows that overlap points already fed. */
  alarms: MetricAnomaly[];
}

/**
 * Detector state per series between cycles, so a cycle feeds each series only the points that arrived since the
 * last one instead of replaying its whole block (at ~3,000 points per replay that is most of a cycle's cost).
 * Continuing is exactly a replay from the block start as long as points arrive in time order: a point stored
 * later with an earlier time than the last one fed is not seen until the next block's replay. Windows that
 * overlap points already fed get the alarms remembered for them. At most `maxSeries` detectors are kept (least
 * recently used out), which bounds memory; the others replay.
 */
export class MetricDetectorCache {
  private readonly runs = new Map<string, Run>();
  /** Replay block size per metric name, fixed the first time the name is seen (so its block grid stays put). */
  readonly blocks = new Map<string, number>();

  constructor(readonly maxSeries = 1000) {}

  /** The kept runs: series, block start and the time of the last point fed. */
  kept(): { meta: SeriesMeta; blockStart: number; lastT: number }[] {
    return [...this.runs.values()].map((r) => ({ meta: r.meta, blockStart: r.blockStart, lastT: r.lastT }));
  }

  /** Alarms remembered for a kept run in [fromUs, toUs) (a series with no new points in this cycle). */
  alarmsIn(key: string, blockStart: number, fromUs: number, toUs: number): MetricAnomaly[] {
    const r = this.runs.get(key);
    return r && r.blockStart === blockStart ? r.alarms.filter((a) => a.atUs >= fromUs && a.atUs < toUs) : [];
  }

  get size(): number {
    return this.runs.size;
  }

  /** The time of the last point fed for `key` in this block, or undefined when it has to replay from the block start. */
  resumeAfter(key: string, blockStart: number): number | undefined {
    const r = this.runs.get(key);
    return r && r.blockStart === blockStart ? r.lastT : undefined;
  }

  /**
   * Feeds the series' points after the last one fed (all from `blockStart` on when there is no state for this
   * block) and returns the block's alarms in [fromUs, toUs).
   */
  detect(s: MetricSeries, blockStart: number, fromUs: number, toUs = Infinity, opts: DetectOptions = {}): MetricAnomaly[] {
    const threshold = opts.threshold ?? METRIC_ANOMALY_THRESHOLD;
    const probation = opts.probation ?? METRIC_PROBATION;
    let r = this.runs.get(s.key);
    const { t: _t, v: _v, exemplars: _e, ...meta } = s;
    if (!r || r.blockStart !== blockStart) r = { meta, blockStart, detector: new StreamingDetector(), seen: 0, lastT: -Infinity, recentT: [], recentV: [], alarms: [] };
    this.runs.delete(s.key);
    for (let i = 0; i < s.v.length; i++) {
      const t = s.t[i]!;
      if (t < blockStart || t <= r.lastT) continue;
      const x = s.v[i]!;
      const score = r.detector.update(x);
      const prevT = r.lastT;
      r.seen++;
      r.lastT = t;
      if (r.seen > probation && score >= threshold) {
        const traceIds = [...new Set(s.exemplars.filter((e) => e.timeUs > prevT && e.timeUs <= t).map((e) => e.traceId))].slice(0, 5);
        const order = ringOrder(r.recentT.length, r.seen - 1);
        const context = order.slice(-CONTEXT).map((k): [number, number] => [r!.recentT[k]!, r!.recentV[k]!]);
        context.push([t, x]);
        r.alarms.push({ key: s.key, seen: r.seen, atUs: t, prevUs: Number.isFinite(prevT) ? prevT : t, value: x, score, baseline: robustSummary(r.recentV), traceIds, context });
        if (r.alarms.length > KEPT_ALARMS) r.alarms.shift();
      }
      const at = r.recentV.length < RECENT ? r.recentV.length : (r.seen - 1) % RECENT;
      r.recentT[at] = t;
      r.recentV[at] = x;
    }
    this.runs.set(s.key, r);
    while (this.runs.size > this.maxSeries) this.runs.delete(this.runs.keys().next().value!);
    return r.alarms.filter((a) => a.atUs >= fromUs && a.atUs < toUs);
  }
}

/** Ring indexes oldest first, for a ring of `len` slots after `written` writes. */
function ringOrder(len: number, written: number): number[] {
  if (len < RECENT) return Array.from({ length: len }, (_, k) => k);
  const start = written % RECENT;
  return Array.from({ length: len }, (_, k) => (start + k) % RECENT);
}

/** Runs a fresh detector over the whole series and returns its alarms at or after `fromUs`. */
export function detectMetricAnomalies(s: MetricSeries, fromUs: number, opts: DetectOptions = {}): MetricAnomaly[] {
  return new MetricDetectorCache(1).detect(s, -Infinity, fromUs, Infinity, opts);
}

/** Median and MAD-based spread (1.4826 · MAD), the baseline a person compares an alarm with. */
export function robustSummary(xs: readonly number[]): { median: number; scale: number; n: number } {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return { median: NaN, scale: NaN, n: 0 };
  const med = s[Math.floor(s.length / 2)]!;
  const mad = s.map((x) => Math.abs(x - med)).sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
  return { median: med, scale: 1.4826 * mad, n: s.length };
}
