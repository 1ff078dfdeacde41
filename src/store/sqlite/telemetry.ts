/**
 * Telemetry in SQLite: raw spans, logs, metrics and errors with a retention window, plus rollups per
 * service/operation/time bucket maintained on ingest.
 *
 * Built for ingest speed (the receiver's 100k spans/s target): one transaction per batch with prepared
 * statements; indexed columns only for what queries filter on (time, service, trace id, metric name,
 * fingerprint); everything else of a record in one compact JSON column; resources (which repeat across every
 * span of an export) stored once and referenced by id; rollups and per-service counters aggregated in memory
 * per batch and upserted once per key.
 */
import type Database from 'better-sqlite3';
import type {
  Attributes,
  ErrorEvent,
  LogRecord,
  MetricPoint,
  Resource,
  SignalBatch,
  Span,
} from '../../signals/model.js';
import {
  type ErrorQuery,
  type IngestResult,
  type LogQuery,
  type MetricQuery,
  type Rollup,
  type ServiceStats,
  type SpanQuery,
  type TelemetryQuery,
  type TelemetryStore,
} from '../store.js';
import { RollupAccumulator } from '../rollup.js';

export interface TelemetryOptions {
  /** Rollup bucket width. 10 s resolves a minute-long incident into several points. */
  rollupBucketUs?: number;
  /** Raw telemetry older than this (relative to the newest record ingested) is pruned automatically. */
  retentionUs?: number;
}

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

export class SqliteTelemetry implements TelemetryStore {
  private readonly bucketUs: number;
  private readonly retentionUs?: number;
  private readonly resourceIds = new Map<string, number>();
  private readonly resourceByObj = new WeakMap<Resource, number>();
  private readonly resourceById = new Map<number, Resource>();
  private readonly st: Record<string, Database.Statement>;
  private newestUs = 0;
  private ingestsSincePrune = 0;

  constructor(
    private readonly db: Database.Database,
    opts: TelemetryOptions = {},
  ) {
    this.bucketUs = opts.rollupBucketUs ?? 10_000_000;
    this.retentionUs = opts.retentionUs;
    this.st = {
      resIns: db.prepare('INSERT INTO resources (json) VALUES (?) ON CONFLICT(json) DO UPDATE SET json = excluded.json RETURNING id'),
      resGet: db.prepare('SELECT json FROM resources WHERE id = ?'),
      span: db.prepare('INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id, rest) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
      log: db.prepare('INSERT INTO logs (time_us, service, severity, body, trace_id, span_id, resource_id, rest) VALUES (?,?,?,?,?,?,?,?)'),
      metric: db.prepare('INSERT INTO metrics (time_us, service, name, type, value, resource_id, rest) VALUES (?,?,?,?,?,?,?)'),
      error: db.prepare('INSERT INTO errors (time_us, service, type, fingerprint, trace_id, resource_id, rest) VALUES (?,?,?,?,?,?,?)'),
      rollGet: db.prepare('SELECT requests, errors, duration_sum_us, buckets FROM rollups WHERE service = ? AND operation = ? AND bucket_start_us = ? AND bucket_us = ?'),
      rollIns: db.prepare('INSERT INTO rollups (service, operation, bucket_start_us, bucket_us, requests, errors, duration_sum_us, buckets) VALUES (?,?,?,?,?,?,?,?)'),
      rollUpd: db.prepare('UPDATE rollups SET requests = ?, errors = ?, duration_sum_us = ?, buckets = ? WHERE service = ? AND operation = ? AND bucket_start_us = ? AND bucket_us = ?'),
      statUp: db.prepare(
        'INSERT INTO service_stats (service, signal, count, first_us, last_us) VALUES (?,?,?,?,?) ON CONFLICT(service, signal) DO UPDATE SET count = count + excluded.count, first_us = min(first_us, excluded.first_us), last_us = max(last_us, excluded.last_us)',
      ),
    };
    const newest = db.prepare("SELECT max(last_us) AS m FROM service_stats").get() as { m: number | null };
    this.newestUs = newest.m ?? 0;
  }

  private resourceId(r: Resource): number {
    const byObj = this.resourceByObj.get(r);
    if (byObj !== undefined) return byObj;
    const json = JSON.stringify(r);
    let id = this.resourceIds.get(json);
    if (id === undefined) {
      id = (this.st.resIns!.get(json) as { id: number }).id;
      // Bounded: resources are few (one per process); a flood of distinct ones must not grow memory forever.
      if (this.resourceIds.size > 10_000) this.resourceIds.clear();
      this.resourceIds.set(json, id);
    }
    this.resourceByObj.set(r, id);
    return id;
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

  private readonly ingestTx = (batch: SignalBatch): IngestResult => {
    const stats = new Map<string, { n: number; first: number; last: number }>();
    const stat = (service: string, signal: string, t: number): void => {
      const k = `${service}\u0000${signal}`;
      const s = stats.get(k);
      if (s) {
        s.n++;
        if (t < s.first) s.first = t;
        if (t > s.last) s.last = t;
      } else stats.set(k, { n: 1, first: t, last: t });
    };
    const roll = new RollupAccumulator(this.bucketUs);
    const spanSt = this.st.span!;
    for (const s of batch.spans) {
      const rest: Record<string, unknown> = {};
      if (Object.keys(s.attributes).length) rest.a = s.attributes;
      if (s.events.length) rest.e = s.events;
      if (s.links.length) rest.l = s.links;
      if (s.status.message) rest.m = s.status.message;
      if (s.traceState) rest.ts = s.traceState;
      if (s.flags !== undefined) rest.f = s.flags;
      if (s.scope) rest.sc = s.scope;
      if (s.droppedAttributesCount) rest.da = s.droppedAttributesCount;
      if (s.droppedEventsCount) rest.de = s.droppedEventsCount;
      if (s.droppedLinksCount) rest.dl = s.droppedLinksCount;
      spanSt.run(s.traceId, s.spanId, s.parentSpanId ?? null, s.service, s.name, s.kind, s.startUs, s.endUs, s.status.code, this.resourceId(s.resource), JSON.stringify(rest));
      stat(s.service, 'spans', s.startUs);
      roll.add(s);
    }
    const logSt = this.st.log!;
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
      logSt.run(l.timeUs, l.service, l.severityNumber, l.body, l.traceId ?? null, l.spanId ?? null, this.resourceId(l.resource), JSON.stringify(rest));
      stat(l.service, 'logs', l.timeUs);
    }
    const metSt = this.st.metric!;
    for (const m of batch.metrics) {
      const { name, service, timeUs, type, resource, ...restObj } = m;
      const value = type === 'gauge' || type === 'sum' ? m.value : type === 'summary' || type === 'histogram' || type === 'exponential_histogram' ? (m.count ? (m.sum ?? NaN) / m.count : null) : null;
      metSt.run(timeUs, service, name, type, value === null || Number.isNaN(value) ? null : value, this.resourceId(resource), JSON.stringify(restObj));
      stat(service, 'metrics', timeUs);
    }
    const errSt = this.st.error!;
    for (const e of batch.errors) {
      const { timeUs, service, type, fingerprint, traceId, resource, ...restObj } = e;
      errSt.run(timeUs, service, type, fingerprint, traceId ?? null, this.resourceId(resource), JSON.stringify(restObj));
      stat(service, 'errors', timeUs);
    }
    for (const r of roll.values()) {
      const cur = this.st.rollGet!.get(r.service, r.operation, r.bucketStartUs, this.bucketUs) as { requests: number; errors: number; duration_sum_us: number; buckets: string } | undefined;
      if (cur) {
        const b = JSON.parse(cur.buckets) as number[];
        for (let i = 0; i < r.latencyBuckets.length; i++) b[i] = (b[i] ?? 0) + r.latencyBuckets[i]!;
        this.st.rollUpd!.run(cur.requests + r.requests, cur.errors + r.errors, cur.duration_sum_us + r.durationSumUs, JSON.stringify(b), r.service, r.operation, r.bucketStartUs, this.bucketUs);
      } else {
        this.st.rollIns!.run(r.service, r.operation, r.bucketStartUs, this.bucketUs, r.requests, r.errors, r.durationSumUs, JSON.stringify(r.latencyBuckets));
      }
    }
    for (const [k, s] of stats) {
      const [service, signal] = k.split('\u0000') as [string, string];
      this.st.statUp!.run(service, signal, s.n, s.first, s.last);
      if (s.last > this.newestUs) this.newestUs = s.last;
    }
    return { spans: batch.spans.length, logs: batch.logs.length, metrics: batch.metrics.length, errors: batch.errors.length };
  };

  private txFn?: (batch: SignalBatch) => IngestResult;
  private get tx(): (batch: SignalBatch) => IngestResult {
    return (this.txFn ??= this.db.transaction(this.ingestTx));
  }

  async ingest(batch: SignalBatch): Promise<IngestResult> {
    const r = this.tx(batch);
    if (this.retentionUs !== undefined && ++this.ingestsSincePrune >= 50) {
      this.ingestsSincePrune = 0;
      await this.prune(this.newestUs - this.retentionUs);
    }
    return r;
  }

  async querySpans(q: SpanQuery): Promise<Span[]> {
    const w = baseWhere(q, 'start_us');
    if (q.traceIds?.length) {
      w.sql.push(inList('trace_id', q.traceIds.length));
      w.params.push(...q.traceIds);
    }
    if (q.errorsOnly) w.sql.push('status_code = 2');
    if (q.operations?.length) {
      w.sql.push(inList('name', q.operations.length));
      w.params.push(...q.operations);
    }
    const { sql, params } = finish('spans', 'trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id, rest', w, 'start_us', q.limit);
    const rows = this.db.prepare(sql).raw().all(...params) as [string, string, string | null, string, string, number, number, number, number, number, string][];
    return rows.map((r) => {
      const rest = JSON.parse(r[10]) as { a?: Attributes; e?: Span['events']; l?: Span['links']; m?: string; ts?: string; f?: number; sc?: Span['scope']; da?: number; de?: number; dl?: number };
      const span: Span = {
        traceId: r[0],
        spanId: r[1],
        name: r[4],
        kind: r[5] as Span['kind'],
        startUs: r[6],
        endUs: r[7],
        service: r[3],
        attributes: rest.a ?? {},
        events: rest.e ?? [],
        links: rest.l ?? [],
        status: rest.m ? { code: r[8] as Span['status']['code'], message: rest.m } : { code: r[8] as Span['status']['code'] },
        resource: this.resource(r[9]),
      };
      if (r[2]) span.parentSpanId = r[2];
      if (rest.ts) span.traceState = rest.ts;
      if (rest.f !== undefined) span.flags = rest.f;
      if (rest.sc) span.scope = rest.sc;
      if (rest.da) span.droppedAttributesCount = rest.da;
      if (rest.de) span.droppedEventsCount = rest.de;
      if (rest.dl) span.droppedLinksCount = rest.dl;
      return span;
    });
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
    return rows.map((r) => ({ ...(JSON.parse(r[5]) as object), timeUs: r[0], service: r[1], name: r[2], type: r[3], resource: this.resource(r[4]) }) as MetricPoint);
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
      const e = { ...(JSON.parse(r[6]) as object), timeUs: r[0], service: r[1], type: r[2], fingerprint: r[3], resource: this.resource(r[5]) } as ErrorEvent;
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
    const rows = this.db.prepare(sql).raw().all(...params) as [string, string, number, number, number, number, number, string][];
    return rows.map((r) => ({ service: r[0], operation: r[1], bucketStartUs: r[2], bucketUs: r[3], requests: r[4], errors: r[5], durationSumUs: r[6], latencyBuckets: JSON.parse(r[7]) as number[] }));
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

  /** Deletes in chunks so a large prune never holds the write lock (or memory) for long. */
  async prune(olderThanUs: number): Promise<number> {
    let total = 0;
    const plans: [string, string][] = [
      ['spans', 'start_us'],
      ['logs', 'time_us'],
      ['metrics', 'time_us'],
      ['errors', 'time_us'],
    ];
    for (const [table, col] of plans) {
      const st = this.db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${col} < ? LIMIT 20000)`);
      for (;;) {
        const n = st.run(olderThanUs).changes;
        total += n;
        if (n < 20000) break;
      }
    }
    if (total) {
      // Counters describe what is stored; recompute the (small) per-service table from what remains.
      this.db.transaction(() => {
        this.db.exec('DELETE FROM service_stats');
        for (const [table, col, signal] of [['spans', 'start_us', 'spans'], ['logs', 'time_us', 'logs'], ['metrics', 'time_us', 'metrics'], ['errors', 'time_us', 'errors']] as const) {
          this.db.prepare(`INSERT INTO service_stats (service, signal, count, first_us, last_us) SELECT service, '${signal}', count(*), min(${col}), max(${col}) FROM ${table} GROUP BY service`).run();
        }
      })();
    }
    return total;
  }
}
