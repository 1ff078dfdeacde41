/** The record of a store's own housekeeping failures (store.ts: MaintenanceFailure), shared by the backends. */
import type { MaintenanceFailure, MaintenanceStatus } from './store.js';

export class MaintenanceLog {
  private failures = 0;
  private last?: MaintenanceFailure;
  private readonly listeners = new Set<(f: MaintenanceFailure) => void>();

  /** Records a failure; a listener that throws is not allowed to turn it into an ingest failure. */
  record(task: MaintenanceFailure['task'], error: unknown, atMs = Date.now()): MaintenanceFailure {
    const f: MaintenanceFailure = { task, message: error instanceof Error ? error.message : String(error), atMs };
    this.failures++;
    this.last = f;
    for (const l of this.listeners) {
      try {
        l(f);
      } catch {
        // The listener's own problem (a closed log stream): the failure stays counted in status().
      }
    }
    return f;
  }

  /** Runs one housekeeping task, recording its failure instead of throwing it. */
  run<T>(task: MaintenanceFailure['task'], fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.record(task, e);
      return undefined;
    }
  }

  async runAsync<T>(task: MaintenanceFailure['task'], fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.record(task, e);
      return undefined;
    }
  }

  status(): MaintenanceStatus {
    return { failures: this.failures, ...(this.last ? { last: { ...this.last } } : {}) };
  }

  on(listener: (f: MaintenanceFailure) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The operator's one line on a failure: what failed, why, and that nothing was lost. */
export function describeMaintenanceFailure(f: MaintenanceFailure): string {
  return `the memory store's ${f.task} failed (${f.message}); the data is stored and the next run retries`;
}
