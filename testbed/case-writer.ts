/**
 * Writes one labelled incident case in the RCAEval layout from the telemetry the swarm STORED (not from what the
 * testbed thinks it did): `inject_time.txt`, `metrics.csv` (time + <service>_<signal>), `logs.csv`, `traces.csv`,
 * `topology.csv` and `meta.json`. The raw OTLP stays in the case's SQLite memory db next to them.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryStore } from '../src/store/store.js';
import type { LogRecord, MetricPoint, Span } from '../src/signals/model.js';
import type { ScenarioPlan } from './scenario.js';

export interface CaseWindow {
  startMs: number;
  injectMs: number;
  endMs: number;
}

export interface CaseCounts {
  spans: number;
  logs: number;
  metrics: number;
  errors: number;
  rows: number;
}

/** RFC 4180 quoting: multi-line stack traces stay one field. */
export function csvField(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: (string | number | undefined | null)[]): string {
  return fields.map(csvField).join(',') + '\n';
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** `<out>/<service>_<fault>/<rep>/` with rep the next free number from 1. */
export function nextCaseDir(out: string, service: string, fault: string): { dir: string; rep: number } {
  const base = join(out, `${service}_${fault}`);
  mkdirSync(base, { recursive: true });
  const reps = readdirSync(base)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const rep = reps.length ? Math.max(...reps) + 1 : 1;
  const dir = join(base, String(rep));
  mkdirSync(dir, { recursive: true });
  return { dir, rep };
}

function httpStatus(s: Span): number | undefined {
  const v = s.attributes['http.response.status_code'] ?? s.attributes['http.status_code'];
  return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

function isServerSpan(s: Span): boolean {
  return s.kind === 2;
}

/** Per-second rows of `<service>_<signal>` derived from stored spans and process gauges. */
export function buildMetricRows(services: string[], spans: Span[], metrics: MetricPoint[], startS: number, endS: number): { header: string[]; rows: number[][] } {
  const n = Math.max(1, endS - startS);
  const signals = ['cpu', 'mem', 'latency-50', 'latency-90', 'error', 'workload'] as const;
  const header = ['time', ...services.flatMap((s) => signals.map((sig) => `${s}_${sig}`))];
  const durations = new Map<string, number[][]>();
  const errors = new Map<string, number[]>();
  for (const s of services) {
    durations.set(s, Array.from({ length: n }, () => []));
    errors.set(s, new Array<number>(n).fill(0));
  }
  for (const sp of spans) {
    if (!isServerSpan(sp)) continue;
    const b = Math.floor(sp.startUs / 1e6) - startS;
    if (b < 0 || b >= n) continue;
    const d = durations.get(sp.service);
    if (!d) continue;
    d[b].push((sp.endUs - sp.startUs) / 1000);
    const st = httpStatus(sp);
    if (sp.status.code === 2 || (st !== undefined && st >= 500)) errors.get(sp.service)![b]++;
  }
  const gauge = (name: string) => {
    const m = new Map<string, (number | undefined)[]>();
    for (const s of services) m.set(s, new Array<number | undefined>(n).fill(undefined));
    for (const p of metrics) {
      if (p.name !== name || p.type !== 'gauge') continue;
      const b = Math.floor(p.timeUs / 1e6) - startS;
      const arr = m.get(p.service);
      if (!arr || b < 0 || b >= n) continue;
      arr[b] = arr[b] === undefined ? p.value : Math.max(arr[b]!, p.value);
    }
    return m;
  };
  const cpu = gauge('process.cpu.utilization');
  const mem = gauge('process.memory.usage');
  const rows: number[][] = [];
  const last = new Map<string, number>();
  const ffill = (key: string, v: number | undefined): number => {
    if (v !== undefined && Number.isFinite(v)) {
      last.set(key, v);
      return v;
    }
    return last.get(key) ?? 0;
  };
  for (let i = 0; i < n; i++) {
    const row: number[] = [startS + i];
    for (const s of services) {
      const d = [...durations.get(s)![i]].sort((a, b) => a - b);
      row.push(
        round(ffill(`${s}cpu`, cpu.get(s)![i]), 4),
        Math.round(ffill(`${s}mem`, mem.get(s)![i])),
        round(ffill(`${s}l50`, d.length ? quantile(d, 0.5) : undefined), 3),
        round(ffill(`${s}l90`, d.length ? quantile(d, 0.9) : undefined), 3),
        errors.get(s)![i],
        d.length,
      );
    }
    rows.push(row);
  }
  return { header, rows };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export async function writeCase(opts: {
  store: MemoryStore;
  dir: string;
  plan: ScenarioPlan;
  rep: number;
  window: CaseWindow;
  services: string[];
  topology: { source: string; target: string }[];
  extra?: Record<string, unknown>;
}): Promise<CaseCounts> {
  const { store, dir, plan, window: w } = opts;
  const win = { fromUs: w.startMs * 1000, toUs: w.endMs * 1000 };
  const limit = 5_000_000;
  const [spans, logs, metrics, errors] = await Promise.all([
    store.telemetry.querySpans({ window: win, limit }),
    store.telemetry.queryLogs({ window: win, limit }),
    store.telemetry.queryMetrics({ window: win, limit }),
    store.telemetry.queryErrors({ window: win, limit }),
  ]);
  const startS = Math.floor(w.startMs / 1000);
  const endS = Math.floor(w.endMs / 1000);
  const injectS = Math.floor(w.injectMs / 1000);
  writeFileSync(join(dir, 'inject_time.txt'), `${injectS}\n`);

  const m = buildMetricRows(opts.services, spans, metrics, startS, endS);
  writeFileSync(join(dir, 'metrics.csv'), csvLine(m.header) + m.rows.map((r) => csvLine(r)).join(''));

  const sortedSpans = [...spans].sort((a, b) => a.startUs - b.startUs);
  let traces = csvLine(['time', 'traceID', 'spanID', 'parentSpanID', 'serviceName', 'methodName', 'operationName', 'startTimeMillis', 'startTime', 'duration', 'statusCode', 'otelStatus', 'spanKind', 'serviceVersion']);
  const KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
  for (const s of sortedSpans) {
    const method = s.attributes['http.request.method'] ?? s.attributes['http.method'];
    traces += csvLine([
      (s.startUs / 1e6).toFixed(6),
      s.traceId,
      s.spanId,
      s.parentSpanId ?? '',
      s.service,
      typeof method === 'string' ? method : '',
      s.name,
      Math.floor(s.startUs / 1000),
      s.startUs,
      s.endUs - s.startUs,
      httpStatus(s),
      s.status.code === 2 ? 'ERROR' : s.status.code === 1 ? 'OK' : 'UNSET',
      KIND[s.kind] ?? String(s.kind),
      typeof s.resource.attributes['service.version'] === 'string' ? (s.resource.attributes['service.version'] as string) : '',
    ]);
  }
  writeFileSync(join(dir, 'traces.csv'), traces);

  const sortedLogs = [...logs].sort((a: LogRecord, b: LogRecord) => a.timeUs - b.timeUs);
  let logCsv = csvLine(['time', 'timestamp', 'container_name', 'severity', 'message', 'traceID', 'spanID']);
  for (const l of sortedLogs) {
    logCsv += csvLine([(l.timeUs / 1e6).toFixed(6), new Date(l.timeUs / 1000).toISOString(), l.service, l.severityText ?? String(l.severityNumber), l.body, l.traceId ?? '', l.spanId ?? '']);
  }
  writeFileSync(join(dir, 'logs.csv'), logCsv);

  writeFileSync(join(dir, 'topology.csv'), csvLine(['source', 'target']) + opts.topology.map((e) => csvLine([e.source, e.target])).join(''));

  const counts: CaseCounts = { spans: spans.length, logs: logs.length, metrics: metrics.length, errors: errors.length, rows: m.rows.length };
  const meta = {
    system: 'testbed-shop',
    case: `${plan.service}_${plan.fault}/${opts.rep}`,
    scenario: plan.scenario,
    seed: plan.seed,
    service: plan.service,
    fault: plan.fault,
    params: plan.params,
    version: plan.version,
    baseVersion: plan.baseVersion,
    injectTime: injectS,
    injectTimeMs: w.injectMs,
    windowStartMs: w.startMs,
    windowEndMs: w.endMs,
    load: plan.load,
    noise: plan.noise.map((n) => ({ ...n, atUnixMs: w.startMs + n.atMs })),
    units: { cpu: 'cores (CPU seconds per second)', mem: 'bytes (RSS)', latency: 'ms (server span duration)', error: 'server spans with error status or HTTP >= 500 per second', workload: 'server spans per second' },
    resolutionSeconds: 1,
    counts,
    rawTelemetry: 'telemetry.db',
    ...opts.extra,
  };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return counts;
}
