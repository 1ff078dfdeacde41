/**
 * MEMORY: one interface, several backends (SQLite embedded by default; PostgreSQL when several swarm processes
 * share one memory). Every method is async so that a networked backend fits the same contract; the SQLite
 * backend is synchronous underneath.
 *
 * Facets follow the seed's "Learning & Memory Flow" picture:
 *   telemetry (windows + rollups) · pattern store · knowledge graph · learning store · shared namespaces · findings
 */
import type { ErrorEvent, LogRecord, MetricPoint, SignalBatch, Span } from '../signals/model.js';
import type { Finding, TimeWindow } from '../fleet/contracts.js';
import type { SpanTable } from '../algorithms/rca/span-table.js';
import type { RollupTier } from './rollup.js';

export interface IngestResult {
  spans: number;
  logs: number;
  metrics: number;
  errors: number;
}

export interface TelemetryQuery {
  window?: TimeWindow;
  services?: string[];
  limit?: number;
}

export interface SpanQuery extends TelemetryQuery {
  traceIds?: string[];
  errorsOnly?: boolean;
  operations?: string[];
  /**
   * 'rca': only what root-cause analysis reads (src/algorithms/rca/traces.ts) need be filled in — ids, service,
   * name, kind, times, status code, resource; of the attributes only RCA_SPAN_ATTRIBUTES (store/sqlite/
   * span-projection.ts), and http.response.status_code only where it may be ≥ 500; exception events and the status
   * message only on failed spans (status error or HTTP ≥ 500); no links nor scope. Spans may share (frozen) empty
   * attributes/events. Reading a million spans back in full cost more than the analysis. A backend may ignore it
   * and return full spans: the RCA answer is the same either way.
   */
  fields?: 'full' | 'rca';
}

export interface LogQuery extends TelemetryQuery {
  minSeverity?: number;
  traceIds?: string[];
}

export interface MetricQuery extends TelemetryQuery {
  names?: string[];
}

export interface ErrorQuery extends TelemetryQuery {
  fingerprints?: string[];
}

/** Per service/operation/time-bucket aggregates maintained on ingest from server/consumer spans. */
export interface Rollup {
  service: string;
  operation: string;
  bucketStartUs: number;
  bucketUs: number;
  requests: number;
  errors: number;
  /** Sum of durations in µs. */
  durationSumUs: number;
  /** Latency histogram over the shared bucket bounds (`ROLLUP_LATENCY_BOUNDS_US`), length bounds+1. */
  latencyBuckets: number[];
}

/** Log-spaced latency bounds in µs shared by every rollup, so rollups can be merged across buckets and services. */
export const ROLLUP_LATENCY_BOUNDS_US: readonly number[] = Object.freeze(
  Array.from({ length: 40 }, (_, i) => Math.round(100 * Math.pow(1.5, i))),
);

export interface CompactionResult {
  /** Narrow rows merged away. */
  merged: number;
  /** Wide rows written new (the rest were added to wide rows that existed). */
  written: number;
}

/**
 * Housekeeping a store does on its own as data arrives (rollup compaction, retention). It runs after a batch has
 * committed, so its failure must neither fail that batch (the sender would retry a batch that is already stored)
 * nor pass unseen: it is counted here and the next run retries it.
 */
export interface HousekeepingFailure {
  task: 'compaction' | 'retention';
  message: string;
  atMs: number;
}

export interface HousekeepingStatus {
  /** Failed runs since the store was opened (by this process). */
  failures: number;
  last?: HousekeepingFailure;
}

export interface ServiceStats {
  service: string;
  spans: number;
  logs: number;
  metrics: number;
  errors: number;
  firstUs?: number;
  lastUs?: number;
}

export interface TelemetryStore {
  /** Stores one batch atomically: either all of it is durable when the promise resolves, or none of it. */
  ingest(batch: SignalBatch): Promise<IngestResult>;
  querySpans(q: SpanQuery): Promise<Span[]>;
  /**
   * Optional: the RCA's spans (what querySpans with fields 'rca' reads) as columns, without a span object each, and
   * the rest of only the spans the analysis reads more of: failed ones and those `peersFor` names. A store without
   * it is read with querySpans and made a table of (algorithms/rca/span-table.ts: spanTableOf) — the same answer.
   */
  querySpanTable?(q: SpanQuery, peersFor: (t: SpanTable) => Int32Array): Promise<SpanTable>;
  queryLogs(q: LogQuery): Promise<LogRecord[]>;
  queryMetrics(q: MetricQuery): Promise<MetricPoint[]>;
  queryErrors(q: ErrorQuery): Promise<ErrorEvent[]>;
  rollups(q: TelemetryQuery & { operations?: string[] }): Promise<Rollup[]>;
  stats(): Promise<ServiceStats[]>;
  /** Drops raw telemetry older than the cutoff (rollups are kept). Returns rows removed. */
  prune(olderThanUs: number): Promise<number>;
  /**
   * Merges old rollup buckets into wider ones by age before the newest record (store/rollup.ts: ROLLUP_TIERS by
   * default; stores also do it on their own as data arrives). Totals are unchanged; reads of a span that crosses
   * a tier see mixed widths.
   */
  compactRollups(tiers?: readonly RollupTier[]): Promise<CompactionResult>;
  /** How the store's own housekeeping has gone (see HousekeepingFailure). */
  housekeeping(): HousekeepingStatus;
  /** Called on each housekeeping failure, e.g. to log it; returns a function that unsubscribes. */
  onHousekeepingFailure(listener: (f: HousekeepingFailure) => void): () => void;
}

/** Pattern store kinds named by the seed, plus the ones the pattern learner keeps. */
export type PatternKind =
  | 'defect-pattern'
  | 'performance-baseline'
  | 'resilience-learning'
  | 'log-template'
  | 'error-group'
  | 'incident-signature'
  | (string & {});

export interface PatternRecord<T = unknown> {
  kind: PatternKind;
  key: string;
  value: T;
  service?: string;
  updatedUs: number;
  version: number;
}

export interface PatternStore {
  put<T>(kind: PatternKind, key: string, value: T, opts?: { service?: string }): Promise<PatternRecord<T>>;
  putMany<T>(kind: PatternKind, items: { key: string; value: T; service?: string }[]): Promise<void>;
  get<T>(kind: PatternKind, key: string): Promise<PatternRecord<T> | undefined>;
  /** Newest first; `updatedSinceUs`: only records written (put) at or after it. */
  list<T>(kind: PatternKind, opts?: { service?: string; limit?: number; updatedSinceUs?: number }): Promise<PatternRecord<T>[]>;
  delete(kind: PatternKind, key: string): Promise<boolean>;
}

export interface GraphNode {
  id: string;
  kind: string;
  props: Record<string, unknown>;
  firstSeenUs: number;
  lastSeenUs: number;
}

export interface GraphEdge {
  source: string;
  target: string;
  kind: string;
  weight: number;
  props: Record<string, unknown>;
  firstSeenUs: number;
  lastSeenUs: number;
}

export interface KnowledgeGraphStore {
  upsertNodes(nodes: { id: string; kind: string; props?: Record<string, unknown>; seenUs: number }[]): Promise<void>;
  /** Upsert by (source, target, kind): first seen is kept, last seen and weight/props updated. */
  upsertEdges(
    edges: { source: string; target: string; kind: string; weight?: number; props?: Record<string, unknown>; seenUs: number }[],
  ): Promise<void>;
  nodes(q?: { kind?: string; ids?: string[] }): Promise<GraphNode[]>;
  edges(q?: { kind?: string; source?: string; target?: string; sinceUs?: number }): Promise<GraphEdge[]>;
}

export interface Trajectory {
  id: string;
  agentId: string;
  taskId?: string;
  cycleId?: string;
  decision: string;
  evidence: unknown;
  findingIds: string[];
  atUs: number;
}

export type VerdictValue = 'confirmed' | 'rejected';

export interface Verdict {
  findingId: string;
  verdict: VerdictValue;
  by: string;
  reason?: string;
  atUs: number;
  automatic: boolean;
}

export interface TransferRecord {
  id: string;
  fromSubject: string;
  toSubject: string;
  kind: string;
  payload: unknown;
  atUs: number;
  outcome?: VerdictValue;
}

export interface LearningStore {
  recordTrajectory(t: Trajectory): Promise<void>;
  trajectories(q?: { agentId?: string; cycleId?: string; limit?: number }): Promise<Trajectory[]>;
  recordVerdict(v: Verdict): Promise<void>;
  verdicts(q?: { findingIds?: string[]; agentId?: string }): Promise<Verdict[]>;
  recordTransfer(t: TransferRecord): Promise<void>;
  transfers(q?: { toSubject?: string; kind?: string }): Promise<TransferRecord[]>;
}

export interface NamespaceRule {
  namespace: string;
  owner: string;
  /** `public`: anyone reads; `private`: only owner and agents it was shared with. */
  visibility: 'public' | 'private';
  writers: string[];
}

export interface SharedRecord {
  namespace: string;
  key: string;
  value: unknown;
  writer: string;
  /** Who produced the knowledge originally (for shared records: the sharing agent and its source). */
  provenance: Record<string, unknown>;
  atUs: number;
}

export interface AuditEntry {
  atUs: number;
  actor: string;
  action: 'write' | 'read' | 'share' | 'deny' | 'define';
  namespace: string;
  detail?: string;
}

export interface SharedMemoryStore {
  defineNamespace(rule: NamespaceRule): Promise<void>;
  /** Throws an AccessDeniedError when the writer may not write the namespace. */
  write(namespace: string, key: string, value: unknown, writer: string, provenance?: Record<string, unknown>): Promise<void>;
  /** Throws an AccessDeniedError when the reader may not read the namespace. */
  read(namespace: string, reader: string, opts?: { sinceUs?: number; limit?: number }): Promise<SharedRecord[]>;
  /** Deliver records to target agents: they see them on their next read of `namespace`. */
  share(sourceAgentId: string, targetAgentIds: string[], namespace: string, records: { key: string; value: unknown }[]): Promise<number>;
  audit(q?: { namespace?: string; actor?: string; limit?: number }): Promise<AuditEntry[]>;
}

export class AccessDeniedError extends Error {
  constructor(
    readonly actor: string,
    readonly namespace: string,
    readonly action: 'read' | 'write',
  ) {
    super(`${actor} may not ${action} namespace "${namespace}"`);
    this.name = 'AccessDeniedError';
  }
}

export interface FindingStore {
  /** Upsert by finding id; returns which ids were new (not seen in any earlier cycle). */
  upsert(findings: Finding[], cycleId: string): Promise<{ inserted: string[]; updated: string[] }>;
  get(id: string): Promise<(Finding & { firstCycleId: string; lastCycleId: string }) | undefined>;
  list(q?: { cycleId?: string; category?: Finding['category']; agentId?: string; limit?: number }): Promise<Finding[]>;
}

export interface MemoryStore {
  readonly backend: 'sqlite' | 'postgres';
  telemetry: TelemetryStore;
  patterns: PatternStore;
  graph: KnowledgeGraphStore;
  learning: LearningStore;
  shared: SharedMemoryStore;
  findings: FindingStore;
  close(): Promise<void>;
}
