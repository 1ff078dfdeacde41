/**
 * OTLP protobuf for traces and logs, read straight from the wire into the signal model — no intermediate message
 * objects, no Long, no id Buffers. Written by hand because it is the receiver's hot path: protobufjs builds a
 * full message tree that decode.ts then walks again, and the two together cost as much as storing the batch
 * (bench/otlp-ingest.bench.ts). The output is identical to protobufjs + decode.ts for every valid payload — a
 * differential test (wire.test.ts) holds the two to that — so everything downstream is unchanged.
 *
 * Metrics keep the protobufjs path: far fewer items per request and many more message types.
 */
import type { AttrValue, Attributes, ErrorEvent, InstrumentationScope, LogRecord, Resource, Span, SpanEvent, SpanLink } from '../model.js';
import { serviceOf } from '../model.js';
import { Collector, MAX_LOG_BODY, ZERO_IDS, logError, spanError, validId, type DecodeResult } from './decode.js';

export class WireError extends Error {}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAX_DEPTH = 16;

/** A cursor over one protobuf message (a sub-range of the request buffer). */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    // Up to 32 bits as an unsigned number; longer varints keep their low 32 bits (enums, counts, tags).
    const b = this.buf;
    let x = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const c = b[this.pos++]!;
      if (shift < 32) x += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return x > 0xffffffff ? x % 4294967296 : x;
      shift += 7;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** A 64-bit varint as [low, high] 32-bit halves (int64 attributes, negative numbers included). */
  varint64(): [number, number] {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const c = b[this.pos++]!;
      const bits = c & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (c < 0x80) return [lo >>> 0, hi | 0];
      shift += 7;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new WireError('truncated fixed32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** fixed64 nanoseconds → integer microseconds, exactly as decode.ts's usFromNanos does for a Long. */
  fixed64Us(): number {
    if (this.pos + 8 > this.end) throw new WireError('truncated fixed64');
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new WireError('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Length-delimited field: returns its end; the content starts at `pos`. */
  len(): number {
    const n = this.varint();
    const e = this.pos + n;
    if (e > this.end) throw new WireError(`length ${n} runs past the end of the message`);
    return e;
  }

  string(): string {
    const e = this.len();
    const s = this.buf.toString('utf8', this.pos, e);
    this.pos = e;
    return s;
  }

  hex(): string {
    const e = this.len();
    let s = '';
    for (let i = this.pos; i < e; i++) s += HEX[this.buf[i]!];
    this.pos = e;
    return s;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        if (this.pos + 8 > this.end) throw new WireError('truncated fixed64');
        this.pos += 8;
        return;
      case 2:
        this.pos = this.len();
        return;
      case 5:
        if (this.pos + 4 > this.end) throw new WireError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new WireError(`invalid wire type ${wire}`);
    }
  }

  sub(): Reader {
    const e = this.len();
    const r = new Reader(this.buf, this.pos, e);
    this.pos = e;
    return r;
  }
}

function int64Value(lo: number, hi: number): number | string {
  const n = hi * 4294967296 + lo;
  return Number.isSafeInteger(n) ? n : String(n);
}

function anyValue(r: Reader, depth: number): AttrValue {
  if (depth > MAX_DEPTH) {
    r.pos = r.end;
    return null;
  }
  let v: AttrValue = null;
  while (r.pos < r.end) {
    const tag = r.varint();
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 1 && w === 2) v = r.string();
    else if (f === 2 && w === 0) v = r.varint() !== 0;
    else if (f === 3 && w === 0) {
      const [lo, hi] = r.varint64();
      v = int64Value(lo, hi);
    } else if (f === 4 && w === 1) v = r.double();
    else if (f === 5 && w === 2) {
      const arr = r.sub();
      const out: AttrValue[] = [];
      while (arr.pos < arr.end) {
        const t = arr.varint();
        if (t >>> 3 === 1 && (t & 7) === 2) out.push(anyValue(arr.sub(), depth + 1));
        else arr.skip(t & 7);
      }
      v = out;
    } else if (f === 6 && w === 2) {
      const kv = r.sub();
      const out: Attributes = {};
      while (kv.pos < kv.end) {
        const t = kv.varint();
        if (t >>> 3 === 1 && (t & 7) === 2) keyValue(kv.sub(), out, depth + 1);
        else kv.skip(t & 7);
      }
      v = out;
    } else if (f === 7 && w === 2) {
      const e = r.len();
      v = r.buf.toString('base64', r.pos, e);
      r.pos = e;
    } else r.skip(w);
  }
  return v;
}

function keyValue(r: Reader, into: Attributes, depth: number): void {
  let key = '';
  let value: AttrValue = null;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) key = r.string();
    else if (tag === 0x12) value = anyValue(r.sub(), depth);
    else r.skip(tag & 7);
  }
  into[key] = value;
}

function resource(r: Reader): Resource {
  const res: Resource = { attributes: {} };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) keyValue(r.sub(), res.attributes, 0);
    else if (tag === 0x10) {
      const d = r.varint();
      if (d) res.droppedAttributesCount = d;
      else delete res.droppedAttributesCount;
    } else r.skip(tag & 7);
  }
  return res;
}

function scope(r: Reader): InstrumentationScope {
  let name = '';
  let version = '';
  let attrs: Attributes | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) name = r.string();
    else if (tag === 0x12) version = r.string();
    else if (tag === 0x1a) keyValue(r.sub(), (attrs ??= {}), 0);
    else r.skip(tag & 7);
  }
  const s: InstrumentationScope = { name };
  if (version) s.version = version;
  if (attrs && Object.keys(attrs).length) s.attributes = attrs;
  return s;
}

function event(r: Reader, startUs: number): SpanEvent {
  let timeUs = 0;
  let name = '';
  const attributes: Attributes = {};
  let dropped = 0;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x09) timeUs = r.fixed64Us();
    else if (tag === 0x12) name = r.string();
    else if (tag === 0x1a) keyValue(r.sub(), attributes, 0);
    else if (tag === 0x20) dropped = r.varint();
    else r.skip(tag & 7);
  }
  const ev: SpanEvent = { timeUs: timeUs || startUs, name, attributes };
  if (dropped) ev.droppedAttributesCount = dropped;
  return ev;
}

function link(r: Reader): SpanLink {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  let flags = 0;
  const attributes: Attributes = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) traceId = r.hex();
    else if (tag === 0x12) spanId = r.hex();
    else if (tag === 0x1a) traceState = r.string();
    else if (tag === 0x22) keyValue(r.sub(), attributes, 0);
    else if (tag === 0x35) flags = r.fixed32();
    else r.skip(tag & 7);
  }
  const l: SpanLink = { traceId, spanId, attributes };
  if (traceState) l.traceState = traceState;
  if (flags) l.flags = flags;
  return l;
}

function span(r: Reader, res: Resource, service: string, sc: InstrumentationScope | undefined, c: Collector): void {
  let traceId = '';
  let spanId = '';
  let parent = '';
  let traceState = '';
  let flags = 0;
  let name = '';
  let kind = 0;
  let startUs = 0;
  let endUs = 0;
  const attributes: Attributes = {};
  let droppedAttributes = 0;
  let droppedEvents = 0;
  let droppedLinks = 0;
  const evRanges: Reader[] = [];
  const links: SpanLink[] = [];
  let code = 0;
  let message = '';
  while (r.pos < r.end) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        traceId = r.hex();
        break;
      case 0x12:
        spanId = r.hex();
        break;
      case 0x1a:
        traceState = r.string();
        break;
      case 0x22:
        parent = r.hex();
        break;
      case 0x2a:
        name = r.string();
        break;
      case 0x30:
        kind = r.varint() | 0;
        break;
      case 0x39:
        startUs = r.fixed64Us();
        break;
      case 0x41:
        endUs = r.fixed64Us();
        break;
      case 0x4a:
        keyValue(r.sub(), attributes, 0);
        break;
      case 0x50:
        droppedAttributes = r.varint();
        break;
      case 0x5a:
        // Events need the start time (their default time), which may come later on the wire.
        evRanges.push(r.sub());
        break;
      case 0x60:
        droppedEvents = r.varint();
        break;
      case 0x6a:
        links.push(link(r.sub()));
        break;
      case 0x70:
        droppedLinks = r.varint();
        break;
      case 0x7a: {
        const st = r.sub();
        while (st.pos < st.end) {
          const t = st.varint();
          if (t === 0x12) message = st.string();
          else if (t === 0x18) code = st.varint() | 0;
          else st.skip(t & 7);
        }
        break;
      }
      case 0x85:
        // field 16, fixed32: tag = (16 << 3) | 5 = 133, a two-byte varint
        flags = r.fixed32();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (!validId(traceId, 16)) return c.reject(`span "${name}": trace id must be 16 non-zero bytes, got "${traceId.slice(0, 40)}"`);
  if (!validId(spanId, 8)) return c.reject(`span "${name}": span id must be 8 non-zero bytes, got "${spanId.slice(0, 40)}"`);
  if (startUs <= 0) return c.reject(`span ${spanId}: start/end time missing or not a non-negative integer of nanoseconds`);
  if (endUs < startUs) return c.reject(`span ${spanId}: negative duration (end ${endUs} µs before start ${startUs} µs)`);
  const events = evRanges.map((e) => event(e, startUs));
  const s: Span = {
    traceId,
    spanId,
    name,
    kind: Math.max(0, Math.min(5, kind)) as Span['kind'],
    startUs,
    endUs,
    service,
    attributes,
    events,
    links,
    status: { code: Math.max(0, Math.min(2, code)) as Span['status']['code'] },
    resource: res,
  };
  if (message) s.status.message = message;
  if (parent && parent !== ZERO_IDS[8]) s.parentSpanId = parent;
  if (traceState) s.traceState = traceState;
  if (flags) s.flags = flags;
  if (sc) s.scope = sc;
  if (droppedAttributes) s.droppedAttributesCount = droppedAttributes;
  if (droppedEvents) s.droppedEventsCount = droppedEvents;
  if (droppedLinks) s.droppedLinksCount = droppedLinks;
  c.batch.spans.push(s);
  for (const ev of events) if (ev.name === 'exception') c.batch.errors.push(spanError(s, ev));
}

/**
 * The shared walk of ExportTraceServiceRequest / ExportLogsServiceRequest: resource → scope → items. Resource and
 * scope may follow the items on the wire, so item ranges are collected first and decoded once both are known.
 */
function walk(buf: Buffer, item: (r: Reader, res: Resource, service: string, sc: InstrumentationScope | undefined) => void): void {
  const top = new Reader(buf, 0, buf.length);
  while (top.pos < top.end) {
    const tag = top.varint();
    if (tag !== 0x0a) {
      top.skip(tag & 7);
      continue;
    }
    const rs = top.sub();
    let res: Resource = { attributes: {} };
    const scopes: Reader[] = [];
    while (rs.pos < rs.end) {
      const t = rs.varint();
      if (t === 0x0a) res = resource(rs.sub());
      else if (t === 0x12) scopes.push(rs.sub());
      else rs.skip(t & 7);
    }
    const service = serviceOf(res);
    for (const ss of scopes) {
      let sc: InstrumentationScope | undefined;
      const items: Reader[] = [];
      while (ss.pos < ss.end) {
        const t = ss.varint();
        if (t === 0x0a) sc = scope(ss.sub());
        else if (t === 0x12) items.push(ss.sub());
        else ss.skip(t & 7);
      }
      for (const it of items) item(it, res, service, sc);
    }
  }
}

export function decodeTracesWire(buf: Buffer): DecodeResult {
  const c = new Collector();
  walk(buf, (r, res, service, sc) => span(r, res, service, sc, c));
  return { batch: c.batch, rejected: c.rejected, errors: c.errors };
}

function logRecord(r: Reader, res: Resource, service: string, sc: InstrumentationScope | undefined, c: Collector, receivedUs: number): void {
  let timeUs = 0;
  let observed = 0;
  let severityNumber = 0;
  let severityText = '';
  let bodyValue: AttrValue = null;
  const attributes: Attributes = {};
  let droppedAttributes = 0;
  let flags = 0;
  let traceId = '';
  let spanId = '';
  let eventName = '';
  while (r.pos < r.end) {
    const tag = r.varint();
    switch (tag) {
      case 0x09:
        timeUs = r.fixed64Us();
        break;
      case 0x59:
        observed = r.fixed64Us();
        break;
      case 0x10:
        severityNumber = r.varint() | 0;
        break;
      case 0x1a:
        severityText = r.string();
        break;
      case 0x2a:
        bodyValue = anyValue(r.sub(), 0);
        break;
      case 0x32:
        keyValue(r.sub(), attributes, 0);
        break;
      case 0x38:
        droppedAttributes = r.varint();
        break;
      case 0x45:
        flags = r.fixed32();
        break;
      case 0x4a:
        traceId = r.hex();
        break;
      case 0x52:
        spanId = r.hex();
        break;
      case 0x62:
        eventName = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  // The spec: when the event time is unknown (0), the observed time stands in; failing that, arrival.
  if (!timeUs) timeUs = observed || receivedUs;
  const body = bodyValue === null ? '' : typeof bodyValue === 'string' ? bodyValue : JSON.stringify(bodyValue);
  if (body.length > MAX_LOG_BODY) return c.reject(`log record: body of ${body.length} characters exceeds the ${MAX_LOG_BODY}-character limit`);
  const rec: LogRecord = { timeUs, service, severityNumber, body, attributes, resource: res };
  if (bodyValue !== null && typeof bodyValue !== 'string') rec.bodyValue = bodyValue;
  if (observed) rec.observedTimeUs = observed;
  if (severityText) rec.severityText = severityText;
  if (validId(traceId, 16)) rec.traceId = traceId;
  if (validId(spanId, 8)) rec.spanId = spanId;
  if (flags) rec.flags = flags;
  if (eventName) rec.eventName = eventName;
  if (sc) rec.scope = sc;
  if (droppedAttributes) rec.droppedAttributesCount = droppedAttributes;
  c.batch.logs.push(rec);
  if (rec.severityNumber >= 17 || rec.attributes['exception.type'] !== undefined) {
    const e = logError(rec);
    if (e) c.batch.errors.push(e);
  }
}

export function decodeLogsWire(buf: Buffer, receivedUs = Date.now() * 1000): DecodeResult {
  const c = new Collector();
  walk(buf, (r, res, service, sc) => logRecord(r, res, service, sc, c, receivedUs));
  return { batch: c.batch, rejected: c.rejected, errors: c.errors };
}

/**
 * Spans as store rows, straight off the wire: the columns the store indexes and aggregates on (ids, name, kind,
 * times, status code, service) become values, and everything else of a span — attributes, events, links, status
 * message, trace state, flags, dropped counts — stays protobuf: its fields' bytes are copied, as they came, into
 * one buffer (`rest`). The store keeps those bytes as the span's `rest` blob and decodes them only when a span
 * is read (decodeSpanRest). On the receiver's thread this replaces building a Span object tree per span and then
 * a JSON text of it, which together cost more CPU than decoding (bench/otlp-ingest.bench.ts).
 *
 * Accepts and rejects exactly what decodeTracesWire does (same checks, same messages; attribute, event and link
 * bytes are walked with the same rules, so a payload decodeTracesWire refuses is refused here too), and a span
 * read back from the store equals the one decodeTracesWire makes (wire.test.ts holds the two to that).
 */
export interface TraceRows {
  /** Spans accepted. */
  count: number;
  resources: Resource[];
  scopes: InstrumentationScope[];
  /**
   * Every accepted span's ids in hex, back to back: trace id (32), span id (16), then the parent's (its
   * length in `nums`). One string crosses to the writer thread far cheaper than three per span.
   */
  ids: string;
  /** Services and span names, each once; `nums` refers to them by index. */
  strings: string[];
  /**
   * ROW_NUMS numbers per accepted span: kind, startUs, endUs, status code, resource index, scope index (-1:
   * none), end offset of its bytes in `rest` (each span's start where the previous one's ends), service index,
   * name index, parent id length in hex characters (0: none). Its own ArrayBuffer, as `rest`'s.
   */
  nums: Float64Array;
  /** Its own ArrayBuffer (not a pool slice), so it can be transferred to the writer thread instead of copied. */
  rest: Buffer;
  /** Error events from spans' exception events, as decodeTracesWire makes them. */
  errors: ErrorEvent[];
  rejected: number;
  messages: string[];
}

export const ROW_NUMS = 10;

/**
 * Walks a KeyValue as keyValue() reads it, without building it: the same malformed input throws the same
 * error. A cursor in locals rather than Reader objects: two allocations per attribute were a visible share of
 * the receiver's garbage.
 */
function checkKeyValue(b: Buffer, pos: number, end: number, depth: number): void {
  while (pos < end) {
    let tag = b[pos++]!;
    if (tag >= 0x80) {
      const r = new Reader(b, pos - 1, end);
      tag = r.varint();
      pos = r.pos;
    }
    if (tag === 0x12) {
      const [s, e] = fieldRange(b, pos, end);
      checkAnyValue(b, s, e, depth);
      pos = e;
    } else pos = skipAt(b, pos, end, tag & 7);
  }
}

function checkAnyValue(b: Buffer, pos: number, end: number, depth: number): void {
  if (depth > MAX_DEPTH) return;
  while (pos < end) {
    let tag = b[pos++]!;
    if (tag >= 0x80) {
      const r = new Reader(b, pos - 1, end);
      tag = r.varint();
      pos = r.pos;
    }
    const f = tag >>> 3;
    const w = tag & 7;
    if ((f === 5 || f === 6) && w === 2) {
      const [s, e] = fieldRange(b, pos, end);
      let p = s;
      while (p < e) {
        const r = new Reader(b, p, e);
        const t = r.varint();
        if (t >>> 3 === 1 && (t & 7) === 2) {
          const [s2, e2] = fieldRange(b, r.pos, e);
          if (f === 5) checkAnyValue(b, s2, e2, depth + 1);
          else checkKeyValue(b, s2, e2, depth + 1);
          p = e2;
        } else p = skipAt(b, r.pos, e, t & 7);
      }
      pos = e;
    } else if (f === 3 && w === 0) {
      const r = new Reader(b, pos, end);
      r.varint64();
      pos = r.pos;
    } else if (f === 4 && w === 1) {
      if (pos + 8 > end) throw new WireError('truncated double');
      pos += 8;
    } else pos = skipAt(b, pos, end, w);
  }
}

/** A length-delimited field's content range, checked as Reader.len() checks it. */
const RANGE: [number, number] = [0, 0];
function fieldRange(b: Buffer, pos: number, end: number): [number, number] {
  let n = b[pos]!;
  if (pos < end && n < 0x80) pos++;
  else {
    const r = new Reader(b, pos, end);
    n = r.varint();
    pos = r.pos;
  }
  const e = pos + n;
  if (e > end) throw new WireError(`length ${n} runs past the end of the message`);
  RANGE[0] = pos;
  RANGE[1] = e;
  return RANGE;
}

/** Reader.skip() at a position, returning the new one (single-byte varints without a Reader). */
function skipAt(b: Buffer, pos: number, end: number, wire: number): number {
  if (wire === 0 && pos < end && b[pos]! < 0x80) return pos + 1;
  if (wire === 2) return fieldRange(b, pos, end)[1];
  const r = new Reader(b, pos, end);
  r.skip(wire);
  return r.pos;
}

/** The row decoder's output as it grows (fields, not closures: this runs once per span). */
/**
 * Scratch space reused by every call (decoding is synchronous): ids are written here as hex text, numbers and
 * rest bytes accumulate here, and each leaves as one exact-size copy — per request a few allocations instead of
 * several per span.
 */
let scratchIds = Buffer.allocUnsafeSlow(1 << 16);
let scratchNums = new Float64Array(1 << 12);
let scratchRest = Buffer.allocUnsafeSlow(1 << 16);
const SCRATCH_CAP = 8 << 20;
/** Two ASCII hex digits per byte value, as one 16-bit little-endian unit. */
const HEX2 = new Uint16Array(256);
for (let i = 0; i < 256; i++) HEX2[i] = HEX[i]!.charCodeAt(0) | (HEX[i]!.charCodeAt(1) << 8);

class RowOut {
  nums = scratchNums;
  n = 0;
  ids = scratchIds;
  idLen = 0;
  rest = scratchRest;
  readonly strings: string[] = [];
  readonly stringIdx = new Map<string, number>();
  readonly errors: ErrorEvent[] = [];
  readonly c = new Collector();
  count = 0;
  len = 0;
  /** The pending copy into `rest`: consecutive rest fields (attributes usually are) go in one copy. */
  c0 = 0;
  c1 = 0;
  constructor(readonly buf: Buffer) {}

  /** Hex of buf[from, to) appended to the ids. */
  hex(from: number, to: number): void {
    const need = this.idLen + 2 * (to - from);
    if (need > this.ids.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.ids.length));
      this.ids.copy(bigger, 0, 0, this.idLen);
      this.ids = scratchIds = bigger;
    }
    const ids = this.ids;
    const b = this.buf;
    let k = this.idLen;
    for (let i = from; i < to; i++) {
      const h = HEX2[b[i]!]!;
      ids[k++] = h & 0xff;
      ids[k++] = h >>> 8;
    }
    this.idLen = k;
  }

  num(v: number): void {
    if (this.n === this.nums.length) {
      const bigger = new Float64Array(2 * this.nums.length);
      bigger.set(this.nums);
      this.nums = scratchNums = bigger;
    }
    this.nums[this.n++] = v;
  }

  keep(from: number, to: number): void {
    if (from === this.c1) this.c1 = to;
    else {
      this.flush();
      this.c0 = from;
      this.c1 = to;
    }
  }

  flush(): void {
    if (this.c1 > this.c0) {
      const need = this.len + this.c1 - this.c0;
      if (need > this.rest.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.rest.length));
        this.rest.copy(bigger, 0, 0, this.len);
        this.rest = scratchRest = bigger;
      }
      this.rest.set(this.buf.subarray(this.c0, this.c1), this.len);
    }
    this.len += this.c1 - this.c0;
    this.c0 = this.c1 = 0;
  }

  str(s: string): number {
    let i = this.stringIdx.get(s);
    if (i === undefined) this.stringIdx.set(s, (i = this.strings.push(s) - 1));
    return i;
  }
}

function spanRow(r: Reader, res: Resource, resIdx: number, serviceIdx: number, service: string, sc: InstrumentationScope | undefined, scIdx: number, out: RowOut): void {
  const b = r.buf;
  const from = r.pos;
  let tid0 = 0;
  let tid1 = 0;
  let sid0 = 0;
  let sid1 = 0;
  let pid0 = 0;
  let pid1 = 0;
  let name = '';
  let kind = 0;
  let startUs = 0;
  let endUs = 0;
  let code = 0;
  let events = false;
  const restStart = out.len;
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        tid1 = r.len();
        tid0 = r.pos;
        r.pos = tid1;
        break;
      case 0x12:
        sid1 = r.len();
        sid0 = r.pos;
        r.pos = sid1;
        break;
      case 0x22:
        pid1 = r.len();
        pid0 = r.pos;
        r.pos = pid1;
        break;
      case 0x2a:
        name = r.string();
        break;
      case 0x30:
        kind = r.varint() | 0;
        break;
      case 0x39:
        startUs = r.fixed64Us();
        break;
      case 0x41:
        endUs = r.fixed64Us();
        break;
      case 0x4a: {
        const e = r.len();
        checkKeyValue(b, r.pos, e, 0);
        r.pos = e;
        out.keep(at, e);
        break;
      }
      case 0x5a:
        // Not decoded here: decodeTracesWire decodes events only for spans it accepts, and so does the
        // second pass below (which also refuses malformed ones with the same error).
        r.pos = r.len();
        events = true;
        out.keep(at, r.pos);
        break;
      case 0x6a:
        link(r.sub());
        out.keep(at, r.pos);
        break;
      case 0x7a: {
        const st = r.sub();
        // Kept when it carries a message field at all (even empty): the last one read wins, as on the object path.
        let message = false;
        while (st.pos < st.end) {
          const t = st.varint();
          if (t === 0x18) code = st.varint() | 0;
          else {
            if (t === 0x12) message = true;
            st.skip(t & 7);
          }
        }
        if (message) out.keep(at, r.pos);
        break;
      }
      case 0x1a:
      case 0x50:
      case 0x60:
      case 0x70:
      case 0x85:
        r.skip(tag & 7);
        out.keep(at, r.pos);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  out.flush();
  const ok = tid1 - tid0 === 16 && nonZero(b, tid0, tid1) && sid1 - sid0 === 8 && nonZero(b, sid0, sid1) && startUs > 0 && endUs >= startUs;
  if (!ok) {
    out.len = restStart;
    // The object decoder words the refusal (same checks, in the same order).
    span(new Reader(b, from, r.end), res, service, sc, out.c);
    return;
  }
  out.hex(tid0, tid1);
  out.hex(sid0, sid1);
  // As the object path: any non-empty parent id but eight zero bytes (its hex is all zeros).
  let parentLen = 0;
  if (pid1 > pid0 && (pid1 - pid0 !== 8 || nonZero(b, pid0, pid1))) {
    out.hex(pid0, pid1);
    parentLen = 2 * (pid1 - pid0);
  }
  out.count++;
  out.num(Math.max(0, Math.min(5, kind)));
  out.num(startUs);
  out.num(endUs);
  out.num(Math.max(0, Math.min(2, code)));
  out.num(resIdx);
  out.num(scIdx);
  out.num(out.len);
  out.num(serviceIdx);
  out.num(out.str(name));
  out.num(parentLen);
  if (events) {
    // Exception events become error events exactly as on the object path.
    const one = new Collector();
    span(new Reader(b, from, r.end), res, service, sc, one);
    for (const e of one.batch.errors) out.errors.push(e);
  }
}

function nonZero(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return true;
  return false;
}

export function decodeTracesRows(buf: Buffer): TraceRows {
  const out = new RowOut(buf);
  const resources: Resource[] = [];
  const scopes: InstrumentationScope[] = [];
  let lastRes: Resource | undefined;
  let resIdx = -1;
  let serviceIdx = -1;
  walk(buf, (r, res, service, sc) => {
    if (res !== lastRes) {
      lastRes = res;
      resIdx = resources.push(res) - 1;
      serviceIdx = out.str(service);
    }
    let scIdx = -1;
    if (sc) {
      scIdx = scopes.lastIndexOf(sc);
      if (scIdx < 0) scIdx = scopes.push(sc) - 1;
    }
    spanRow(r, res, resIdx, serviceIdx, service, sc, scIdx, out);
  });
  // Exact-size copies with their own ArrayBuffers (transferable); the scratch stays for the next request.
  const rest = Buffer.from(new ArrayBuffer(Math.max(1, out.len)));
  out.rest.copy(rest, 0, 0, out.len);
  const rows: TraceRows = { count: out.count, resources, scopes, ids: out.ids.toString('latin1', 0, out.idLen), strings: out.strings, nums: out.nums.slice(0, out.n), rest, errors: out.errors, rejected: out.c.rejected, messages: out.c.errors };
  // One huge request must not pin its scratch space for the life of the process.
  if (scratchIds.length > SCRATCH_CAP) scratchIds = Buffer.allocUnsafeSlow(1 << 16);
  if (scratchRest.length > SCRATCH_CAP) scratchRest = Buffer.allocUnsafeSlow(1 << 16);
  if (scratchNums.byteLength > SCRATCH_CAP) scratchNums = new Float64Array(1 << 12);
  return rows;
}

/** A span's `rest` bytes (decodeTracesRows) back to the fields they hold; events default to the span's start. */
export interface SpanRest {
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  message?: string;
  traceState?: string;
  flags?: number;
  droppedAttributesCount?: number;
  droppedEventsCount?: number;
  droppedLinksCount?: number;
}

/**
 * The read side of the row path, run for every span a query returns: a cursor in locals, no Reader per field
 * and utf8Slice without toString's argument handling — with Readers it cost twice what JSON.parse of the same
 * span's JSON rest costs. Same values as keyValue()/anyValue() (wire.test.ts compares the spans read back).
 */
type Utf8 = Buffer & { utf8Slice(start: number, end: number): string };
let at = 0;

function restVarint(b: Buffer, end: number): number {
  if (at < end && b[at]! < 0x80) return b[at++]!;
  const r = new Reader(b, at, end);
  const v = r.varint();
  at = r.pos;
  return v;
}

function restLen(b: Buffer, end: number): number {
  const n = restVarint(b, end);
  const e = at + n;
  if (e > end) throw new WireError(`length ${n} runs past the end of the message`);
  return e;
}

function restString(b: Buffer, end: number): string {
  const e = restLen(b, end);
  const s = (b as Utf8).utf8Slice(at, e);
  at = e;
  return s;
}

/**
 * Attribute keys repeat on every span: short ASCII ones are looked up by a hash of their bytes (and compared
 * byte for byte) instead of decoded into a new string each time. Bounded: a flood of distinct keys stops adding.
 */
const KEYS = new Map<number, string>();

function restKey(b: Buffer, end: number): string {
  const e = restLen(b, end);
  const n = e - at;
  if (n <= 64) {
    let h = n;
    let ascii = true;
    for (let i = at; i < e; i++) {
      const c = b[i]!;
      if (c >= 0x80) ascii = false;
      h = Math.imul(h ^ c, 16777619);
    }
    if (ascii) {
      const k = KEYS.get(h);
      if (k !== undefined && k.length === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (k.charCodeAt(i) !== b[at + i]) {
            same = false;
            break;
          }
        }
        if (same) {
          at = e;
          return k;
        }
      }
      const s = (b as Utf8).utf8Slice(at, e);
      if (k === undefined && KEYS.size < 4096) KEYS.set(h, s);
      at = e;
      return s;
    }
  }
  const s = (b as Utf8).utf8Slice(at, e);
  at = e;
  return s;
}

function restSkip(b: Buffer, end: number, wire: number): void {
  const r = new Reader(b, at, end);
  r.skip(wire);
  at = r.pos;
}

function restAnyValue(b: Buffer, end: number, depth: number): AttrValue {
  if (depth > MAX_DEPTH) {
    at = end;
    return null;
  }
  let v: AttrValue = null;
  while (at < end) {
    const tag = restVarint(b, end);
    if (tag === 0x0a) v = restString(b, end);
    else if (tag === 0x10) v = restVarint(b, end) !== 0;
    else if (tag === 0x18) {
      const r = new Reader(b, at, end);
      const [lo, hi] = r.varint64();
      at = r.pos;
      v = int64Value(lo, hi);
    } else if (tag === 0x21) {
      if (at + 8 > end) throw new WireError('truncated double');
      v = b.readDoubleLE(at);
      at += 8;
    } else if (tag === 0x2a) {
      const e = restLen(b, end);
      const out: AttrValue[] = [];
      while (at < e) {
        const t = restVarint(b, e);
        if (t === 0x0a) {
          const ee = restLen(b, e);
          out.push(restAnyValue(b, ee, depth + 1));
          at = ee;
        } else restSkip(b, e, t & 7);
      }
      v = out;
    } else if (tag === 0x32) {
      const e = restLen(b, end);
      const out: Attributes = {};
      while (at < e) {
        const t = restVarint(b, e);
        if (t === 0x0a) {
          const ee = restLen(b, e);
          restKeyValue(b, ee, out, depth + 1);
          at = ee;
        } else restSkip(b, e, t & 7);
      }
      v = out;
    } else if (tag === 0x3a) {
      const e = restLen(b, end);
      v = b.toString('base64', at, e);
      at = e;
    } else restSkip(b, end, tag & 7);
  }
  return v;
}

function restKeyValue(b: Buffer, end: number, into: Attributes, depth: number): void {
  let key = '';
  let value: AttrValue = null;
  while (at < end) {
    const tag = restVarint(b, end);
    if (tag === 0x0a) key = restKey(b, end);
    else if (tag === 0x12) {
      const e = restLen(b, end);
      value = restAnyValue(b, e, depth);
      at = e;
    } else restSkip(b, end, tag & 7);
  }
  into[key] = value;
}

export function decodeSpanRest(buf: Uint8Array, startUs: number): SpanRest {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = b.length;
  const out: SpanRest = { attributes: {}, events: [], links: [] };
  let message = '';
  at = 0;
  while (at < end) {
    const tag = restVarint(b, end);
    if (tag === 0x4a) {
      const e = restLen(b, end);
      restKeyValue(b, e, out.attributes, 0);
      at = e;
      continue;
    }
    // The rarer fields through the Reader-based functions the object path uses.
    const r = new Reader(b, at, end);
    switch (tag) {
      case 0x1a:
        out.traceState = r.string();
        break;
      case 0x50:
        out.droppedAttributesCount = r.varint();
        break;
      case 0x5a:
        out.events.push(event(r.sub(), startUs));
        break;
      case 0x60:
        out.droppedEventsCount = r.varint();
        break;
      case 0x6a:
        out.links.push(link(r.sub()));
        break;
      case 0x70:
        out.droppedLinksCount = r.varint();
        break;
      case 0x7a: {
        const st = r.sub();
        while (st.pos < st.end) {
          const t = st.varint();
          if (t === 0x12) message = st.string();
          else st.skip(t & 7);
        }
        break;
      }
      case 0x85:
        out.flags = r.fixed32();
        break;
      default:
        r.skip(tag & 7);
    }
    at = r.pos;
  }
  if (message) out.message = message;
  if (!out.traceState) delete out.traceState;
  if (!out.flags) delete out.flags;
  if (!out.droppedAttributesCount) delete out.droppedAttributesCount;
  if (!out.droppedEventsCount) delete out.droppedEventsCount;
  if (!out.droppedLinksCount) delete out.droppedLinksCount;
  return out;
}
