/**
 * OTLP export requests → the signal model. One converter serves both encodings: protobufjs-decoded messages
 * (ids as bytes, 64-bit times as Long) and OTLP/JSON (ids as hex, 64-bit values as strings or numbers, enums as
 * numbers or names, camelCase keys with snake_case tolerated). Items that break the data model (bad ids,
 * NaN/negative durations, missing times) are rejected one by one and counted for OTLP partial success; the rest
 * of the request is kept. Exceptions on spans and error logs with stack traces also become ErrorEvents.
 */
import type {
  AttrValue,
  Attributes,
  ErrorEvent,
  InstrumentationScope,
  LogRecord,
  MetricPoint,
  Resource,
  SignalBatch,
  Span,
  SpanEvent,
  SpanLink,
} from '../model.js';
import { environmentOf, releaseOf, serviceOf } from '../model.js';
import { looksLikeStack, makeErrorEvent, splitErrorHeader } from '../errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- OTLP payloads are untrusted, loosely shaped input
   (two encodings, two key conventions); every field is checked where it is read. */
type Obj = Record<string, any>;

export interface DecodeResult {
  batch: SignalBatch;
  rejected: number;
  /** First few reasons, for the partial-success error message. */
  errors: string[];
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function field(o: Obj | undefined, camel: string, snake?: string): any {
  if (!o) return undefined;
  const v = o[camel];
  if (v !== undefined) return v;
  return snake ? o[snake] : undefined;
}

function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Bytes (protobuf) or hex/base64 string (JSON) → lower-case hex; '' when absent. */
export function idHex(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) {
    let s = '';
    for (let i = 0; i < v.length; i++) s += HEX[v[i]!];
    return s;
  }
  if (typeof v === 'string') {
    if (/^[0-9a-fA-F]*$/.test(v)) return v.toLowerCase();
    // Some JSON producers send protobuf-JSON (base64) ids.
    try {
      return Buffer.from(v, 'base64').toString('hex');
    } catch {
      return 'invalid';
    }
  }
  return 'invalid';
}

/** Nanoseconds (Long | string | number) → integer microseconds; NaN when invalid or negative. */
export function usFromNanos(v: unknown): number {
  if (v === undefined || v === null) return NaN;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const lo = (v as { low: number }).low >>> 0;
    const hi = (v as { high: number }).high >>> 0;
    // 2^32 ns = 4,294,967 µs + 296 ns: exact in doubles, no BigInt on the hot path.
    return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  }
  if (typeof v === 'string') {
    if (!/^\d+$/.test(v)) return NaN;
    return v.length <= 3 ? 0 : Number(v.slice(0, -3));
  }
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v / 1000) : NaN;
  if (typeof v === 'bigint') return v >= 0n ? Number(v / 1000n) : NaN;
  return NaN;
}

function intValue(v: unknown): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const lo = (v as { low: number }).low >>> 0;
    const hi = (v as { high: number }).high | 0;
    const n = hi * 4294967296 + lo;
    return Number.isSafeInteger(n) ? n : String(n);
  }
  return Number(v);
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v);
  if (typeof v === 'object' && v !== null && 'low' in v) return Number(intValue(v));
  return NaN;
}

export function anyValue(v: Obj | undefined, depth = 0): AttrValue {
  if (!v || depth > 16) return null;
  // Fast path for protobufjs messages: the oneof's virtual `value` names the field that is set.
  const which = v.value;
  if (which === 'stringValue') return String(v.stringValue);
  if (which === 'intValue') return intValue(v.intValue);
  if (which === 'boolValue') return Boolean(v.boolValue);
  if (which === 'doubleValue') return num(v.doubleValue);
  if (has(v, 'stringValue') || has(v, 'string_value')) return String(field(v, 'stringValue', 'string_value'));
  if (has(v, 'boolValue') || has(v, 'bool_value')) return Boolean(field(v, 'boolValue', 'bool_value'));
  if (has(v, 'intValue') || has(v, 'int_value')) return intValue(field(v, 'intValue', 'int_value'));
  if (has(v, 'doubleValue') || has(v, 'double_value')) return num(field(v, 'doubleValue', 'double_value'));
  if (has(v, 'arrayValue') || has(v, 'array_value')) {
    const vals = (field(v, 'arrayValue', 'array_value')?.values ?? []) as Obj[];
    return vals.map((x) => anyValue(x, depth + 1));
  }
  if (has(v, 'kvlistValue') || has(v, 'kvlist_value')) {
    return attributes((field(v, 'kvlistValue', 'kvlist_value')?.values ?? []) as Obj[], depth + 1);
  }
  if (has(v, 'bytesValue') || has(v, 'bytes_value')) {
    const b = field(v, 'bytesValue', 'bytes_value');
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : String(b);
  }
  return null;
}

export function attributes(kvs: Obj[] | undefined, depth = 0): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(kvs)) return out;
  for (const kv of kvs) {
    if (!kv || typeof kv.key !== 'string') continue;
    out[kv.key] = anyValue(kv.value, depth);
  }
  return out;
}

function resourceOf(r: Obj | undefined): Resource {
  const res: Resource = { attributes: attributes(r?.attributes) };
  const d = field(r, 'droppedAttributesCount', 'dropped_attributes_count');
  if (d) res.droppedAttributesCount = Number(d);
  return res;
}

function scopeOf(s: Obj | undefined): InstrumentationScope | undefined {
  if (!s) return undefined;
  const scope: InstrumentationScope = { name: String(s.name ?? '') };
  if (s.version) scope.version = String(s.version);
  if (Array.isArray(s.attributes) && s.attributes.length) scope.attributes = attributes(s.attributes);
  return scope;
}

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const TEMPORALITY = ['unspecified', 'delta', 'cumulative'] as const;
const TEMPORALITY_NAMES: Record<string, number> = { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 };

function enumValue(v: unknown, names: Record<string, number>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return names[v] ?? (Number.isFinite(Number(v)) ? Number(v) : 0);
  return 0;
}

const SEVERITY_NAMES: Record<string, number> = {};
['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].forEach((n, i) => {
  SEVERITY_NAMES[`SEVERITY_NUMBER_${n}`] = i * 4 + 1;
  for (let k = 2; k <= 4; k++) SEVERITY_NAMES[`SEVERITY_NUMBER_${n}${k}`] = i * 4 + k;
});

export const MAX_LOG_BODY = 256 * 1024;

export class Collector {
  readonly batch: SignalBatch = { spans: [], logs: [], metrics: [], errors: [] };
  rejected = 0;
  readonly errors: string[] = [];
  reject(reason: string): void {
    this.rejected++;
    if (this.errors.length < 5 && !this.errors.includes(reason)) this.errors.push(reason);
  }
}

export function spanError(span: Span, ev: SpanEvent): ErrorEvent {
  const a = ev.attributes;
  const stack = typeof a['exception.stacktrace'] === 'string' ? (a['exception.stacktrace'] as string) : undefined;
  const header = stack ? splitErrorHeader(stack) : { message: '' };
  const type = String(a['exception.type'] ?? header.type ?? 'Error');
  const message = String(a['exception.message'] ?? header.message ?? '');
  return makeErrorEvent({
    timeUs: ev.timeUs,
    service: span.service,
    type,
    message,
    rawStack: stack,
    traceId: span.traceId,
    spanId: span.spanId,
    release: releaseOf(span.resource),
    environment: environmentOf(span.resource),
    source: 'span',
    attributes: { 'span.name': span.name },
    resource: span.resource,
  });
}

export function logError(l: LogRecord): ErrorEvent | undefined {
  const a = l.attributes;
  const stack = typeof a['exception.stacktrace'] === 'string' ? (a['exception.stacktrace'] as string) : looksLikeStack(l.body) ? l.body : undefined;
  if (!stack && a['exception.type'] === undefined) return undefined;
  const header = splitErrorHeader(stack ?? l.body);
  return makeErrorEvent({
    timeUs: l.timeUs,
    service: l.service,
    type: String(a['exception.type'] ?? header.type ?? 'Error'),
    message: String(a['exception.message'] ?? header.message ?? l.body.split('\n', 1)[0]),
    rawStack: stack,
    ...(l.traceId ? { traceId: l.traceId } : {}),
    ...(l.spanId ? { spanId: l.spanId } : {}),
    release: releaseOf(l.resource),
    environment: environmentOf(l.resource),
    source: 'log',
    attributes: {},
    resource: l.resource,
  });
}

export const ZERO_IDS: Record<number, string> = { 8: '0'.repeat(16), 16: '0'.repeat(32) };

/** idHex only ever returns lower-case hex (or 'invalid'), so length and all-zero are all there is to check. */
export function validId(hex: string, bytes: number): boolean {
  return hex.length === bytes * 2 && hex !== ZERO_IDS[bytes];
}

export function decodeTraces(req: Obj): DecodeResult {
  const c = new Collector();
  const rss = (field(req, 'resourceSpans', 'resource_spans') ?? []) as Obj[];
  if (!Array.isArray(rss)) throw new TypeError('resourceSpans must be an array');
  for (const rs of rss) {
    const resource = resourceOf(rs?.resource);
    const service = serviceOf(resource);
    for (const ss of (field(rs, 'scopeSpans', 'scope_spans') ?? []) as Obj[]) {
      const scope = scopeOf(ss?.scope);
      for (const s of (ss?.spans ?? []) as Obj[]) {
        const traceId = idHex(field(s, 'traceId', 'trace_id'));
        const spanId = idHex(field(s, 'spanId', 'span_id'));
        if (!validId(traceId, 16)) {
          c.reject(`span "${String(s?.name ?? '')}": trace id must be 16 non-zero bytes, got "${traceId.slice(0, 40)}"`);
          continue;
        }
        if (!validId(spanId, 8)) {
          c.reject(`span "${String(s?.name ?? '')}": span id must be 8 non-zero bytes, got "${spanId.slice(0, 40)}"`);
          continue;
        }
        const startUs = usFromNanos(field(s, 'startTimeUnixNano', 'start_time_unix_nano'));
        const endUs = usFromNanos(field(s, 'endTimeUnixNano', 'end_time_unix_nano'));
        if (!Number.isFinite(startUs) || !Number.isFinite(endUs) || startUs <= 0) {
          c.reject(`span ${spanId}: start/end time missing or not a non-negative integer of nanoseconds`);
          continue;
        }
        if (endUs < startUs) {
          c.reject(`span ${spanId}: negative duration (end ${endUs} µs before start ${startUs} µs)`);
          continue;
        }
        const parent = idHex(field(s, 'parentSpanId', 'parent_span_id'));
        const st = (s.status ?? {}) as Obj;
        const events: SpanEvent[] = ((s.events ?? []) as Obj[]).map((e) => {
          const ev: SpanEvent = { timeUs: usFromNanos(field(e, 'timeUnixNano', 'time_unix_nano')) || startUs, name: String(e?.name ?? ''), attributes: attributes(e?.attributes) };
          const d = field(e, 'droppedAttributesCount', 'dropped_attributes_count');
          if (d) ev.droppedAttributesCount = Number(d);
          return ev;
        });
        const links: SpanLink[] = ((s.links ?? []) as Obj[]).map((l) => {
          const link: SpanLink = { traceId: idHex(field(l, 'traceId', 'trace_id')), spanId: idHex(field(l, 'spanId', 'span_id')), attributes: attributes(l?.attributes) };
          const ts = field(l, 'traceState', 'trace_state');
          if (ts) link.traceState = String(ts);
          if (l.flags) link.flags = Number(l.flags);
          return link;
        });
        const span: Span = {
          traceId,
          spanId,
          name: String(s.name ?? ''),
          kind: Math.max(0, Math.min(5, enumValue(s.kind, SPAN_KINDS))) as Span['kind'],
          startUs,
          endUs,
          service,
          attributes: attributes(s.attributes),
          events,
          links,
          status: { code: Math.max(0, Math.min(2, enumValue(st.code, STATUS_CODES))) as Span['status']['code'] },
          resource,
        };
        if (st.message) span.status.message = String(st.message);
        if (parent && parent !== 'invalid' && parent !== ZERO_IDS[8]) span.parentSpanId = parent;
        const ts = field(s, 'traceState', 'trace_state');
        if (ts) span.traceState = String(ts);
        if (s.flags) span.flags = Number(s.flags);
        if (scope) span.scope = scope;
        for (const [k, name] of [
          ['droppedAttributesCount', 'dropped_attributes_count'],
          ['droppedEventsCount', 'dropped_events_count'],
          ['droppedLinksCount', 'dropped_links_count'],
        ] as const) {
          const d = field(s, k, name);
          if (d) span[k] = Number(d);
        }
        c.batch.spans.push(span);
        for (const ev of events) if (ev.name === 'exception') c.batch.errors.push(spanError(span, ev));
      }
    }
  }
  return { batch: c.batch, rejected: c.rejected, errors: c.errors };
}

export function decodeLogs(req: Obj, receivedUs = Date.now() * 1000): DecodeResult {
  const c = new Collector();
  const rls = (field(req, 'resourceLogs', 'resource_logs') ?? []) as Obj[];
  if (!Array.isArray(rls)) throw new TypeError('resourceLogs must be an array');
  for (const rl of rls) {
    const resource = resourceOf(rl?.resource);
    const service = serviceOf(resource);
    for (const sl of (field(rl, 'scopeLogs', 'scope_logs') ?? []) as Obj[]) {
      const scope = scopeOf(sl?.scope);
      for (const r of (field(sl, 'logRecords', 'log_records') ?? []) as Obj[]) {
        let timeUs = usFromNanos(field(r, 'timeUnixNano', 'time_unix_nano'));
        const observed = usFromNanos(field(r, 'observedTimeUnixNano', 'observed_time_unix_nano'));
        // The spec: when the event time is unknown (0), the observed time stands in; failing that, arrival.
        if (!timeUs) timeUs = observed || receivedUs;
        if (!Number.isFinite(timeUs)) {
          c.reject('log record: time is not a non-negative integer of nanoseconds');
          continue;
        }
        const bodyValue = r.body ? anyValue(r.body) : null;
        const body = bodyValue === null ? '' : typeof bodyValue === 'string' ? bodyValue : JSON.stringify(bodyValue);
        if (body.length > MAX_LOG_BODY) {
          c.reject(`log record: body of ${body.length} characters exceeds the ${MAX_LOG_BODY}-character limit`);
          continue;
        }
        const traceId = idHex(field(r, 'traceId', 'trace_id'));
        const spanId = idHex(field(r, 'spanId', 'span_id'));
        const rec: LogRecord = {
          timeUs,
          service,
          severityNumber: enumValue(field(r, 'severityNumber', 'severity_number'), SEVERITY_NAMES),
          body,
          attributes: attributes(r.attributes),
          resource,
        };
        if (bodyValue !== null && typeof bodyValue !== 'string') rec.bodyValue = bodyValue;
        if (Number.isFinite(observed) && observed) rec.observedTimeUs = observed;
        const sev = field(r, 'severityText', 'severity_text');
        if (sev) rec.severityText = String(sev);
        if (validId(traceId, 16)) rec.traceId = traceId;
        if (validId(spanId, 8)) rec.spanId = spanId;
        if (r.flags) rec.flags = Number(r.flags);
        const en = field(r, 'eventName', 'event_name');
        if (en) rec.eventName = String(en);
        const dropped = field(r, 'droppedAttributesCount', 'dropped_attributes_count');
        if (dropped) rec.droppedAttributesCount = Number(dropped);
        if (scope) rec.scope = scope;
        c.batch.logs.push(rec);
        if (rec.severityNumber >= 17 || rec.attributes['exception.type'] !== undefined) {
          const e = logError(rec);
          if (e) c.batch.errors.push(e);
        }
      }
    }
  }
  return { batch: c.batch, rejected: c.rejected, errors: c.errors };
}

export function decodeMetrics(req: Obj): DecodeResult {
  const c = new Collector();
  const rms = (field(req, 'resourceMetrics', 'resource_metrics') ?? []) as Obj[];
  if (!Array.isArray(rms)) throw new TypeError('resourceMetrics must be an array');
  for (const rm of rms) {
    const resource = resourceOf(rm?.resource);
    const service = serviceOf(resource);
    for (const sm of (field(rm, 'scopeMetrics', 'scope_metrics') ?? []) as Obj[]) {
      const scope = scopeOf(sm?.scope);
      for (const m of (sm?.metrics ?? []) as Obj[]) {
        const name = String(m?.name ?? '');
        if (!name) {
          c.reject('metric without a name');
          continue;
        }
        const base = (p: Obj): Pick<MetricPoint, 'name' | 'service' | 'attributes' | 'timeUs' | 'resource'> & Partial<MetricPoint> => {
          const out: Pick<MetricPoint, 'name' | 'service' | 'attributes' | 'timeUs' | 'resource'> & Partial<MetricPoint> = {
            name,
            service,
            attributes: attributes(p.attributes),
            timeUs: usFromNanos(field(p, 'timeUnixNano', 'time_unix_nano')),
            resource,
          };
          const st = usFromNanos(field(p, 'startTimeUnixNano', 'start_time_unix_nano'));
          if (st) out.startTimeUs = st;
          if (m.description) out.description = String(m.description);
          if (m.unit) out.unit = String(m.unit);
          if (scope) out.scope = scope;
          if (p.flags) out.flags = Number(p.flags);
          return out;
        };
        const numberValue = (p: Obj): number => (has(p, 'asInt') || has(p, 'as_int') ? Number(intValue(field(p, 'asInt', 'as_int'))) : num(field(p, 'asDouble', 'as_double')));
        const push = (p: MetricPoint): void => {
          if (!Number.isFinite(p.timeUs) || p.timeUs <= 0) c.reject(`metric ${name}: data point time missing or invalid`);
          else c.batch.metrics.push(p);
        };
        const temporality = (d: Obj): (typeof TEMPORALITY)[number] => TEMPORALITY[enumValue(field(d, 'aggregationTemporality', 'aggregation_temporality'), TEMPORALITY_NAMES)] ?? 'unspecified';
        if (m.gauge) {
          for (const p of (field(m.gauge, 'dataPoints', 'data_points') ?? []) as Obj[]) {
            const value = numberValue(p);
            if (Number.isNaN(value)) {
              c.reject(`metric ${name}: gauge value is NaN`);
              continue;
            }
            push({ ...base(p), type: 'gauge', value } as MetricPoint);
          }
        } else if (m.sum) {
          const t = temporality(m.sum);
          const mono = Boolean(field(m.sum, 'isMonotonic', 'is_monotonic'));
          for (const p of (field(m.sum, 'dataPoints', 'data_points') ?? []) as Obj[]) {
            const value = numberValue(p);
            if (Number.isNaN(value)) {
              c.reject(`metric ${name}: sum value is NaN`);
              continue;
            }
            push({ ...base(p), type: 'sum', value, monotonic: mono, temporality: t } as MetricPoint);
          }
        } else if (m.histogram) {
          const t = temporality(m.histogram);
          for (const p of (field(m.histogram, 'dataPoints', 'data_points') ?? []) as Obj[]) {
            const bounds = ((field(p, 'explicitBounds', 'explicit_bounds') ?? []) as unknown[]).map(num);
            const counts = ((field(p, 'bucketCounts', 'bucket_counts') ?? []) as unknown[]).map((x) => Number(intValue(x)));
            if (counts.length && counts.length !== bounds.length + 1) {
              c.reject(`metric ${name}: histogram has ${counts.length} buckets for ${bounds.length} bounds`);
              continue;
            }
            const hp = { ...base(p), type: 'histogram', count: Number(intValue(p.count ?? 0)), explicitBounds: bounds, bucketCounts: counts, temporality: t } as MetricPoint & { sum?: number; min?: number; max?: number };
            if (has(p, 'sum') || p.sum !== undefined) hp.sum = num(p.sum);
            if (has(p, 'min') || p.min !== undefined) hp.min = num(p.min);
            if (has(p, 'max') || p.max !== undefined) hp.max = num(p.max);
            push(hp);
          }
        } else if (m.exponentialHistogram || m.exponential_histogram) {
          const eh = (m.exponentialHistogram ?? m.exponential_histogram) as Obj;
          const t = temporality(eh);
          for (const p of (field(eh, 'dataPoints', 'data_points') ?? []) as Obj[]) {
            const buckets = (b: Obj | undefined): { offset: number; bucketCounts: number[] } => ({ offset: Number(b?.offset ?? 0), bucketCounts: ((field(b, 'bucketCounts', 'bucket_counts') ?? []) as unknown[]).map((x) => Number(intValue(x))) });
            const ep = {
              ...base(p),
              type: 'exponential_histogram',
              count: Number(intValue(p.count ?? 0)),
              scale: Number(p.scale ?? 0),
              zeroCount: Number(intValue(field(p, 'zeroCount', 'zero_count') ?? 0)),
              positive: buckets(p.positive),
              negative: buckets(p.negative),
              temporality: t,
            } as MetricPoint & { sum?: number; min?: number; max?: number; zeroThreshold?: number };
            if (p.sum !== undefined) ep.sum = num(p.sum);
            if (p.min !== undefined) ep.min = num(p.min);
            if (p.max !== undefined) ep.max = num(p.max);
            const zt = field(p, 'zeroThreshold', 'zero_threshold');
            if (zt) ep.zeroThreshold = num(zt);
            push(ep);
          }
        } else if (m.summary) {
          for (const p of (field(m.summary, 'dataPoints', 'data_points') ?? []) as Obj[]) {
            const qs = ((field(p, 'quantileValues', 'quantile_values') ?? []) as Obj[]).map((q) => ({ quantile: num(q.quantile ?? 0), value: num(q.value ?? 0) }));
            push({ ...base(p), type: 'summary', count: Number(intValue(p.count ?? 0)), sum: num(p.sum ?? 0), quantiles: qs } as MetricPoint);
          }
        } else {
          c.reject(`metric ${name}: no gauge, sum, histogram, exponential histogram or summary data`);
        }
      }
    }
  }
  return { batch: c.batch, rejected: c.rejected, errors: c.errors };
}
