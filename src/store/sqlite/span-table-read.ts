/**
 * The RCA read of stored spans as columns (algorithms/rca/span-table.ts), for SqliteTelemetry.querySpanTable: a
 * million spans without a million span objects. One query hands over, per span, one line of its columns (numbers,
 * ids, service and name); the rest column only of the spans the analysis reads more of — the failed ones (status
 * error, or an HTTP status not proven below 500: the rca_hint column, migration 5, or for older rows the proof
 * from the bytes) and then the few whose peer it asks for (`peersFor`). All of it in one read transaction.
 */
import type Database from 'better-sqlite3';
import type { Attributes, Resource, Span } from '../../signals/model.js';
import { httpStatusOf, Interner, peerOf, type SpanDetail, type SpanTable } from '../../algorithms/rca/span-table.js';
import { STATUS_KEY, statusProvenBelow500, type RcaRest } from './span-projection.js';

/** A SELECT of `cols` over the query's rows, in the order the RCA reads them (start time, then rowid). */
export type SelectRows = (cols: string) => { sql: string; params: unknown[] };

/** SQL and its parameters. */
export interface Sql {
  sql: string;
  params: unknown[];
}

/** The two statements of a scan: the packed lines, and their count. */
export interface ScanSql {
  lines: Sql;
  count: Sql;
}

/** The statements of a scan of `select`'s rows. */
export function scanSql(select: SelectRows): ScanSql {
  const flag = flagSql();
  const fmt = new Array<string>(FIELDS).fill('%s').join('\x1f');
  const l = select(`format(?, spans.rowid, kind, status_code, resource_id, start_us, end_us, ${flag.sql}, span_id, ifnull(parent_span_id, ''), service, name)`);
  return { lines: { sql: l.sql, params: [fmt, ...flag.params, ...l.params] }, count: select('count(*)') };
}

/** The line's fields: rowid, kind, status_code, resource_id, start_us, end_us, flag, span_id, parent, service, name. */
const FIELDS = 11;

/**
 * Whether the rest is needed (besides status error, which JS sees itself): the stored hint (0/1), or for rows
 * written before it, the old proof: '0' no HTTP status in the rest, '1' needed, or `S<hex>:<n>` for JS to judge
 * from the bytes around a protobuf HTTP status (statusProvenBelow500).
 */
function flagSql(): { sql: string; params: Buffer[] } {
  const k = STATUS_KEY;
  const sql = `CASE WHEN rca_hint IS NOT NULL THEN rca_hint
    WHEN status_code = 2 THEN 1
    WHEN instr(rest, ?) = 0 THEN 0
    WHEN typeof(rest) != 'blob' THEN CASE WHEN json_type(rest, '$.a."http.response.status_code"') = 'integer' AND json_extract(rest, '$.a."http.response.status_code"') < 500 THEN 0 ELSE 1 END
    ELSE 'S' || hex(substr(rest, instr(rest, ?) - 4, 34)) || ':' || instr(substr(rest, instr(rest, ?) + 1), ?) END`;
  return { sql, params: [k, k, k, k] };
}

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
 * Reads one scan's rows (run it inside a read transaction), or undefined when the packed line cannot be read back
 * exactly (a field holding the separator, a time or number column that is not an integer): the caller reads
 * the spans another way. `restOf` decodes a rest column into what the RCA projection keeps.
 */
export function scanSpanRows(db: Database.Database, q: ScanSql, limit: number | undefined, restOf: (raw: string | Buffer, startUs: number) => RcaRest | undefined): SpanRows | undefined {
  // Counted first (from the time index, in the same transaction), so the columns are allocated once.
  const count = (db.prepare(q.count.sql).pluck().get(...q.count.params) as number | undefined) ?? 0;
  const max = limit === undefined ? count : Math.min(count, Math.max(0, Math.floor(limit)));
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
  for (const line of db.prepare(q.lines.sql).pluck().iterate(...q.lines.params) as IterableIterator<string>) {
    // Field by field along the line, numbers read off the characters as they are passed.
    const rid = num(line, 0);
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
    // The rest is read for failed spans (status error) and HTTP statuses not proven below 500.
    let p = AT;
    const f = line.charCodeAt(p);
    let need = sc === 2 || f === 49; /* '1' */
    if (f === 83 /* 'S' */) {
      const end = line.indexOf('\x1f', p);
      if (end < 0) return undefined;
      if (!need) {
        const colon = line.indexOf(':', p);
        need = !statusProvenBelow500(line.slice(p + 1, colon), Number(line.slice(colon + 1, end)));
      }
      p = end + 1;
    } else if ((f === 48 || f === 49) && line.charCodeAt(p + 1) === 0x1f) p += 2;
    else return undefined;
    if (need) needRest.push(n);
    failed[n] = sc === 2 ? 1 : 0;
    // Span id: 16 lowercase hex digits (then the separator), or any other string.
    const hi = line.charCodeAt(p + 16) === 0x1f ? hex8(line, p) : -1;
    const lo = hi >= 0 ? hex8(line, p + 8) : -1;
    if (lo >= 0) {
      ownKind[n] = 1;
      ownHi[n] = hi;
      ownLo[n] = lo;
      p += 17;
    } else {
      const end = line.indexOf('\x1f', p);
      if (end < 0) return undefined;
      ownOther.set(n, line.slice(p, end));
      p = end + 1;
    }
    // Parent id: empty (none), or as the span id.
    if (line.charCodeAt(p) === 0x1f) p++;
    else {
      const phi = line.charCodeAt(p + 16) === 0x1f ? hex8(line, p) : -1;
      const plo = phi >= 0 ? hex8(line, p + 8) : -1;
      if (plo >= 0) {
        parKind[n] = 1;
        parHi[n] = phi;
        parLo[n] = plo;
        p += 17;
      } else {
        const end = line.indexOf('\x1f', p);
        if (end < 0) return undefined;
        parKind[n] = 2;
        parOther.set(n, line.slice(p, end));
        p = end + 1;
      }
    }
    // Service, then the name to the end: a separator inside either (or in an id) leaves one in the name.
    const svcEnd = line.indexOf('\x1f', p);
    if (svcEnd < 0 || line.indexOf('\x1f', svcEnd + 1) >= 0) return undefined;
    service[n] = services.id(line.slice(p, svcEnd));
    name[n] = names.id(line.slice(svcEnd + 1));
    n++;
  }
  if (n !== max) return undefined;
  const details = new Map<number, SpanDetail>();
  const ok = restsByRowid(db, needRest, rowid, startUs, restOf, (i, traceId, spanId, rest) => {
    const attributes: Attributes = rest?.attributes ?? {};
    const events: Span['events'] = rest?.events ?? [];
    details.set(i, { traceId, spanId, ...(rest?.message ? { message: rest.message } : {}), attributes, events });
    if (httpStatusOf(attributes) >= 500) failed[i] = 1;
  });
  if (!ok) return undefined;
  return { n, rowid, kind, code, res, startUs, endUs, failed, service, services: services.list, name, names: names.list, ownHi, ownLo, ownKind, ownOther, parHi, parLo, parKind, parOther, details };
}

/** The rests of `list` (span indexes) by rowid, with the rows' ids; false when a row is missing. */
function restsByRowid(
  db: Database.Database,
  list: readonly number[],
  rowid: Float64Array,
  startUs: Float64Array,
  restOf: (raw: string | Buffer, startUs: number) => RcaRest | undefined,
  each: (i: number, traceId: string, spanId: string, rest: RcaRest | undefined) => void,
): boolean {
  if (!list.length) return true;
  const byRow = new Map<number, number>();
  for (const i of list) byRow.set(rowid[i]!, i);
  let got = 0;
  for (const [rid, traceId, spanId, raw] of db.prepare('SELECT rowid, trace_id, span_id, rest FROM spans WHERE rowid IN (SELECT value FROM json_each(?))').raw().iterate(JSON.stringify(list.map((i) => rowid[i]!))) as IterableIterator<[number, string, string, string | Buffer]>) {
    const i = byRow.get(rid);
    if (i === undefined) continue;
    got++;
    each(i, traceId, spanId, restOf(raw, startUs[i]!));
  }
  return got === list.length;
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
  for (let i = 0; i < n; i++) {
    const id = r.res[i]!;
    let v = versionOf.get(id);
    if (v === undefined) {
      const ver = resource(id).attributes['service.version'];
      versionOf.set(id, (v = typeof ver === 'string' ? versions.id(ver) : -1));
    }
    version[i] = v;
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

/** The peers `list` asks for (span indexes), of the spans without a detail by a read of their rest. */
export function readPeers(db: Database.Database, r: SpanRows, linked: ReturnType<typeof linkSpanRows>, list: Int32Array, restOf: (raw: string | Buffer, startUs: number) => RcaRest | undefined): boolean {
  const peers = new Map<number, string>();
  const more = Array.from(list).filter((i) => !r.details.has(i));
  const ok = restsByRowid(db, more, r.rowid, r.startUs, restOf, (i, _t, _s, rest) => peers.set(i, peerOf(rest?.attributes ?? {})));
  linked.setPeers(peers);
  return ok;
}

/**
 * The spans of `select` as a table in one go (the caller holds the read transaction), or undefined when they
 * cannot be read back exactly this way.
 */
export function readSpanTable(
  db: Database.Database,
  select: SelectRows,
  resource: (id: number) => Resource,
  restOf: (raw: string | Buffer, startUs: number) => RcaRest | undefined,
  peersFor: (t: SpanTable) => Int32Array,
  limit?: number,
): SpanTable | undefined {
  const rows = scanSpanRows(db, scanSql(select), limit, restOf);
  if (!rows) return undefined;
  const linked = linkSpanRows(rows, resource);
  return readPeers(db, rows, linked, peersFor(linked.table), restOf) ? linked.table : undefined;
}
