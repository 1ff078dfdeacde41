/**
 * The PostgreSQL memory store: the same MemoryStore contract as SQLite, for several swarm processes sharing one
 * memory. Batches go in with one `unnest` insert per table (one parameter per column, whatever the batch size),
 * rollups and per-service counters are upserted with server-side merges, JSON values are JSONB.
 */
import pg from 'pg';
import type { Finding } from '../../fleet/contracts.js';
import type { Attributes, ErrorEvent, LogRecord, MetricPoint, Resource, SignalBatch, Span } from '../../signals/model.js';
import {
  AccessDeniedError,
  type AuditEntry,
  type CompactionResult,
  type HousekeepingFailure,
  type HousekeepingStatus,
  type ErrorQuery,
  type FindingStore,
  type GraphEdge,
  type GraphNode,
  type IngestResult,
  type KnowledgeGraphStore,
  type LearningStore,
  type LogQuery,
  type MemoryStore,
  type MetricQuery,
  type NamespaceRule,
  type PatternRecord,
  type PatternStore,
  type Rollup,
  type ServiceStats,
  type SharedMemoryStore,
  type SharedRecord,
  type SpanQuery,
  type TelemetryQuery,
  type TelemetryStore,
  type TransferRecord,
  type Trajectory,
  type Verdict,
} from '../store.js';
import { RollupAccumulator, ROLLUP_TIERS, tierCut, type RollupTier } from '../rollup.js';
import { httpStatusOf, spanTableOf, type SpanTable } from '../../algorithms/rca/span-table.js';
import { readPgSpanTable, type SpanFilter } from './span-table-read.js';
import { HousekeepingLog } from '../housekeeping.js';

// BIGINT columns hold microsecond times (< 2^53): numbers, not strings.
pg.types.setTypeParser(20, (v) => Number(v));

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS resources (id BIGSERIAL PRIMARY KEY, json TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, service TEXT NOT NULL, name TEXT NOT NULL, kind SMALLINT NOT NULL, start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, status_code SMALLINT NOT NULL, resource_id BIGINT NOT NULL, rest TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spans_time ON spans(start_us);
CREATE INDEX IF NOT EXISTS spans_service_time ON spans(service, start_us);
CREATE INDEX IF NOT EXISTS spans_trace ON spans(trace_id);
CREATE TABLE IF NOT EXISTS logs (time_us BIGINT NOT NULL, service TEXT NOT NULL, severity SMALLINT NOT NULL, body TEXT NOT NULL, trace_id TEXT, span_id TEXT, resource_id BIGINT NOT NULL, rest TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_time ON logs(time_us);
CREATE INDEX IF NOT EXISTS logs_service_time ON logs(service, time_us);
CREATE INDEX IF NOT EXISTS logs_trace ON logs(trace_id);
CREATE TABLE IF NOT EXISTS metrics (time_us BIGINT NOT NULL, service TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, value DOUBLE PRECISION, resource_id BIGINT NOT NULL, rest TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_name_time ON metrics(name, time_us);
CREATE INDEX IF NOT EXISTS metrics_service_time ON metrics(service, time_us);
CREATE TABLE IF NOT EXISTS errors (time_us BIGINT NOT NULL, service TEXT NOT NULL, type TEXT NOT NULL, fingerprint TEXT NOT NULL, trace_id TEXT, resource_id BIGINT NOT NULL, rest TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS errors_time ON errors(time_us);
CREATE INDEX IF NOT EXISTS errors_fp ON errors(fingerprint, time_us);
CREATE TABLE IF NOT EXISTS rollups (service TEXT NOT NULL, operation TEXT NOT NULL, bucket_start_us BIGINT NOT NULL, bucket_us BIGINT NOT NULL, requests BIGINT NOT NULL, errors BIGINT NOT NULL, duration_sum_us BIGINT NOT NULL, buckets BIGINT[] NOT NULL, PRIMARY KEY (service, operation, bucket_start_us, bucket_us));
CREATE INDEX IF NOT EXISTS rollups_time ON rollups(bucket_start_us);
CREATE TABLE IF NOT EXISTS service_stats (service TEXT NOT NULL, signal TEXT NOT NULL, count BIGINT NOT NULL, first_us BIGINT, last_us BIGINT, PRIMARY KEY (service, signal));
CREATE TABLE IF NOT EXISTS patterns (kind TEXT NOT NULL, key TEXT NOT NULL, service TEXT, value JSONB NOT NULL, updated_us BIGINT NOT NULL, version INT NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS graph_nodes (id TEXT PRIMARY KEY, kind TEXT NOT NULL, props JSONB NOT NULL, first_seen_us BIGINT NOT NULL, last_seen_us BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS graph_edges (source TEXT NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL, weight DOUBLE PRECISION NOT NULL, props JSONB NOT NULL, first_seen_us BIGINT NOT NULL, last_seen_us BIGINT NOT NULL, PRIMARY KEY (source, target, kind));
CREATE TABLE IF NOT EXISTS trajectories (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, task_id TEXT, cycle_id TEXT, decision TEXT NOT NULL, evidence JSONB, finding_ids JSONB NOT NULL, at_us BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (id BIGSERIAL PRIMARY KEY, finding_id TEXT NOT NULL, verdict TEXT NOT NULL, by_whom TEXT NOT NULL, reason TEXT, at_us BIGINT NOT NULL, automatic BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (id TEXT PRIMARY KEY, from_subject TEXT NOT NULL, to_subject TEXT NOT NULL, kind TEXT NOT NULL, payload JSONB, at_us BIGINT NOT NULL, outcome TEXT);
CREATE TABLE IF NOT EXISTS namespaces (namespace TEXT PRIMARY KEY, owner TEXT NOT NULL, visibility TEXT NOT NULL, writers JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS grants (namespace TEXT NOT NULL, agent TEXT NOT NULL, granted_by TEXT NOT NULL, at_us BIGINT NOT NULL, PRIMARY KEY (namespace, agent));
CREATE TABLE IF NOT EXISTS shared_records (id BIGSERIAL PRIMARY KEY, namespace TEXT NOT NULL, key TEXT NOT NULL, value JSONB, writer TEXT NOT NULL, provenance JSONB NOT NULL, at_us BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (id BIGSERIAL PRIMARY KEY, at_us BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, namespace TEXT NOT NULL, detail TEXT);
CREATE TABLE IF NOT EXISTS findings (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, kind TEXT NOT NULL, category TEXT NOT NULL, json JSONB NOT NULL, first_cycle_id TEXT NOT NULL, last_cycle_id TEXT NOT NULL, updated_us BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS finding_cycles (finding_id TEXT NOT NULL, cycle_id TEXT NOT NULL, PRIMARY KEY (finding_id, cycle_id));
INSERT INTO schema_migrations (version, name) VALUES (1, 'initial') ON CONFLICT DO NOTHING;
-- Whether the RCA read needs a span's rest beyond its status (1: an HTTP status >= 500); NULL on older rows.
ALTER TABLE spans ADD COLUMN IF NOT EXISTS rca_hint SMALLINT;
INSERT INTO schema_migrations (version, name) VALUES (2, 'spans rca_hint') ON CONFLICT DO NOTHING;
-- Records of a kind written since a time (the swarm's own experiments and declared changes of a window).
CREATE INDEX IF NOT EXISTS patterns_kind_updated ON patterns(kind, updated_us);
INSERT INTO schema_migrations (version, name) VALUES (4, 'patterns by kind and time') ON CONFLICT DO NOTHING;
`;

const nowUs = (): number => Date.now() * 1000;

type Q = (text: string, params?: unknown[]) => Promise<pg.QueryResult>;

function where(parts: string[]): string {
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

class PgTelemetry implements TelemetryStore {
  private readonly housekeepingLog = new HousekeepingLog();
  private readonly resourceIds = new Map<string, number>();
  private readonly resourceById = new Map<number, Resource>();
  constructor(
    private readonly pool: pg.Pool,
    private readonly bucketUs = 10_000_000,
    /** Rollup resolution by age (store/rollup.ts), applied as data arrives; false: never. */
    private readonly tiers: readonly RollupTier[] | false = ROLLUP_TIERS,
  ) {}

  private async resourceId(client: pg.PoolClient, r: Resource): Promise<number> {
    const json = JSON.stringify(r);
    let id = this.resourceIds.get(json);
    if (id === undefined) {
      id = Number((await client.query('INSERT INTO resources (json) VALUES ($1) ON CONFLICT (json) DO UPDATE SET json = excluded.json RETURNING id', [json])).rows[0].id);
      if (this.resourceIds.size > 10_000) this.resourceIds.clear();
      this.resourceIds.set(json, id);
    }
    return id;
  }

  /** The resources of `rows` by id, each read once (an await per row costs more than the row's own decoding). */
  private async resourcesOf(rows: readonly { resource_id?: number }[]): Promise<Map<number, Resource>> {
    const m = new Map<number, Resource>();
    for (const { resource_id: id = 0 } of rows) if (!m.has(id)) m.set(id, await this.resource(id));
    return m;
  }

  private async resource(id: number): Promise<Resource> {
    let r = this.resourceById.get(id);
    if (!r) {
      const row = (await this.pool.query('SELECT json FROM resources WHERE id = $1', [id])).rows[0] as { json: string } | undefined;
      r = row ? (JSON.parse(row.json) as Resource) : { attributes: {} };
      this.resourceById.set(id, r);
    }
    return r;
  }

  async ingest(batch: SignalBatch): Promise<IngestResult> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const stats = new Map<string, { n: number; first: number; last: number }>();
      const stat = (service: string, signal: string, t: number): void => {
        const k = `${service}\u0000${signal}`;
        const s = stats.get(k);
        if (s) {
          s.n++;
          s.first = Math.min(s.first, t);
          s.last = Math.max(s.last, t);
        } else stats.set(k, { n: 1, first: t, last: t });
      };
      if (batch.spans.length) {
        const cols: unknown[][] = Array.from({ length: 12 }, () => []);
        const roll = new RollupAccumulator(this.bucketUs);
        for (const s of batch.spans) {
          const rest = { a: s.attributes, e: s.events, l: s.links, m: s.status.message, ts: s.traceState, f: s.flags, sc: s.scope, da: s.droppedAttributesCount, de: s.droppedEventsCount, dl: s.droppedLinksCount };
          const vals = [s.traceId, s.spanId, s.parentSpanId ?? null, s.service, s.name, s.kind, s.startUs, s.endUs, s.status.code, await this.resourceId(client, s.resource), JSON.stringify(rest), httpStatusOf(s.attributes) >= 500 ? 1 : 0];
          vals.forEach((v, i) => cols[i]!.push(v));
          stat(s.service, 'spans', s.startUs);
          roll.add(s);
        }
        await client.query(
          'INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_us, end_us, status_code, resource_id, rest, rca_hint) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::bigint[], $8::bigint[], $9::smallint[], $10::bigint[], $11::text[], $12::smallint[])',
          cols,
        );
        for (const r of roll.values()) {
          await client.query(
            `INSERT INTO rollups AS r VALUES ($1,$2,$3,$4,$5,$6,$7,$8::bigint[]) ON CONFLICT (service, operation, bucket_start_us, bucket_us) DO UPDATE SET requests = r.requests + excluded.requests, errors = r.errors + excluded.errors, duration_sum_us = r.duration_sum_us + excluded.duration_sum_us, buckets = (SELECT array_agg(a + b ORDER BY i) FROM unnest(r.buckets, excluded.buckets) WITH ORDINALITY AS t(a, b, i))`,
            [r.service, r.operation, r.bucketStartUs, this.bucketUs, r.requests, r.errors, r.durationSumUs, r.latencyBuckets],
          );
        }
      }
      if (batch.logs.length) {
        const cols: unknown[][] = Array.from({ length: 8 }, () => []);
        for (const l of batch.logs) {
          const rest = { a: l.attributes, st: l.severityText, o: l.observedTimeUs, bv: l.bodyValue, f: l.flags, en: l.eventName, sc: l.scope, da: l.droppedAttributesCount };
          [l.timeUs, l.service, l.severityNumber, l.body, l.traceId ?? null, l.spanId ?? null, await this.resourceId(client, l.resource), JSON.stringify(rest)].forEach((v, i) => cols[i]!.push(v));
          stat(l.service, 'logs', l.timeUs);
        }
        await client.query('INSERT INTO logs SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])', cols);
      }
      if (batch.metrics.length) {
        const cols: unknown[][] = Array.from({ length: 7 }, () => []);
        for (const m of batch.metrics) {
          const { name, service, timeUs, type, resource, ...rest } = m;
          const value = type === 'gauge' || type === 'sum' ? m.value : m.count ? ((m as { sum?: number }).sum ?? NaN) / m.count : null;
          [timeUs, service, name, type, value === null || Number.isNaN(value) ? null : value, await this.resourceId(client, resource), JSON.stringify(rest)].forEach((v, i) => cols[i]!.push(v));
          stat(service, 'metrics', timeUs);
        }
        await client.query('INSERT INTO metrics SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::bigint[], $7::text[])', cols);
      }
      if (batch.errors.length) {
        const cols: unknown[][] = Array.from({ length: 7 }, () => []);
        for (const e of batch.errors) {
          const { timeUs, service, type, fingerprint, traceId, resource, ...rest } = e;
          [timeUs, service, type, fingerprint, traceId ?? null, await this.resourceId(client, resource), JSON.stringify(rest)].forEach((v, i) => cols[i]!.push(v));
          stat(service, 'errors', timeUs);
        }
        await client.query('INSERT INTO errors SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])', cols);
      }
      for (const [k, s] of stats) {
        const [service, signal] = k.split('\u0000');
        await client.query('INSERT INTO service_stats AS s VALUES ($1,$2,$3,$4,$5) ON CONFLICT (service, signal) DO UPDATE SET count = s.count + excluded.count, first_us = LEAST(s.first_us, excluded.first_us), last_us = GREATEST(s.last_us, excluded.last_us)', [service, signal, s.n, s.first, s.last]);
      }
      await client.query('COMMIT');
      for (const x of stats.values()) if (x.last > this.newestUs) this.newestUs = x.last;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    // As the SQLite store does on its writer: a tier's cut moves once per its bucket width of data time. The batch
    // is durable already, so a failed compaction is recorded, not thrown; it leaves narrow rows that the next one merges.
    if (this.tiers && ++this.ingestsSinceCompact >= 50) {
      this.ingestsSinceCompact = 0;
      const tiers = this.tiers;
      await this.housekeepingLog.runAsync('compaction', () => this.compactAt(tiers, this.newestUs, true));
    }
    return { spans: batch.spans.length, logs: batch.logs.length, metrics: batch.metrics.length, errors: batch.errors.length };
  }

  housekeeping(): HousekeepingStatus {
    return this.housekeepingLog.status();
  }

  onHousekeepingFailure(listener: (f: HousekeepingFailure) => void): () => void {
    return this.housekeepingLog.on(listener);
  }

  private newestUs = 0;
  private ingestsSinceCompact = 0;
  /** Per tier: the start below which this process has merged (undefined: not yet, scan them all). */
  private readonly compactedTo: (number | undefined)[] = [];

  async compactRollups(tiers: readonly RollupTier[] = ROLLUP_TIERS): Promise<CompactionResult> {
    const m = (await this.pool.query('SELECT max(last_us) AS m FROM service_stats')).rows[0] as { m: string | null };
    return m.m === null ? { merged: 0, written: 0 } : this.compactAt(tiers, Number(m.m), false);
  }

  /**
   * One statement per day of data time: the narrow rows are deleted and their sums (histograms element by
   * element) upserted as wide rows, atomically. Processes sharing the memory may compact at once: a row
   * another one deleted first is not seen again (DELETE waits for it and skips it), and the upsert adds.
   * `resume` (the automatic runs) starts one bucket below where this process stopped, as the SQLite store does.
   */
  private async compactAt(tiers: readonly RollupTier[], newestUs: number, resume: boolean): Promise<CompactionResult> {
    const res = { merged: 0, written: 0 };
    for (let t = 0; t < tiers.length; t++) {
      const w = tiers[t]!.bucketUs;
      const cut = tierCut(newestUs, tiers[t]!);
      const done = resume ? this.compactedTo[t] : undefined;
      if (done !== undefined && cut <= done) continue;
      const first = done === undefined ? ((await this.pool.query('SELECT min(bucket_start_us) AS m FROM rollups WHERE bucket_start_us < $1 AND bucket_us < $2', [cut, w])).rows[0] as { m: string | null }).m : done - w;
      if (first !== null) {
        const step = Math.max(w, Math.floor(864e8 / w) * w);
        for (let a = Math.floor(Number(first) / w) * w; a < cut; a += step) {
          const r = await this.pool.query(
            `WITH d AS (DELETE FROM rollups WHERE bucket_start_us >= $1 AND bucket_start_us < $2 AND bucket_us < $3 RETURNING *),
                  s AS (SELECT service, operation, (bucket_start_us / $3::bigint) * $3::bigint AS b, count(*) AS n, sum(requests)::bigint AS requests,
                               sum(errors)::bigint AS errors, sum(duration_sum_us)::bigint AS dur FROM d GROUP BY 1, 2, 3),
                  e AS (SELECT service, operation, (bucket_start_us / $3::bigint) * $3::bigint AS b, u.i, sum(u.x)::bigint AS x
                        FROM d CROSS JOIN LATERAL unnest(d.buckets) WITH ORDINALITY AS u(x, i) GROUP BY 1, 2, 3, 4),
                  h AS (SELECT service, operation, b, array_agg(x ORDER BY i) AS buckets FROM e GROUP BY 1, 2, 3),
                  ins AS (INSERT INTO rollups AS r SELECT s.service, s.operation, s.b, $3, s.requests, s.errors, s.dur, h.buckets FROM s JOIN h USING (service, operation, b)
                          ON CONFLICT (service, operation, bucket_start_us, bucket_us) DO UPDATE SET requests = r.requests + excluded.requests, errors = r.errors + excluded.errors,
                            duration_sum_us = r.duration_sum_us + excluded.duration_sum_us,
                            buckets = (SELECT array_agg(a + b ORDER BY i) FROM unnest(r.buckets, excluded.buckets) WITH ORDINALITY AS t(a, b, i))
                          RETURNING (xmax = 0) AS fresh)
             SELECT (SELECT coalesce(sum(n), 0) FROM s)::bigint AS merged, (SELECT count(*) FROM ins WHERE fresh)::bigint AS written`,
            [a, Math.min(cut, a + step), w],
          );
          const row = r.rows[0] as { merged: string; written: string };
          res.merged += Number(row.merged);
          res.written += Number(row.written);
        }
      }
      if (resume) this.compactedTo[t] = cut;
    }
    return res;
  }

  private base(q: TelemetryQuery, timeCol: string, p: Params): string[] {
    const w: string[] = [];
    if (q.window) w.push(`${timeCol} >= ${p.add(q.window.fromUs)} AND ${timeCol} < ${p.add(q.window.toUs)}`);
    if (q.services?.length) w.push(`service = ANY(${p.add(q.services)})`);
    return w;
  }

  private lim(q: TelemetryQuery): string {
    return q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
  }

  private spanFilter(q: SpanQuery): SpanFilter {
    const p = new Params();
    const w = this.base(q, 'start_us', p);
    if (q.traceIds?.length) w.push(`trace_id = ANY(${p.add(q.traceIds)})`);
    if (q.errorsOnly) w.push('status_code = 2');
    if (q.operations?.length) w.push(`name = ANY(${p.add(q.operations)})`);
    return { where: where(w), params: p.values, limit: this.lim(q) };
  }

  /**
   * The RCA's spans as columns (span-table-read.ts): the same answer as querySpans, without a span object each;
   * spans whose ids or names hold the line separator are read as objects instead.
   */
  async querySpanTable(q: SpanQuery, peersFor: (t: SpanTable) => Int32Array): Promise<SpanTable> {
    const client = await this.pool.connect();
    try {
      const table = await readPgSpanTable(client, this.spanFilter(q), (id) => this.resource(id), peersFor);
      if (table) return table;
    } finally {
      client.release();
    }
    return spanTableOf(await this.querySpans(q));
  }

  async querySpans(q: SpanQuery): Promise<Span[]> {
    const f = this.spanFilter(q);
    const rows = (await this.pool.query(`SELECT * FROM spans${f.where} ORDER BY start_us${f.limit}`, f.params)).rows as Record<string, never>[];
    const res = await this.resourcesOf(rows);
    const out: Span[] = [];
    for (const r of rows) {
      const rest = JSON.parse(r.rest) as { a?: Attributes; e?: Span['events']; l?: Span['links']; m?: string; ts?: string; f?: number; sc?: Span['scope']; da?: number; de?: number; dl?: number };
      const s: Span = { traceId: r.trace_id, spanId: r.span_id, name: r.name, kind: r.kind, startUs: r.start_us, endUs: r.end_us, service: r.service, attributes: rest.a ?? {}, events: rest.e ?? [], links: rest.l ?? [], status: rest.m ? { code: r.status_code, message: rest.m } : { code: r.status_code }, resource: res.get(r.resource_id)! };
      if (r.parent_span_id) s.parentSpanId = r.parent_span_id;
      if (rest.ts) s.traceState = rest.ts;
      if (rest.f !== undefined && rest.f !== null) s.flags = rest.f;
      if (rest.sc) s.scope = rest.sc;
      if (rest.da) s.droppedAttributesCount = rest.da;
      if (rest.de) s.droppedEventsCount = rest.de;
      if (rest.dl) s.droppedLinksCount = rest.dl;
      out.push(s);
    }
    return out;
  }

  async queryLogs(q: LogQuery): Promise<LogRecord[]> {
    const p = new Params();
    const w = this.base(q, 'time_us', p);
    if (q.minSeverity !== undefined) w.push(`severity >= ${p.add(q.minSeverity)}`);
    if (q.traceIds?.length) w.push(`trace_id = ANY(${p.add(q.traceIds)})`);
    const rows = (await this.pool.query(`SELECT * FROM logs${where(w)} ORDER BY time_us${this.lim(q)}`, p.values)).rows as Record<string, never>[];
    const res = await this.resourcesOf(rows);
    const out: LogRecord[] = [];
    for (const r of rows) {
      const rest = JSON.parse(r.rest) as { a?: Attributes; st?: string; o?: number; bv?: LogRecord['bodyValue']; f?: number; en?: string; sc?: LogRecord['scope']; da?: number };
      const l: LogRecord = { timeUs: r.time_us, service: r.service, severityNumber: r.severity, body: r.body, attributes: rest.a ?? {}, resource: res.get(r.resource_id)! };
      if (r.trace_id) l.traceId = r.trace_id;
      if (r.span_id) l.spanId = r.span_id;
      if (rest.st) l.severityText = rest.st;
      if (rest.o !== undefined && rest.o !== null) l.observedTimeUs = rest.o;
      if (rest.bv !== undefined && rest.bv !== null) l.bodyValue = rest.bv;
      if (rest.f !== undefined && rest.f !== null) l.flags = rest.f;
      if (rest.en) l.eventName = rest.en;
      if (rest.sc) l.scope = rest.sc;
      if (rest.da) l.droppedAttributesCount = rest.da;
      out.push(l);
    }
    return out;
  }

  async queryMetrics(q: MetricQuery): Promise<MetricPoint[]> {
    const p = new Params();
    const w = this.base(q, 'time_us', p);
    if (q.names?.length) w.push(`name = ANY(${p.add(q.names)})`);
    const rows = (await this.pool.query(`SELECT * FROM metrics${where(w)} ORDER BY time_us${this.lim(q)}`, p.values)).rows as Record<string, never>[];
    const res = await this.resourcesOf(rows);
    const out: MetricPoint[] = [];
    // Columns set on the parsed rest, not spread into a new object (a spread cost ~5 µs a point; see the SQLite store).
    for (const r of rows) {
      const m = JSON.parse(r.rest) as MetricPoint;
      m.timeUs = r.time_us;
      m.service = r.service;
      m.name = r.name;
      m.type = r.type as MetricPoint['type'];
      m.resource = res.get(r.resource_id)!;
      out.push(m);
    }
    return out;
  }

  async queryErrors(q: ErrorQuery): Promise<ErrorEvent[]> {
    const p = new Params();
    const w = this.base(q, 'time_us', p);
    if (q.fingerprints?.length) w.push(`fingerprint = ANY(${p.add(q.fingerprints)})`);
    const rows = (await this.pool.query(`SELECT * FROM errors${where(w)} ORDER BY time_us${this.lim(q)}`, p.values)).rows as Record<string, never>[];
    const res = await this.resourcesOf(rows);
    const out: ErrorEvent[] = [];
    for (const r of rows) {
      const e = JSON.parse(r.rest) as ErrorEvent;
      e.timeUs = r.time_us;
      e.service = r.service;
      e.type = r.type;
      e.fingerprint = r.fingerprint;
      e.resource = res.get(r.resource_id)!;
      if (r.trace_id) e.traceId = r.trace_id;
      out.push(e);
    }
    return out;
  }

  async rollups(q: TelemetryQuery & { operations?: string[] }): Promise<Rollup[]> {
    const p = new Params();
    const w = this.base(q, 'bucket_start_us', p);
    if (q.operations?.length) w.push(`operation = ANY(${p.add(q.operations)})`);
    const rows = (await this.pool.query(`SELECT * FROM rollups${where(w)} ORDER BY bucket_start_us, service, operation${this.lim(q)}`, p.values)).rows as Record<string, never>[];
    return rows.map((r) => ({ service: r.service, operation: r.operation, bucketStartUs: r.bucket_start_us, bucketUs: r.bucket_us, requests: r.requests, errors: r.errors, durationSumUs: r.duration_sum_us, latencyBuckets: (r.buckets as unknown as (string | number)[]).map(Number) }));
  }

  async stats(): Promise<ServiceStats[]> {
    const rows = (await this.pool.query('SELECT * FROM service_stats ORDER BY service')).rows as { service: string; signal: 'spans' | 'logs' | 'metrics' | 'errors'; count: number; first_us: number | null; last_us: number | null }[];
    const by = new Map<string, ServiceStats>();
    for (const r of rows) {
      let s = by.get(r.service);
      if (!s) by.set(r.service, (s = { service: r.service, spans: 0, logs: 0, metrics: 0, errors: 0 }));
      s[r.signal] = r.count;
      if (r.first_us !== null) s.firstUs = s.firstUs === undefined ? r.first_us : Math.min(s.firstUs, r.first_us);
      if (r.last_us !== null) s.lastUs = s.lastUs === undefined ? r.last_us : Math.max(s.lastUs, r.last_us);
    }
    return [...by.values()];
  }

  /**
   * Deletes what is older than the cut and takes the deleted rows off the per-service counters, table by table in
   * one statement each: recounting every remaining row after each prune (as before) made retention cost grow with
   * the store. The new first time of a service is the oldest row at or after the cut — the statement's subquery
   * still sees the rows its own CTE deletes (one snapshot), and those are exactly the rows before the cut. The
   * UPDATE in a CTE runs whether or not the final SELECT reads it.
   */
  async prune(olderThanUs: number): Promise<number> {
    let total = 0;
    for (const [t, col, sig] of [['spans', 'start_us', 'spans'], ['logs', 'time_us', 'logs'], ['metrics', 'time_us', 'metrics'], ['errors', 'time_us', 'errors']] as const) {
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        const r = await c.query(
          `WITH d AS (DELETE FROM ${t} WHERE ${col} < $1 RETURNING service),
                n AS (SELECT service, count(*)::bigint AS n FROM d GROUP BY service),
                u AS (UPDATE service_stats s SET count = s.count - n.n,
                        first_us = (SELECT min(x.${col}) FROM ${t} x WHERE x.service = s.service AND x.${col} >= $1)
                      FROM n WHERE s.service = n.service AND s.signal = '${sig}' RETURNING 1)
           SELECT coalesce(sum(n), 0)::bigint AS deleted FROM n`,
          [olderThanUs],
        );
        const deleted = Number((r.rows[0] as { deleted: string }).deleted);
        if (deleted) await c.query(`DELETE FROM service_stats WHERE signal = '${sig}' AND count <= 0`);
        await c.query('COMMIT');
        total += deleted;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    }
    return total;
  }
}

class PgPatterns implements PatternStore {
  constructor(private readonly q: Q) {}
  private async upsert(kind: string, key: string, value: unknown, service: string | undefined, at: number): Promise<number> {
    const r = await this.q('INSERT INTO patterns AS p VALUES ($1,$2,$3,$4,$5,1) ON CONFLICT (kind, key) DO UPDATE SET service = excluded.service, value = excluded.value, updated_us = excluded.updated_us, version = p.version + 1 RETURNING version', [kind, key, service ?? null, JSON.stringify(value ?? null), at]);
    return Number(r.rows[0].version);
  }
  async put<T>(kind: string, key: string, value: T, opts: { service?: string } = {}): Promise<PatternRecord<T>> {
    const at = nowUs();
    const version = await this.upsert(kind, key, value, opts.service, at);
    return { kind, key, value, service: opts.service, updatedUs: at, version };
  }
  async putMany<T>(kind: string, items: { key: string; value: T; service?: string }[]): Promise<void> {
    const at = nowUs();
    for (const i of items) await this.upsert(kind, i.key, i.value, i.service, at);
  }
  private row<T>(r: Record<string, never>): PatternRecord<T> {
    const rec: PatternRecord<T> = { kind: r.kind, key: r.key, value: r.value as T, updatedUs: r.updated_us, version: r.version };
    if (r.service !== null) rec.service = r.service;
    return rec;
  }
  async get<T>(kind: string, key: string): Promise<PatternRecord<T> | undefined> {
    const r = (await this.q('SELECT * FROM patterns WHERE kind = $1 AND key = $2', [kind, key])).rows[0] as Record<string, never> | undefined;
    return r ? this.row<T>(r) : undefined;
  }
  async list<T>(kind: string, opts: { service?: string; limit?: number; updatedSinceUs?: number } = {}): Promise<PatternRecord<T>[]> {
    const params: unknown[] = [kind];
    let sql = 'SELECT * FROM patterns WHERE kind = $1';
    if (opts.service !== undefined) {
      params.push(opts.service);
      sql += ` AND service = $${params.length}`;
    }
    if (opts.updatedSinceUs !== undefined) {
      params.push(Math.floor(opts.updatedSinceUs));
      sql += ` AND updated_us >= $${params.length}`;
    }
    sql += ' ORDER BY updated_us DESC, key';
    if (opts.limit !== undefined) sql += ` LIMIT ${Math.floor(opts.limit)}`;
    return ((await this.q(sql, params)).rows as Record<string, never>[]).map((r) => this.row<T>(r));
  }
  async delete(kind: string, key: string): Promise<boolean> {
    return ((await this.q('DELETE FROM patterns WHERE kind = $1 AND key = $2', [kind, key])).rowCount ?? 0) > 0;
  }
}

class PgGraph implements KnowledgeGraphStore {
  constructor(private readonly q: Q) {}
  async upsertNodes(nodes: { id: string; kind: string; props?: Record<string, unknown>; seenUs: number }[]): Promise<void> {
    for (const n of nodes) {
      await this.q('INSERT INTO graph_nodes AS g VALUES ($1,$2,$3,$4,$4) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, props = g.props || excluded.props, first_seen_us = LEAST(g.first_seen_us, excluded.first_seen_us), last_seen_us = GREATEST(g.last_seen_us, excluded.last_seen_us)', [n.id, n.kind, JSON.stringify(n.props ?? {}), n.seenUs]);
    }
  }
  async upsertEdges(edges: { source: string; target: string; kind: string; weight?: number; props?: Record<string, unknown>; seenUs: number }[]): Promise<void> {
    for (const e of edges) {
      await this.q('INSERT INTO graph_edges AS g VALUES ($1,$2,$3,$4,$5,$6,$6) ON CONFLICT (source, target, kind) DO UPDATE SET weight = excluded.weight, props = excluded.props, first_seen_us = LEAST(g.first_seen_us, excluded.first_seen_us), last_seen_us = GREATEST(g.last_seen_us, excluded.last_seen_us)', [e.source, e.target, e.kind, e.weight ?? 1, JSON.stringify(e.props ?? {}), e.seenUs]);
    }
  }
  async nodes(q: { kind?: string; ids?: string[] } = {}): Promise<GraphNode[]> {
    const p = new Params();
    const w: string[] = [];
    if (q.kind) w.push(`kind = ${p.add(q.kind)}`);
    if (q.ids?.length) w.push(`id = ANY(${p.add(q.ids)})`);
    return ((await this.q(`SELECT * FROM graph_nodes${where(w)} ORDER BY id`, p.values)).rows as Record<string, never>[]).map((r) => ({ id: r.id, kind: r.kind, props: r.props, firstSeenUs: r.first_seen_us, lastSeenUs: r.last_seen_us }));
  }
  async edges(q: { kind?: string; source?: string; target?: string; sinceUs?: number } = {}): Promise<GraphEdge[]> {
    const p = new Params();
    const w: string[] = [];
    if (q.kind !== undefined) w.push(`kind = ${p.add(q.kind)}`);
    if (q.source !== undefined) w.push(`source = ${p.add(q.source)}`);
    if (q.target !== undefined) w.push(`target = ${p.add(q.target)}`);
    if (q.sinceUs !== undefined) w.push(`last_seen_us >= ${p.add(q.sinceUs)}`);
    return ((await this.q(`SELECT * FROM graph_edges${where(w)} ORDER BY source, target, kind`, p.values)).rows as Record<string, never>[]).map((r) => ({ source: r.source, target: r.target, kind: r.kind, weight: r.weight, props: r.props, firstSeenUs: r.first_seen_us, lastSeenUs: r.last_seen_us }));
  }
}

class PgLearning implements LearningStore {
  constructor(private readonly q: Q) {}
  async recordTrajectory(t: Trajectory): Promise<void> {
    await this.q('INSERT INTO trajectories VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, task_id = excluded.task_id, cycle_id = excluded.cycle_id, decision = excluded.decision, evidence = excluded.evidence, finding_ids = excluded.finding_ids, at_us = excluded.at_us', [t.id, t.agentId, t.taskId ?? null, t.cycleId ?? null, t.decision, JSON.stringify(t.evidence ?? null), JSON.stringify(t.findingIds), t.atUs]);
  }
  async trajectories(q: { agentId?: string; cycleId?: string; limit?: number } = {}): Promise<Trajectory[]> {
    const p = new Params();
    const w: string[] = [];
    if (q.agentId) w.push(`agent_id = ${p.add(q.agentId)}`);
    if (q.cycleId) w.push(`cycle_id = ${p.add(q.cycleId)}`);
    const rows = (await this.q(`SELECT * FROM trajectories${where(w)} ORDER BY at_us DESC${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`, p.values)).rows as Record<string, never>[];
    return rows.map((r) => ({ id: r.id, agentId: r.agent_id, ...(r.task_id !== null ? { taskId: r.task_id } : {}), ...(r.cycle_id !== null ? { cycleId: r.cycle_id } : {}), decision: r.decision, evidence: r.evidence, findingIds: r.finding_ids, atUs: r.at_us }));
  }
  async recordVerdict(v: Verdict): Promise<void> {
    await this.q('INSERT INTO verdicts (finding_id, verdict, by_whom, reason, at_us, automatic) VALUES ($1,$2,$3,$4,$5,$6)', [v.findingId, v.verdict, v.by, v.reason ?? null, v.atUs, v.automatic]);
  }
  async verdicts(q: { findingIds?: string[]; agentId?: string } = {}): Promise<Verdict[]> {
    const p = new Params();
    const w: string[] = [];
    if (q.findingIds) {
      if (!q.findingIds.length) return [];
      w.push(`v.finding_id = ANY(${p.add(q.findingIds)})`);
    }
    if (q.agentId) w.push(`f.agent_id = ${p.add(q.agentId)}`);
    const rows = (await this.q(`SELECT v.* FROM verdicts v LEFT JOIN findings f ON f.id = v.finding_id${where(w)} ORDER BY v.at_us, v.id`, p.values)).rows as Record<string, never>[];
    return rows.map((r) => ({ findingId: r.finding_id, verdict: r.verdict, by: r.by_whom, ...(r.reason !== null ? { reason: r.reason } : {}), atUs: r.at_us, automatic: r.automatic }));
  }
  async recordTransfer(t: TransferRecord): Promise<void> {
    await this.q('INSERT INTO transfers VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (id) DO UPDATE SET from_subject = excluded.from_subject, to_subject = excluded.to_subject, kind = excluded.kind, payload = excluded.payload, at_us = excluded.at_us, outcome = excluded.outcome', [t.id, t.fromSubject, t.toSubject, t.kind, JSON.stringify(t.payload ?? null), t.atUs, t.outcome ?? null]);
  }
  async transfers(q: { toSubject?: string; kind?: string } = {}): Promise<TransferRecord[]> {
    const p = new Params();
    const w: string[] = [];
    if (q.toSubject) w.push(`to_subject = ${p.add(q.toSubject)}`);
    if (q.kind) w.push(`kind = ${p.add(q.kind)}`);
    const rows = (await this.q(`SELECT * FROM transfers${where(w)} ORDER BY at_us, id`, p.values)).rows as Record<string, never>[];
    return rows.map((r) => ({ id: r.id, fromSubject: r.from_subject, toSubject: r.to_subject, kind: r.kind, payload: r.payload, atUs: r.at_us, ...(r.outcome ? { outcome: r.outcome } : {}) }));
  }
}

class PgShared implements SharedMemoryStore {
  constructor(private readonly q: Q) {}
  private async audit1(actor: string, action: AuditEntry['action'], namespace: string, detail?: string): Promise<void> {
    await this.q('INSERT INTO audit (at_us, actor, action, namespace, detail) VALUES ($1,$2,$3,$4,$5)', [nowUs(), actor, action, namespace, detail ?? null]);
  }
  private async rule(ns: string): Promise<NamespaceRule | undefined> {
    const r = (await this.q('SELECT * FROM namespaces WHERE namespace = $1', [ns])).rows[0] as Record<string, never> | undefined;
    return r ? { namespace: r.namespace, owner: r.owner, visibility: r.visibility, writers: r.writers } : undefined;
  }
  async defineNamespace(rule: NamespaceRule): Promise<void> {
    const cur = await this.rule(rule.namespace);
    if (cur && cur.owner !== rule.owner) return;
    await this.q('INSERT INTO namespaces VALUES ($1,$2,$3,$4) ON CONFLICT (namespace) DO UPDATE SET owner = excluded.owner, visibility = excluded.visibility, writers = excluded.writers', [rule.namespace, rule.owner, rule.visibility, JSON.stringify(rule.writers)]);
    await this.audit1(rule.owner, 'define', rule.namespace, `${rule.visibility}; writers: ${rule.writers.join(', ')}`);
  }
  private async mayRead(rule: NamespaceRule | undefined, reader: string): Promise<boolean> {
    if (!rule || rule.visibility === 'public' || rule.owner === reader || rule.writers.includes(reader)) return true;
    return (await this.q('SELECT 1 FROM grants WHERE namespace = $1 AND agent = $2', [rule.namespace, reader])).rowCount! > 0;
  }
  async write(namespace: string, key: string, value: unknown, writer: string, provenance: Record<string, unknown> = {}): Promise<void> {
    let rule = await this.rule(namespace);
    if (!rule) {
      await this.defineNamespace({ namespace, owner: writer, visibility: 'public', writers: [writer] });
      rule = await this.rule(namespace);
    }
    if (rule && rule.owner !== writer && !rule.writers.includes(writer)) {
      await this.audit1(writer, 'deny', namespace, `write ${key}`);
      throw new AccessDeniedError(writer, namespace, 'write');
    }
    await this.q('INSERT INTO shared_records (namespace, key, value, writer, provenance, at_us) VALUES ($1,$2,$3,$4,$5,$6)', [namespace, key, JSON.stringify(value ?? null), writer, JSON.stringify({ writer, ...provenance }), nowUs()]);
    await this.audit1(writer, 'write', namespace, key);
  }
  async read(namespace: string, reader: string, opts: { sinceUs?: number; limit?: number } = {}): Promise<SharedRecord[]> {
    const rule = await this.rule(namespace);
    if (!(await this.mayRead(rule, reader))) {
      await this.audit1(reader, 'deny', namespace, 'read');
      throw new AccessDeniedError(reader, namespace, 'read');
    }
    const rows = (await this.q(`SELECT * FROM shared_records WHERE namespace = $1 AND at_us >= $2 ORDER BY at_us, id${opts.limit ? ` LIMIT ${Math.floor(opts.limit)}` : ''}`, [namespace, opts.sinceUs ?? 0])).rows as Record<string, never>[];
    await this.audit1(reader, 'read', namespace, `${rows.length} records`);
    return rows.map((r) => ({ namespace: r.namespace, key: r.key, value: r.value, writer: r.writer, provenance: r.provenance, atUs: r.at_us }));
  }
  async share(source: string, targets: string[], namespace: string, records: { key: string; value: unknown }[]): Promise<number> {
    for (const r of records) await this.write(namespace, r.key, r.value, source, { sharedBy: source, targets });
    for (const t of targets) await this.q('INSERT INTO grants VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING', [namespace, t, source, nowUs()]);
    await this.audit1(source, 'share', namespace, `${records.length} records → ${targets.join(', ')}`);
    return records.length * targets.length;
  }
  async audit(q: { namespace?: string; actor?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const p = new Params();
    const w: string[] = [];
    if (q.namespace) w.push(`namespace = ${p.add(q.namespace)}`);
    if (q.actor) w.push(`actor = ${p.add(q.actor)}`);
    const rows = (await this.q(`SELECT * FROM audit${where(w)} ORDER BY id${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`, p.values)).rows as Record<string, never>[];
    return rows.map((r) => ({ atUs: r.at_us, actor: r.actor, action: r.action, namespace: r.namespace, ...(r.detail !== null ? { detail: r.detail } : {}) }));
  }
}

class PgFindings implements FindingStore {
  constructor(private readonly q: Q) {}
  async upsert(findings: Finding[], cycleId: string): Promise<{ inserted: string[]; updated: string[] }> {
    const inserted: string[] = [];
    const updated: string[] = [];
    const at = nowUs();
    for (const f of findings) {
      const r = await this.q(
        'INSERT INTO findings AS x VALUES ($1,$2,$3,$4,$5,$6,$6,$7) ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, kind = excluded.kind, category = excluded.category, json = excluded.json, last_cycle_id = excluded.last_cycle_id, updated_us = excluded.updated_us RETURNING (xmax = 0) AS inserted',
        [f.id, f.agentId, f.kind, f.category, JSON.stringify(f), cycleId, at],
      );
      if (r.rows[0].inserted) inserted.push(f.id);
      else if (!updated.includes(f.id) && !inserted.includes(f.id)) updated.push(f.id);
      await this.q('INSERT INTO finding_cycles VALUES ($1,$2) ON CONFLICT DO NOTHING', [f.id, cycleId]);
    }
    return { inserted, updated };
  }
  async get(id: string): Promise<(Finding & { firstCycleId: string; lastCycleId: string }) | undefined> {
    const r = (await this.q('SELECT json, first_cycle_id, last_cycle_id FROM findings WHERE id = $1', [id])).rows[0] as { json: Finding; first_cycle_id: string; last_cycle_id: string } | undefined;
    return r ? { ...r.json, firstCycleId: r.first_cycle_id, lastCycleId: r.last_cycle_id } : undefined;
  }
  async list(q: { cycleId?: string; category?: Finding['category']; agentId?: string; limit?: number } = {}): Promise<Finding[]> {
    const p = new Params();
    const w: string[] = [];
    let from = 'findings';
    if (q.cycleId) {
      from = 'findings JOIN finding_cycles c ON c.finding_id = findings.id';
      w.push(`c.cycle_id = ${p.add(q.cycleId)}`);
    }
    if (q.category) w.push(`category = ${p.add(q.category)}`);
    if (q.agentId) w.push(`agent_id = ${p.add(q.agentId)}`);
    const rows = (await this.q(`SELECT json FROM ${from}${where(w)} ORDER BY updated_us DESC, id${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`, p.values)).rows as { json: Finding }[];
    return rows.map((r) => r.json);
  }
}

export class PostgresStore implements MemoryStore {
  readonly backend = 'postgres' as const;
  readonly telemetry: PgTelemetry;
  readonly patterns: PgPatterns;
  readonly graph: PgGraph;
  readonly learning: PgLearning;
  readonly shared: PgShared;
  readonly findings: PgFindings;
  constructor(readonly pool: pg.Pool) {
    const q: Q = (text, params) => pool.query(text, params);
    this.telemetry = new PgTelemetry(pool);
    this.patterns = new PgPatterns(q);
    this.graph = new PgGraph(q);
    this.learning = new PgLearning(q);
    this.shared = new PgShared(q);
    this.findings = new PgFindings(q);
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Migration 3: rows written before schema version 2 have no rca_hint, so the RCA read fetched their rests whenever
 * they named an HTTP status. The hint is computed here once, in batches, by the same rule ingest uses (so a status
 * given as a string, a fraction or in any form Number() reads agrees with new rows).
 */
async function backfillRcaHint(c: pg.PoolClient): Promise<void> {
  if ((await c.query('SELECT 1 FROM schema_migrations WHERE version = 3')).rowCount) return;
  for (;;) {
    const r = await c.query<{ id: string; rest: string }>('SELECT ctid::text AS id, rest FROM spans WHERE rca_hint IS NULL LIMIT 20000');
    if (!r.rows.length) break;
    const hints = r.rows.map((row) => {
      let a: Record<string, unknown> = {};
      try {
        a = ((JSON.parse(row.rest) as { a?: Record<string, unknown> }).a ?? {});
      } catch {
        // A rest that is not JSON names no status.
      }
      return httpStatusOf(a as Attributes) >= 500 ? 1 : 0;
    });
    await c.query('UPDATE spans SET rca_hint = v.h FROM unnest($1::tid[], $2::smallint[]) AS v(id, h) WHERE spans.ctid = v.id', [r.rows.map((x) => x.id), hints]);
  }
  await c.query("INSERT INTO schema_migrations (version, name) VALUES (3, 'spans rca_hint backfilled') ON CONFLICT DO NOTHING");
}

export async function openPostgres(url: string): Promise<PostgresStore> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  try {
    // Several processes may open the same memory at once: the schema is created under an advisory lock.
    const c = await pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock(727274)');
      await c.query(SCHEMA);
      await backfillRcaHint(c);
      await c.query('SELECT pg_advisory_unlock(727274)');
    } finally {
      c.release();
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return new PostgresStore(pool);
}
