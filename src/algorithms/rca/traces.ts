/**
 * Trace and log evidence for RCA, turned into per-service indicator series so one robust scorer judges them all:
 *  - `exclusive-latency`: mean time a service's spans spend in their own code (duration minus the time covered by
 *    their children). A slow callee inflates its callers' durations but not their exclusive time — this is
 *    what tells the culprit from its victims;
 *  - `error-origin`: share of a service's spans that fail while none of their children failed (the error started
 *    here), plus client spans that failed without reaching any callee, charged to the callee they were calling
 *    (connection resets, refused connections, outages);
 *  - `response-time-p90` (p90 of server spans, an external symptom) and `error-logs` / `new-errors` from logs.
 * Deploys (a new service.version appearing after the onset) are reported separately.
 */
import type { ErrorEvent, LogRecord, Span } from '../../signals/model.js';
import { appendPoint as put, type ServiceSeries } from './metrics.js';

/** Errors a consumer raises when data it received has the wrong shape. */
const CONSUMER_ERROR = /^(TypeError|ReferenceError|KeyError|AttributeError|NullPointerException|ClassCastException|SyntaxError|ValidationError)$/;

export interface TraceEvidence {
  series: ServiceSeries;
  /** Caller → callee service edges seen in the spans. */
  edges: { source: string; target: string }[];
  /** Example error-origin spans per service (for the evidence chain). */
  originSpans: Map<string, { traceId: string; spanId: string; name: string; message?: string }[]>;
  /** Consumer-error spans → the callee that gave the answer, its share of the blame (0.5 or 1), the caller. */
  blame: Map<string, { service: string; share: number; caller: string }>;
}

/**
 * `bucketUs` sets the series resolution; times in the series are bucket starts in seconds.
 * Spans are assumed to hold both the baseline and the incident windows.
 */
export function traceIndicators(spans: readonly Span[], bucketUs: number): TraceEvidence {
  const byId = new Map<string, Span>();
  const children = new Map<string, Span[]>();
  for (const s of spans) byId.set(s.spanId, s);
  for (const s of spans) {
    if (!s.parentSpanId) continue;
    const l = children.get(s.parentSpanId);
    if (l) l.push(s);
    else children.set(s.parentSpanId, [s]);
  }
  // Which service a client span usually reaches (learned from the spans whose call went through), keyed by the
  // peer it names (host:port) when it names one — HTTP client spans are often just "POST".
  const peer = (s: Span): string => `${String(s.attributes['server.address'] ?? s.attributes['net.peer.name'] ?? '')}:${String(s.attributes['server.port'] ?? s.attributes['net.peer.port'] ?? '')}`;
  const clientKey = (s: Span): string => `${s.service}\u0000${s.name}\u0000${peer(s)}`;
  const calleeOf = new Map<string, Map<string, number>>();
  const edgeSet = new Set<string>();
  for (const s of spans) {
    const p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (!p || p.service === s.service) continue;
    edgeSet.add(`${p.service}\u0000${s.service}`);
    const k = clientKey(p);
    let m = calleeOf.get(k);
    if (!m) calleeOf.set(k, (m = new Map()));
    m.set(s.service, (m.get(s.service) ?? 0) + 1);
  }
  const acc = new Map<string, { n: number; excl: number; origin: number; server: number[] }>();
  const bucket = (svc: string, t: number): { n: number; excl: number; origin: number; server: number[] } => {
    const k = `${svc}\u0000${t}`;
    let a = acc.get(k);
    if (!a) acc.set(k, (a = { n: 0, excl: 0, origin: 0, server: [] }));
    return a;
  };
  const originSpans = new Map<string, { traceId: string; spanId: string; name: string; message?: string }[]>();
  const pending: { s: Span; t: number; callee: string }[] = [];
  const noteOrigin = (svc: string, s: Span): void => {
    const l = originSpans.get(svc) ?? [];
    if (l.length < 5) l.push({ traceId: s.traceId, spanId: s.spanId, name: s.name, ...(s.status.message ? { message: s.status.message } : {}) });
    originSpans.set(svc, l);
  };
  for (const s of spans) {
    const t = Math.floor(s.startUs / bucketUs) * bucketUs;
    const dur = Math.max(0, s.endUs - s.startUs);
    const kids = children.get(s.spanId) ?? [];
    let covered = 0;
    // Union of child intervals, clipped to the span: concurrent children count once.
    if (kids.length) {
      const iv = kids.map((k) => [Math.max(k.startUs, s.startUs), Math.min(k.endUs, s.endUs)] as [number, number]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
      let curA = -1;
      let curB = -1;
      for (const [a, b] of iv) {
        if (a > curB) {
          if (curB > curA) covered += curB - curA;
          curA = a;
          curB = b;
        } else curB = Math.max(curB, b);
      }
      if (curB > curA) covered += curB - curA;
    }
    const excl = Math.max(0, dur - covered);
    // Client spans measure the callee's time from outside: only server/internal/consumer spans count as own work.
    if (s.kind !== 3 && s.kind !== 4) {
      const a = bucket(s.service, t);
      a.n++;
      a.excl += excl;
      if (s.kind === 2) a.server.push(dur);
    }
    const failed = s.status.code === 2 || Number(s.attributes['http.response.status_code'] ?? 0) >= 500;
    if (!failed) continue;
    const childFailed = kids.some((k) => k.status.code === 2 || Number(k.attributes['http.response.status_code'] ?? 0) >= 500);
    if (childFailed) continue;
    if (s.kind === 3 || s.kind === 4) {
      // A client call failed while the callee reported no failure of its own (connection reset, refused, dropped
      // response, or never reached): charge the callee it reached, or the one it usually reaches.
      const m = calleeOf.get(clientKey(s));
      const callee = kids.find((k) => k.service !== s.service)?.service ?? (m ? [...m.entries()].sort((a, b) => b[1] - a[1])[0]![0] : undefined);
      // A 4xx answer is the callee working as designed, not a fault of either side.
      const code = Number(s.attributes['http.response.status_code'] ?? 0);
      if (code >= 400 && code < 500) continue;
      if (callee) {
        bucket(callee, t).origin++;
        noteOrigin(callee, s);
        continue;
      }
    }
    // A consumer error (TypeError and kin) right after a successful call is often the callee's wrong answer
    // (HTTP 200 with a bad shape): share the blame with the callee that answered last before the exception.
    const ex = s.events.find((e) => e.name === 'exception');
    const exType = String(ex?.attributes['exception.type'] ?? '');
    const exAt = ex?.timeUs ?? s.endUs;
    const answered = kids.filter((k) => k.service !== s.service && k.endUs <= exAt).sort((a, b) => b.endUs - a.endUs)[0]
      ?? (() => {
        // The callee's server span hangs under our client span: find the newest grandchild in another service,
        // among the calls that had answered when the exception was thrown (a concurrent call still in flight
        // cannot have handed over the bad data).
        const clients = kids.filter((k) => k.kind === 3 && k.endUs <= exAt).sort((a, b) => b.endUs - a.endUs);
        for (const c of clients) {
          const g = (children.get(c.spanId) ?? []).find((x) => x.service !== s.service);
          if (g) return g;
        }
        return undefined;
      })();
    if (ex && CONSUMER_ERROR.test(exType) && answered) {
      pending.push({ s, t, callee: answered.service });
      continue;
    }
    bucket(s.service, t).origin++;
    noteOrigin(s.service, s);
  }
  // Who is to blame for a consumer error: the caller that could not handle the answer, or the callee that gave a
  // wrong one? Contrast across callers: a bad answer breaks every caller that reads it, a caller's own bug
  // breaks only that caller while the callee's other callers go on fine. For each callee, the consumer failures
  // of each of its callers (spans that got its answer and then failed); when at least two callers (with ≥ 5
  // calls each in the incident) all fail that way, the callee takes the whole error, otherwise it is shared half
  // and half (with a single caller there is nothing to contrast).
  const blame = new Map<string, { service: string; share: number; caller: string }>();
  if (pending.length) {
    // Rates over the incident only: from the first consumer error on (before it every caller did fine).
    const from = Math.min(...pending.map((f) => f.s.startUs));
    const calls = new Map<string, number>();
    for (const p of spans) {
      if (p.kind === 3 || p.kind === 4 || p.startUs < from) continue;
      const got = new Set<string>();
      for (const k of children.get(p.spanId) ?? []) {
        if (k.service !== p.service) got.add(k.service);
        else if (k.kind === 3) for (const g of children.get(k.spanId) ?? []) if (g.service !== p.service) got.add(g.service);
      }
      for (const x of got) calls.set(`${x}\u0000${p.service}`, (calls.get(`${x}\u0000${p.service}`) ?? 0) + 1);
    }
    const fails = new Map<string, number>();
    for (const f of pending) fails.set(`${f.callee}\u0000${f.s.service}`, (fails.get(`${f.callee}\u0000${f.s.service}`) ?? 0) + 1);
    const consistent = new Map<string, boolean>();
    const failsPerCaller = new Map<string, number[]>();
    for (const [k, n] of calls) {
      if (n < 5) continue;
      const callee = k.split('\u0000')[0]!;
      failsPerCaller.set(callee, [...(failsPerCaller.get(callee) ?? []), fails.get(k) ?? 0]);
    }
    // Every caller must fail more than once (one failure can be chance); rates may differ, since callers read
    // different parts of an answer in different operations.
    for (const [callee, f] of failsPerCaller) consistent.set(callee, f.length >= 2 && Math.min(...f) >= 2);
    for (const f of pending) {
      const share = consistent.get(f.callee) ? 1 : 0.5;
      if (share < 1) bucket(f.s.service, f.t).origin += 1 - share;
      bucket(f.callee, f.t).origin += share;
      noteOrigin(f.callee, f.s);
      blame.set(f.s.spanId, { service: f.callee, share, caller: f.s.service });
    }
  }
  const series: ServiceSeries = new Map();
  const keys = [...acc.keys()].sort();
  for (const k of keys) {
    const [svc, tStr] = k.split('\u0000') as [string, string];
    const a = acc.get(k)!;
    const tS = Number(tStr) / 1e6;
    if (a.n) put(series, svc, 'exclusive-latency', tS, a.excl / a.n / 1000);
    put(series, svc, 'error-origin', tS, a.n ? a.origin / a.n : a.origin);
    if (a.server.length) {
      const sorted = a.server.sort((x, y) => x - y);
      put(series, svc, 'response-time-p90', tS, sorted[Math.floor(0.9 * (sorted.length - 1))]! / 1000);
    }
  }
  const edges = [...edgeSet].map((e) => {
    const [source, target] = e.split('\u0000') as [string, string];
    return { source, target };
  });
  return { series, edges, originSpans, blame };
}

export const DEPENDENCY_ERROR = /Upstream|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|EPIPE|socket hang up|timed? ?out|upstream|bad gateway|service unavailable|gateway timeout|\b50[234]\b/i;

/**
 * Error logs and error fingerprints per service and bucket; `new-errors` counts fingerprints unseen before `onsetUs`.
 * `tracedCallers`, when traces were analysed: the services that call at least one traced service. Only there is an
 * error about a dependency a symptom the trace analysis charges to someone else; a service whose dependencies are
 * all untraced (its own database, cache, queue) owns what they do to it — nothing else among the candidates can.
 */
export function logIndicators(logs: readonly LogRecord[], errors: readonly ErrorEvent[], bucketUs: number, onsetUs: number, buckets: readonly number[], blame: ReadonlyMap<string, { service: string; share: number }> = new Map(), tracedCallers?: ReadonlySet<string>): ServiceSeries {
  const series: ServiceSeries = new Map();
  const count = new Map<string, number>();
  const services = new Set<string>();
  // An error logged in a span the trace analysis blamed (partly) on a callee's answer counts for both in the
  // same shares.
  const add = (svc: string, timeUs: number, ind: string, spanId: string | undefined): void => {
    const b = spanId ? blame.get(spanId) : undefined;
    const t = Math.floor(timeUs / bucketUs) * bucketUs;
    const inc = (x: string, w: number): void => {
      services.add(x);
      const k = `${x}\u0000${t}\u0000${ind}`;
      count.set(k, (count.get(k) ?? 0) + w);
    };
    if (!b) return inc(svc, 1);
    if (b.share < 1) inc(svc, 1 - b.share);
    inc(b.service, b.share);
  };
  const symptom = (svc: string, text: string): boolean => (!tracedCallers || tracedCallers.has(svc)) && DEPENDENCY_ERROR.test(text);
  for (const l of logs) {
    services.add(l.service);
    if (l.severityNumber < 17 || symptom(l.service, l.body.slice(0, 500))) continue;
    add(l.service, l.timeUs, 'error-logs', l.spanId);
  }
  const seenBefore = new Set(errors.filter((e) => e.timeUs < onsetUs).map((e) => e.fingerprint));
  for (const e of errors) {
    services.add(e.service);
    if (seenBefore.has(e.fingerprint)) continue;
    // An error about a dependency (reset, refused, timed out, bad gateway) is a symptom in the caller that logs
    // it, not a fault of its own: the trace analysis charges the callee.
    if (symptom(e.service, `${e.type} ${e.message}`)) continue;
    add(e.service, e.timeUs, 'new-errors', e.spanId);
  }
  // Dense series (zeros included): an error count that is zero before the incident is the baseline.
  for (const svc of services) {
    for (const ind of ['error-logs', 'new-errors']) {
      for (const b of buckets) put(series, svc, ind, b / 1e6, count.get(`${svc}\u0000${b}\u0000${ind}`) ?? 0);
    }
  }
  return series;
}

/** Services whose service.version after the onset was not seen before it. */
export function deploysAfter(spans: readonly Span[], onsetUs: number): { service: string; version: string; atUs: number }[] {
  const before = new Map<string, Set<string>>();
  const after = new Map<string, { version: string; atUs: number }>();
  for (const s of spans) {
    const v = s.resource.attributes['service.version'];
    if (typeof v !== 'string') continue;
    if (s.startUs < onsetUs) {
      const set = before.get(s.service) ?? new Set();
      set.add(v);
      before.set(s.service, set);
    }
  }
  for (const s of spans) {
    const v = s.resource.attributes['service.version'];
    if (typeof v !== 'string' || s.startUs < onsetUs) continue;
    if (before.get(s.service)?.has(v) || !before.has(s.service)) continue;
    const cur = after.get(s.service);
    if (!cur || s.startUs < cur.atUs) after.set(s.service, { version: v, atUs: s.startUs });
  }
  return [...after.entries()].map(([service, x]) => ({ service, ...x }));
}
