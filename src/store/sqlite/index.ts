/**
 * The embedded SQLite memory store (better-sqlite3). WAL journal with synchronous=NORMAL: a committed
 * transaction survives the process being killed (kill -9) — only an OS crash or power loss can drop the last
 * few, which is the trade every embedded telemetry store makes for ingest speed.
 */
import Database from 'better-sqlite3';
import type { MemoryStore } from '../store.js';
import { migrate } from './migrations.js';
import { SqliteWriter, configureWriterConnection } from './writer.js';
import { SqliteTelemetry, type TelemetryOptions } from './telemetry.js';
import { SqliteFindings, SqliteGraph, SqliteLearning, SqlitePatterns, SqliteShared } from './memory.js';

export interface SqliteOptions extends TelemetryOptions {
  readonly?: boolean;
  /** File databases write telemetry from a worker thread (writer.ts) unless this is false. */
  writerThread?: boolean;
}

export class SqliteStore implements MemoryStore {
  readonly backend = 'sqlite' as const;
  readonly telemetry: SqliteTelemetry;
  readonly patterns: SqlitePatterns;
  readonly graph: SqliteGraph;
  readonly learning: SqliteLearning;
  readonly shared: SqliteShared;
  readonly findings: SqliteFindings;
  private closed = false;
  private writer?: SqliteWriter;

  constructor(
    readonly db: Database.Database,
    opts: SqliteOptions = {},
  ) {
    // The same settings as the writer thread's connection (WAL, checkpoint interval), so neither checkpoints more often.
    configureWriterConnection(db);
    migrate(db);
    this.telemetry = new SqliteTelemetry(db, opts);
    if (!opts.readonly && opts.writerThread !== false && !db.memory) {
      // Started on the first ingest: `tswarm status`, the MCP server and other readers never pay for a thread.
      const start = (): SqliteWriter => (this.writer ??= new SqliteWriter(db.name, { rollupBucketUs: opts.rollupBucketUs, retentionUs: opts.retentionUs, traceRunRows: opts.traceRunRows, rollupTiers: opts.rollupTiers }, (f) => this.telemetry.housekeepingLog.record(f.task, new Error(f.message), f.atMs)));
      const self = (): SqliteWriter | undefined => this.writer;
      this.telemetry.writer = {
        get alive() {
          return self()?.alive ?? true;
        },
        write: (p) => (this.closed ? Promise.reject(new Error('the store is closed')) : start().write(p)),
      };
    }
    this.patterns = new SqlitePatterns(db);
    this.graph = new SqliteGraph(db);
    this.learning = new SqliteLearning(db);
    this.shared = new SqliteShared(db);
    this.findings = new SqliteFindings(db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer?.close();
    this.db.close();
  }
}

export function openSqlite(path: string, opts: SqliteOptions = {}): SqliteStore {
  const db = new Database(path, { readonly: opts.readonly ?? false });
  return new SqliteStore(db, opts);
}
