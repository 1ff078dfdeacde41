/**
 * HTTP/1.1 load generation with honest latency. Open model (constant or ramping arrival rate, like k6's
 * `constant-arrival-rate` / `ramping-arrival-rate`): requests are due at their intended times whether or not
 * earlier ones answered, and latency is measured from the intended time (wrk2's correction for coordinated
 * omission). Closed model: virtual users that send, wait, think. Latencies go into HDR histograms
 * (hdr-histogram-js), overall and per endpoint. Bounded: a maximum duration and request count are always
 * enforced, targets must be on the allow-list, and an AbortSignal stops it gracefully with a summary.
 */
import { Pool } from 'undici';
import hdr from 'hdr-histogram-js';
import { hostAllowed } from '../chaos/proxy.js';
import { parseThreshold, thresholdPasses, type Threshold } from '../algorithms/load/analysis.js';

export interface RequestSpec {
  name?: string;
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** A check on the response (k6-like): expected status codes (default: < 400). */
  expectStatus?: number[];
}

export interface Stage {
  /** Seconds. */
  duration: number;
  /** Arrival rate at the end of the stage (open) or VUs (closed). */
  target: number;
}

export type LoadModel = { type: 'open'; rate?: number; stages?: Stage[]; maxInFlight?: number } | { type: 'closed'; vus?: number; stages?: Stage[]; thinkMs?: number };

export interface LoadOptions {
  requests: RequestSpec[];
  model: LoadModel;
  /** Seconds (ignored for staged models: the stages decide, but never more than maxDurationS). */
  duration?: number;
  maxDurationS?: number;
  maxRequests?: number;
  connections?: number;
  timeoutMs?: number;
  thresholds?: string[];
  allow?: string[];
  signal?: AbortSignal;
  onProgress?: (p: { elapsedS: number; sent: number; done: number; errors: number; ratePerS: number; p95Ms: number }) => void;
}

export interface EndpointStats {
  name: string;
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadSummary {
  model: LoadModel['type'];
  targetRate?: number;
  achievedRate: number;
  durationS: number;
  requests: number;
  dropped: number;
  errors: number;
  errorRate: number;
  errorsByKind: Record<string, number>;
  /** ms, corrected for coordinated omission in the open model. */
  latency: { p50: number; p90: number; p95: number; p99: number; p999: number; max: number; mean: number; min: number };
  /** ms from the actual send (service time), for comparison. */
  serviceTime: { p50: number; p99: number };
  endpoints: EndpointStats[];
  timeline: { t: number; requests: number; errors: number; p95: number }[];
  meanInFlight: number;
  thresholds: { expr: string; observed: number; passed: boolean }[];
  passed: boolean;
  aborted?: string;
}

export class LoadError extends Error {}

const newHist = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** Rate (or VUs) at time t of a staged profile, ramping linearly inside each stage from the previous target. */
export function stagedValue(stages: readonly Stage[], t: number, start = 0): number {
  let from = start;
  let t0 = 0;
  for (const s of stages) {
    if (t <= t0 + s.duration) return from + ((s.target - from) * (t - t0)) / Math.max(1e-9, s.duration);
    from = s.target;
    t0 += s.duration;
  }
  return from;
}

export function stagesDuration(stages: readonly Stage[]): number {
  return stages.reduce((a, s) => a + s.duration, 0);
}

export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  if (!o.requests.length) throw new LoadError('nothing to request');
  const allow = o.allow ?? ['loopback'];
  const origins = new Map<string, Pool>();
  for (const r of o.requests) {
    let u: URL;
    try {
      u = new URL(r.url);
    } catch {
      throw new LoadError(`"${r.url}" is not a URL`);
    }
    if (!hostAllowed(u.hostname.replace(/^\[|\]$/g, ''), allow)) throw new LoadError(`${u.host} is not on the allow-list (${allow.join(', ')}); load only targets allowed hosts`);
    if (!origins.has(u.origin)) origins.set(u.origin, new Pool(u.origin, { connections: o.connections ?? 64, pipelining: 1, keepAliveTimeout: 10_000 }));
  }
  const maxDurationS = Math.min(o.maxDurationS ?? 600, 3600);
  const stages = o.model.stages;
  const durationS = Math.min(maxDurationS, stages?.length ? stagesDuration(stages) : (o.duration ?? 10));
  const maxRequests = o.maxRequests ?? 10_000_000;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const thresholds: Threshold[] = (o.thresholds ?? []).map(parseThreshold);

  const all = newHist();
  const service = newHist();
  const per = new Map<string, { h: hdr.Histogram; requests: number; errors: number }>();
  const errorsByKind: Record<string, number> = {};
  const timeline = new Map<number, { requests: number; errors: number; h: hdr.Histogram }>();
  let sent = 0;
  let done = 0;
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  let inFlightArea = 0;
  let lastFlightT = performance.now();
  const flight = (d: number): void => {
    const now = performance.now();
    inFlightArea += inFlight * (now - lastFlightT);
    lastFlightT = now;
    inFlight += d;
  };
  const t0 = performance.now();
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const hardStop = setTimeout(() => ac.abort(), (maxDurationS + 30) * 1000);
  hardStop.unref();

  // Everything per request that does not change is prepared once: the hot loop only sends and records.
  const prepared = new Map<RequestSpec, { pool: Pool; path: string; method: string; headers: Record<string, string>; body?: string; ep: { h: hdr.Histogram; requests: number; errors: number } }>();
  for (const spec of o.requests) {
    const u = new URL(spec.url);
    const name = spec.name ?? `${spec.method ?? 'GET'} ${u.pathname}`;
    let ep = per.get(name);
    if (!ep) per.set(name, (ep = { h: newHist(), requests: 0, errors: 0 }));
    prepared.set(spec, {
      pool: origins.get(u.origin)!,
      path: u.pathname + u.search,
      method: spec.method ?? 'GET',
      headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(spec.headers ?? {}) },
      ...(spec.body !== undefined ? { body: typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body) } : {}),
      ep,
    });
  }
  const fire = async (spec: RequestSpec, intended: number): Promise<void> => {
    const pr = prepared.get(spec)!;
    const pool = pr.pool;
    const ep = pr.ep;
    sent++;
    flight(1);
    const sentAt = performance.now();
    let kind: string | undefined;
    try {
      const res = await pool.request({ path: pr.path, method: pr.method as 'GET', headers: pr.headers, ...(pr.body !== undefined ? { body: pr.body } : {}), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      await res.body.dump();
      const ok = spec.expectStatus ? spec.expectStatus.includes(res.statusCode) : res.statusCode < 400;
      if (!ok) kind = `status ${res.statusCode}`;
    } catch (e) {
      kind = (e as { code?: string }).code ?? (e as Error).name;
    }
    const end = performance.now();
    flight(-1);
    done++;
    // Latency from the intended send time (never later than the actual send: the scheduler may fire ≤1 ms early).
    const latUs = Math.max(1, Math.round((end - Math.min(intended, sentAt)) * 1000));
    all.recordValue(latUs);
    service.recordValue(Math.max(1, Math.round((end - sentAt) * 1000)));
    ep.h.recordValue(latUs);
    ep.requests++;
    const sec = Math.floor((intended - t0) / 1000);
    let tl = timeline.get(sec);
    if (!tl) timeline.set(sec, (tl = { requests: 0, errors: 0, h: newHist() }));
    tl.requests++;
    tl.h.recordValue(latUs);
    if (kind) {
      errors++;
      ep.errors++;
      tl.errors++;
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
    }
  };

  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const progressTimer = setInterval(() => {
    const el = (performance.now() - t0) / 1000;
    o.onProgress?.({ elapsedS: el, sent, done, errors, ratePerS: done / Math.max(el, 1e-9), p95Ms: all.totalCount ? all.getValueAtPercentile(95) / 1000 : 0 });
  }, 1000);
  progressTimer.unref();
  let rr = 0;
  const next = (): RequestSpec => o.requests[rr++ % o.requests.length]!;

  if (o.model.type === 'open') {
    const m = o.model;
    const maxInFlight = m.maxInFlight ?? 20_000;
    const rateAt = (t: number): number => (m.stages?.length ? stagedValue(m.stages, t) : (m.rate ?? 100));
    // Intended send times from the integral of the rate: the i-th request is due when ∫rate = i.
    let due = 0;
    let cum = 0;
    let tPrev = 0;
    const step = 0.001;
    const intendedTimes = function* (): Generator<number> {
      for (let t = 0; t < durationS; t += step) {
        cum += rateAt(t + step / 2) * step;
        while (cum >= due + 1 - 1e-9) {
          due++;
          // Place the request linearly inside the step.
          const frac = 1 - (cum - due) / Math.max(1e-12, rateAt(t + step / 2) * step);
          yield (t + frac * step) * 1000;
        }
        tPrev = t;
      }
    };
    void tPrev;
    const it = intendedTimes();
    let nextT = it.next();
    while (!nextT.done && !ac.signal.aborted && sent + dropped < maxRequests) {
      const now = performance.now() - t0;
      if (nextT.value > now + 1) {
        await new Promise((r) => setTimeout(r, Math.min(nextT.value - now, 20)));
        continue;
      }
      while (!nextT.done && nextT.value <= performance.now() - t0 + 1 && sent + dropped < maxRequests) {
        if (inFlight >= maxInFlight) dropped++;
        else track(fire(next(), t0 + nextT.value));
        nextT = it.next();
      }
      // Yield to the event loop so responses are processed while we keep the schedule.
      await new Promise((r) => setImmediate(r));
    }
  } else {
    const m = o.model;
    const vusAt = (t: number): number => Math.round(m.stages?.length ? stagedValue(m.stages, t) : (m.vus ?? 10));
    const maxVus = m.stages?.length ? Math.max(...m.stages.map((s) => s.target), 1) : (m.vus ?? 10);
    const vu = async (id: number): Promise<void> => {
      for (;;) {
        const el = (performance.now() - t0) / 1000;
        if (ac.signal.aborted || el >= durationS || sent >= maxRequests) return;
        if (id >= vusAt(el)) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        await fire(next(), performance.now());
        if (m.thinkMs) await new Promise((r) => setTimeout(r, m.thinkMs));
      }
    };
    await Promise.all(Array.from({ length: maxVus }, (_, i) => vu(i)));
  }
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...pending]), new Promise((r) => (drainTimer = setTimeout(r, timeoutMs + 1000)))]);
  clearTimeout(drainTimer);
  clearInterval(progressTimer);
  clearTimeout(hardStop);
  o.signal?.removeEventListener('abort', onAbort);
  flight(0);
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all([...origins.values()].map((p) => p.close().catch(() => undefined)));
  const ms = (h: hdr.Histogram, q: number): number => (h.totalCount ? h.getValueAtPercentile(q) / 1000 : 0);
  const activeS = o.model.type === 'open' ? Math.min(elapsed, durationS) : elapsed;
  const summary: LoadSummary = {
    model: o.model.type,
    ...(o.model.type === 'open' ? { targetRate: o.model.stages?.length ? undefined : (o.model.rate ?? 100) } : {}),
    achievedRate: sent / Math.max(1e-9, activeS),
    durationS: elapsed,
    requests: done,
    dropped,
    errors,
    errorRate: done ? errors / done : 0,
    errorsByKind,
    latency: { p50: ms(all, 50), p90: ms(all, 90), p95: ms(all, 95), p99: ms(all, 99), p999: ms(all, 99.9), max: all.maxValue / 1000, mean: all.mean / 1000, min: all.totalCount ? all.minNonZeroValue / 1000 : 0 },
    serviceTime: { p50: ms(service, 50), p99: ms(service, 99) },
    endpoints: [...per.entries()].map(([name, e]) => ({ name, requests: e.requests, errors: e.errors, p50: ms(e.h, 50), p90: ms(e.h, 90), p95: ms(e.h, 95), p99: ms(e.h, 99), max: e.h.maxValue / 1000, mean: e.h.mean / 1000 })),
    timeline: [...timeline.entries()].sort((a, b) => a[0] - b[0]).map(([t, x]) => ({ t, requests: x.requests, errors: x.errors, p95: ms(x.h, 95) })),
    meanInFlight: inFlightArea / Math.max(1, (performance.now() - t0)),
    thresholds: [],
    passed: true,
    ...(ac.signal.aborted ? { aborted: o.signal?.aborted ? 'interrupted' : 'maximum duration reached' } : {}),
  };
  for (const t of thresholds) {
    const src = t.tag ? summary.endpoints.find((e) => e.name === t.tag) : undefined;
    if (t.tag && !src) {
      summary.thresholds.push({ expr: t.expr, observed: NaN, passed: false });
      continue;
    }
    const lat = (q: number): number => (src ? ms(per.get(t.tag!)!.h, q) : ms(all, q));
    const observed =
      t.metric === 'p' ? lat(t.percentile!) : t.metric === 'avg' ? (src ? src.mean : summary.latency.mean) : t.metric === 'min' ? summary.latency.min : t.metric === 'max' ? (src ? src.max : summary.latency.max) : t.metric === 'med' ? lat(50) : t.metric === 'error_rate' ? (src ? src.errors / Math.max(1, src.requests) : summary.errorRate) : summary.achievedRate;
    summary.thresholds.push({ expr: t.expr, observed, passed: thresholdPasses(t, observed) });
  }
  summary.passed = summary.thresholds.every((t) => t.passed);
  return summary;
}
