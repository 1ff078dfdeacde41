/**
 * The writer thread of a SQLite file store: a worker_thread with its own connection that owns telemetry
 * writes, so the thread that receives and decodes (the OTLP receiver's) and the one that inserts run on two
 * cores at once. The caller hands it a PreparedBatch (flat column values, cheap to clone; the receiver's span
 * rows as typed arrays whose buffers are transferred, not copied) and gets its promise
 * resolved only after the transaction holding that batch has committed — a 2xx built on that is as durable as
 * an in-thread commit. Batches that queue up while a commit runs go into the next transaction together (group
 * commit: fewer, larger commits write each touched page once).
 *
 * WAL with synchronous=NORMAL, as on the main connection: a commit survives kill -9 of the process (the WAL
 * is in the OS page cache); an OS crash or power loss may drop the last commits since a checkpoint.
 * Checkpoints run every WAL_BYTES of WAL instead of SQLite's 1,000 pages: each fsyncs the database file, and at
 * 1,000 pages that was a fsync every few batches (measured: 1.5-2x ingest wall time on this VM's disk).
 * New databases get 16 KiB pages (SQLite's default is 4 KiB): fewer, fuller B-tree pages and WAL frames per
 * span — the writer thread's CPU per span fell ~12 % (3.65 → 3.2 µs, committing decoded bench batches on one
 * thread; noisy machine, three alternating pairs). An existing database keeps its page size.
 *
 * This one file is both sides: imported normally it exports SqliteWriter; run as the worker it serves it.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteTelemetry, type PreparedBatch, type TelemetryOptions } from './telemetry.js';
import type { HousekeepingFailure } from '../store.js';

/** 10,000 pages of 4 KiB, the interval measured when the page size was SQLite's default. */
export const WAL_BYTES = 40_960_000;
export const PAGE_SIZE = 16_384;

interface WriterData {
  tswarmSqliteWriter: true;
  path: string;
  opts: TelemetryOptions;
}
type Request = { id: number; batch: PreparedBatch } | { id: number; close: true };
/** `housekeeping`: housekeeping that failed after the batch's commit (the batch itself is stored). */
type Reply = { id: number; error?: string; housekeeping?: HousekeepingFailure[] };

export function configureWriterConnection(db: Database.Database): void {
  // Takes effect only on a database with no tables yet (and must come before WAL mode); elsewhere a no-op.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.pragma(`wal_autocheckpoint = ${Math.max(1000, Math.round(WAL_BYTES / (db.pragma('page_size', { simple: true }) as number)))}`);
}

/**
 * The parent's node flags a worker accepts and that matter to it (profiling, source maps). Not the rest: tsx's
 * hooks (the thread registers them itself) and process-wide flags such as --expose-gc, which make the Worker
 * constructor throw.
 */
function workerFlags(argv: string[]): string[] {
  return argv.filter((a) => /^--(cpu-prof|heap-prof|enable-source-maps)/.test(a));
}

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead?: Error;
  private closing = false;
  private exited: Promise<void>;

  /** `onHousekeepingFailure`: housekeeping the thread ran after a commit failed (reported, never thrown). */
  constructor(path: string, opts: TelemetryOptions, private readonly onHousekeepingFailure: (f: HousekeepingFailure) => void = () => undefined) {
    const data: WriterData = { tswarmSqliteWriter: true, path, opts };
    this.worker = import.meta.url.endsWith('.ts')
      ? // Run from sources (tests, benches under tsx): tsx's --import hook does not reach worker threads, so the
        // thread registers it itself before loading this file.
        new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`, { eval: true, execArgv: workerFlags(process.execArgv), workerData: data })
      : new Worker(new URL(import.meta.url), { execArgv: workerFlags(process.execArgv), workerData: data });
    // Idle, the thread must not keep the process alive; with writes pending it must (a CLI awaiting an ingest
    // has nothing else on its event loop).
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      for (const f of m.housekeeping ?? []) this.onHousekeepingFailure(f);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0 && !this.closing) this.worker.unref();
      if (m.error === undefined) p.resolve();
      else p.reject(new Error(m.error));
    });
    this.exited = new Promise((resolve) => {
      const fail = (e: Error): void => {
        this.dead ??= e;
        for (const p of this.pending.values()) p.reject(this.dead);
        this.pending.clear();
        resolve();
      };
      this.worker.once('error', fail);
      this.worker.once('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)));
    });
  }

  /** False once the thread has died: the store then writes in its own thread again. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  private request(msg: { batch: PreparedBatch } | { close: true }): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      // A batch's span rows move to the thread (transferred, not copied) when they own their ArrayBuffers.
      const rows = 'batch' in msg ? msg.batch.spanRows : undefined;
      const transfer: ArrayBuffer[] = [];
      for (const a of rows ? [rows.nums, rows.rest] : []) if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer) transfer.push(a.buffer);
      this.worker.postMessage({ id, ...msg }, transfer);
    });
  }

  write(batch: PreparedBatch): Promise<void> {
    return this.request({ batch });
  }

  /** Lets queued writes finish (the queue is FIFO), then closes the thread's connection and waits for it to end. */
  async close(): Promise<void> {
    if (!this.dead) {
      // Referenced until the thread has exited, or the process could end between its reply and its exit.
      this.closing = true;
      this.worker.ref();
      const done = this.request({ close: true }).catch(() => undefined);
      this.dead = new Error('the store is closed');
      await done;
    }
    await this.exited;
  }
}

function serve(d: WriterData): void {
  const port = parentPort!;
  const db = new Database(d.path);
  configureWriterConnection(db);
  const telemetry = new SqliteTelemetry(db, d.opts);
  let queue: Request[] = [];
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    const items = queue;
    queue = [];
    const batches = items.filter((r): r is Extract<Request, { batch: PreparedBatch }> => 'batch' in r);
    if (batches.length) {
      let housekeeping: HousekeepingFailure[] | undefined;
      try {
        housekeeping = telemetry.commit(batches.map((r) => r.batch));
      } catch {
        // Retried batch by batch below.
      }
      if (housekeeping) {
        batches.forEach((r, i) => port.postMessage({ id: r.id, ...(i === 0 && housekeeping.length ? { housekeeping } : {}) } satisfies Reply));
      } else {
        // One bad batch must not fail the others that shared its transaction: retry each on its own.
        for (const r of batches) {
          try {
            const m = telemetry.commit([r.batch]);
            port.postMessage({ id: r.id, ...(m.length ? { housekeeping: m } : {}) } satisfies Reply);
          } catch (e) {
            port.postMessage({ id: r.id, error: (e as Error).message } satisfies Reply);
          }
        }
      }
    }
    const close = items.find((r) => 'close' in r);
    if (close) {
      db.close();
      port.postMessage({ id: close.id } satisfies Reply);
      port.close();
    }
  };
  port.on('message', (m: Request) => {
    queue.push(m);
    // Everything that arrives before this turn of the loop ends shares one transaction.
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  });
}

if (!isMainThread && (workerData as Partial<WriterData> | null)?.tswarmSqliteWriter) serve(workerData as WriterData);
