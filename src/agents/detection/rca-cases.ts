/**
 * Incident cases on disk → RCA inputs. Two layouts:
 *  - RCAEval (and the testbed's recordings): `<system>/<service>_<fault>/<rep>/` with `inject_time.txt`, metrics in
 *    `metrics.csv` | `simple_metrics.csv` | `data.csv` (`time` + `<service>_<signal>` columns), optional
 *    `topology.csv` (source,target) and, from the testbed, the raw telemetry in `telemetry.db`;
 *  - Nezha (FSE'23) metrics: `rca_data/<day>/metric/<pod>_metric.csv` with `<day>-fault_list.json` labels.
 * Broken files produce a CaseError naming the file and the problem.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { appendPoint as put, type ServiceSeries } from '../../algorithms/rca/metrics.js';
import { edgeIndicators, type EdgeLatency } from '../../algorithms/rca/edges.js';
import type { ErrorEvent, LogRecord, Span } from '../../signals/model.js';

export class CaseError extends Error {}

export interface RcaCase {
  id: string;
  path: string;
  system: string;
  /** Label, when the layout carries one (folder name or fault list): for evaluation only, never for ranking. */
  truth?: { service: string; fault: string };
  /** Onset in seconds (unix), as given; may be missing or off. */
  injectS?: number;
  metrics: ServiceSeries;
  edges: { source: string; target: string }[];
  /** Seconds between metric rows (estimated). */
  resolutionS: number;
  telemetryDb?: string;
  spans?: Span[];
  logs?: LogRecord[];
  errors?: ErrorEvent[];
}

function readCsv(file: string): Record<string, string>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CaseError(`${file}: cannot read (${(e as Error).message})`);
  }
  if (!text.trim()) throw new CaseError(`${file}: empty file`);
  try {
    return parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true }) as Record<string, string>[];
  } catch (e) {
    throw new CaseError(`${file}: not valid CSV (${(e as Error).message.split('\n')[0]})`);
  }
}

function timeSeconds(v: string | undefined): number {
  if (v === undefined || v === '') return NaN;
  const n = Number(v);
  if (Number.isFinite(n)) return n > 1e12 ? n / 1000 : n;
  const d = Date.parse(v.slice(0, 19).replace(' ', 'T') + 'Z');
  return Number.isFinite(d) ? d / 1000 : NaN;
}

function resolutionOf(series: ServiceSeries): number {
  for (const inds of series.values()) {
    for (const s of inds.values()) {
      const d: number[] = [];
      for (let i = 1; i < Math.min(s.t.length, 50); i++) d.push(s.t[i]! - s.t[i - 1]!);
      d.sort((a, b) => a - b);
      if (d.length) return Math.max(1e-3, d[Math.floor(d.length / 2)]!);
    }
  }
  return 1;
}

/** Is this directory an RCAEval-layout case? */
export function isRcaEvalCase(dir: string): boolean {
  return existsSync(join(dir, 'inject_time.txt')) || ['metrics.csv', 'simple_metrics.csv', 'data.csv'].some((f) => existsSync(join(dir, f)));
}

export function readRcaEvalCase(dir: string): RcaCase {
  const metricsFile = ['metrics.csv', 'simple_metrics.csv', 'data.csv'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!metricsFile) throw new CaseError(`${dir}: no metrics.csv, simple_metrics.csv or data.csv`);
  const rows = readCsv(metricsFile);
  if (!rows.length) throw new CaseError(`${metricsFile}: no data rows`);
  const cols = Object.keys(rows[0]!);
  const timeCol = cols.find((c) => c === 'time' || c === 'timestamp' || c === 'Time');
  if (!timeCol) throw new CaseError(`${metricsFile}: no "time" column (columns: ${cols.slice(0, 8).join(', ')}…)`);
  const metricCols = cols.filter((c) => c !== timeCol && c.includes('_'));
  if (!metricCols.length) throw new CaseError(`${metricsFile}: no <service>_<signal> columns`);
  const series: ServiceSeries = new Map();
  for (const r of rows) {
    const t = timeSeconds(r[timeCol]);
    if (!Number.isFinite(t)) continue;
    for (const c of metricCols) {
      const v = Number(r[c]);
      if (r[c] === '' || r[c] === undefined || !Number.isFinite(v)) continue;
      const i = c.indexOf('_');
      put(series, c.slice(0, i), c.slice(i + 1), t, v);
    }
  }
  if (!series.size) throw new CaseError(`${metricsFile}: no numeric values`);
  let injectS: number | undefined;
  const injectFile = join(dir, 'inject_time.txt');
  if (existsSync(injectFile)) {
    const v = Number(readFileSync(injectFile, 'utf8').trim());
    if (!Number.isFinite(v)) throw new CaseError(`${injectFile}: not a unix time in seconds`);
    injectS = v > 1e12 ? v / 1000 : v;
  }
  const edges: { source: string; target: string }[] = [];
  const topo = join(dir, 'topology.csv');
  if (existsSync(topo)) for (const r of readCsv(topo)) if (r.source && r.target) edges.push({ source: r.source, target: r.target });
  const parent = basename(dirname(dir));
  const label = /^([^_]+)_(.+)$/.exec(parent);
  const db = join(dir, 'telemetry.db');
  return {
    id: `${parent}/${basename(dir)}`,
    path: dir,
    system: basename(dirname(dirname(dir))),
    ...(label ? { truth: { service: label[1]!, fault: label[2]! } } : {}),
    ...(injectS !== undefined ? { injectS } : {}),
    metrics: series,
    edges,
    resolutionS: resolutionOf(series),
    ...(existsSync(db) ? { telemetryDb: db } : {}),
  };
}

/** Every case directory under `root` (RCAEval layout), depth-first, sorted. */
export function findRcaEvalCases(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 6) return;
    if (isRcaEvalCase(d)) {
      out.push(d);
      return;
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      if (!e.startsWith('.') && statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** Nezha pod name `service-<rs hash>-<pod hash>` → service. */
export function nezhaService(pod: string): string {
  const parts = pod.split('-');
  return parts.length > 2 ? parts.slice(0, -2).join('-') : pod;
}

// Host-level columns describe the node, not the service on it.
const NEZHA_SKIP = new Set(['Time', 'TimeStamp', 'PodName', 'NodeCpuUsageRate(%)', 'NodeMemoryUsageRate(%)', 'NodeNetworkReceiveBytes']);

/**
 * Nezha's per-edge latency files (Online Boutique): `source_50.csv` (caller side) and `destination_50.csv`
 * (callee side), one `<caller>_<callee>` column per edge; an empty cell is a minute without calls on that edge.
 * Rows of the two files are matched by time (to the nearest 10 s).
 */
function nezhaEdgeIndicators(metricDir: string, services: Set<string>): ServiceSeries {
  const src = join(metricDir, 'source_50.csv');
  if (!existsSync(src)) return new Map();
  const dst = join(metricDir, 'destination_50.csv');
  const clientRows = readCsv(src);
  const serverRows = existsSync(dst) ? readCsv(dst) : [];
  const key = (r: Record<string, string>): number => Math.round(timeSeconds(r.time ?? r.Time) / 10);
  const serverAt = new Map(serverRows.map((r) => [key(r), r]));
  const cols = Object.keys(clientRows[0] ?? {}).filter((c) => c.includes('_') && c !== 'time' && c !== 'timestamp');
  const edges: EdgeLatency[] = [];
  for (const col of cols) {
    // Service names contain no "_" in Nezha; pick the split whose both halves are known services.
    const i = [...col].map((ch, j) => (ch === '_' ? j : -1)).filter((j) => j > 0).find((j) => services.has(col.slice(0, j)) && services.has(col.slice(j + 1)));
    if (i === undefined) continue;
    const e: EdgeLatency = { caller: col.slice(0, i), callee: col.slice(i + 1), client: { t: [], v: [] }, server: { t: [], v: [] } };
    for (const r of clientRows) {
      const t = timeSeconds(r.time ?? r.Time);
      if (!Number.isFinite(t)) continue;
      const num = (v: string | undefined): number => (v === undefined || v === '' ? NaN : Number(v));
      e.client.t.push(t);
      e.client.v.push(num(r[col]));
      e.server!.t.push(t);
      e.server!.v.push(num(serverAt.get(key(r))?.[col]));
    }
    edges.push(e);
  }
  return edgeIndicators(edges);
}

export function readNezhaCases(root: string): RcaCase[] {
  const base = existsSync(join(root, 'rca_data')) ? join(root, 'rca_data') : root;
  if (!existsSync(base)) throw new CaseError(`${root}: no rca_data directory`);
  const cases: RcaCase[] = [];
  for (const day of readdirSync(base).sort()) {
    const dayDir = join(base, day);
    const list = join(dayDir, `${day}-fault_list.json`);
    const metricDir = join(dayDir, 'metric');
    if (!existsSync(list) || !existsSync(metricDir)) continue;
    const series: ServiceSeries = new Map();
    const files = readdirSync(metricDir).filter((f) => f.endsWith('_metric.csv')).sort();
    const pods = new Map<string, number>();
    for (const f of files) pods.set(nezhaService(f.replace(/_metric\.csv$/, '')), (pods.get(nezhaService(f.replace(/_metric\.csv$/, ''))) ?? 0) + 1);
    for (const f of files) {
      const pod = f.replace(/_metric\.csv$/, '');
      const service = nezhaService(pod);
      // Replicas of one service keep their own series (`<indicator>@<pod>`): a fault hits one pod, and pods at
      // different levels pooled into one baseline make a wide, two-humped spread that hides the faulty pod's change.
      const suffix = (pods.get(service) ?? 0) > 1 ? `@${pod.split('-').pop()}` : '';
      for (const r of readCsv(join(metricDir, f))) {
        const t = timeSeconds(r.Time);
        if (!Number.isFinite(t)) continue;
        for (const [k, v] of Object.entries(r)) {
          if (NEZHA_SKIP.has(k) || v === '' || v === undefined) continue;
          const x = Number(v);
          if (Number.isFinite(x)) put(series, service, k + suffix, t, x);
        }
      }
    }
    // The user-facing SLI (front_service.csv: success rate and latency of the entry service, as users see it)
    // belongs to the service it names, when that service has metrics of its own.
    const front = join(metricDir, 'front_service.csv');
    if (existsSync(front)) {
      for (const r of readCsv(front)) {
        const svc = [...series.keys()].find((k) => k.toLowerCase() === String(r.ServiceName ?? '').toLowerCase());
        const t = timeSeconds(r.Time);
        if (!svc || !Number.isFinite(t)) continue;
        for (const [k, v] of Object.entries(r)) {
          if (NEZHA_SKIP.has(k) || k === 'ServiceName' || v === '' || v === undefined) continue;
          const x = Number(v);
          if (Number.isFinite(x)) put(series, svc, `user-${k}`, t, x);
        }
      }
    }
    for (const [svc, inds] of nezhaEdgeIndicators(metricDir, new Set(series.keys()))) {
      for (const [k, s] of inds) s.t.forEach((t, i) => put(series, svc, k, t, s.v[i]!));
    }
    const edges: { source: string; target: string }[] = [];
    const dep = join(metricDir, 'dependency.csv');
    if (existsSync(dep)) {
      for (const r of readCsv(dep)) if (r.Source && r.Target && series.has(r.Source) && series.has(r.Target)) edges.push({ source: r.Source, target: r.Target });
    }
    const system = day.startsWith('2022') ? 'online-boutique' : 'train-ticket';
    let faults: Record<string, { inject_time: string; inject_pod: string; inject_type: string }[]>;
    try {
      faults = JSON.parse(readFileSync(list, 'utf8')) as typeof faults;
    } catch (e) {
      throw new CaseError(`${list}: invalid JSON (${(e as Error).message})`);
    }
    for (const [hour, items] of Object.entries(faults)) {
      items.forEach((f, i) => {
        cases.push({
          id: `${system}/${day}/${hour}-${i}-${nezhaService(f.inject_pod)}-${f.inject_type}`,
          path: dayDir,
          system,
          truth: { service: nezhaService(f.inject_pod), fault: f.inject_type },
          // The inject_time string is UTC and matches the metric Time strings (see DATA_FORMAT.md).
          injectS: Date.parse(f.inject_time.replace(' ', 'T') + 'Z') / 1000,
          metrics: series,
          edges,
          resolutionS: 60,
        });
      });
    }
  }
  if (!cases.length) throw new CaseError(`${root}: no Nezha fault lists found under rca_data/<day>/`);
  return cases;
}
