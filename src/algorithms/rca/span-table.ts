/**
 * Spans as columns, for the trace analysis (traces.ts). A million span objects cost more to build (and to
 * collect) than the analysis of them; the analysis reads a few numbers per span and, of a handful of spans (the
 * failed ones, and the callers whose peer it has to name), a few more fields. Those the table hands out on
 * request (`detail`, `peer`): a store can read them for just those spans.
 */
import { configSignature } from '../../signals/resource-config.js';
import type { Attributes, Span } from '../../signals/model.js';

/** What the analysis reads of a failed span beyond its columns. */
export interface SpanDetail {
  traceId: string;
  spanId: string;
  message?: string;
  /** Of the attributes, at least http.response.status_code (when set). */
  attributes: Attributes;
  /** At least the exception events. */
  events: Span['events'];
}

export interface SpanTable {
  readonly n: number;
  /** Service and operation name per span, as indexes into `services` / `names`. */
  readonly services: readonly string[];
  readonly service: Int32Array;
  readonly names: readonly string[];
  readonly name: Int32Array;
  readonly kind: Uint8Array;
  readonly statusCode: Uint8Array;
  readonly startUs: Float64Array;
  readonly endUs: Float64Array;
  /**
   * The parent span's index: the last span holding the parent id, as a lookup of the id would find it; -1 when
   * the span names no parent, or one that is not in the table.
   */
  readonly parent: Int32Array;
  /**
   * Per span, the index of the last span with the same span id (the span a child's parent id finds); absent when
   * every span id occurs once (then it is the span itself).
   */
  readonly sameId?: Int32Array;
  /** Failed: status code error, or `Number(http.response.status_code) >= 500` (1), else 0. */
  readonly failed: Uint8Array;
  /** The resource's service.version (when a string) as an index into `versions`, else -1. */
  readonly version: Int32Array;
  readonly versions: readonly string[];
  /** The resource's config signature (resource-config.ts) as an index into `configs`, else -1. */
  readonly config: Int32Array;
  readonly configs: readonly string[];
  /** Failed spans' ids, status message, attributes and events (other spans need not be able to answer). */
  detail(i: number): SpanDetail;
  /**
   * The peer a client span names, as traces.ts keys it (`address:port`): asked only of the spans peerNeeded()
   * lists. A table that cannot answer for a span throws rather than guess.
   */
  peer(i: number): string;
}

/** http.response.status_code as traces.ts reads it (0 when absent). */
export const httpStatusOf = (a: Attributes): number => Number(a['http.response.status_code'] ?? 0);

/** The peer key traces.ts builds from a client span's attributes. */
export const peerOf = (a: Attributes): string => `${String(a['server.address'] ?? a['net.peer.name'] ?? '')}:${String(a['server.port'] ?? a['net.peer.port'] ?? '')}`;

/** String → small index, in first-seen order. */
export class Interner {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.list.push(s) - 1;
      this.ids.set(s, i);
    }
    return i;
  }
}

/**
 * Parent indexes from span ids (`parentIdOf` undefined or empty: no parent), with the lookup semantics of a map
 * from id to span filled in span order (the last span with an id wins).
 */
export function linkByIds(n: number, idOf: (i: number) => string, parentIdOf: (i: number) => string | undefined): { parent: Int32Array; sameId?: Int32Array } {
  const last = new Map<string, number>();
  for (let i = 0; i < n; i++) last.set(idOf(i), i);
  const parent = new Int32Array(n);
  let sameId: Int32Array | undefined;
  for (let i = 0; i < n; i++) {
    const p = parentIdOf(i);
    parent[i] = p ? (last.get(p) ?? -1) : -1;
    const s = last.get(idOf(i))!;
    if (s !== i) {
      if (!sameId) {
        sameId = new Int32Array(n);
        for (let j = 0; j < n; j++) sameId[j] = j;
      }
      sameId[i] = s;
    }
  }
  return sameId ? { parent, sameId } : { parent };
}

/** The table of span objects (the in-memory and file paths): every field answers from the spans themselves. */
export function spanTableOf(spans: readonly Span[]): SpanTable {
  const n = spans.length;
  const services = new Interner();
  const names = new Interner();
  const versions = new Interner();
  const configs = new Interner();
  const service = new Int32Array(n);
  const name = new Int32Array(n);
  const kind = new Uint8Array(n);
  const statusCode = new Uint8Array(n);
  const startUs = new Float64Array(n);
  const endUs = new Float64Array(n);
  const failed = new Uint8Array(n);
  const version = new Int32Array(n);
  const config = new Int32Array(n);
  // Spans of one process share one resource object, in runs: its config signature is worked out once.
  const configOf = new Map<object, number>();
  let lastResource: object | undefined;
  let lastConfig = -1;
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    service[i] = services.id(s.service);
    name[i] = names.id(s.name);
    kind[i] = s.kind;
    statusCode[i] = s.status.code;
    startUs[i] = s.startUs;
    endUs[i] = s.endUs;
    failed[i] = s.status.code === 2 || httpStatusOf(s.attributes) >= 500 ? 1 : 0;
    const v = s.resource.attributes['service.version'];
    version[i] = typeof v === 'string' ? versions.id(v) : -1;
    if (s.resource !== lastResource) {
      let c = configOf.get(s.resource);
      if (c === undefined) {
        const sig = configSignature(s.resource.attributes);
        configOf.set(s.resource, (c = sig === undefined ? -1 : configs.id(sig)));
      }
      lastResource = s.resource;
      lastConfig = c;
    }
    config[i] = lastConfig;
  }
  const links = linkByIds(n, (i) => spans[i]!.spanId, (i) => spans[i]!.parentSpanId);
  return {
    n,
    services: services.list,
    service,
    names: names.list,
    name,
    kind,
    statusCode,
    startUs,
    endUs,
    ...links,
    failed,
    version,
    versions: versions.list,
    config,
    configs: configs.list,
    detail: (i) => {
      const s = spans[i]!;
      return { traceId: s.traceId, spanId: s.spanId, ...(s.status.message !== undefined ? { message: s.status.message } : {}), attributes: s.attributes, events: s.events };
    },
    peer: (i) => peerOf(spans[i]!.attributes),
  };
}
