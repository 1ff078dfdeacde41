/**
 * Telemetry in SQLite: raw spans, logs, metrics and errors with a retention window, plus rollups per
 * service/operation/time bucket maintained on ingest.
 *
 * Built for ingest speed (the receiver's 100k spans/s target): one transaction per batch with prepared
 * statements; indexed columns only for what queries filter on (time, service, trace id, metric name,
 * fingerprint); everything else of a record in one compact column — JSON, or for spans the receiver decoded
 * straight off the wire their protobuf bytes (wire.ts: decodeTracesRows); resources and instrumentation scopes
 * (which repeat across every span of an export) stored once and referenced by id; rollups and per-service
 * counters aggregated in memory per batch and upserted once per key.
 */
import type Database from 'better-sqlite3';
import type {
  Attributes,
  ErrorEvent,
  InstrumentationScope,
  LogRecord,
  MetricPoint,
  Resource,
  SignalBatch,
  Span,
} from '../../signals/model.js';
import {
  ROLLUP_LATENCY_BOUNDS_US,
  type CompactionResult,
  type ErrorQuery,
  type IngestResult,
  type LogQuery,
  type HousekeepingFailure,
  type HousekeepingStatus,
  type MetricQuery,
  type Rollup,
  type ServiceStats,
  type SpanQuery,
  type TelemetryQuery,
  type TelemetryStore,
} from '../store.js';
import { isRequestSpan, latencyBucket, mergeRollups, ROLLUP_TIERS, tierCut, type RollupTier } from '../rollup.js';
import { decodeSpanRest, ROW_NUMS, type TraceRows } from '../../signals/otlp/wire.js';
import { readSpanTable } from './span-table-read.js';
import { HousekeepingLog } from '../housekeeping.js';
import { spanTableOf, type SpanTable } from '../../algorithms/rca/span-table.js';
import { attributesHttpHint, rcaRestOf, RCA_REST_NEEDLES, restHttpHint, STATUS_KEY, statusProvenBelow500 } from './span-projection.js';

/** Separator positions of the packed line being read (reused: one array for every span). */
const SEP = new Array<number>(11).fill(0);

/** A non-negative integer written in s[from, to), NaN for anything else (then the caller reads row by row). */
function digits(s: string, from: number, to: number): number {
  if (to <= from) return NaN;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  // Past 2^53 the running sum rounds at each step: let Number round the whole once, as a column read would.
  return v > Number.MAX_SAFE_INTEGER ? Number(s.slice(from, to)) : v;
}

/** SQL (and its parameters) true when a span's rest may hold something the RCA reads (span-projection.ts). */
function rcaNeedsRest(): { sql: string; params: Buffer[] } {
  return { sql: `(status_code = 2 OR ${[...RCA_REST_NEEDLES, STATUS_KEY].map(() => 'instr(rest, ?) > 0').join(' OR ')})`, params: [...RCA_REST_NEEDLES.map((n) => Buffer.from(n)), STATUS_KEY] };
}

/**
 * The packed query's last field: 2 a time is not an integer, 1 the rest is needed, 0 not, or `S<hex>:<n>` for
 * JS to decide from the bytes around a protobuf HTTP status (statusProvenBelow500). JSON rest: json_extract.
 * Rows with the ingest's rca_hint (migration 5) skip the proof.
 */
function rcaRestFlag(): { sql: string; params: Buffer[] } {
  const k = STATUS_KEY;
  const sql = `CASE WHEN typeof(start_us) != 'integer' OR typeof(end_us) != 'integer' THEN '2'
    WHEN status_code = 2 OR ${RCA_REST_NEEDLES.map(() => 'instr(rest, ?) > 0').join(' OR ')} THEN '1'
    WHEN rca_hint IS NOT NULL THEN CAST(rca_hint AS TEXT)
    WHEN instr(rest, ?) = 0 THEN '0'
    WHEN typeof(rest) != 'blob' THEN CASE WHEN json_type(rest, '$.a."http.response.status_code"') = 'integer' AND json_extract(rest, '$.a."http.response.status_code"') < 500 THEN '0' ELSE '1' END
    ELSE 'S' || hex(substr(rest, instr(rest, ?) - 4, 34)) || ':' || instr(substr(rest, instr(rest, ?) + 1), ?) END`;
  return { sql, params: [...RCA_REST_NEEDLES.map((n) => Buffer.from(n)), k, k, k, k] };
}

/** trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id: the columns a row-by-row span read starts with. */
type SpanRowHead = [string, string, string | null, string, string, number, number, number, number, number];

/** Shared by the spans of an 'rca' projection that have none (frozen: a reader cannot change another span's). */
const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;
const NO_EVENTS = Object.freeze([]) as unknown as Span['events'];
const NO_LINKS = Object.freeze([]) as unknown as Span['links'];
const STATUS: Span['status'][] = [0, 1, 2].map((code) => Object.freeze({ code: code as Span['status']['code'] }));

export interface TelemetryOptions {
  /** Rollup bucket width. 10 s resolves a minute-long incident into several points. */
  rollupBucketUs?: number;
  /** Raw telemetry older than this (relative to the newest record ingested) is pruned automatically. */
  retentionUs?: number;
  /** Spans per sorted run of the trace index (migration 3); also the most a trace lookup scans unindexed. */
  traceRunRows?: number;
  /** Rollup resolution by age (store/rollup.ts: ROLLUP_TIERS by default), applied as data arrives; false: never. */
  rollupTiers?: readonly RollupTier[] | false;
}

/**
 * 20,000: flushing a run took ~5 % of the writer thread's time in the ingest bench, a lookup scans at most this
 * many tail rows, and a store of 10M spans has 500 runs (one index seek each per trace id). Measured on 1M
 * spans (50 runs + a 10k tail): one trace id 1.6 ms, ten 3-9 ms.
 */
export const TRACE_RUN_ROWS = 20_000;


function inList(col: string, n: number): string {
  return `${col} IN (${new Array(n).fill('?').join(',')})`;
}

interface Where {
  sql: string[];
  params: unknown[];
}

function baseWhere(q: TelemetryQuery, timeCol: string): Where {
  const w: Where = { sql: [], params: [] };
  if (q.window) {
    w.sql.push(`${timeCol} >= ? AND ${timeCol} < ?`);
    w.params.push(q.window.fromUs, q.window.toUs);
  }
  if (q.services?.length) {
    w.sql.push(inList('service', q.services.length));
    w.params.push(...q.services);
  }
  return w;
}

function finish(table: string, cols: string, w: Where, orderCol: string, limit?: number): { sql: string; params: unknown[] } {
  const where = w.sql.length ? ` WHERE ${w.sql.join(' AND ')}` : '';
  const lim = limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(limit))}` : '';
  return { sql: `SELECT ${cols} FROM ${table}${where} ORDER BY ${orderCol}${lim}`, params: w.params };
}


const SPAN_COLS = 13;
const LOG_COLS = 8;
const METRIC_COLS = 7;
const ERROR_COLS = 7;
/** Rows per multi-row INSERT: 200 × 12 = 2,400 parameters (SQLite allows 32,766); 200 took ~0.25 µs/row less CPU than 50 (raw insert test). */
const MULTI = 200;

type Table = 'spans' | 'logs' | 'metrics' | 'errors';

/**
 * Smaller multi-row statements for what is left after the MULTI-row ones: SDK exporters send 512 spans per
 * export by default, whose last 112 rows went through the one-row statement one by one.
 */
const TAIL_SIZES = [50, 10] as const;

function insert(db: Database.Database, table: string, cols: string, n: number): Record<string, Database.Statement> {
  const row = `(${new Array(n).fill('?').join(',')})`;
  const out: Record<string, Database.Statement> = {
    [table]: db.prepare(`INSERT INTO ${table} (${cols}) VALUES ${row}`),
    [`${table}Multi`]: db.prepare(`INSERT INTO ${table} (${cols}) VALUES ${new Array(MULTI).fill(row).join(',')}`),
  };
  for (const k of TAIL_SIZES) out[`${table}${k}`] = db.prepare(`INSERT INTO ${table} (${cols}) VALUES ${new Array(k).fill(row).join(',')}`);
  return out;
}

/**
 * A batch as column values, ready to insert: flat arrays of primitives (cheap to hand to the writer thread —
 * cloning the span objects costs ~4x more: 3.6 vs 0.85 µs per span, serialise + deserialise), resources as JSON referenced by index,
 * rollups and per-service counters already aggregated. Built where the batch was decoded, written where the
 * connection lives.
 */
export interface PreparedBatch {
  resources: string[];
  /** Instrumentation scopes as JSON, referenced by index (scopes table, migration 4). */
  scopes: string[];
  /**
   * SPAN_COLS values per span, in the spans table's column order; resource_id holds an index into resources,
   * scope_id one into scopes (or null), rest the JSON text, rca_hint its HTTP-status hint (migration 5).
   */
  spans: unknown[];
  /**
   * More spans, as the receiver decoded them straight off the wire (wire.ts: TraceRows, with resource and scope
   * indexes into this batch's lists): a few strings and two typed arrays, whose buffers are transferred to the
   * writer thread rather than cloned.
   */
  spanRows?: Pick<TraceRows, 'count' | 'ids' | 'strings' | 'nums' | 'rest'>;
  logs: unknown[];
  metrics: unknown[];
  errors: unknown[];
  rollups: Rollup[];
  /** [service, signal, count, firstUs, lastUs] */
  stats: [string, string, number, number, number][];
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * `rows` (protobuf traces decoded straight to columns) stands in for batch.spans: the rows are taken as they
 * are, and only the rollups and counters are computed from them.
 */
export function prepareBatch(batch: SignalBatch, bucketUs: number, rows?: TraceRows): PreparedBatch {
  const resources: string[] = [];
  const byObj = new Map<Resource, number>();
  const byJson = new Map<string, number>();
  // Decoders share one Resource object per export, so the identity lookup almost always hits.
  const res = (r: Resource): number => {
    let i = byObj.get(r);
    if (i !== undefined) return i;
    const json = JSON.stringify(r);
    i = byJson.get(json);
    if (i === undefined) {
      i = resources.push(json) - 1;
      byJson.set(json, i);
    }
    byObj.set(r, i);
    return i;
  };
  // Per-service counters and rollups in nested maps keyed by the strings themselves: no key string built (and
  // hashed) per record, which on the receiver's thread was measurable garbage.
  const stats = new Map<string, Map<string, [string, string, number, number, number]>>();
  const stat = (service: string, signal: string, t: number): void => {
    let bySignal = stats.get(service);
    if (!bySignal) stats.set(service, (bySignal = new Map()));
    const s = bySignal.get(signal);
    if (s) {
      s[2]++;
      if (t < s[3]) s[3] = t;
      if (t > s[4]) s[4] = t;
    } else bySignal.set(signal, [service, signal, 1, t, t]);
  };
  const rollups: Rollup[] = [];
  const rollIndex = new Map<string, Map<string, Map<number, Rollup>>>();
  // The rule is rollup.ts's (isRequestSpan, latencyBucket), as RollupAccumulator applies it.
  const roll = (service: string, name: string, kind: Span['kind'], parentSpanId: string | undefined, startUs: number, endUs: number, code: number): void => {
    if (!isRequestSpan({ kind, parentSpanId })) return;
    const start = Math.floor(startUs / bucketUs) * bucketUs;
    let byName = rollIndex.get(service);
    if (!byName) rollIndex.set(service, (byName = new Map()));
    let byStart = byName.get(name);
    if (!byStart) byName.set(name, (byStart = new Map()));
    let r = byStart.get(start);
    if (!r) {
      r = { service, operation: name, bucketStartUs: start, bucketUs, requests: 0, errors: 0, durationSumUs: 0, latencyBuckets: new Array<number>(ROLLUP_LATENCY_BOUNDS_US.length + 1).fill(0) };
      byStart.set(start, r);
      rollups.push(r);
    }
    const d = Math.max(0, endUs - startUs);
    r.requests++;
    if (code === 2) r.errors++;
    r.durationSumUs += d;
    r.latencyBuckets[latencyBucket(d)]!++;
  };
  const spans: unknown[] = [];
  const scopes: string[] = [];
  // The scope repeats for every span of a ScopeSpans (decoders share the object): its JSON is made once.
  const scopeIdx = new Map<object, number>();
  if (rows) {
    const resIdx = rows.resources.map(res);
    for (const sc of rows.scopes) scopes.push(JSON.stringify(sc));
    const n = rows.nums;
    const strs = rows.strings;
    for (let o = 0; o < rows.count * ROW_NUMS; o += ROW_NUMS) {
      n[o + 4] = resIdx[n[o + 4]!]!;
      const service = strs[n[o + 7]!]!;
      const startUs = n[o + 1]!;
      stat(service, 'spans', startUs);
      // isRequestSpan only asks whether there is a parent.
      roll(service, strs[n[o + 8]!]!, n[o]! as Span['kind'], n[o + 9] ? 'parent' : undefined, startUs, n[o + 2]!, n[o + 3]!);
    }
  }
  for (const s of batch.spans) {
    // `rest` JSON assembled by hand: the same text JSON.stringify of {a, e, l, m, ts, f, da, de, dl} gives
    // (keys in that order, absent ones left out), without a throwaway object per span.
    let rest = '';
    if (!isEmpty(s.attributes)) rest += `,"a":${JSON.stringify(s.attributes)}`;
    if (s.events.length) rest += `,"e":${JSON.stringify(s.events)}`;
    if (s.links.length) rest += `,"l":${JSON.stringify(s.links)}`;
    if (s.status.message) rest += `,"m":${JSON.stringify(s.status.message)}`;
    if (s.traceState) rest += `,"ts":${JSON.stringify(s.traceState)}`;
    if (s.flags !== undefined) rest += `,"f":${JSON.stringify(s.flags)}`;
    let sc: number | null = null;
    if (s.scope) {
      sc = scopeIdx.get(s.scope) ?? null;
      if (sc === null) scopeIdx.set(s.scope, (sc = scopes.push(JSON.stringify(s.scope)) - 1));
    }
    if (s.droppedAttributesCount) rest += `,"da":${JSON.stringify(s.droppedAttributesCount)}`;
    if (s.droppedEventsCount) rest += `,"de":${JSON.stringify(s.droppedEventsCount)}`;
    if (s.droppedLinksCount) rest += `,"dl":${JSON.stringify(s.droppedLinksCount)}`;
    spans.push(s.traceId, s.spanId, s.parentSpanId ?? null, s.service, s.name, s.kind, s.startUs, s.endUs, s.status.code, res(s.resource), sc, rest ? `{${rest.slice(1)}}` : '{}', attributesHttpHint(s.attributes));
    stat(s.service, 'spans', s.startUs);
    roll(s.service, s.name, s.kind, s.parentSpanId, s.startUs, s.endUs, s.status.code);
  }
  const logs: unknown[] = [];
  for (const l of batch.logs) {
    const rest: Record<string, unknown> = {};
    if (Object.keys(l.attributes).length) rest.a = l.attributes;
    if (l.severityText) rest.st = l.severityText;
    if (l.observedTimeUs !== undefined) rest.o = l.observedTimeUs;
    if (l.bodyValue !== undefined) rest.bv = l.bodyValue;
    if (l.flags !== undefined) rest.f = l.flags;
    if (l.eventName) rest.en = l.eventName;
    if (l.scope) rest.sc = l.scope;
    if (l.droppedAttributesCount) rest.da = l.droppedAttributesCount;
    logs.push(l.timeUs, l.service, l.severityNumber, l.body, l.traceId ?? null, l.spanId ?? null, res(l.resource), JSON.stringify(rest));
    stat(l.service, 'logs', l.timeUs);
  }
  const metrics: unknown[] = [];
  for (const m of batch.metrics) {
    const { name, service, timeUs, type, resource, ...restObj } = m;
    const value = type === 'gauge' || type === 'sum' ? m.value : type === 'summary' || type === 'histogram' || type === 'exponential_histogram' ? (m.count ? (m.sum ?? NaN) / m.count : null) : null;
    metrics.push(timeUs, service, name, type, value === null || Number.isNaN(value) ? null : value, res(resource), JSON.stringify(restObj));
    stat(service, 'metrics', timeUs);
  }
  const errors: unknown[] = [];
  for (const e of batch.errors) {
    const { timeUs, service, type, fingerprint, traceId, resource, ...restObj } = e;
    errors.push(timeUs, service, type, fingerprint, traceId ?? null, res(resource), JSON.stringify(restObj));
    stat(service, 'errors', timeUs);
  }
  const out: PreparedBatch = { resources, scopes, spans, logs, metrics, errors, rollups, stats: [...stats.values()].flatMap((m) => [...m.values()]) };
  if (rows) out.spanRows = { count: rows.count, ids: rows.ids, strings: rows.strings, nums: rows.nums, rest: rows.rest };
  return out;
}

/** A rollups row as read raw: service, operation, bucket start and width, requests, errors, duration sum, histogram JSON. */
type RollupRow = [string, string, number, number, number, number, number, string];
const rollupOf = (r: RollupRow): Rollup => ({ service: r[0], operation: r[1], bucketStartUs: r[2], bucketUs: r[3], requests: r[4], errors: r[5], durationSumUs: r[6], latencyBuckets: JSON.parse(r[7]) as number[] });

export class SqliteTelemetry implements TelemetryStore {
  private readonly bucketUs: number;
  private readonly retentionUs?: number;
  private readonly resourceIds = new Map<string, number>();
  private readonly resourceById = new Map<number, Resource>();
  private readonly scopeIds = new Map<string, number>();
  private readonly scopeById = new Map<number, InstrumentationScope>();
  private readonly st: Record<string, Database.Statement>;
  private newestUs = 0;
  private ingestsSincePrune = 0;
  private readonly tiers: readonly RollupTier[] | false;
  private ingestsSinceCompact = 0;
  /** Per tier: the start below which this connection has merged its buckets (undefined: not yet, scan them all). */
  private readonly compactedTo: (number | undefined)[] = [];
  /** Spans stored past the trace index's tail_from (unindexed; lookups scan them by rowid). */
  private traceTail = 0;
  private readonly runRows: number;
  /** Housekeeping failures: this connection's own, and those the writer thread reports (see ingest). */
  readonly housekeepingLog = new HousekeepingLog();

  constructor(
    private readonly db: Database.Database,
    opts: TelemetryOptions = {},
  ) {
    this.bucketUs = opts.rollupBucketUs ?? 10_000_000;
    this.retentionUs = opts.retentionUs;
    this.tiers = opts.rollupTiers ?? ROLLUP_TIERS;
    this.runRows = opts.traceRunRows ?? TRACE_RUN_ROWS;
    this.st = {
      resIns: db.prepare('INSERT INTO resources (json) VALUES (?) ON CONFLICT(json) DO UPDATE SET json = excluded.json RETURNING id'),
      resGet: db.prepare('SELECT json FROM resources WHERE id = ?'),
      scIns: db.prepare('INSERT INTO scopes (json) VALUES (?) ON CONFLICT(json) DO UPDATE SET json = excluded.json RETURNING id'),
      scGet: db.prepare('SELECT json FROM scopes WHERE id = ?'),
      ...insert(db, 'spans', 'trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id, scope_id, rest, rca_hint', SPAN_COLS),
      ...insert(db, 'logs', 'time_us, service, severity, body, trace_id, span_id, resource_id, rest', LOG_COLS),
      ...insert(db, 'metrics', 'time_us, service, name, type, value, resource_id, rest', METRIC_COLS),
      ...insert(db, 'errors', 'time_us, service, type, fingerprint, trace_id, resource_id, rest', ERROR_COLS),
      rollGet: db.prepare('SELECT requests, errors, duration_sum_us, buckets FROM rollups WHERE service = ? AND operation = ? AND bucket_start_us = ? AND bucket_us = ?'),
      rollIns: db.prepare('INSERT INTO rollups (service, operation, bucket_start_us, bucket_us, requests, errors, duration_sum_us, buckets) VALUES (?,?,?,?,?,?,?,?)'),
      rollUpd: db.prepare('UPDATE rollups SET requests = ?, errors = ?, duration_sum_us = ?, buckets = ? WHERE service = ? AND operation = ? AND bucket_start_us = ? AND bucket_us = ?'),
      statUp: db.prepare(
        'INSERT INTO service_stats (service, signal, count, first_us, last_us) VALUES (?,?,?,?,?) ON CONFLICT(service, signal) DO UPDATE SET count = count + excluded.count, first_us = min(first_us, excluded.first_us), last_us = max(last_us, excluded.last_us)',
      ),
    };
    const newest = db.prepare("SELECT max(last_us) AS m FROM service_stats").get() as { m: number | null };
    this.newestUs = newest.m ?? 0;
    this.traceTail = (db.prepare('SELECT count(*) AS n FROM spans WHERE rowid >= (SELECT tail_from FROM span_trace_state)').get() as { n: number }).n;
  }

  /**
   * Appends the unindexed tail as one sorted run of the trace index (migration 3 says why). Runs inside the
   * ingest transaction; tail_from is read from the database, not cached, so two writing processes stay
   * consistent (their write transactions are serialised).
   */
  private flushTraceRun(): void {
    const tail = (this.db.prepare('SELECT tail_from FROM span_trace_state').get() as { tail_from: number }).tail_from;
    const last = (this.db.prepare('SELECT max(rowid) AS m FROM spans').get() as { m: number | null }).m;
    this.traceTail = 0;
    if (last === null || last < tail) return;
    // Run ids only grow (even when pruning lowered tail_from), so a new run always lands at the B-tree's right edge.
    const run = (this.db.prepare('SELECT coalesce(max(run), -1) + 1 AS r FROM span_trace_runs').get() as { r: number }).r;
    this.db.prepare('INSERT INTO span_trace_idx (run, trace_id, row) SELECT ?, trace_id, rowid FROM spans WHERE rowid >= ? ORDER BY trace_id, rowid').run(run, tail);
    this.db.prepare('INSERT INTO span_trace_runs (run, last_row) VALUES (?, ?)').run(run, last);
    this.db.prepare('UPDATE span_trace_state SET tail_from = ?').run(last + 1);
  }

  private resource(id: number): Resource {
    let r = this.resourceById.get(id);
    if (!r) {
      const row = this.st.resGet!.get(id) as { json: string } | undefined;
      r = row ? (JSON.parse(row.json) as Resource) : { attributes: {} };
      if (this.resourceById.size > 10_000) this.resourceById.clear();
      this.resourceById.set(id, r);
    }
    return r;
  }

  private scope(id: number): InstrumentationScope | undefined {
    let s = this.scopeById.get(id);
    if (!s) {
      const row = this.st.scGet!.get(id) as { json: string } | undefined;
      if (!row) return undefined;
      s = JSON.parse(row.json) as InstrumentationScope;
      if (this.scopeById.size > 10_000) this.scopeById.clear();
      this.scopeById.set(id, s);
    }
    return s;
  }

  /** Scope JSON → row id, interned once per connection (bounded, as resources are). */
  private scopeRowId(json: string): number {
    return internRowId(this.scopeIds, this.st.scIns!, json);
  }

  /** Resource JSON → row id, interned once per connection. */
  private resourceRowId(json: string): number {
    return internRowId(this.resourceIds, this.st.resIns!, json);
  }

  /**
   * Multi-row INSERT of `cols`-wide rows: one statement per MULTI rows saves most of the per-call binding cost.
   * Spans (scopeIds given) also map scope indexes.
   */
  private insertRows(table: Table, cols: number, resCol: number, rows: unknown[], resIds: number[], scopeIds?: number[]): void {
    const single = this.st[table]!;
    const multi = this.st[`${table}Multi`]!;
    const n = rows.length / cols;
    // Indexes become row ids in a copy: a batch retried after a failed group commit is intact.
    const part = (from: number, to: number): unknown[] => {
      const out = rows.slice(from * cols, to * cols);
      for (let i = resCol; i < out.length; i += cols) out[i] = resIds[out[i] as number];
      if (scopeIds) for (let i = resCol + 1; i < out.length; i += cols) if (out[i] !== null) out[i] = scopeIds[out[i] as number];
      return out;
    };
    let r = 0;
    for (; r + MULTI <= n; r += MULTI) multi.run(part(r, r + MULTI));
    for (const k of TAIL_SIZES) for (const st = this.st[`${table}${k}`]!; r + k <= n; r += k) st.run(part(r, r + k));
    for (; r < n; r++) single.run(part(r, r + 1));
  }

  /** The receiver's span rows (PreparedBatch.spanRows) as table rows, MULTI per statement; rest as a view of the blob. */
  private insertSpanRows(r: NonNullable<PreparedBatch['spanRows']>, resIds: number[], scopeIds: number[]): void {
    const multi = this.st.spansMulti!;
    const single = this.st.spans!;
    const buf = Buffer.from(r.rest.buffer, r.rest.byteOffset, r.rest.byteLength);
    const { nums, ids, strings } = r;
    const params: unknown[] = new Array<unknown>(MULTI * SPAN_COLS);
    let k = 0;
    let at = 0;
    let prev = 0;
    for (let o = 0; o < r.count * ROW_NUMS; o += ROW_NUMS) {
      const parentLen = nums[o + 9]!;
      params[k++] = ids.slice(at, at + 32);
      params[k++] = ids.slice(at + 32, at + 48);
      params[k++] = parentLen ? ids.slice(at + 48, at + 48 + parentLen) : null;
      at += 48 + parentLen;
      params[k++] = strings[nums[o + 7]!];
      params[k++] = strings[nums[o + 8]!];
      params[k++] = nums[o];
      params[k++] = nums[o + 1];
      params[k++] = nums[o + 2];
      params[k++] = nums[o + 3];
      params[k++] = resIds[nums[o + 4]!];
      const sc = nums[o + 5]!;
      params[k++] = sc < 0 ? null : scopeIds[sc];
      const end = nums[o + 6]!;
      const rest = buf.subarray(prev, end);
      params[k++] = rest;
      params[k++] = restHttpHint(rest);
      prev = end;
      if (k === params.length) {
        multi.run(params);
        k = 0;
      }
    }
    let j = 0;
    for (const size of TAIL_SIZES) for (const st = this.st[`spans${size}`]!; j + size * SPAN_COLS <= k; j += size * SPAN_COLS) st.run(params.slice(j, j + size * SPAN_COLS));
    for (; j < k; j += SPAN_COLS) single.run(params.slice(j, j + SPAN_COLS));
  }

  /** Adds a rollup to the stored one of its bucket, or stores it; true when it is a new row. */
  private addRollup(r: Rollup): boolean {
    const cur = this.st.rollGet!.get(r.service, r.operation, r.bucketStartUs, r.bucketUs) as { requests: number; errors: number; duration_sum_us: number; buckets: string } | undefined;
    if (!cur) {
      this.st.rollIns!.run(r.service, r.operation, r.bucketStartUs, r.bucketUs, r.requests, r.errors, r.durationSumUs, JSON.stringify(r.latencyBuckets));
      return true;
    }
    const b = JSON.parse(cur.buckets) as number[];
    for (let i = 0; i < r.latencyBuckets.length; i++) b[i] = (b[i] ?? 0) + r.latencyBuckets[i]!;
    this.st.rollUpd!.run(cur.requests + r.requests, cur.errors + r.errors, cur.duration_sum_us + r.durationSumUs, JSON.stringify(b), r.service, r.operation, r.bucketStartUs, r.bucketUs);
    return false;
  }

  private readonly writeTx = (list: PreparedBatch[]): void => {
    for (const p of list) {
      const resIds = p.resources.map((json) => this.resourceRowId(json));
      const scopeIds = p.scopes.map((json) => this.scopeRowId(json));
      this.insertRows('spans', SPAN_COLS, 9, p.spans, resIds, scopeIds);
      if (p.spanRows) this.insertSpanRows(p.spanRows, resIds, scopeIds);
      this.insertRows('logs', LOG_COLS, 6, p.logs, resIds);
      this.insertRows('metrics', METRIC_COLS, 5, p.metrics, resIds);
      this.insertRows('errors', ERROR_COLS, 5, p.errors, resIds);
      for (const r of p.rollups) this.addRollup(r);
      for (const [service, signal, n, first, last] of p.stats) {
        this.st.statUp!.run(service, signal, n, first, last);
        if (last > this.newestUs) this.newestUs = last;
      }
      this.traceTail += p.spans.length / SPAN_COLS + (p.spanRows?.count ?? 0);
      if (this.traceTail >= this.runRows) this.flushTraceRun();
    }
  };

  private txFn?: Database.Transaction<(list: PreparedBatch[]) => void>;

  /**
   * Writes prepared batches in one transaction (the writer thread hands it every batch that queued up while the
   * previous commit ran: group commit). IMMEDIATE takes the write lock up front, so a concurrent writer on
   * another connection makes us wait (busy_timeout) instead of failing on the lock upgrade.
   */
  commit(list: PreparedBatch[]): HousekeepingFailure[] {
    (this.txFn ??= this.db.transaction(this.writeTx)).immediate(list);
    // The batches are durable from here on. Housekeeping that fails (a lock held past busy_timeout, a full disk)
    // must not fail them: the writer thread would retry them one by one and store them twice, and the sender would
    // retry them again. It is recorded, and the next run (50 commits on) tries again.
    const failed: HousekeepingFailure[] = [];
    const off = this.housekeepingLog.on((f) => failed.push(f));
    try {
      if (this.retentionUs !== undefined && (this.ingestsSincePrune += list.length) >= 50) {
        this.ingestsSincePrune = 0;
        const cut = this.newestUs - this.retentionUs;
        this.housekeepingLog.run('retention', () => this.pruneSync(cut));
      }
      // A tier's cut moves once per its bucket width of data time, so most of these calls find nothing to do.
      if (this.tiers && (this.ingestsSinceCompact += list.length) >= 50) {
        this.ingestsSinceCompact = 0;
        const tiers = this.tiers;
        this.housekeepingLog.run('compaction', () => this.compactSync(tiers, this.newestUs, true));
      }
    } finally {
      off();
    }
    return failed;
  }

  housekeeping(): HousekeepingStatus {
    return this.housekeepingLog.status();
  }

  onHousekeepingFailure(listener: (f: HousekeepingFailure) => void): () => void {
    return this.housekeepingLog.on(listener);
  }

  /** Set by the store when a writer thread owns the writes (file databases); otherwise ingest commits here. */
  writer?: { readonly alive: boolean; write(p: PreparedBatch): Promise<void> };

  async ingest(batch: SignalBatch): Promise<IngestResult> {
    // The prepared rows are passed straight on, not kept in this frame across the await: the writer has its own
    // copy, and eight in-flight requests' worth of them would otherwise stay alive on the receiver's heap.
    if (this.writer?.alive) await this.writer.write(prepareBatch(batch, this.bucketUs));
    else this.commit([prepareBatch(batch, this.bucketUs)]);
    return { spans: batch.spans.length, logs: batch.logs.length, metrics: batch.metrics.length, errors: batch.errors.length };
  }

  /**
   * Protobuf traces decoded straight to rows (wire.ts: decodeTracesRows); the receiver's path when it has one.
   * The rows are consumed: their indexes are rewritten and their buffers move to the writer thread.
   */
  async ingestTraceRows(rows: TraceRows): Promise<IngestResult> {
    const spans = rows.count;
    const errors = rows.errors.length;
    const p = prepareBatch({ spans: [], logs: [], metrics: [], errors: rows.errors }, this.bucketUs, rows);
    if (this.writer?.alive) await this.writer.write(p);
    else this.commit([p]);
    return { spans, logs: 0, metrics: 0, errors };
  }

  /** The FROM and WHERE of a span query (SpanQuery's filters), shared by the object and the column reads. */
  private spanWhere(q: SpanQuery): { from: string; w: Where } {
    const w = baseWhere(q, 'start_us');
    let from = 'spans';
    if (q.traceIds?.length) {
      // Candidates from every sorted run (CROSS JOIN: one seek per run, not a scan of the index) plus the
      // unindexed tail, then the rows by rowid; the trace_id check on the row itself drops index entries that
      // point at pruned (or since reused) rowids.
      const n = q.traceIds.length;
      from = `(SELECT i.row AS r FROM span_trace_runs t CROSS JOIN span_trace_idx i ON i.run = t.run AND ${inList('i.trace_id', n)} UNION SELECT rowid FROM spans WHERE rowid >= (SELECT tail_from FROM span_trace_state) AND ${inList('trace_id', n)}) AS c CROSS JOIN spans ON spans.rowid = c.r`;
      w.sql.push(inList('trace_id', n));
      w.params.unshift(...q.traceIds, ...q.traceIds);
      w.params.push(...q.traceIds);
    }
    if (q.errorsOnly) w.sql.push('status_code = 2');
    if (q.operations?.length) {
      w.sql.push(inList('name', q.operations.length));
      w.params.push(...q.operations);
    }
    return { from, w };
  }

  /**
   * The RCA projection as columns (span-table-read.ts): what querySpans with fields 'rca' reads, without a span
   * object per span, and the rest of only the spans the analysis reads more of — failed spans, and those whose
   * peer `peersFor` (traces.ts: peerNeeded) names. One read transaction. Where the packed line cannot carry the
   * values exactly, the table is made from the 'rca' span objects instead (same answer, slower).
   */
  async querySpanTable(q: SpanQuery, peersFor: (t: SpanTable) => Int32Array): Promise<SpanTable> {
    const { from, w } = this.spanWhere(q);
    const select = (cols: string): { sql: string; params: unknown[] } => finish(from, cols, w, 'start_us, spans.rowid', q.limit);
    return this.db.transaction(() => readSpanTable(this.db, select, (id) => this.resource(id), rcaRestOf, peersFor, q.limit) ?? spanTableOf(this.rcaSpans(from, w, q.limit)))();
  }

  async querySpans(q: SpanQuery): Promise<Span[]> {
    const { from, w } = this.spanWhere(q);
    if (q.fields === 'rca') return this.rcaSpans(from, w, q.limit);
    const { sql, params } = finish(from, 'trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id, rest, scope_id', w, 'start_us', q.limit);
    const rows = this.db.prepare(sql).raw().all(...params) as [...SpanRowHead, string | Buffer, number | null][];
    return rows.map((r) => {
      // Two encodings of the rest (see PreparedBatch): JSON text, or protobuf bytes from the receiver's row path.
      let rest: { a?: Attributes; e?: Span['events']; l?: Span['links']; m?: string; ts?: string; f?: number; sc?: Span['scope']; da?: number; de?: number; dl?: number };
      if (typeof r[10] === 'string') rest = JSON.parse(r[10]) as typeof rest;
      else {
        const d = decodeSpanRest(r[10], r[6]);
        rest = { a: d.attributes, e: d.events, l: d.links, m: d.message, ts: d.traceState, f: d.flags, da: d.droppedAttributesCount, de: d.droppedEventsCount, dl: d.droppedLinksCount };
      }
      if (!rest.sc && r[11] !== null) rest.sc = this.scope(r[11]);
      const span = this.spanOfRow(r, rest.a ?? {}, rest.e ?? [], rest.l ?? [], rest.m);
      if (rest.ts) span.traceState = rest.ts;
      if (rest.f !== undefined) span.flags = rest.f;
      if (rest.sc) span.scope = rest.sc;
      if (rest.da) span.droppedAttributesCount = rest.da;
      if (rest.de) span.droppedEventsCount = rest.de;
      if (rest.dl) span.droppedLinksCount = rest.dl;
      return span;
    });
  }

  /**
   * SpanQuery.fields = 'rca' (see span-projection.ts). SQLite hands over the rest column only when it may hold
   * something the analysis reads (RCA_REST_NEEDLES, or the span failed): handing over a blob costs more than the
   * scan of it. Needles are bound as blobs so protobuf rest is searched byte for byte (JSON text as text).
   */
  private rcaSpans(from: string, w: Where, limit: number | undefined): Span[] {
    return this.db.transaction(() => this.rcaSpansPacked(from, w, limit) ?? this.rcaSpansRows(from, w, limit))();
  }

  /**
   * The columns packed into one string per span (fields apart by \x1f) and, for the spans whose rest is needed,
   * the rest by a second query in the same order: better-sqlite3 makes a row array and a value per column, which
   * cost ~3 µs a span over 10 columns, against ~1 µs for one string split in JS. Undefined (the caller reads row
   * by row instead) when a string field holds \x1f itself or a time is not an integer (a REAL would print
   * rounded): the packed form would not read back exactly. Run inside one read transaction, so both queries see
   * the same rows.
   */
  private rcaSpansPacked(from: string, w: Where, limit: number | undefined): Span[] | undefined {
    const need = rcaRestFlag();
    const packed = `spans.rowid || char(31) || trace_id || char(31) || span_id || char(31) || ifnull(parent_span_id, '') || char(31) || service || char(31) || name || char(31) || kind || char(31) || start_us || char(31) || end_us || char(31) || status_code || char(31) || resource_id || char(31) || ${need.sql}`;
    const q1 = finish(from, packed, w, 'start_us, spans.rowid', limit);
    const FIELDS = 12;
    const out: Span[] = [];
    const restRows: number[] = [];
    const restOf: number[] = [];
    // Row by row (iterate, not all): a line is garbage as soon as it is split, instead of a million of them
    // outliving the young generation.
    for (const line of this.db.prepare(q1.sql).pluck().iterate(...need.params, ...q1.params) as IterableIterator<string>) {
      const i = out.length;
      // Split by hand: the six integers are read off the characters, not made into strings first.
      let p = 0;
      for (let k = 0; k < FIELDS - 1; k++) {
        const q = line.indexOf('\x1f', p);
        if (q < 0) return undefined;
        SEP[k] = q;
        p = q + 1;
      }
      // A separator inside a string field shifts every field after it: the flag would hold one.
      if (line.indexOf('\x1f', p) >= 0) return undefined;
      const rowid = digits(line, 0, SEP[0]!);
      const kind = digits(line, SEP[5]! + 1, SEP[6]!);
      const startUs = digits(line, SEP[6]! + 1, SEP[7]!);
      const endUs = digits(line, SEP[7]! + 1, SEP[8]!);
      const code = digits(line, SEP[8]! + 1, SEP[9]!);
      const resId = digits(line, SEP[9]! + 1, SEP[10]!);
      const flag = line.charCodeAt(p);
      if (Number.isNaN(rowid + kind + startUs + endUs + code + resId) || flag === 50 /* '2' */) return undefined;
      const span: Span = {
        traceId: line.slice(SEP[0]! + 1, SEP[1]!),
        spanId: line.slice(SEP[1]! + 1, SEP[2]!),
        name: line.slice(SEP[4]! + 1, SEP[5]!),
        kind: kind as Span['kind'],
        startUs,
        endUs,
        service: line.slice(SEP[3]! + 1, SEP[4]!),
        // Shared and frozen until the rest says otherwise: four fewer objects per span (collection was half the time).
        attributes: NO_ATTRIBUTES,
        events: NO_EVENTS,
        links: NO_LINKS,
        status: STATUS[code] ?? { code: code as Span['status']['code'] },
        resource: this.resource(resId),
      };
      if (SEP[3]! > SEP[2]! + 1) span.parentSpanId = line.slice(SEP[2]! + 1, SEP[3]!);
      out.push(span);
      // 1: needed; 0: not; S<hex>:<n>: the bytes around a protobuf HTTP status, for JS to judge.
      if (flag === 49 || (flag !== 48 && !statusProvenBelow500(line.slice(p + 1, line.indexOf(':', p)), Number(line.slice(line.indexOf(':', p) + 1))))) {
        restRows.push(rowid);
        restOf.push(i);
      }
    }
    if (restRows.length) {
      // Those rows again by rowid (inside the same transaction: the same rows), their rest only.
      const at = new Map<number, number>();
      for (let j = 0; j < restRows.length; j++) at.set(restRows[j]!, restOf[j]!);
      let n = 0;
      for (const [rowid, raw] of this.db.prepare('SELECT rowid, rest FROM spans WHERE rowid IN (SELECT value FROM json_each(?))').raw().iterate(JSON.stringify(restRows)) as IterableIterator<[number, string | Buffer]>) {
        const i = at.get(rowid);
        if (i === undefined) continue;
        n++;
        const span = out[i]!;
        const rest = rcaRestOf(raw, span.startUs);
        if (rest) {
          span.attributes = rest.attributes;
          span.events = rest.events;
          if (rest.message) span.status = { code: span.status.code, message: rest.message };
        }
      }
      if (n !== restRows.length) return undefined;
    }
    return out;
  }

  private rcaSpansRows(from: string, w: Where, limit: number | undefined): Span[] {
    const need = rcaNeedsRest();
    const { sql, params } = finish(from, `trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id, CASE WHEN ${need.sql} THEN rest END`, w, 'start_us, spans.rowid', limit);
    const stmt = this.db.prepare(sql).raw();
    const rows = stmt.all(...need.params, ...params) as [...SpanRowHead, string | Buffer | null][];
    const out: Span[] = new Array<Span>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const rest = rcaRestOf(r[10], r[6]);
      out[i] = this.spanOfRow(r, rest?.attributes ?? {}, rest?.events ?? [], [], rest?.message);
    }
    return out;
  }

  /** A span from the columns every row-by-row span read starts with (SpanRowHead) and what its rest gave. */
  private spanOfRow(r: readonly [...SpanRowHead, ...unknown[]], attributes: Attributes, events: Span['events'], links: Span['links'], message: string | undefined): Span {
    const code = r[8] as Span['status']['code'];
    const span: Span = { traceId: r[0], spanId: r[1], name: r[4], kind: r[5] as Span['kind'], startUs: r[6], endUs: r[7], service: r[3], attributes, events, links, status: message ? { code, message } : { code }, resource: this.resource(r[9]) };
    if (r[2]) span.parentSpanId = r[2];
    return span;
  }

  async queryLogs(q: LogQuery): Promise<LogRecord[]> {
    const w = baseWhere(q, 'time_us');
    if (q.minSeverity !== undefined) {
      w.sql.push('severity >= ?');
      w.params.push(q.minSeverity);
    }
    if (q.traceIds?.length) {
      w.sql.push(inList('trace_id', q.traceIds.length));
      w.params.push(...q.traceIds);
    }
    const { sql, params } = finish('logs', 'time_us, service, severity, body, trace_id, span_id, resource_id, rest', w, 'time_us', q.limit);
    const rows = this.db.prepare(sql).raw().all(...params) as [number, string, number, string, string | null, string | null, number, string][];
    return rows.map((r) => {
      const rest = JSON.parse(r[7]) as { a?: Attributes; st?: string; o?: number; bv?: LogRecord['bodyValue']; f?: number; en?: string; sc?: LogRecord['scope']; da?: number };
      const l: LogRecord = { timeUs: r[0], service: r[1], severityNumber: r[2], body: r[3], attributes: rest.a ?? {}, resource: this.resource(r[6]) };
      if (r[4]) l.traceId = r[4];
      if (r[5]) l.spanId = r[5];
      if (rest.st) l.severityText = rest.st;
      if (rest.o !== undefined) l.observedTimeUs = rest.o;
      if (rest.bv !== undefined) l.bodyValue = rest.bv;
      if (rest.f !== undefined) l.flags = rest.f;
      if (rest.en) l.eventName = rest.en;
      if (rest.sc) l.scope = rest.sc;
      if (rest.da) l.droppedAttributesCount = rest.da;
      return l;
    });
  }

  async queryMetrics(q: MetricQuery): Promise<MetricPoint[]> {
    const w = baseWhere(q, 'time_us');
    if (q.names?.length) {
      w.sql.push(inList('name', q.names.length));
      w.params.push(...q.names);
    }
    const { sql, params } = finish('metrics', 'time_us, service, name, type, resource_id, rest', w, 'time_us', q.limit);
    const rows = this.db.prepare(sql).raw().all(...params) as [number, string, string, MetricPoint['type'], number, string][];
    // The parsed rest gets the columns set on it rather than being spread into a new object: the spread cost ~5 µs
    // a point (measured on 600,000 gauge points: 11 µs per point read, 0.5 µs with assignment), most of a read.
    return rows.map((r) => {
      const m = JSON.parse(r[5]) as MetricPoint;
      m.timeUs = r[0];
      m.service = r[1];
      m.name = r[2];
      m.type = r[3];
      m.resource = this.resource(r[4]);
      return m;
    });
  }

  async queryErrors(q: ErrorQuery): Promise<ErrorEvent[]> {
    const w = baseWhere(q, 'time_us');
    if (q.fingerprints?.length) {
      w.sql.push(inList('fingerprint', q.fingerprints.length));
      w.params.push(...q.fingerprints);
    }
    const { sql, params } = finish('errors', 'time_us, service, type, fingerprint, trace_id, resource_id, rest', w, 'time_us', q.limit);
    const rows = this.db.prepare(sql).raw().all(...params) as [number, string, string, string, string | null, number, string][];
    return rows.map((r) => {
      const e = JSON.parse(r[6]) as ErrorEvent;
      e.timeUs = r[0];
      e.service = r[1];
      e.type = r[2];
      e.fingerprint = r[3];
      e.resource = this.resource(r[5]);
      if (r[4]) e.traceId = r[4];
      return e;
    });
  }

  async rollups(q: TelemetryQuery & { operations?: string[] }): Promise<Rollup[]> {
    const w = baseWhere(q, 'bucket_start_us');
    if (q.operations?.length) {
      w.sql.push(inList('operation', q.operations.length));
      w.params.push(...q.operations);
    }
    const { sql, params } = finish('rollups', 'service, operation, bucket_start_us, bucket_us, requests, errors, duration_sum_us, buckets', w, 'bucket_start_us, service, operation', q.limit);
    return (this.db.prepare(sql).raw().all(...params) as RollupRow[]).map(rollupOf);
  }

  async stats(): Promise<ServiceStats[]> {
    const rows = this.db.prepare('SELECT service, signal, count, first_us, last_us FROM service_stats ORDER BY service').all() as { service: string; signal: string; count: number; first_us: number | null; last_us: number | null }[];
    const by = new Map<string, ServiceStats>();
    for (const r of rows) {
      let s = by.get(r.service);
      if (!s) by.set(r.service, (s = { service: r.service, spans: 0, logs: 0, metrics: 0, errors: 0 }));
      if (r.signal === 'spans' || r.signal === 'logs' || r.signal === 'metrics' || r.signal === 'errors') s[r.signal] = r.count;
      if (r.first_us !== null) s.firstUs = s.firstUs === undefined ? r.first_us : Math.min(s.firstUs, r.first_us);
      if (r.last_us !== null) s.lastUs = s.lastUs === undefined ? r.last_us : Math.max(s.lastUs, r.last_us);
    }
    return [...by.values()];
  }

  async compactRollups(tiers: readonly RollupTier[] = ROLLUP_TIERS): Promise<CompactionResult> {
    const newest = (this.db.prepare('SELECT max(last_us) AS m FROM service_stats').get() as { m: number | null }).m;
    return newest === null ? { merged: 0, written: 0 } : this.compactSync(tiers, newest, false);
  }

  /**
   * Merges each tier's buckets older than its cut, a day of data time per transaction (a first compaction of a
   * long history neither holds the write lock nor the rows in memory for long). After the first pass a tier
   * starts one of its buckets below where it stopped (`resume`, the automatic runs): a late row further back
   * stays narrow until an explicit compaction, which scans the whole history (readers merge mixed widths anyway:
   * uniformRollups).
   */
  compactSync(tiers: readonly RollupTier[], newestUs: number, resume: boolean): CompactionResult {
    const res = { merged: 0, written: 0 };
    const sel = this.db.prepare('SELECT service, operation, bucket_start_us, bucket_us, requests, errors, duration_sum_us, buckets FROM rollups WHERE bucket_start_us >= ? AND bucket_start_us < ? AND bucket_us < ?').raw();
    const del = this.db.prepare('DELETE FROM rollups WHERE bucket_start_us >= ? AND bucket_start_us < ? AND bucket_us < ?');
    const chunk = this.db.transaction((from: number, to: number, w: number): void => {
      const rows = (sel.all(from, to, w) as RollupRow[]).map(rollupOf);
      if (!rows.length) return;
      del.run(from, to, w);
      res.merged += rows.length;
      for (const r of mergeRollups(rows, w)) if (this.addRollup(r)) res.written++;
    });
    tiers.forEach((tier, t) => {
      const w = tier.bucketUs;
      const cut = tierCut(newestUs, tier);
      const done = resume ? this.compactedTo[t] : undefined;
      if (done !== undefined && cut <= done) return;
      let from = done === undefined ? (this.db.prepare('SELECT min(bucket_start_us) AS m FROM rollups WHERE bucket_start_us < ? AND bucket_us < ?').get(cut, w) as { m: number | null }).m : done - w;
      if (from !== null) {
        from = Math.floor(from / w) * w;
        const step = Math.max(w, Math.floor(864e8 / w) * w);
        for (let a = from; a < cut; a += step) chunk.immediate(a, Math.min(cut, a + step), w);
      }
      if (resume) this.compactedTo[t] = cut;
    });
    return res;
  }

  /** Deletes in chunks so a large prune never holds the write lock (or memory) for long. */
  async prune(olderThanUs: number): Promise<number> {
    return this.pruneSync(olderThanUs);
  }

  pruneSync(olderThanUs: number): number {
    let total = 0;
    const plans: [string, string, string][] = [
      ['spans', 'start_us', 'spans'],
      ['logs', 'time_us', 'logs'],
      ['metrics', 'time_us', 'metrics'],
      ['errors', 'time_us', 'errors'],
    ];
    // Counters are kept up to date chunk by chunk from the deleted rows' services (RETURNING), in the chunk's own
    // transaction: recomputing them from what remains scanned every stored row on every prune — with retention
    // on, that was a full index scan per 50 ingests, the larger part of the writer's CPU per span once a few
    // million spans were stored.
    for (const [table, col, signal] of plans) {
      const del = this.db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${col} < ? LIMIT 20000) RETURNING service`).raw();
      const dec = this.db.prepare('UPDATE service_stats SET count = count - ? WHERE service = ? AND signal = ?');
      const drop = this.db.prepare('DELETE FROM service_stats WHERE service = ? AND signal = ? AND count <= 0');
      const first = this.db.prepare(`UPDATE service_stats SET first_us = (SELECT min(${col}) FROM ${table} WHERE service = ?) WHERE service = ? AND signal = ?`);
      const chunk = this.db.transaction((): number => {
        const gone = del.all(olderThanUs) as [string][];
        const by = new Map<string, number>();
        for (const [service] of gone) by.set(service, (by.get(service) ?? 0) + 1);
        for (const [service, n] of by) {
          dec.run(n, service, signal);
          if (drop.run(service, signal).changes === 0) first.run(service, service, signal);
        }
        return gone.length;
      });
      for (;;) {
        const n = chunk.immediate();
        total += n;
        if (n < 20000) break;
      }
    }
    if (total) {
      this.db.transaction(() => {
        // Trace-index runs whose rows are all gone are dropped whole. If the newest rows went too, SQLite will
        // hand their rowids out again: tail_from moves back so those new rows count as unindexed.
        const { lo, hi } = this.db.prepare('SELECT min(rowid) AS lo, max(rowid) AS hi FROM spans').get() as { lo: number | null; hi: number | null };
        const dead = this.db.prepare('SELECT run FROM span_trace_runs WHERE ? IS NULL OR last_row < ?').all(lo, lo) as { run: number }[];
        for (const { run } of dead) {
          this.db.prepare('DELETE FROM span_trace_idx WHERE run = ?').run(run);
          this.db.prepare('DELETE FROM span_trace_runs WHERE run = ?').run(run);
        }
        this.db.prepare('UPDATE span_trace_state SET tail_from = min(tail_from, ?)').run((hi ?? 0) + 1);
        this.traceTail = (this.db.prepare('SELECT count(*) AS n FROM spans WHERE rowid >= (SELECT tail_from FROM span_trace_state)').get() as { n: number }).n;
      })();
    }
    return total;
  }
}

/**
 * JSON of a resource or scope → its row id (the insert statement returns the existing row's id on conflict), kept
 * in a per-connection map. Bounded: resources and scopes are few (one per process); a flood of distinct ones must
 * not grow memory forever.
 */
function internRowId(ids: Map<string, number>, insert: Database.Statement, json: string): number {
  let id = ids.get(json);
  if (id === undefined) {
    id = (insert.get(json) as { id: number }).id;
    if (ids.size > 10_000) ids.clear();
    ids.set(json, id);
  }
  return id;
}
