/** Evaluation of the RCA method on labelled cases (RCAEval layout or Nezha), with per-system and per-fault figures. */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accuracyAtK } from '../../algorithms/rca/rank.js';
import type { WeightState } from '../../algorithms/learning/signal-weights.js';
import { openStore } from '../../store/open.js';
import { CaseError, findRcaEvalCases, readNezhaCases, readRcaEvalCase, type RcaCase } from './rca-cases.js';
import { codeLocations, runRca, type RcaRun } from './rca-run.js';

export interface EvalRow {
  id: string;
  system: string;
  fault: string;
  truth: string;
  ranking: string[];
  /** Where the fault shows in code (most frequent in-app frame of the top candidate's errors), when any. */
  code?: string;
  ms: number;
  run?: RcaRun;
}

export interface EvalReport {
  cases: number;
  broken: { path: string; error: string }[];
  overall: ReturnType<typeof accuracyAtK>;
  bySystem: Record<string, ReturnType<typeof accuracyAtK>>;
  byFault: Record<string, ReturnType<typeof accuracyAtK>>;
  meanMs: number;
  rows: EvalRow[];
}

/**
 * Loads the raw telemetry of a recorded case (spans, logs, errors, gauges) around its onset. The store is opened on
 * a temporary copy: opening it migrates an older schema in place, and a recorded case is evidence that an eval
 * must leave as it was recorded (an older tswarm must still be able to read it).
 */
export async function withTelemetry(c: RcaCase, marginS = 600): Promise<RcaCase & { metricPoints?: import('../../signals/model.js').MetricPoint[] }> {
  if (!c.telemetryDb) return c;
  const dir = mkdtempSync(join(tmpdir(), 'tswarm-case-'));
  const copy = join(dir, 'telemetry.db');
  try {
    try {
      // The write-ahead log holds the newest pages until a checkpoint: copy it along, or recent rows are missing.
      for (const suffix of ['', '-wal']) if (existsSync(c.telemetryDb + suffix)) copyFileSync(c.telemetryDb + suffix, copy + suffix);
    } catch (e) {
      throw new CaseError(`${c.telemetryDb}: cannot copy for reading (${(e as Error).message})`);
    }
    const store = await openStore(copy, { writerThread: false });
    try {
      const window = c.injectS ? { fromUs: (c.injectS - marginS) * 1e6, toUs: (c.injectS + marginS) * 1e6 } : undefined;
      const [spans, logs, errors, metricPoints] = await Promise.all([
        store.telemetry.querySpans({ window, limit: 2_000_000, fields: 'rca' }),
        store.telemetry.queryLogs({ window, limit: 500_000 }),
        store.telemetry.queryErrors({ window, limit: 100_000 }),
        store.telemetry.queryMetrics({ window, limit: 500_000 }),
      ]);
      return { ...c, spans, logs, errors, metricPoints };
    } finally {
      await store.close();
    }
  } finally {
    // Also when the store cannot be opened: no copy is left behind in the temp directory.
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function loadCases(data: string, format: 'rcaeval' | 'nezha' | 'auto'): Promise<{ cases: RcaCase[]; broken: { path: string; error: string }[] }> {
  const broken: { path: string; error: string }[] = [];
  if (format === 'nezha' || (format === 'auto' && /nezha/i.test(data))) return { cases: readNezhaCases(data), broken };
  const cases: RcaCase[] = [];
  for (const dir of findRcaEvalCases(data)) {
    try {
      cases.push(readRcaEvalCase(dir));
    } catch (e) {
      if (!(e instanceof CaseError)) throw e;
      broken.push({ path: dir, error: e.message });
    }
  }
  return { cases, broken };
}

export async function evaluate(cases: RcaCase[], opts: { weights?: WeightState; keepRuns?: boolean; onCase?: (i: number, n: number, id: string) => void } = {}): Promise<Omit<EvalReport, 'broken'>> {
  const rows: EvalRow[] = [];
  for (const [i, c0] of cases.entries()) {
    opts.onCase?.(i, cases.length, c0.id);
    const c = await withTelemetry(c0);
    const t0 = performance.now();
    const run = runRca(c, { weights: opts.weights, exclude: ['traffic', 'loadgenerator', 'redis', 'sqlite'], readAnnouncements: true });
    const ms = performance.now() - t0;
    const loc = codeLocations(run.errors, 1)[0];
    rows.push({ id: c.id, system: c.system, fault: c.truth?.fault ?? '?', truth: c.truth?.service ?? '?', ranking: run.candidates.map((x) => x.service), ...(loc ? { code: `${loc.file}:${loc.line ?? '?'}` } : {}), ms, ...(opts.keepRuns ? { run } : {}) });
  }
  const group = (key: (r: EvalRow) => string): Record<string, ReturnType<typeof accuracyAtK>> => {
    const m = new Map<string, EvalRow[]>();
    for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
    return Object.fromEntries([...m].map(([k, v]) => [k, accuracyAtK(v)]));
  };
  return {
    cases: rows.length,
    overall: accuracyAtK(rows),
    bySystem: group((r) => r.system),
    byFault: group((r) => r.fault),
    meanMs: rows.length ? rows.reduce((a, r) => a + r.ms, 0) / rows.length : 0,
    rows,
  };
}
