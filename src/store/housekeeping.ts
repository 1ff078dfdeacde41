/** The record of a store's own housekeeping failures (store.ts: HousekeepingFailure), shared by the backends. */
import type { HousekeepingFailure, HousekeepingStatus } from './store.js';

export class HousekeepingLog {
  private failures = 0;
  private last?: HousekeepingFailure;
  private readonly listeners = new Set<(f: HousekeepingFailure) => void>();

  /** Records a failure; a listener that throws is not allowed to turn it into an ingest failure. */
  record(task: HousekeepingFailure['task'], error: unknown, atMs = Date.now()): HousekeepingFailure {
    const f: HousekeepingFailure = { task, message: error instanceof Error ? error.message : String(error), atMs };
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
  run<T>(task: HousekeepingFailure['task'], fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.record(task, e);
      return undefined;
    }
  }

  async runAsync<T>(task: HousekeepingFailure['task'], fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.record(task, e);
      return undefined;
    }
  }

  status(): HousekeepingStatus {
    return { failures: this.failures, ...(this.last ? { last: { ...this.last } } : {}) };
  }

  on(listener: (f: HousekeepingFailure) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The operator's one line on a failure: what failed, why, and that nothing was lost. */
export function describeHousekeepingFailure(f: HousekeepingFailure): string {
  return `the memory store's ${f.task} failed (${f.message}); the data is stored and the next run retries`;
}
