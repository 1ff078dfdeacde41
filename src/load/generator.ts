/**
 * HTTP/1.1 load generation with honest latency. Open model (constant or ramping arrival rate, like k6's
 * `constant-arrival-rate` / `ramping-arrival-rate`): requests are due at their intended times whether or not
 * earlier ones answered, and latency is measured from the intended time (wrk2's correction for coordinated
 * omission). Closed model: virtual users that send, wait, think. Latencies go into HDR histograms
 * (hdr-histogram-js), overall and per endpoint. Bounded: a maximum duration and request count are always
 * enforced, targets must be on the allow-list, and an AbortSignal stops it gracefully with a summary.
 */
import { Pool } from 'undici';
import { RawPool, serializeRequest } from './raw-http.js';
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

/** What a scenario module's iteration receives: a small k6-like API (requests, checks, think time, per-VU data). */
export interface VuContext {
  /** 0-based virtual user (closed model) or arrival slot (open model). */
  id: number;
  /** Iterations this VU has started before this one. */
  iteration: number;
  /** `data[id % data.length]` when the scenario provides per-VU data. */
  data: unknown;
  http: {
    get(url: string, opts?: ScriptRequestOptions): Promise<ScriptResponse>;
    post(url: string, body?: unknown, opts?: ScriptRequestOptions): Promise<ScriptResponse>;
    request(method: string, url: string, body?: unknown, opts?: ScriptRequestOptions): Promise<ScriptResponse>;
  };
  /** k6's check(): each named predicate counts as a pass or a fail; true when all passed. */
  check<T>(value: T, checks: Record<string, (v: T) => boolean>): boolean;
  sleep(seconds: number): Promise<void>;
}

export interface ScriptRequestOptions {
  headers?: Record<string, string>;
  /** The endpoint name in the per-endpoint breakdown and thresholds (default: "METHOD /path"). */
  name?: string;
}

export interface ScriptResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
  /** ms from send to the end of the body. */
  timingMs: number;
  /** Set when the request failed before a response (connection refused, timeout ...). */
  error?: string;
}

export type ScenarioFn = (vu: VuContext) => Promise<void> | void;

export interface LoadOptions {
  /** Request sequence (round-robin), or … */
  requests?: RequestSpec[];
  /** … a scenario iteration (a module's default export), run per VU loop or per arrival. */
  script?: ScenarioFn;
  /** Per-VU data for scripts. */
  data?: unknown[];
  model: LoadModel;
  /** Seconds (ignored for staged models: the stages decide, but never more than maxDurationS). */
  duration?: number;
  maxDurationS?: number;
  maxRequests?: number;
  connections?: number;
  timeoutMs?: number;
  /** Phase boundaries in seconds from the start (e.g. fault on / off): the summary gets per-phase latency and errors. */
  phaseBoundsS?: number[];
  /** `raw` (default for plain-HTTP request lists): the pre-serialised fast path; `undici` for everything. */
  engine?: 'raw' | 'undici';
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

export interface PhaseStats {
  fromS: number;
  toS: number;
  requests: number;
  errors: number;
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface LoadSummary {
  model: LoadModel['type'];
  targetRate?: number;
  achievedRate: number;
  durationS: number;
  requests: number;
  /** Script iterations started (= requests without a script). */
  iterations: number;
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
  /** Per phase (see `phaseBoundsS`), by intended send time. */
  phases?: PhaseStats[];
  /** k6-style checks from scenario scripts: passes and fails per check name. */
  checks: Record<string, { passes: number; fails: number }>;
  thresholds: { expr: string; observed: number; passed: boolean }[];
  passed: boolean;
  aborted?: string;
}

export class LoadError extends Error {}
/** Thrown inside a script's request once the run is over, to end the iteration quietly. */
class LoadAborted extends Error {}

const newHist = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** Share of passing checks (all, or the one named in the threshold's tag); 1 when none ran. */
function checkRate(checks: Record<string, { passes: number; fails: number }>, tag?: string): number {
  const xs = tag ? [checks[tag] ?? { passes: 0, fails: 0 }] : Object.values(checks);
  const p = xs.reduce((a, c) => a + c.passes, 0);
  const n = p + xs.reduce((a, c) => a + c.fails, 0);
  return n ? p / n : 1;
}

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
  const specs = o.requests ?? [];
  if (!specs.length && !o.script) throw new LoadError('nothing to request: give requests or a scenario script');
  const allow = o.allow ?? ['loopback'];
  const origins = new Map<string, Pool>();
  const connections = o.connections ?? 64;
  /** The pool of an origin, after the allow-list check (scripts reach here with URLs only known at run time). */
  const poolFor = (raw: string): { pool: Pool; url: URL } => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new LoadError(`"${raw}" is not a URL`);
    }
    if (!hostAllowed(u.hostname.replace(/^\[|\]$/g, ''), allow)) throw new LoadError(`${u.host} is not on the allow-list (${allow.join(', ')}); load only targets allowed hosts`);
    let pool = origins.get(u.origin);
    if (!pool) origins.set(u.origin, (pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 10_000 })));
    return { pool, url: u };
  };
  for (const r of specs) poolFor(r.url);
  const useRaw = !o.script && o.engine !== 'undici' && specs.every((r) => r.url.startsWith('http:'));
  const rawPools = new Map<string, RawPool>();
  const rawPoolFor = (u: URL): RawPool => {
    let p = rawPools.get(u.origin);
    if (!p) rawPools.set(u.origin, (p = new RawPool(u.hostname.replace(/^\[|\]$/g, ''), Number(u.port || 80), connections, timeoutMs)));
    return p;
  };
  const maxDurationS = Math.min(o.maxDurationS ?? 600, 3600);
  const stages = o.model.stages;
  const durationS = Math.min(maxDurationS, stages?.length ? stagesDuration(stages) : (o.duration ?? 10));
  const maxRequests = o.maxRequests ?? 10_000_000;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const thresholds: Threshold[] = (o.thresholds ?? []).map(parseThreshold);

  const all = newHist();
  const service = newHist();
  type Endpoint = { h: hdr.Histogram; requests: number; errors: number };
  const per = new Map<string, Endpoint>();
  const endpoint = (name: string): Endpoint => {
    let ep = per.get(name);
    if (!ep) per.set(name, (ep = { h: newHist(), requests: 0, errors: 0 }));
    return ep;
  };
  const bounds = [...(o.phaseBoundsS ?? [])].sort((a, b) => a - b);
  const phases = bounds.length ? Array.from({ length: bounds.length + 1 }, () => ({ h: newHist(), requests: 0, errors: 0 })) : [];
  const errorsByKind: Record<string, number> = {};
  const checks: Record<string, { passes: number; fails: number }> = {};
  const timeline = new Map<number, { requests: number; errors: number; h: hdr.Histogram }>();
  let sent = 0;
  let done = 0;
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  let inFlightArea = 0;
  let lastFlightT = performance.now();
  let fatal: Error | undefined;
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

  interface Prepared {
    pool: Pool;
    path: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
    ep: Endpoint;
    expectStatus?: number[];
    raw?: { pool: RawPool; bytes: Buffer; isHead: boolean };
  }
  const prepare = (spec: RequestSpec): Prepared => {
    const { pool, url } = poolFor(spec.url);
    return {
      pool,
      path: url.pathname + url.search,
      method: spec.method ?? 'GET',
      headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(spec.headers ?? {}) },
      ...(spec.body !== undefined ? { body: typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body) } : {}),
      ep: endpoint(spec.name ?? `${spec.method ?? 'GET'} ${url.pathname}`),
      ...(spec.expectStatus ? { expectStatus: spec.expectStatus } : {}),
    };
  };
  const prepareRaw = (spec: RequestSpec): Prepared => {
    const pr = prepare(spec);
    const url = new URL(spec.url);
    return { ...pr, raw: { pool: rawPoolFor(url), bytes: serializeRequest(pr.method, url, pr.headers, pr.body), isHead: pr.method === 'HEAD' } };
  };
  // Everything per request that does not change is prepared once: the hot loop only sends and records.
  const prepared = specs.map(useRaw ? prepareRaw : prepare);

  const record = (pr: Prepared, intended: number, sentAt: number, kind: string | undefined): void => {
    const end = performance.now();
    flight(-1);
    done++;
    // Latency from the intended send time (never later than the actual send: the scheduler may fire ≤1 ms early).
    const latUs = Math.max(1, Math.round((end - Math.min(intended, sentAt)) * 1000));
    all.recordValue(latUs);
    service.recordValue(Math.max(1, Math.round((end - sentAt) * 1000)));
    pr.ep.h.recordValue(latUs);
    pr.ep.requests++;
    const sec = Math.floor((intended - t0) / 1000);
    let tl = timeline.get(sec);
    if (!tl) timeline.set(sec, (tl = { requests: 0, errors: 0, h: newHist() }));
    tl.requests++;
    tl.h.recordValue(latUs);
    let ph: (typeof phases)[number] | undefined;
    if (phases.length) {
      const at = (intended - t0) / 1000;
      let i = 0;
      while (i < bounds.length && at >= bounds[i]!) i++;
      ph = phases[i]!;
      ph.requests++;
      ph.h.recordValue(latUs);
    }
    if (kind) {
      if (ph) ph.errors++;
      errors++;
      pr.ep.errors++;
      tl.errors++;
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
    }
  };

  /**
   * One request through undici's dispatch API: a handler object instead of request()'s promise + body stream, so
   * the per-request cost stays close to the socket's (this is the generator's hot path). The body is kept only
   * when a script wants to read it.
   */
  const send = (pr: Prepared, intended: number, keepBody: boolean): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body?: Buffer; kind?: string }> => {
    sent++;
    flight(1);
    const sentAt = performance.now();
    const raw = keepBody ? undefined : pr.raw;
    if (raw) return new Promise((resolve) => sendRaw(pr, raw, intended, sentAt, resolve));
    return new Promise((resolve) => {
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (kind: string | undefined): void => {
        if (settled) return;
        settled = true;
        record(pr, intended, sentAt, kind);
        resolve({ status, headers, ...(keepBody ? { body: Buffer.concat(chunks) } : {}), ...(kind ? { kind } : {}) });
      };
      pr.pool.dispatch(
        { path: pr.path, method: pr.method as 'GET', headers: pr.headers, ...(pr.body !== undefined ? { body: pr.body } : {}), headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
        {
          onRequestStart() {},
          onResponseStart(_c, statusCode, h) {
            status = statusCode;
            headers = h;
          },
          onResponseData(_c, chunk) {
            if (keepBody) chunks.push(chunk);
          },
          onResponseEnd() {
            const ok = pr.expectStatus ? pr.expectStatus.includes(status) : status < 400;
            finish(ok ? undefined : `status ${status}`);
          },
          onResponseError(_c, e) {
            finish((e as { code?: string }).code ?? e.name);
          },
        },
      );
    });
  };

  /** The raw path without a promise: the open model fires these by the ten thousand per second. */
  const sendRaw = (pr: Prepared, raw: NonNullable<Prepared['raw']>, intended: number, sentAt: number, cb?: (r: { status: number; headers: Record<string, string | string[] | undefined>; kind?: string }) => void): void => {
    raw.pool.request(raw.bytes, raw.isHead, (r) => {
      const kind = r.error ?? ((pr.expectStatus ? pr.expectStatus.includes(r.status) : r.status < 400) ? undefined : `status ${r.status}`);
      record(pr, intended, sentAt, kind);
      cb?.({ status: r.status, headers: {}, ...(kind ? { kind } : {}) });
    });
  };
  const fireRaw = (pr: Prepared, intended: number): void => {
    sent++;
    flight(1);
    sendRaw(pr, pr.raw!, intended, performance.now());
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

  // Script iterations: the first request of an iteration is timed from the iteration's intended start (so the
  // coordinated-omission correction still holds in the open model); later ones from their own send.
  const iterations = new Map<number, number>();
  const scriptPrepared = new Map<string, Prepared>();
  const runScript = async (script: ScenarioFn, id: number, intended: number): Promise<void> => {
    const iteration = iterations.get(id) ?? 0;
    iterations.set(id, iteration + 1);
    let first = true;
    const request = async (method: string, url: string, body?: unknown, ro: ScriptRequestOptions = {}): Promise<ScriptResponse> => {
      if (ac.signal.aborted || sent >= maxRequests) throw new LoadAborted();
      const key = `${method} ${url} ${ro.name ?? ''} ${JSON.stringify(ro.headers ?? {})} ${body === undefined ? '' : 'b'}`;
      let base = scriptPrepared.get(key);
      if (!base) {
        try {
          base = prepare({ method, url, ...(ro.name ? { name: ro.name } : {}), ...(ro.headers ? { headers: ro.headers } : {}) });
        } catch (e) {
          fatal = e as Error;
          ac.abort();
          throw e;
        }
        scriptPrepared.set(key, base);
      }
      const pr: Prepared = body === undefined ? base : { ...base, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...base.headers } };
      const at = first ? intended : performance.now();
      first = false;
      const t = performance.now();
      const r = await send(pr, at, true);
      const text = r.body?.toString('utf8') ?? '';
      return {
        status: r.status,
        headers: r.headers,
        body: text,
        json: () => JSON.parse(text) as unknown,
        timingMs: performance.now() - t,
        ...(r.kind && r.status === 0 ? { error: r.kind } : {}),
      };
    };
    const vu: VuContext = {
      id,
      iteration,
      data: o.data?.length ? o.data[id % o.data.length] : undefined,
      http: {
        get: (url, ro) => request('GET', url, undefined, ro),
        post: (url, body, ro) => request('POST', url, body, ro),
        request: (method, url, body, ro) => request(method.toUpperCase(), url, body, ro),
      },
      check: (value, cs) => {
        let okAll = true;
        for (const [name, f] of Object.entries(cs)) {
          let ok = false;
          try {
            ok = Boolean(f(value));
          } catch {
            ok = false;
          }
          const c = (checks[name] ??= { passes: 0, fails: 0 });
          if (ok) c.passes++;
          else c.fails++;
          okAll &&= ok;
        }
        return okAll;
      },
      sleep: (seconds) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(seconds * 1000, (durationS + 1) * 1000)))),
    };
    try {
      await script(vu);
    } catch (e) {
      if (e instanceof LoadAborted || fatal) return;
      // An exception in the scenario is an iteration error, counted like k6 does, not a crash of the run.
      const kind = `script: ${(e as Error).message ?? String(e)}`.slice(0, 120);
      errors++;
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
    }
  };
  let rr = 0;
  let arrivals = 0;
  const iterate = (id: number, intended: number): Promise<unknown> => (o.script ? runScript(o.script, id, intended) : send(prepared[rr++ % prepared.length]!, intended, false));
  const budgetLeft = (): boolean => sent < maxRequests;

  if (o.model.type === 'open') {
    const m = o.model;
    const maxInFlight = m.maxInFlight ?? 20_000;
    const rateAt = (t: number): number => (m.stages?.length ? stagedValue(m.stages, t) : (m.rate ?? 100));
    // Intended send times from the integral of the rate: the i-th request is due when ∫rate = i.
    let due = 0;
    let cum = 0;
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
      }
    };
    const it = intendedTimes();
    let nextT = it.next();
    while (!nextT.done && !ac.signal.aborted && budgetLeft()) {
      const now = performance.now() - t0;
      if (nextT.value > now + 1) {
        await new Promise((r) => setTimeout(r, Math.min(nextT.value - now, 20)));
        continue;
      }
      while (!nextT.done && nextT.value <= performance.now() - t0 + 1 && budgetLeft()) {
        if (inFlight >= maxInFlight) dropped++;
        else if (useRaw) {
          arrivals++;
          fireRaw(prepared[rr++ % prepared.length]!, t0 + nextT.value);
        } else track(iterate(arrivals++, t0 + nextT.value).then(() => undefined));
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
        if (ac.signal.aborted || el >= durationS || !budgetLeft()) return;
        if (id >= vusAt(el)) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        await iterate(id, performance.now());
        if (m.thinkMs) await new Promise((r) => setTimeout(r, m.thinkMs));
      }
    };
    await Promise.all(Array.from({ length: maxVus }, (_, i) => vu(i)));
  }
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...pending]), new Promise((r) => (drainTimer = setTimeout(r, timeoutMs + 1000)))]);
  clearTimeout(drainTimer);
  // Requests fired without a promise (the raw open model) drain here; the pool's own timeout bounds the wait.
  for (const until = performance.now() + timeoutMs + 1000; inFlight > 0 && performance.now() < until; ) await new Promise((r) => setTimeout(r, 5));
  clearInterval(progressTimer);
  clearTimeout(hardStop);
  o.signal?.removeEventListener('abort', onAbort);
  flight(0);
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all([...origins.values()].map((p) => p.close().catch(() => undefined)));
  for (const p of rawPools.values()) p.close();
  if (fatal) throw fatal instanceof LoadError ? fatal : new LoadError(fatal.message);
  const ms = (h: hdr.Histogram, q: number): number => (h.totalCount ? h.getValueAtPercentile(q) / 1000 : 0);
  const activeS = o.model.type === 'open' ? Math.min(elapsed, durationS) : elapsed;
  const summary: LoadSummary = {
    model: o.model.type,
    ...(o.model.type === 'open' ? { targetRate: o.model.stages?.length ? undefined : (o.model.rate ?? 100) } : {}),
    // Open model: arrivals (requests, or iterations of a script) per second — what was asked for.
    achievedRate: (o.model.type === 'open' ? arrivals : sent) / Math.max(1e-9, activeS),
    iterations: o.script ? [...iterations.values()].reduce((a, b) => a + b, 0) : sent,
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
    ...(phases.length ? { phases: phases.map((p, i) => ({ fromS: i ? bounds[i - 1]! : 0, toS: i < bounds.length ? bounds[i]! : durationS, requests: p.requests, errors: p.errors, errorRate: p.requests ? p.errors / p.requests : 0, p50: ms(p.h, 50), p95: ms(p.h, 95), p99: ms(p.h, 99) })) } : {}),
    checks,
    thresholds: [],
    passed: true,
    ...(ac.signal.aborted ? { aborted: o.signal?.aborted ? 'interrupted' : 'maximum duration reached' } : {}),
  };
  for (const t of thresholds) {
    const src = t.tag ? summary.endpoints.find((e) => e.name === t.tag) : undefined;
    if (t.tag && !src && t.metric !== 'checks') {
      summary.thresholds.push({ expr: t.expr, observed: NaN, passed: false });
      continue;
    }
    const lat = (q: number): number => (src ? ms(per.get(t.tag!)!.h, q) : ms(all, q));
    const observed =
      t.metric === 'p' ? lat(t.percentile!) : t.metric === 'avg' ? (src ? src.mean : summary.latency.mean) : t.metric === 'min' ? summary.latency.min : t.metric === 'max' ? (src ? src.max : summary.latency.max) : t.metric === 'med' ? lat(50) : t.metric === 'error_rate' ? (src ? src.errors / Math.max(1, src.requests) : summary.errorRate) : t.metric === 'checks' ? checkRate(checks, t.tag) : summary.achievedRate;
    summary.thresholds.push({ expr: t.expr, observed, passed: thresholdPasses(t, observed) });
  }
  summary.passed = summary.thresholds.every((t) => t.passed);
  return summary;
}
