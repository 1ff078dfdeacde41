/**
 * The RCA read of stored spans as columns (algorithms/rca/span-table.ts), for SqliteTelemetry.querySpanTable: a
 * million spans without a million span objects. One query hands over, per span, one line of its columns (numbers,
 * ids, service and name); the rest column only of the spans the analysis reads more of — the failed ones (status
 * error, or an HTTP status not proven below 500: the rca_hint column, migration 5, or for older rows the proof
 * from the bytes) and then the few whose peer it asks for (`peersFor`). All of it in one read transaction.
 */
import type Database from 'better-sqlite3';
import type { Attributes, Resource, Span } from '../../signals/model.js';
import { httpStatusOf, peerOf, type SpanTable } from '../../algorithms/rca/span-table.js';
import { linkSpanRows, parseSpanLines, type SpanRows } from '../span-lines.js';
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

/**
 * Reads one scan's rows (run it inside a read transaction), or undefined when the packed line cannot be read back
 * exactly (span-lines.ts): the caller reads the spans another way. `restOf` decodes a rest column into what the
 * RCA projection keeps.
 */
export function scanSpanRows(db: Database.Database, q: ScanSql, limit: number | undefined, restOf: (raw: string | Buffer, startUs: number) => RcaRest | undefined): SpanRows | undefined {
  // Counted first (from the time index, in the same transaction), so the columns are allocated once.
  const count = (db.prepare(q.count.sql).pluck().get(...q.count.params) as number | undefined) ?? 0;
  const max = limit === undefined ? count : Math.min(count, Math.max(0, Math.floor(limit)));
  const parsed = parseSpanLines(db.prepare(q.lines.sql).pluck().iterate(...q.lines.params) as IterableIterator<string>, max, { judgeFlag: judgeSqliteFlag });
  if (!parsed) return undefined;
  const { rows, needRest } = parsed;
  const ok = restsByRowid(db, needRest, rows.rowid, rows.startUs, restOf, (i, traceId, spanId, rest) => {
    const attributes: Attributes = rest?.attributes ?? {};
    const events: Span['events'] = rest?.events ?? [];
    rows.details.set(i, { traceId, spanId, ...(rest?.message ? { message: rest.message } : {}), attributes, events });
    if (httpStatusOf(attributes) >= 500) rows.failed[i] = 1;
  });
  return ok ? rows : undefined;
}

/** SQLite's `S<hex>:<n>` flag: the rest is needed unless the snippet proves a status below 500 (undefined: no such flag). */
function judgeSqliteFlag(flag: string): boolean | undefined {
  const colon = flag.indexOf(':');
  if (flag.charCodeAt(0) !== 83 /* S */ || colon < 0) return undefined;
  return !statusProvenBelow500(flag.slice(1, colon), Number(flag.slice(colon + 1)));
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
