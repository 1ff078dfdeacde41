/**
 * The RCA projection of a stored span's rest column (SpanQuery.fields = 'rca'): only what the trace analysis reads
 * (src/algorithms/rca/traces.ts: peer address/port and HTTP status attributes, the exception events and the status
 * message of failed spans). Reading a million spans back, building every attribute of every span cost more than
 * the analysis itself; here the other attributes are skipped over without making a string or value of them.
 */
import type { Attributes, Span } from '../../signals/model.js';
import { decodeSpanRest } from '../../signals/otlp/wire.js';

/** The attributes traces.ts reads; a projected span holds only these (when present). */
export const RCA_SPAN_ATTRIBUTES = ['server.address', 'server.port', 'net.peer.name', 'net.peer.port', 'http.response.status_code'] as const;

// With the status key (STATUS_KEY), these byte strings, absent from a rest (and status code not error), prove its
// span needs nothing from the rest. `server.` and `net.peer.` cover the four peer keys.
export const RCA_REST_NEEDLES = ['server.', 'net.peer.'] as const;

/** The HTTP status key, as bytes (for SQL) and hex (to compare what SQL hands over). */
export const STATUS_KEY = Buffer.from('http.response.status_code');
const STATUS_KEY_HEX = STATUS_KEY.toString('hex').toUpperCase();
/** KeyValue{key, value: AnyValue{int_value}} as encoders write it (key first), for a 1- and a 2-byte varint. */
const KV1_HEX = `4A1F0A19${STATUS_KEY_HEX}120218`;
const KV2_HEX = `4A200A19${STATUS_KEY_HEX}120318`;

/**
 * Whether a protobuf rest's HTTP status is proven below 500, from what SQL hands over instead of the rest: the hex
 * of the 34 bytes from 4 before the key's first occurrence, and where a second occurrence starts (0: none).
 * Almost every HTTP span holds a status, so handing over each such rest cost ~2 µs a span; a status below 500 is
 * all the analysis needs to know (the value itself it reads on failed spans only). Proven when the key's bytes
 * occur exactly once, framed as a whole KeyValue holding only an int below 500: were that one occurrence not the
 * attribute's key (inside some other value), there would be no such attribute at all — its key would be a second
 * occurrence. Anything else is not proven, and the rest is read.
 */
export function statusProvenBelow500(snippetHex: string, second: number): boolean {
  if (second !== 0 || snippetHex.length !== 68) return false;
  if (snippetHex.startsWith(KV1_HEX)) return parseInt(snippetHex.slice(64, 66), 16) < 0x80;
  if (!snippetHex.startsWith(KV2_HEX)) return false;
  const b1 = parseInt(snippetHex.slice(64, 66), 16);
  const b2 = parseInt(snippetHex.slice(66, 68), 16);
  return b1 >= 0x80 && b2 < 0x80 && (b1 & 0x7f) + 128 * b2 < 500;
}

/**
 * The same proof on the rest bytes themselves (what ingest stores as the rca_hint column, migration 5): 0 when the
 * rest holds no HTTP status, or one proven below 500 as statusProvenBelow500 proves it from SQL's snippet; 1 when
 * not proven (the rest must be read to know).
 */
export function restHttpHint(b: Buffer): 0 | 1 {
  const at = b.indexOf(STATUS_KEY);
  if (at < 0) return 0;
  // SQL's snippet starts 4 bytes before the key and is 34 bytes long: shorter means not proven.
  if (at < 4 || at + 30 > b.length || b.indexOf(STATUS_KEY, at + 1) >= 0) return 1;
  const v = at + STATUS_KEY.length;
  if (b[at - 4] !== 0x4a || b[at - 2] !== 0x0a || b[at - 1] !== 0x19 || b[v] !== 0x12) return 1;
  if (b[at - 3] === 0x1f) return b[v + 1] === 0x02 && b[v + 2] === 0x18 && b[v + 3]! < 0x80 ? 0 : 1;
  if (b[at - 3] !== 0x20 || b[v + 1] !== 0x03 || b[v + 2] !== 0x18) return 1;
  const b1 = b[v + 3]!;
  const b2 = b[v + 4]!;
  return b1 >= 0x80 && b2 < 0x80 && (b1 & 0x7f) + 128 * b2 < 500 ? 0 : 1;
}

/** The hint of a span given as an object (JSON rest): 0 only when its attributes prove no HTTP status ≥ 500. */
export function attributesHttpHint(a: Attributes): 0 | 1 {
  const v = a['http.response.status_code'];
  // Absent, or a number below 500 (which JSON keeps, or turns into null when it is -Infinity): proven.
  return v === undefined || (typeof v === 'number' && v < 500) ? 0 : 1;
}

export interface RcaRest {
  attributes: Attributes;
  events: Span['events'];
  message?: string;
}

const WANTED = RCA_SPAN_ATTRIBUTES.map((k) => Buffer.from(k));
const WANTED_LEN = new Set(WANTED.map((k) => k.length));

function pick(attrs: Attributes | undefined): Attributes {
  if (!attrs) return {};
  let out: Attributes | undefined;
  for (const k of RCA_SPAN_ATTRIBUTES) {
    if (k in attrs) (out ??= {})[k] = attrs[k]!;
  }
  return out ?? {};
}

const exceptionsOnly = (events: Span['events'] | undefined): Span['events'] => (events ?? []).filter((e) => e.name === 'exception');

/** From a full decode (JSON text, or the protobuf fallback): the same projection. */
export function projectRest(a: Attributes | undefined, e: Span['events'] | undefined, m: string | undefined): RcaRest {
  const out: RcaRest = { attributes: pick(a), events: exceptionsOnly(e) };
  if (m) out.message = m;
  return out;
}

/** Thrown inside the scan when a span needs the full decoder (events, a status message, an unusual value). */
const FULL = Symbol('full');

/**
 * Protobuf rest bytes: walks the top-level fields and decodes the value of a wanted attribute only. Anything the
 * scan does not handle itself — events, a status message (both on failed spans only), a wanted attribute holding
 * an array, map, bytes or a large integer, malformed bytes — goes to decodeSpanRest, so values (and errors) are
 * exactly the full decoder's.
 */
export function scanRcaRest(b: Buffer, startUs: number): RcaRest {
  try {
    return { attributes: scan(b), events: [] };
  } catch (e) {
    if (e !== FULL) throw e;
    const d = decodeSpanRest(b, startUs);
    return projectRest(d.attributes, d.events, d.message);
  }
}

let at = 0;

/** A length prefix, then the end of what it covers (read before `at` moves past the prefix). */
function lenEnd(b: Buffer, end: number): number {
  const n = varint(b, end);
  const e = at + n;
  if (e > end) throw FULL;
  return e;
}

function varint(b: Buffer, end: number): number {
  // Up to 7 bytes (49 bits): exact in a double; longer (negative or huge) numbers go to the full decoder.
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    if (at >= end) throw FULL;
    const c = b[at++]!;
    v += (c & 0x7f) * mul;
    if (c < 0x80) return v;
    mul *= 128;
  }
  throw FULL;
}

function skip(b: Buffer, end: number, wire: number): void {
  if (wire === 0) varint(b, end);
  else if (wire === 1) at += 8;
  else if (wire === 2) at = lenEnd(b, end);
  else if (wire === 5) at += 4;
  else throw FULL;
  if (at > end) throw FULL;
}

function wantedKey(b: Buffer, from: number, to: number): string | undefined {
  const n = to - from;
  if (!WANTED_LEN.has(n)) return undefined;
  for (let w = 0; w < WANTED.length; w++) {
    const k = WANTED[w]!;
    if (k.length !== n) continue;
    let same = true;
    for (let i = 0; i < n; i++) {
      if (b[from + i] !== k[i]) {
        same = false;
        break;
      }
    }
    if (same) return RCA_SPAN_ATTRIBUTES[w];
  }
  return undefined;
}

function scan(b: Buffer): Attributes {
  const end = b.length;
  let out: Attributes | undefined;
  at = 0;
  while (at < end) {
    const tag = varint(b, end);
    if (tag === 0x5a || tag === 0x7a) throw FULL;
    if (tag !== 0x4a) {
      skip(b, end, tag & 7);
      continue;
    }
    const kvEnd = lenEnd(b, end);
    // KeyValue: key (1), value (2) in either order; the last of each wins, as in the full decoder.
    let key: string | undefined;
    let keyFound = false;
    let vFrom = -1;
    let vTo = -1;
    while (at < kvEnd) {
      const t = varint(b, kvEnd);
      if (t === 0x0a) {
        const e = lenEnd(b, kvEnd);
        key = wantedKey(b, at, e);
        keyFound = true;
        at = e;
      } else if (t === 0x12) {
        vTo = lenEnd(b, kvEnd);
        vFrom = at;
        at = vTo;
      } else skip(b, kvEnd, t & 7);
    }
    at = kvEnd;
    if (!keyFound || key === undefined) continue;
    (out ??= {})[key] = vFrom < 0 ? null : anyValue(b, vFrom, vTo);
  }
  return out ?? {};
}

/** AnyValue of a wanted key: string, bool, int, double (last one wins); the rest to the full decoder. */
function anyValue(b: Buffer, from: number, to: number): Attributes[string] {
  const save = at;
  at = from;
  let v: Attributes[string] = null;
  while (at < to) {
    const t = varint(b, to);
    if (t === 0x0a) {
      const e = lenEnd(b, to);
      v = b.toString('utf8', at, e);
      at = e;
    } else if (t === 0x10) v = varint(b, to) !== 0;
    else if (t === 0x18) v = varint(b, to);
    else if (t === 0x21) {
      if (at + 8 > to) throw FULL;
      v = b.readDoubleLE(at);
      at += 8;
    } else if (t === 0x2a || t === 0x32 || t === 0x3a) throw FULL;
    else skip(b, to, t & 7);
  }
  at = save;
  return v;
}

/** What the RCA projection keeps of a span's rest column, in either of its encodings (JSON text or protobuf bytes). */
export function rcaRestOf(raw: string | Buffer | null, startUs: number): RcaRest | undefined {
  if (raw === null) return undefined;
  if (typeof raw !== 'string') return scanRcaRest(raw, startUs);
  if (raw === '{}') return undefined;
  const j = JSON.parse(raw) as { a?: Attributes; e?: Span['events']; m?: string };
  return projectRest(j.a, j.e, j.m);
}
