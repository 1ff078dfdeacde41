/**
 * Spans handed over as packed lines, one per span (`rowid, kind, status_code, resource_id, start_us, end_us, flag,
 * span_id, parent, service, name`, separated by U+001F), read into the columns of the RCA's span table
 * (algorithms/rca/span-table.ts) without a string per number or id. Both stores hand spans over this way: a
 * million spans as a million field lists cost more than the analysis of them (SQLite: format(); PostgreSQL:
 * concat_ws(), whose driver would otherwise convert eleven fields a row). The rowid is SQLite's rowid, or a
 * PostgreSQL tuple id `(block,offset)` read as block × 65536 + offset; the flag is whether the span's rest is
 * needed ('0' / '1', or SQLite's `S<hex>:<n>` proof the store judges).
 */
import { configSignature } from '../signals/resource-config.js';
import type { Resource } from '../signals/model.js';
import { Interner, peerOf, type SpanDetail, type SpanTable } from '../algorithms/rca/span-table.js';

/** Where the field after the last num() starts. */
let AT = 0;

/**
 * The non-negative integer written from s[from] up to the next separator (AT then points past it); NaN for
 * anything else — empty, a sign, a REAL (printed with '.' or 'e'), no separator.
 */
function num(s: string, from: number): number {
  let v = 0;
  let i = from;
  for (;; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x1f) break;
    const d = c - 48;
    // charCodeAt past the end is NaN: not a digit either.
    if (!(d >= 0 && d <= 9)) return NaN;
    v = v * 10 + d;
  }
  if (i === from) return NaN;
  AT = i + 1;
  // Past 2^53 the running sum rounds at each step: let Number round the whole once, as a column read would.
  return v > Number.MAX_SAFE_INTEGER ? Number(s.slice(from, i)) : v;
}

/** Eight lowercase hex digits at s[from] as a uint32, -1 when any is not one. */
function hex8(s: string, from: number): number {
  let v = 0;
  for (let i = from; i < from + 8; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Span ids → the last span index holding them. The usual id (16 lowercase hex digits) is kept as two uint32 in
 * an open-addressing table, without a string; any other id string in a map of its own (an id of the usual form
 * never equals one that is not).
 */
class IdIndex {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly at: Int32Array;
  private readonly mask: number;
  private readonly other = new Map<string, number>();
  constructor(n: number) {
    let cap = 16;
    while (cap < 2 * n) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.at = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }
  private slot(hi: number, lo: number): number {
    let h = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    let i = h & this.mask;
    while (this.at[i] !== -1 && (this.hi[i] !== hi || this.lo[i] !== lo)) i = (i + 1) & this.mask;
    return i;
  }
  set(hi: number, lo: number, v: number): void {
    const i = this.slot(hi, lo);
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.at[i] = v;
  }
  get(hi: number, lo: number): number {
    return this.at[this.slot(hi, lo)]!;
  }
  setOther(id: string, v: number): void {
    this.other.set(id, v);
  }
  getOther(id: string): number {
    return this.other.get(id) ?? -1;
  }
}

/** One scan's spans: the columns, the ids as the link needs them, and the detail of the spans that need their rest. */
export interface SpanRows {
  n: number;
  rowid: Float64Array;
  kind: Uint8Array;
  code: Uint8Array;
  res: Int32Array;
  startUs: Float64Array;
  endUs: Float64Array;
  /** Status error, or an HTTP status ≥ 500 in the rest. */
  failed: Uint8Array;
  service: Int32Array;
  services: string[];
  name: Int32Array;
  names: string[];
  /** Span id as two uint32 (ownKind 1) or another string (0, in ownOther). */
  ownHi: Uint32Array;
  ownLo: Uint32Array;
  ownKind: Uint8Array;
  ownOther: Map<number, string>;
  /** Parent id: none (parKind 0), two uint32 (1), another string (2, in parOther). */
  parHi: Uint32Array;
  parLo: Uint32Array;
  parKind: Uint8Array;
  parOther: Map<number, string>;
  details: Map<number, SpanDetail>;
}

/**
 * The id at line[p] as span n's: 16 lowercase hex digits as two uint32 (kind 1), any other string in `other`
 * (kind `otherKind`). The position after its separator, or -1 when no separator follows.
 */
function readId(line: string, p: number, n: number, hiA: Uint32Array, loA: Uint32Array, kindA: Uint8Array, other: Map<number, string>, otherKind: number): number {
  const hi = line.charCodeAt(p + 16) === 0x1f ? hex8(line, p) : -1;
  const lo = hi >= 0 ? hex8(line, p + 8) : -1;
  if (lo >= 0) {
    kindA[n] = 1;
    hiA[n] = hi;
    loA[n] = lo;
    return p + 17;
  }
  const end = line.indexOf('\x1f', p);
  if (end < 0) return -1;
  kindA[n] = otherKind;
  other.set(n, line.slice(p, end));
  return end + 1;
}

/**
 * How a store's lines differ: the rowid's form, and the judge of a flag other than '0' / '1' (true: the rest is
 * needed; undefined: not a flag it knows, the lines cannot be read this way).
 */
export interface LineFormat {
  tid?: boolean;
  judgeFlag?: (flag: string) => boolean | undefined;
}

/** A PostgreSQL tuple id `(block,offset)` at s[from] as block × 65536 + offset (AT past its separator), NaN if not one. */
function tid(s: string, from: number): number {
  if (s.charCodeAt(from) !== 40 /* ( */) return NaN;
  // Digits read off as they are passed, as num() does: no slice or pattern per line (a million lines a read).
  let block = 0;
  let i = from + 1;
  for (; s.charCodeAt(i) !== 44 /* , */; i++) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return NaN;
    block = block * 10 + d;
  }
  if (i === from + 1) return NaN;
  const o0 = ++i;
  let offset = 0;
  for (; s.charCodeAt(i) !== 41 /* ) */; i++) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return NaN;
    offset = offset * 10 + d;
  }
  if (i === o0 || offset >= 65536 || s.charCodeAt(i + 1) !== 0x1f) return NaN;
  AT = i + 2;
  return block * 65536 + offset;
}

/** The tuple id text of a rowid read by tid(). */
export const tidText = (rowid: number): string => `(${Math.floor(rowid / 65536)},${rowid % 65536})`;

/**
 * The lines' spans (exactly `max` of them), or undefined when a line cannot be read back exactly (a field holding
 * the separator, a time or number column that is not an integer, more or fewer lines): the caller reads the spans
 * another way. `details` is left empty, and `needRest` lists the spans whose rest the caller reads: status error,
 * or the flag says so.
 */
export function parseSpanLines(lines: Iterable<string>, max: number, format: LineFormat = {}): { rows: SpanRows; needRest: number[] } | undefined {
  const rowid = new Float64Array(max);
  const kind = new Uint8Array(max);
  const code = new Uint8Array(max);
  const res = new Int32Array(max);
  const startUs = new Float64Array(max);
  const endUs = new Float64Array(max);
  const failed = new Uint8Array(max);
  const service = new Int32Array(max);
  const name = new Int32Array(max);
  const ownHi = new Uint32Array(max);
  const ownLo = new Uint32Array(max);
  const ownKind = new Uint8Array(max);
  const parHi = new Uint32Array(max);
  const parLo = new Uint32Array(max);
  const parKind = new Uint8Array(max);
  const ownOther = new Map<number, string>();
  const parOther = new Map<number, string>();
  const services = new Interner();
  const names = new Interner();
  const needRest: number[] = [];
  let n = 0;
  for (const line of lines) {
    // Field by field along the line, numbers read off the characters as they are passed.
    const rid = format.tid ? tid(line, 0) : num(line, 0);
    const kd = num(line, AT);
    const sc = num(line, AT);
    const rs = num(line, AT);
    const st = num(line, AT);
    const en = num(line, AT);
    if (Number.isNaN(rid + kd + sc + rs + st + en) || kd > 255 || sc > 255 || rs > 0x7fffffff) return undefined;
    if (n === max) return undefined;
    rowid[n] = rid;
    kind[n] = kd;
    code[n] = sc;
    res[n] = rs;
    startUs[n] = st;
    endUs[n] = en;
    let p = AT;
    const f = line.charCodeAt(p);
    let need = sc === 2 || f === 49; /* '1' */
    if ((f === 48 || f === 49) && line.charCodeAt(p + 1) === 0x1f) p += 2;
    else {
      const end = line.indexOf('\x1f', p);
      if (end < 0 || !format.judgeFlag) return undefined;
      const judged = format.judgeFlag(line.slice(p, end));
      if (judged === undefined) return undefined;
      need ||= judged;
      p = end + 1;
    }
    if (need) needRest.push(n);
    failed[n] = sc === 2 ? 1 : 0;
    // Span id: 16 lowercase hex digits (then the separator), or any other string; the parent id likewise, or empty.
    p = readId(line, p, n, ownHi, ownLo, ownKind, ownOther, 0);
    if (p < 0) return undefined;
    if (line.charCodeAt(p) === 0x1f) p++;
    else if ((p = readId(line, p, n, parHi, parLo, parKind, parOther, 2)) < 0) return undefined;
    // Service, then the name to the end: a separator inside either (or in an id) leaves one in the name.
    const svcEnd = line.indexOf('\x1f', p);
    if (svcEnd < 0 || line.indexOf('\x1f', svcEnd + 1) >= 0) return undefined;
    service[n] = services.id(line.slice(p, svcEnd));
    name[n] = names.id(line.slice(svcEnd + 1));
    n++;
  }
  if (n !== max) return undefined;
  return { rows: { n, rowid, kind, code, res, startUs, endUs, failed, service, services: services.list, name, names: names.list, ownHi, ownLo, ownKind, ownOther, parHi, parLo, parKind, parOther, details: new Map() }, needRest };
}

/**
 * A scan's rows as a table: parents linked, versions from the resources. `peer` answers once setPeers has been
 * given the peers (readPeers).
 */
export function linkSpanRows(r: SpanRows, resource: (id: number) => Resource): { table: SpanTable; setPeers: (p: Map<number, string>) => void } {
  const { n, ownHi, ownLo, ownKind, ownOther, parHi, parLo, parKind, parOther, details } = r;
  const versions = new Interner();
  const versionOf = new Map<number, number>();
  const version = new Int32Array(n);
  const configs = new Interner();
  const configOf = new Map<number, number>();
  const config = new Int32Array(n);
  // Runs of spans share a resource: the last one's answers are kept at hand.
  let lastId = -1;
  let lastV = -1;
  let lastC = -1;
  for (let i = 0; i < n; i++) {
    const id = r.res[i]!;
    if (id !== lastId) {
      let v = versionOf.get(id);
      if (v === undefined) {
        const attrs = resource(id).attributes;
        const ver = attrs['service.version'];
        versionOf.set(id, (v = typeof ver === 'string' ? versions.id(ver) : -1));
        const sig = configSignature(attrs);
        configOf.set(id, sig === undefined ? -1 : configs.id(sig));
      }
      lastId = id;
      lastV = v;
      lastC = configOf.get(id)!;
    }
    version[i] = lastV;
    config[i] = lastC;
  }
  // Parents: the last span holding the parent id (a lookup by id), as spanTableOf links span objects.
  const ids = new IdIndex(n);
  for (let i = 0; i < n; i++) {
    if (ownKind[i]) ids.set(ownHi[i]!, ownLo[i]!, i);
    else ids.setOther(ownOther.get(i)!, i);
  }
  const parent = new Int32Array(n);
  let sameId: Int32Array | undefined;
  for (let i = 0; i < n; i++) {
    const pk = parKind[i];
    parent[i] = pk === 0 ? -1 : pk === 1 ? ids.get(parHi[i]!, parLo[i]!) : ids.getOther(parOther.get(i)!);
    const s = ownKind[i] ? ids.get(ownHi[i]!, ownLo[i]!) : ids.getOther(ownOther.get(i)!);
    if (s !== i) {
      if (!sameId) sameId = Int32Array.from({ length: n }, (_, j) => j);
      sameId[i] = s;
    }
  }
  let peers = new Map<number, string>();
  const table: SpanTable = {
    n,
    services: r.services,
    service: r.service,
    names: r.names,
    name: r.name,
    kind: r.kind,
    statusCode: r.code,
    startUs: r.startUs,
    endUs: r.endUs,
    parent,
    ...(sameId ? { sameId } : {}),
    failed: r.failed,
    version,
    versions: versions.list,
    config,
    configs: configs.list,
    detail: (i) => {
      const d = details.get(i);
      if (!d) throw new Error(`span ${i} of the RCA read has no detail (it did not fail)`);
      return d;
    },
    peer: (i) => {
      const p = peers.get(i);
      if (p === undefined) throw new Error(`span ${i} of the RCA read has no peer read (not asked for)`);
      return p;
    },
  };
  return {
    table,
    setPeers: (p) => {
      // Failed spans' peers come with their detail.
      for (const [i, d] of details) if (!p.has(i)) p.set(i, peerOf(d.attributes));
      peers = p;
    },
  };
}

