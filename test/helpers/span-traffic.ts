/**
 * Random span traffic for the RCA's span reads (the column read against the object read, per store): traces of
 * 1–6 spans over 5 services, failures of every kind the trace analysis tells apart, repeated ids, parents outside
 * the window, HTTP statuses as numbers, strings and fractions.
 */
import type { Span } from '../../src/signals/model.js';
import type { TraceEvidence } from '../../src/algorithms/rca/traces.js';
import type { SpanTable } from '../../src/algorithms/rca/span-table.js';
import { mulberry32 } from '../../src/util/random.js';
import { ordered } from './ordered.js';
import { hex } from './otlp-values.js';

export const t0Us = 1_700_000_000_000_000;

const rng = mulberry32;

export interface Gen {
  svc: string;
  version: string;
  traceId: string;
  spanId: string;
  parent?: string;
  name: string;
  kind: Span['kind'];
  startUs: number;
  endUs: number;
  attrs: [string, unknown][];
  exception?: string;
  status: { code: 0 | 1 | 2; message?: string };
}

/** Random traffic: traces of 1–6 spans over 5 services, failures of every kind the analysis tells apart. */
export function traffic(seed: number, traces: number): Gen[] {
  const r = rng(seed);
  const pick = <T,>(l: readonly T[]): T => l[Math.floor(r() * l.length)]!;
  const services = ['frontend', 'checkout', 'payment', 'cart', 'db'];
  const out: Gen[] = [];
  let id = 1 + Math.floor(r() * 1000);
  const seen: string[] = [];
  for (let t = 0; t < traces; t++) {
    const start = t0Us + t * 20_000 + Math.floor(r() * 10_000);
    const traceId = hex(t + 1 + seed * 100_000, 32);
    const chain: string[] = [];
    const len = 1 + Math.floor(r() * 6);
    for (let k = 0; k < len; k++) {
      const svc = pick(services);
      // Mostly a fresh id; now and then one seen before (ids repeat in broken instrumentation).
      const spanId = r() < 0.02 && seen.length ? pick(seen) : hex(id++, 16);
      seen.push(spanId);
      const kind = pick([2, 2, 3, 3, 0, 1, 4, 5] as const);
      const attrs: [string, unknown][] = [];
      if (r() < 0.7) attrs.push(['http.response.status_code', pick([200, 200, 200, 204, 404, 499, 500, 503, 127, 128, 383, 384, 511, 640, '503', '200', 2.5])]);
      if (r() < 0.05) attrs.push(['http.response.status_code', pick([200, 502])]);
      if (kind === 3 && r() < 0.8) attrs.push(['server.address', pick(services)], [pick(['server.port', 'net.peer.port']), pick([8080, 8081])]);
      if (r() < 0.05) attrs.push(['net.peer.name', pick(['payment', ''])]);
      if (r() < 0.3) attrs.push(['url.path', `/x/${t}`]);
      const failing = r() < 0.12;
      const parent = k > 0 ? (r() < 0.9 ? chain[chain.length - 1 - Math.floor(r() * Math.min(2, chain.length))] : hex(999_999_999 + t, 16)) : r() < 0.05 ? hex(888_888_888 + t, 16) : undefined;
      const s = start + k * 200 + Math.floor(r() * 300);
      out.push({
        svc,
        version: r() < 0.97 || t < traces / 2 ? '1.0.0' : '1.1.0',
        traceId,
        spanId,
        ...(parent ? { parent } : {}),
        name: pick(['GET', 'POST', `op-${k}`]),
        kind,
        startUs: s,
        endUs: s + 1000 + Math.floor(r() * 20_000),
        attrs,
        ...(failing && r() < 0.6 ? { exception: pick(['TypeError', 'Error', 'KeyError']) } : {}),
        status: failing ? { code: 2, ...(r() < 0.5 ? { message: 'charge failed' } : {}) } : { code: pick([0, 0, 1] as const) },
      });
      chain.push(spanId);
    }
  }
  return out;
}

/** The same as span objects (the JSON rest path), ids optionally in another form (upper case, shorter). */
export function objects(spans: Gen[], shiftUs: number, odd: boolean): Span[] {
  const idOf = (x: string): string => (odd ? (x.endsWith('7') ? x.toUpperCase() : x.endsWith('3') ? `s${x.slice(8)}` : x) : x);
  return spans.map((g) => ({
    traceId: g.traceId,
    spanId: idOf(g.spanId),
    ...(g.parent ? { parentSpanId: idOf(g.parent) } : {}),
    name: g.name,
    kind: g.kind,
    startUs: g.startUs + shiftUs,
    endUs: g.endUs + shiftUs,
    service: g.svc,
    attributes: Object.fromEntries(g.attrs) as Span['attributes'],
    events: g.exception ? [{ name: 'exception', timeUs: g.endUs + shiftUs - 10, attributes: { 'exception.type': g.exception } }] : [],
    links: [],
    status: g.status,
    resource: { attributes: { 'service.name': g.svc, 'service.version': g.version, ...configAttrs(g.svc, g.version) } },
  }));
}

/** A config attribute on some services' resources, changing with their version: the tables must carry it alike. */
export const configAttrs = (svc: string, version: string): Record<string, string> => (svc.length % 2 === 0 ? { 'app.config.version': version === '1.1.0' ? 'c2' : 'c1' } : {});

/** Trace evidence in a comparable order. */
export const view = (e: TraceEvidence): unknown => ordered(e);

/** The columns every span has, by service and operation name rather than by index. */
export const columns = (t: SpanTable): unknown[] =>
  Array.from({ length: t.n }, (_, i) => [t.services[t.service[i]!], t.names[t.name[i]!], t.kind[i], t.statusCode[i], t.startUs[i], t.endUs[i], t.parent[i], t.sameId ? t.sameId[i] : i, t.failed[i], t.version[i]! < 0 ? null : t.versions[t.version[i]!], t.config[i]! < 0 ? null : t.configs[t.config[i]!]]);

