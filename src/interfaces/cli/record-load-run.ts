/**
 * A load test run from the CLI is written into the swarm's memory as the load tester's own runs are: the analysis
 * then knows the load was the swarm's (no anomaly, regression or log burst from its minutes, no incident placed in
 * them), and the next cycle reports its thresholds, capacity and change since the previous run of that target.
 * Recorded into `--db` when given, else into the default memory when one exists there (the one `tswarm serve`
 * collects into); `--no-record` leaves memory alone.
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { LoadRunRecord } from '../../agents/analysis/load-tester.js';
import { DEFAULT_DB } from './util.js';

export interface RecordOpts {
  db?: string;
  record?: boolean;
}

/** Where to record: the given memory, else the default one when it exists; undefined for none. */
export function recordTarget(o: RecordOpts): string | undefined {
  if (o.record === false) return undefined;
  if (o.db) return o.db;
  const def = process.env.TSWARM_DB || DEFAULT_DB;
  return /^postgres(ql)?:\/\//.test(def) || existsSync(def) ? def : undefined;
}

/** Records the run; says where on stderr, or why not (a run without a URL target has nothing to name it by). */
export async function recordLoadRun(o: RecordOpts, run: Omit<LoadRunRecord, 'id' | 'atUs'> & { startUs: number; endUs: number }): Promise<void> {
  const db = recordTarget(o);
  if (!db) return;
  try {
    new URL(run.target);
  } catch {
    process.stderr.write(`not recorded in ${db}: the run has no target URL to name it by\n`);
    return;
  }
  const { openStore } = await import('../../store/open.js');
  const { LOAD_RUN_KIND } = await import('../../agents/analysis/load-tester.js');
  const store = await openStore(db);
  try {
    const id = `L-${createHash('sha256').update(`${run.target}\u0000${run.startUs}`).digest('hex').slice(0, 12)}`;
    const record: LoadRunRecord = { id, atUs: run.endUs, ...run };
    await store.patterns.put(LOAD_RUN_KIND, id, record);
    process.stderr.write(`recorded as ${id} in ${db} (the swarm's analysis leaves its minutes out)\n`);
  } finally {
    await store.close();
  }
}
