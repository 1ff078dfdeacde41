/**
 * Versioned schema migrations for the SQLite backend. Append-only: a released migration is never edited; a
 * change is a new entry. `schema_migrations` records what ran, so opening an old database upgrades it in place.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'telemetry',
    sql: `
CREATE TABLE resources (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);
CREATE TABLE spans (
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, service TEXT NOT NULL, name TEXT NOT NULL,
  kind INTEGER NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, status_code INTEGER NOT NULL,
  resource_id INTEGER NOT NULL, rest TEXT NOT NULL);
CREATE INDEX spans_time ON spans(start_us);
CREATE INDEX spans_service_time ON spans(service, start_us);
CREATE INDEX spans_trace ON spans(trace_id);
CREATE TABLE logs (
  time_us INTEGER NOT NULL, service TEXT NOT NULL, severity INTEGER NOT NULL, body TEXT NOT NULL,
  trace_id TEXT, span_id TEXT, resource_id INTEGER NOT NULL, rest TEXT NOT NULL);
CREATE INDEX logs_time ON logs(time_us);
CREATE INDEX logs_service_time ON logs(service, time_us);
CREATE INDEX logs_trace ON logs(trace_id) WHERE trace_id IS NOT NULL;
CREATE TABLE metrics (
  time_us INTEGER NOT NULL, service TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, value REAL,
  resource_id INTEGER NOT NULL, rest TEXT NOT NULL);
CREATE INDEX metrics_name_time ON metrics(name, time_us);
CREATE INDEX metrics_service_time ON metrics(service, time_us);
CREATE TABLE errors (
  time_us INTEGER NOT NULL, service TEXT NOT NULL, type TEXT NOT NULL, fingerprint TEXT NOT NULL,
  trace_id TEXT, resource_id INTEGER NOT NULL, rest TEXT NOT NULL);
CREATE INDEX errors_time ON errors(time_us);
CREATE INDEX errors_fp ON errors(fingerprint, time_us);
CREATE TABLE rollups (
  service TEXT NOT NULL, operation TEXT NOT NULL, bucket_start_us INTEGER NOT NULL, bucket_us INTEGER NOT NULL,
  requests INTEGER NOT NULL, errors INTEGER NOT NULL, duration_sum_us INTEGER NOT NULL, buckets TEXT NOT NULL,
  PRIMARY KEY (service, operation, bucket_start_us, bucket_us)) WITHOUT ROWID;
CREATE INDEX rollups_time ON rollups(bucket_start_us);
CREATE TABLE service_stats (
  service TEXT NOT NULL, signal TEXT NOT NULL, count INTEGER NOT NULL, first_us INTEGER, last_us INTEGER,
  PRIMARY KEY (service, signal)) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    name: 'memory',
    sql: `
CREATE TABLE patterns (
  kind TEXT NOT NULL, key TEXT NOT NULL, service TEXT, value TEXT NOT NULL, updated_us INTEGER NOT NULL,
  version INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE INDEX patterns_service ON patterns(kind, service);
CREATE TABLE graph_nodes (id TEXT PRIMARY KEY, kind TEXT NOT NULL, props TEXT NOT NULL, first_seen_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE graph_edges (
  source TEXT NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL, weight REAL NOT NULL, props TEXT NOT NULL,
  first_seen_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL, PRIMARY KEY (source, target, kind)) WITHOUT ROWID;
CREATE INDEX graph_edges_target ON graph_edges(target);
CREATE TABLE trajectories (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, task_id TEXT, cycle_id TEXT, decision TEXT NOT NULL, evidence TEXT NOT NULL, finding_ids TEXT NOT NULL, at_us INTEGER NOT NULL);
CREATE INDEX trajectories_agent ON trajectories(agent_id, at_us);
CREATE TABLE verdicts (id INTEGER PRIMARY KEY, finding_id TEXT NOT NULL, verdict TEXT NOT NULL, by_whom TEXT NOT NULL, reason TEXT, at_us INTEGER NOT NULL, automatic INTEGER NOT NULL);
CREATE INDEX verdicts_finding ON verdicts(finding_id);
CREATE TABLE transfers (id TEXT PRIMARY KEY, from_subject TEXT NOT NULL, to_subject TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, at_us INTEGER NOT NULL, outcome TEXT);
CREATE TABLE namespaces (namespace TEXT PRIMARY KEY, owner TEXT NOT NULL, visibility TEXT NOT NULL, writers TEXT NOT NULL);
CREATE TABLE grants (namespace TEXT NOT NULL, agent TEXT NOT NULL, granted_by TEXT NOT NULL, at_us INTEGER NOT NULL, PRIMARY KEY (namespace, agent)) WITHOUT ROWID;
CREATE TABLE shared_records (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, writer TEXT NOT NULL, provenance TEXT NOT NULL, at_us INTEGER NOT NULL);
CREATE INDEX shared_ns ON shared_records(namespace, at_us);
CREATE TABLE audit (id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, namespace TEXT NOT NULL, detail TEXT);
CREATE INDEX audit_ns ON audit(namespace, at_us);
CREATE TABLE findings (
  id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, kind TEXT NOT NULL, category TEXT NOT NULL, json TEXT NOT NULL,
  first_cycle_id TEXT NOT NULL, last_cycle_id TEXT NOT NULL, updated_us INTEGER NOT NULL);
CREATE INDEX findings_cycle ON findings(last_cycle_id);
CREATE INDEX findings_updated ON findings(updated_us);
CREATE TABLE finding_cycles (finding_id TEXT NOT NULL, cycle_id TEXT NOT NULL, PRIMARY KEY (finding_id, cycle_id)) WITHOUT ROWID;
`,
  },
  {
    // Trace ids are random: a B-tree index on them takes every insert to a random leaf page, and each commit
    // then writes about one 4 KiB page per span to the WAL (measured: 160k → 30k rows/s with random ids).
    // Instead the trace index is built in sorted runs: spans past `tail_from` are unindexed (a bounded tail
    // that lookups scan by rowid), and every RUN_ROWS spans the tail is appended as one sorted run keyed
    // (run, trace_id, row) — always at the right edge of the B-tree, so a page is written once per ~80 entries.
    // Existing rows become run 0.
    version: 3,
    name: 'trace-runs',
    sql: `
DROP INDEX spans_trace;
CREATE TABLE span_trace_idx (run INTEGER NOT NULL, trace_id TEXT NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (run, trace_id, row)) WITHOUT ROWID;
CREATE TABLE span_trace_runs (run INTEGER PRIMARY KEY, last_row INTEGER NOT NULL);
CREATE TABLE span_trace_state (id INTEGER PRIMARY KEY CHECK (id = 0), tail_from INTEGER NOT NULL);
INSERT INTO span_trace_idx (run, trace_id, row) SELECT 0, trace_id, rowid FROM spans ORDER BY trace_id, rowid;
INSERT INTO span_trace_runs (run, last_row) SELECT 0, max(rowid) FROM spans HAVING count(*) > 0;
INSERT INTO span_trace_state (id, tail_from) SELECT 0, coalesce(max(rowid), 0) + 1 FROM spans;
`,
  },
  {
    // The instrumentation scope repeats on every span of an export: stored once and referenced, as resources
    // are (it was ~70 bytes of every span's rest JSON). A span's rest may now also be a BLOB: protobuf bytes of
    // the fields that are not columns, as the receiver's row path copies them off the wire (wire.ts:
    // decodeTracesRows). Rows written before keep their JSON rest with the scope inside; readers take both.
    version: 4,
    name: 'span-scopes-and-protobuf-rest',
    sql: `
CREATE TABLE scopes (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);
ALTER TABLE spans ADD COLUMN scope_id INTEGER;
`,
  },
  {
    // Whether a span's rest may hold an HTTP status of 500 or more (1), or proves it holds none (0): the RCA read
    // (span-table-read.ts) needs the rest of failed spans only, and proving it from the rest at read time cost a
    // search of every span's bytes. Written on ingest; rows written before are NULL, and read as before.
    version: 5,
    name: 'span-rca-hint',
    sql: `
ALTER TABLE spans ADD COLUMN rca_hint INTEGER;
`,
  },
  {
    // Records of a kind written since a time: the swarm's own chaos experiments and load tests that may overlap a
    // window, and the changes declared for it (own-disturbances.ts, declared-changes.ts), without reading them all.
    version: 6,
    name: 'patterns-by-kind-and-time',
    sql: `
CREATE INDEX patterns_kind_updated ON patterns(kind, updated_us);
`,
  },
];

export function migrate(db: Database.Database, migrations: Migration[] = MIGRATIONS): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const latestKnown = Math.max(0, ...migrations.map((m) => m.version));
  const newest = Math.max(0, ...done);
  if (newest > latestKnown) {
    throw new Error(`this memory store has schema version ${newest}, newer than this tswarm understands (${latestKnown}); upgrade tswarm`);
  }
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}
