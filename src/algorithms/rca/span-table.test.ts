/**
 * The columnar trace analysis (traces.ts over span-table.ts) against the object-based one it replaced, kept here
 * verbatim as the reference: random span sets with what breaks naive column code (parents missing or repeated
 * span ids, overlapping children, failures by status and by HTTP code, consumer errors, client calls that reached
 * no callee, deploys), compared field by field and in order. And a table that answers `peer` only for the spans
 * peerNeeded() lists gives the same answer: a store may read peers for those alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource, Span } from '../../signals/model.js';
import { appendPoint as put, type ServiceSeries } from './metrics.js';
import { deploysAfter, peerNeeded, traceIndicators, type TraceEvidence } from './traces.js';
import { spanTableOf, type SpanTable } from './span-table.js';
import { mulberry32 } from '../../util/random.js';
import { ordered } from '../../../test/helpers/ordered.js';

const CONSUMER_ERROR = /^(TypeError|ReferenceError|KeyError|AttributeError|NullPointerException|ClassCastException|SyntaxError|ValidationError)$/;

/**
 * `bucketUs` sets the series resolution; times in the series are bucket starts in seconds.
 * Spans are assumed to hold both the baseline and the incident windows.
 */
function referenceTraceIndicators(spans: readonly Span[], bucketUs: number): TraceEvidence {
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

/** Services whose service.version after the onset was not seen before it. */
function referenceDeploysAfter(spans: readonly Span[], onsetUs: number): { service: string; version: string; atUs: number }[] {
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

const view = (e: TraceEvidence): unknown => ordered(e);

/** A deterministic PRNG, so a failure names its seed. */
const rng = mulberry32;

function randomSpans(seed: number, count: number): Span[] {
  const r = rng(seed);
  const pick = <T>(l: readonly T[]): T => l[Math.floor(r() * l.length)]!;
  const services = ['frontend', 'checkout', 'cart', 'currency', 'db', ''].slice(0, 2 + Math.floor(r() * 4));
  const names = ['GET', 'POST', 'op-a', 'op-b'];
  const resources: Resource[] = services.flatMap((s): Resource[] => [{ attributes: { 'service.name': s, 'service.version': '1.0' } }, { attributes: { 'service.name': s, 'service.version': r() < 0.5 ? '1.1' : 7 } }, { attributes: {} }]);
  const out: Span[] = [];
  const ids: string[] = [];
  let t = 1_700_000_000_000_000 + Math.floor(r() * 1e6);
  for (let i = 0; i < count; i++) {
    t += Math.floor(r() * 50_000);
    const svc = pick(services);
    const kind = pick([0, 1, 2, 2, 2, 3, 3, 3, 4, 5] as const);
    const dur = Math.floor(r() * 80_000);
    const spanId = r() < 0.03 && ids.length ? pick(ids) : (i + 1).toString(16).padStart(16, '0');
    ids.push(spanId);
    const attributes: Span['attributes'] = {};
    if (r() < 0.5) attributes['http.response.status_code'] = pick([200, 200, 404, 500, 503, '502', '200', 'x']);
    if (r() < 0.5) attributes['server.address'] = pick(services);
    if (r() < 0.4) attributes['server.port'] = pick([80, 8080]);
    if (r() < 0.1) attributes['net.peer.name'] = 'peer';
    const err = r() < 0.15;
    const s: Span = { traceId: (Math.floor(i / 5) + 1).toString(16).padStart(32, '0'), spanId, name: pick(names), kind, startUs: t, endUs: t + dur, service: svc, attributes, events: [], links: [], status: err ? { code: 2, ...(r() < 0.5 ? { message: 'boom' } : {}) } : { code: pick([0, 1] as const) }, resource: pick(resources) };
    const u = r();
    // Mostly a recent span as the parent (a trace), sometimes one never seen, sometimes none.
    if (u < 0.75 && ids.length > 1) s.parentSpanId = ids[Math.max(0, ids.length - 2 - Math.floor(r() * 6))]!;
    else if (u < 0.8) s.parentSpanId = 'ffffffffffffffff';
    else if (u < 0.82) s.parentSpanId = '';
    if ((err || r() < 0.05) && r() < 0.6) s.events.push({ name: r() < 0.8 ? 'exception' : 'log', timeUs: t + Math.floor(r() * dur), attributes: { 'exception.type': pick(['TypeError', 'Error', 'KeyError']) } });
    out.push(s);
    // Children sometimes start before their parent (clock skew) and overlap each other.
    if (r() < 0.1) t -= Math.floor(r() * 100_000);
  }
  return out;
}

/** The table of `spans` whose peer answers only for what peerNeeded lists, as a store reading peers lazily would. */
function lazyPeers(spans: Span[]): { table: SpanTable; asked: Set<number> } {
  const full = spanTableOf(spans);
  const need = new Set(peerNeeded(full));
  const asked = new Set<number>();
  const table: SpanTable = {
    ...full,
    detail: (i) => {
      assert.ok(full.failed[i], `detail of span ${i}, which did not fail`);
      return full.detail(i);
    },
    peer: (i) => {
      assert.ok(need.has(i), `peer of span ${i}, not listed by peerNeeded`);
      asked.add(i);
      return full.peer(i);
    },
  };
  return { table, asked };
}

test('the columnar trace analysis gives the reference answer, in the same order, on random span sets', () => {
  let peersAsked = 0;
  let blamed = 0;
  let origins = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const spans = randomSpans(seed, 20 + (seed % 7) * 60);
    const bucketUs = [1e6, 5e6, 30e6][seed % 3]!;
    const want = view(referenceTraceIndicators(spans, bucketUs));
    assert.deepStrictEqual(view(traceIndicators(spans, bucketUs)), want, `seed ${seed}`);
    const { table, asked } = lazyPeers(spans);
    const got = traceIndicators(table, bucketUs);
    assert.deepStrictEqual(view(got), want, `seed ${seed}, peers read lazily`);
    peersAsked += asked.size;
    blamed += got.blame.size;
    origins += got.originSpans.size;
    const onset = spans[Math.floor(spans.length / 2)]!.startUs;
    assert.deepStrictEqual(deploysAfter(table, onset), referenceDeploysAfter(spans, onset), `seed ${seed}, deploys`);
  }
  // The random sets do exercise the paths that read peers, blame callees and note origins.
  assert.ok(peersAsked > 100, `peers asked ${peersAsked}`);
  assert.ok(blamed > 10, `blamed ${blamed}`);
  assert.ok(origins > 100, `origins ${origins}`);
});

test('repeated span ids link children as a lookup by id does (the last span with the id is the parent)', () => {
  const mk = (spanId: string, parentSpanId: string | undefined, startUs: number, endUs: number, service: string): Span => ({ traceId: 't', spanId, ...(parentSpanId ? { parentSpanId } : {}), name: 'op', kind: 2, startUs, endUs, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: {} } });
  const spans = [mk('a', undefined, 0, 100, 'x'), mk('a', undefined, 10, 50, 'y'), mk('b', 'a', 20, 40, 'z')];
  const t = spanTableOf(spans);
  assert.deepStrictEqual([...t.parent], [-1, -1, 1]);
  assert.deepStrictEqual([...t.sameId!], [1, 1, 2]);
  assert.deepStrictEqual(view(traceIndicators(t, 1e6)), view(referenceTraceIndicators(spans, 1e6)));
});
