/**
 * The RCA read of stored spans as columns (algorithms/rca/span-table.ts) for the PostgreSQL store: what
 * querySpans hands the analysis, without a span object and a parsed rest per span. One statement hands over a
 * packed line per span (span-lines.ts) with whether its rest may matter (status error, or the rca_hint column
 * written on ingest: an HTTP status ≥ 500; rows written before the column: whether the rest names an HTTP status
 * at all); a second reads the rests and trace ids of just those spans by tuple id, a third those of the spans
 * whose peer the analysis asks for (`peersFor`). All in one REPEATABLE READ snapshot, so the tuple ids of the
 * first are those the others find.
 */
import type pg from 'pg';
import type { Attributes, Resource, Span } from '../../signals/model.js';
import { httpStatusOf, peerOf, type SpanTable } from '../../algorithms/rca/span-table.js';
import { linkSpanRows, parseSpanLines, tidText, type SpanRows } from '../span-lines.js';

/** The query's filter (`WHERE …` or empty), its parameters, and its `LIMIT …` (or empty). */
export interface SpanFilter {
  where: string;
  params: unknown[];
  limit: string;
}

/** What the rest column (JSON text) holds that the RCA reads. */
interface RestJson {
  a?: Attributes;
  e?: Span['events'];
  m?: string;
}

const NEED = `CASE WHEN status_code = 2 THEN 1 WHEN rca_hint IS NOT NULL THEN rca_hint WHEN position('"http.response.status_code":' in rest) > 0 THEN 1 ELSE 0 END`;
const LINE = `concat_ws(E'\\x1f', ctid, kind, status_code, resource_id, start_us, end_us, ${NEED}, span_id, coalesce(parent_span_id, ''), service, name)`;

/**
 * The spans `f` selects, as a table, in start-time order (as querySpans orders them); undefined when a line
 * cannot be read back exactly (an id or name holding the separator): the caller reads span objects instead.
 */
export async function readPgSpanTable(client: pg.PoolClient, f: SpanFilter, resource: (id: number) => Promise<Resource>, peersFor: (t: SpanTable) => Int32Array): Promise<SpanTable | undefined> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const lines = (await client.query<[string]>({ text: `SELECT ${LINE} FROM spans${f.where} ORDER BY start_us${f.limit}`, values: f.params, rowMode: 'array' })).rows;
    const parsed = parseSpanLines(
      (function* () {
        for (const l of lines) yield l[0];
      })(),
      lines.length,
      { tid: true },
    );
    lines.length = 0;
    if (!parsed) {
      await client.query('COMMIT');
      return undefined;
    }
    const { rows, needRest } = parsed;
    await restsByTid(client, rows, needRest, (i, traceId, spanId, rest) => {
      const attributes = rest.a ?? {};
      rows.details.set(i, { traceId, spanId, ...(rest.m ? { message: rest.m } : {}), attributes, events: rest.e ?? [] });
      if (httpStatusOf(attributes) >= 500) rows.failed[i] = 1;
    });
    // The resources (few) first: linkSpanRows looks them up per span.
    const resources = new Map<number, Resource>();
    for (const id of new Set(rows.res)) resources.set(id, await resource(id));
    const linked = linkSpanRows(rows, (id) => resources.get(id)!);
    const peers = new Map<number, string>();
    const more = Array.from(peersFor(linked.table)).filter((i) => !rows.details.has(i));
    await restsByTid(client, rows, more, (i, _t, _s, rest) => peers.set(i, peerOf(rest.a ?? {})));
    linked.setPeers(peers);
    await client.query('COMMIT');
    return linked.table;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The ids and rests of `list` (span indexes) by the tuple ids the lines carried, in the same snapshot. */
async function restsByTid(client: pg.PoolClient, rows: SpanRows, list: readonly number[], each: (i: number, traceId: string, spanId: string, rest: RestJson) => void): Promise<void> {
  if (!list.length) return;
  const at = new Map(list.map((i) => [tidText(rows.rowid[i]!), i]));
  const got = (await client.query<[string, string, string, string]>({ text: 'SELECT ctid::text, trace_id, span_id, rest FROM spans WHERE ctid = ANY($1::tid[])', values: [[...at.keys()]], rowMode: 'array' })).rows;
  for (const [tid, traceId, spanId, rest] of got) each(at.get(tid)!, traceId, spanId, JSON.parse(rest) as RestJson);
  if (got.length !== at.size) throw new Error(`RCA read: ${at.size - got.length} spans vanished between the statements of one snapshot`);
}
