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
import { httpStatusOf, spanTableOf, type SpanTable } from './span-table.js';

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
 * Spans are assumed to hold both the baseline and the incident windows. Spans as objects or as a table (span-table.ts);
 * the result is the same (each span's sums are taken in span order either way).
 */
export function traceIndicators(input: readonly Span[] | SpanTable, bucketUs: number): TraceEvidence {
  const tb = isTable(input) ? input : spanTableOf(input);
  const { n, service, kind, startUs, endUs, failed, parent, services } = tb;
  const nS = services.length;
  const kids = childrenOf(tb);
  const { first, list } = kids;
  const kidsOf = (i: number): number[] => {
    const r = tb.sameId ? tb.sameId[i]! : i;
    return Array.from(list.subarray(first[r]!, first[r + 1]!));
  };
  // Caller → callee service edges, in the order first seen.
  const edgeSeen = new Set<number>();
  const edgeList: number[] = [];
  for (let j = 0; j < n; j++) {
    const p = parent[j]!;
    if (p < 0 || service[p] === service[j]) continue;
    const e = service[p]! * nS + service[j]!;
    if (!edgeSeen.has(e)) {
      edgeSeen.add(e);
      edgeList.push(e);
    }
  }
  // Which service a client span usually reaches (learned from the spans whose call went through), keyed by the
  // peer it names (host:port) when it names one — HTTP client spans are often just "POST". Only asked for failed
  // client calls that reached no callee, so only their keys are counted (peerNeeded lists whose peers that reads).
  const { clients: unreached, pairs } = unreachedClients(tb, kids);
  const clientKey = (i: number): string => `${service[i]}\u0000${tb.name[i]}\u0000${tb.peer(i)}`;
  const calleeOf = new Map<string, Map<number, number>>();
  if (unreached.length) {
    const wanted = new Set(unreached.map(clientKey));
    for (let j = 0; j < n; j++) {
      const p = parent[j]!;
      if (p < 0 || service[p] === service[j] || !pairs.has(service[p]! * tb.names.length + tb.name[p]!)) continue;
      const k = clientKey(p);
      if (!wanted.has(k)) continue;
      let m = calleeOf.get(k);
      if (!m) calleeOf.set(k, (m = new Map()));
      m.set(service[j]!, (m.get(service[j]!) ?? 0) + 1);
    }
  }
  // Per (service, bucket) cell: spans of own work, their exclusive time, error origins, server durations.
  const colOf = new Map<number, number>();
  const colT: number[] = [];
  const cN: number[] = [];
  const cExcl: number[] = [];
  const cOrigin: number[] = [];
  const cExists: boolean[] = [];
  const cServer: number[][] = [];
  let lastT = NaN;
  let lastCol = -1;
  const colFor = (t: number): number => {
    if (t === lastT) return lastCol;
    let c = colOf.get(t);
    if (c === undefined) {
      c = colT.push(t) - 1;
      colOf.set(t, c);
      for (let s = 0; s < nS; s++) {
        cN.push(0);
        cExcl.push(0);
        cOrigin.push(0);
        cExists.push(false);
        cServer.push([]);
      }
    }
    lastT = t;
    lastCol = c;
    return c;
  };
  const cell = (svc: number, c: number): number => {
    const k = c * nS + svc;
    cExists[k] = true;
    return k;
  };
  const originSpans = new Map<string, { traceId: string; spanId: string; name: string; message?: string }[]>();
  const pending: { i: number; c: number; callee: number; spanId: string }[] = [];
  const noteOrigin = (svc: number, i: number): void => {
    const key = services[svc]!;
    const l = originSpans.get(key) ?? [];
    if (l.length < 5) {
      const d = tb.detail(i);
      l.push({ traceId: d.traceId, spanId: d.spanId, name: tb.names[tb.name[i]!]!, ...(d.message ? { message: d.message } : {}) });
    }
    originSpans.set(key, l);
  };
  for (let i = 0; i < n; i++) {
    const c = colFor(Math.floor(startUs[i]! / bucketUs) * bucketUs);
    const sA = startUs[i]!;
    const sB = endUs[i]!;
    const dur = Math.max(0, sB - sA);
    const r = tb.sameId ? tb.sameId[i]! : i;
    const k0 = first[r]!;
    const k1 = first[r + 1]!;
    let covered = 0;
    // Union of child intervals, clipped to the span: concurrent children count once.
    if (k1 - k0 === 1) {
      const k = list[k0]!;
      const a = Math.max(startUs[k]!, sA);
      const b = Math.min(endUs[k]!, sB);
      if (b > a) {
        // The merge below for one interval (from its start state -1, -1), so odd inputs come out the same.
        let curA = -1;
        let curB = -1;
        if (a > curB) {
          curA = a;
          curB = b;
        } else curB = Math.max(curB, b);
        if (curB > curA) covered += curB - curA;
      }
    } else if (k1 > k0) {
      const iv: [number, number][] = [];
      for (let x = k0; x < k1; x++) {
        const k = list[x]!;
        const iv1: [number, number] = [Math.max(startUs[k]!, sA), Math.min(endUs[k]!, sB)];
        if (iv1[1] > iv1[0]) iv.push(iv1);
      }
      iv.sort((x, y) => x[0] - y[0]);
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
    const kd = kind[i]!;
    // Client spans measure the callee's time from outside: only server/internal/consumer spans count as own work.
    if (kd !== 3 && kd !== 4) {
      const a = cell(service[i]!, c);
      cN[a]!++;
      cExcl[a] += excl;
      if (kd === 2) cServer[a]!.push(dur);
    }
    if (!failed[i]) continue;
    let childFailed = false;
    for (let x = k0; x < k1 && !childFailed; x++) if (failed[list[x]!]) childFailed = true;
    if (childFailed) continue;
    const d = tb.detail(i);
    if (kd === 3 || kd === 4) {
      // A client call failed while the callee reported no failure of its own (connection reset, refused, dropped
      // response, or never reached): charge the callee it reached, or the one it usually reaches.
      let callee: number | undefined;
      for (let x = k0; x < k1; x++) {
        if (service[list[x]!] !== service[i]) {
          callee = service[list[x]!];
          break;
        }
      }
      if (callee === undefined) {
        const m = calleeOf.get(clientKey(i));
        if (m) callee = [...m.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      }
      // A 4xx answer is the callee working as designed, not a fault of either side.
      const code = httpStatusOf(d.attributes);
      if (code >= 400 && code < 500) continue;
      if (callee !== undefined && services[callee]) {
        cOrigin[cell(callee, c)]!++;
        noteOrigin(callee, i);
        continue;
      }
    }
    // A consumer error (TypeError and kin) right after a successful call is often the callee's wrong answer
    // (HTTP 200 with a bad shape): share the blame with the callee that answered last before the exception.
    const ex = d.events.find((e) => e.name === 'exception');
    const exType = String(ex?.attributes['exception.type'] ?? '');
    const exAt = ex?.timeUs ?? sB;
    const mine = kidsOf(i);
    const answered = mine.filter((k) => service[k] !== service[i] && endUs[k]! <= exAt).sort((a, b) => endUs[b]! - endUs[a]!)[0]
      ?? (() => {
        // The callee's server span hangs under our client span: find the newest grandchild in another service,
        // among the calls that had answered when the exception was thrown (a concurrent call still in flight
        // cannot have handed over the bad data).
        const clients = mine.filter((k) => kind[k] === 3 && endUs[k]! <= exAt).sort((a, b) => endUs[b]! - endUs[a]!);
        for (const cl of clients) {
          const g = kidsOf(cl).find((x) => service[x] !== service[i]);
          if (g !== undefined) return g;
        }
        return undefined;
      })();
    if (ex && CONSUMER_ERROR.test(exType) && answered !== undefined) {
      pending.push({ i, c, callee: service[answered]!, spanId: d.spanId });
      continue;
    }
    cOrigin[cell(service[i]!, c)]!++;
    noteOrigin(service[i]!, i);
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
    let from = Infinity;
    for (const f of pending) from = Math.min(from, startUs[f.i]!);
    // Keys callee × nS + caller.
    const calls = new Map<number, number>();
    for (let p = 0; p < n; p++) {
      if (kind[p] === 3 || kind[p] === 4 || startUs[p]! < from) continue;
      const got = new Set<number>();
      const rp = tb.sameId ? tb.sameId[p]! : p;
      for (let x = first[rp]!; x < first[rp + 1]!; x++) {
        const k = list[x]!;
        if (service[k] !== service[p]) got.add(service[k]!);
        else if (kind[k] === 3) {
          const rk = tb.sameId ? tb.sameId[k]! : k;
          for (let y = first[rk]!; y < first[rk + 1]!; y++) if (service[list[y]!] !== service[p]) got.add(service[list[y]!]!);
        }
      }
      for (const x of got) calls.set(x * nS + service[p]!, (calls.get(x * nS + service[p]!) ?? 0) + 1);
    }
    const fails = new Map<number, number>();
    for (const f of pending) fails.set(f.callee * nS + service[f.i]!, (fails.get(f.callee * nS + service[f.i]!) ?? 0) + 1);
    const consistent = new Map<number, boolean>();
    const failsPerCaller = new Map<number, number[]>();
    for (const [k, cnt] of calls) {
      if (cnt < 5) continue;
      const callee = Math.floor(k / nS);
      failsPerCaller.set(callee, [...(failsPerCaller.get(callee) ?? []), fails.get(k) ?? 0]);
    }
    // Every caller must fail more than once (one failure can be chance); rates may differ, since callers read
    // different parts of an answer in different operations.
    for (const [callee, f] of failsPerCaller) consistent.set(callee, f.length >= 2 && Math.min(...f) >= 2);
    for (const f of pending) {
      const share = consistent.get(f.callee) ? 1 : 0.5;
      if (share < 1) cOrigin[cell(service[f.i]!, f.c)] += 1 - share;
      cOrigin[cell(f.callee, f.c)] += share;
      noteOrigin(f.callee, f.i);
      blame.set(f.spanId, { service: services[f.callee]!, share, caller: services[service[f.i]!]! });
    }
  }
  const series: ServiceSeries = new Map();
  // In the order of the `${service}\0${bucket start}` keys sorted as strings, which fixes the series' order.
  const keys: { key: string; k: number; tStr: string }[] = [];
  for (let c = 0; c < colT.length; c++) {
    const tStr = String(colT[c]);
    for (let s = 0; s < nS; s++) if (cExists[c * nS + s]) keys.push({ key: `${services[s]}\u0000${tStr}`, k: c * nS + s, tStr });
  }
  keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { k, tStr } of keys) {
    const svc = services[k % nS]!;
    const tS = Number(tStr) / 1e6;
    const cn = cN[k]!;
    if (cn) put(series, svc, 'exclusive-latency', tS, cExcl[k]! / cn / 1000);
    put(series, svc, 'error-origin', tS, cn ? cOrigin[k]! / cn : cOrigin[k]!);
    const srv = cServer[k]!;
    if (srv.length) {
      const sorted = srv.sort((x, y) => x - y);
      put(series, svc, 'response-time-p90', tS, sorted[Math.floor(0.9 * (sorted.length - 1))]! / 1000);
    }
  }
  const edges = edgeList.map((e) => ({ source: services[Math.floor(e / nS)]!, target: services[e % nS]! }));
  return { series, edges, originSpans, blame };
}

function isTable(x: readonly Span[] | SpanTable): x is SpanTable {
  return !Array.isArray(x);
}

/** Children per span as CSR over `parent` (children of p: list[first[p] .. first[p + 1]), in span order). */
interface Children {
  first: Int32Array;
  list: Int32Array;
}

const childrenCache = new WeakMap<SpanTable, Children>();

function childrenOf(t: SpanTable): Children {
  let c = childrenCache.get(t);
  if (c) return c;
  const first = new Int32Array(t.n + 1);
  for (let j = 0; j < t.n; j++) if (t.parent[j]! >= 0) first[t.parent[j]! + 1]!++;
  for (let i = 0; i < t.n; i++) first[i + 1] += first[i]!;
  const at = first.slice(0, t.n);
  const list = new Int32Array(first[t.n]!);
  for (let j = 0; j < t.n; j++) if (t.parent[j]! >= 0) list[at[t.parent[j]!]!++] = j;
  c = { first, list };
  childrenCache.set(t, c);
  return c;
}

/**
 * Failed client spans that reached no callee (no failed child, no child in another service): the ones whose
 * callee traceIndicators looks up by peer. `pairs`: their service × name (as service × names.length + name).
 */
function unreachedClients(t: SpanTable, kids: Children): { clients: number[]; pairs: Set<number> } {
  const clients: number[] = [];
  const pairs = new Set<number>();
  for (let i = 0; i < t.n; i++) {
    if (!t.failed[i] || (t.kind[i] !== 3 && t.kind[i] !== 4)) continue;
    const r = t.sameId ? t.sameId[i]! : i;
    let reached = false;
    for (let x = kids.first[r]!; x < kids.first[r + 1]! && !reached; x++) {
      const k = kids.list[x]!;
      if (t.failed[k] || t.service[k] !== t.service[i]) reached = true;
    }
    if (reached) continue;
    clients.push(i);
    pairs.add(t.service[i]! * t.names.length + t.name[i]!);
  }
  return { clients, pairs };
}

/**
 * The spans whose peer (`SpanTable.peer`) traceIndicators reads: the failed client calls that reached no callee,
 * and the calls of the same service and operation that did reach one (what it learns the usual callee from).
 * Almost always none or few: a store need read peer attributes only for these.
 */
export function peerNeeded(t: SpanTable): Int32Array {
  const kids = childrenOf(t);
  const { clients, pairs } = unreachedClients(t, kids);
  if (!clients.length) return new Int32Array(0);
  const out = new Set<number>(clients);
  for (let j = 0; j < t.n; j++) {
    const p = t.parent[j]!;
    if (p >= 0 && t.service[p] !== t.service[j] && pairs.has(t.service[p]! * t.names.length + t.name[p]!)) out.add(p);
  }
  return Int32Array.from([...out].sort((a, b) => a - b));
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

/**
 * Per service, the first value of a per-span column (an index, -1: none) after the onset that the service did not
 * show before it, with when it first appeared and the last value seen before the onset. A service with no value
 * before the onset has no change (it only starts to report one).
 */
function newValuesAfter(t: SpanTable, column: Int32Array, onsetUs: number): Map<number, { value: number; atUs: number; previous: number }> {
  const before = new Map<number, Set<number>>();
  const lastBefore = new Map<number, { value: number; at: number }>();
  for (let i = 0; i < t.n; i++) {
    const v = column[i]!;
    if (v < 0 || t.startUs[i]! >= onsetUs) continue;
    const s = t.service[i]!;
    const set = before.get(s) ?? new Set();
    set.add(v);
    before.set(s, set);
    const l = lastBefore.get(s);
    if (!l || t.startUs[i]! > l.at) lastBefore.set(s, { value: v, at: t.startUs[i]! });
  }
  const after = new Map<number, { value: number; atUs: number; previous: number }>();
  for (let i = 0; i < t.n; i++) {
    const v = column[i]!;
    const s = t.service[i]!;
    if (v < 0 || t.startUs[i]! < onsetUs) continue;
    if (before.get(s)?.has(v) || !before.has(s)) continue;
    const cur = after.get(s);
    if (!cur || t.startUs[i]! < cur.atUs) after.set(s, { value: v, atUs: t.startUs[i]!, previous: lastBefore.get(s)!.value });
  }
  return after;
}

/** Services whose service.version after the onset was not seen before it. */
export function deploysAfter(input: readonly Span[] | SpanTable, onsetUs: number): { service: string; version: string; atUs: number }[] {
  const t = isTable(input) ? input : spanTableOf(input);
  return [...newValuesAfter(t, t.version, onsetUs)].map(([s, x]) => ({ service: t.services[s]!, version: t.versions[x.value]!, atUs: x.atUs }));
}

/**
 * Services whose config signature (resource-config.ts) after the onset was not seen before it: a config change,
 * which counts as a deploy does. `previous` is the last signature seen before the onset.
 */
export function configChangesAfter(input: readonly Span[] | SpanTable, onsetUs: number): { service: string; config: string; previous: string; atUs: number }[] {
  const t = isTable(input) ? input : spanTableOf(input);
  return [...newValuesAfter(t, t.config, onsetUs)].map(([s, x]) => ({ service: t.services[s]!, config: t.configs[x.value]!, previous: t.configs[x.previous]!, atUs: x.atUs }));
}
