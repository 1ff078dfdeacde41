/**
 * The performance tester's stored baselines as people and tools read them: grouped by service (latency p50/p95/
 * p99, error rate, throughput, operations, metric series), each saying whether it is judged by the hour of the day
 * or week yet or still by one flat level. Used by `tswarm baselines` and the MCP `knowledge_query` "baselines".
 */
import { seasonalUse, type HourlyProfile } from '../../algorithms/perf/seasonal-baseline.js';
import type { MemoryStore, PatternRecord } from '../../store/store.js';

/** The stored values are written by agents/analysis/performance-tester.ts; read defensively (older rows lack fields). */
interface Stored {
  medianMs?: number;
  scaleMs?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  median?: number;
  scale?: number;
  n?: number;
  basis?: string;
  operation?: string;
  errorRate?: number;
  rps?: number;
  metric?: string;
  view?: string;
  unit?: string;
  hourly?: HourlyProfile;
  weekly?: HourlyProfile;
}

interface Seasonal {
  days: number;
  strength: number;
  judgedBy: 'hour of week' | 'hour of day' | 'flat level';
  /** The daily profile's level per UTC hour (null: hour not seen yet). */
  byHour?: (number | null)[];
}

export interface ServiceBaselines {
  service: string;
  updatedUs: number;
  latency?: { p50Ms?: number; p95Ms: number; p99Ms?: number; p95SpreadMs?: number; n?: number; basis?: string; seasonal: Seasonal };
  errorRate?: { median: number; spread?: number; n?: number };
  throughput?: { rps: number; spread?: number; seasonal: Seasonal };
  operations: { operation: string; p50Ms?: number; p95Ms?: number; p99Ms?: number; errorRate?: number; rps?: number; n?: number }[];
  metrics: { series: string; view?: string; unit?: string; median: number; spread?: number; n?: number; basis?: string; seasonal: Seasonal }[];
}

const round = (x: number | undefined, digits = 4): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? +x.toPrecision(digits) : undefined);

function seasonal(v: Stored): Seasonal {
  const u = seasonalUse(v.hourly, v.weekly);
  const judgedBy = u.period === 'week' ? 'hour of week' : u.period === 'day' ? 'hour of day' : 'flat level';
  return { days: +u.days.toFixed(2), strength: +u.strength.toFixed(2), judgedBy, ...(v.hourly ? { byHour: v.hourly.level.map((x) => (typeof x === 'number' ? round(x)! : null)) } : {}) };
}

/** Groups stored baseline records by service (keys are `service|what`), services and series sorted by name. */
export function groupBaselines(rows: readonly PatternRecord<Stored>[]): ServiceBaselines[] {
  const by = new Map<string, ServiceBaselines>();
  for (const r of rows) {
    const cut = r.key.indexOf('|');
    if (cut < 0) continue;
    const service = r.service ?? r.key.slice(0, cut);
    const what = r.key.slice(cut + 1);
    let s = by.get(service);
    if (!s) by.set(service, (s = { service, updatedUs: 0, operations: [], metrics: [] }));
    s.updatedUs = Math.max(s.updatedUs, r.updatedUs);
    const v = r.value;
    if (what === 'p95' && typeof v.medianMs === 'number') {
      s.latency = { p50Ms: round(v.p50Ms), p95Ms: round(v.medianMs)!, p99Ms: round(v.p99Ms), p95SpreadMs: round(v.scaleMs), n: v.n, basis: v.basis, seasonal: seasonal(v) };
    } else if (what === 'error-rate' && typeof v.median === 'number') {
      s.errorRate = { median: round(v.median)!, spread: round(v.scale), n: v.n };
    } else if (what === 'rps' && typeof v.median === 'number') {
      s.throughput = { rps: round(v.median)!, spread: round(v.scale), seasonal: seasonal(v) };
    } else if (what.startsWith('op:')) {
      s.operations.push({ operation: v.operation ?? what.slice(3), p50Ms: round(v.p50Ms), p95Ms: round(v.p95Ms), p99Ms: round(v.p99Ms), errorRate: round(v.errorRate), rps: round(v.rps), n: v.n });
    } else if (what.startsWith('metric:') && typeof v.median === 'number') {
      s.metrics.push({ series: what.slice(7), view: v.view, unit: v.unit, median: round(v.median)!, spread: round(v.scale), n: v.n, basis: v.basis, seasonal: seasonal(v) });
    }
  }
  const out = [...by.values()].sort((a, b) => a.service.localeCompare(b.service));
  for (const s of out) {
    s.operations.sort((a, b) => a.operation.localeCompare(b.operation));
    s.metrics.sort((a, b) => a.series.localeCompare(b.series));
  }
  return out;
}

const num = (x: number | undefined, unit = ''): string => (x === undefined ? '-' : `${Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toPrecision(3).replace(/\.?0+$/, '')}${unit}`);
const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(x < 0.001 && x > 0 ? 3 : 2)}%`);
const iso = (us: number): string => new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19);

function seasonText(s: Seasonal): string {
  if (s.judgedBy !== 'flat level') return `judged by the ${s.judgedBy} (profile over ${s.days.toFixed(1)} days, strength ${s.strength.toFixed(1)})`;
  if (!s.byHour) return 'flat level (no profile)';
  return s.days < 2 ? `flat level (profile over ${s.days.toFixed(1)} of 2 days)` : s.byHour.some((x) => x === null) ? 'flat level (not every hour seen yet)' : `flat level (hours alike: strength ${s.strength.toFixed(1)} < 1)`;
}

export function formatBaselines(services: readonly ServiceBaselines[]): string {
  const out: string[] = [];
  for (const s of services) {
    out.push('', `${s.service}  (updated ${iso(s.updatedUs)})`);
    if (s.latency) {
      const l = s.latency;
      out.push(`  latency p50 / p95 / p99  ${num(l.p50Ms)} / ${num(l.p95Ms)} / ${num(l.p99Ms)} ms  (p95 spread ${num(l.p95SpreadMs, ' ms')}, ${l.n ?? '?'} buckets, from ${l.basis ?? '?'}); ${seasonText(l.seasonal)}`);
    }
    if (s.errorRate) out.push(`  error rate               ${pct(s.errorRate.median)}  (spread ${pct(s.errorRate.spread)})`);
    if (s.throughput) out.push(`  throughput               ${num(s.throughput.rps)} req/s  (spread ${num(s.throughput.spread)}); ${seasonText(s.throughput.seasonal)}`);
    if (s.operations.length) {
      const w = Math.max(9, ...s.operations.map((o) => o.operation.length));
      out.push(`  ${'operation'.padEnd(w)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}  ${'errors'.padStart(7)}  ${'req/s'.padStart(7)}`);
      for (const o of s.operations) out.push(`  ${o.operation.padEnd(w)}  ${num(o.p50Ms).padStart(8)}  ${num(o.p95Ms).padStart(8)}  ${num(o.p99Ms).padStart(8)}  ${pct(o.errorRate).padStart(7)}  ${num(o.rps).padStart(7)}`);
    }
    if (s.metrics.length) {
      // The series name last: with its attributes it is often wider than the terminal.
      out.push(`  ${'normal'.padStart(18)}  ${'spread'.padStart(9)}  ${'points'.padStart(7)}  ${'daily profile'.padEnd(20)}  metric series`);
      for (const m of s.metrics) {
        const unit = m.unit && m.unit !== '1' ? ` ${m.unit}` : '';
        const what = m.view === 'rate' ? '/s' : m.view === 'mean' ? ' (mean)' : '';
        const prof = m.seasonal.days >= 2 && m.seasonal.byHour?.every((x) => x !== null) ? `${m.seasonal.days.toFixed(1)} d, strength ${m.seasonal.strength.toFixed(1)}` : `${m.seasonal.days.toFixed(1)} of 2 days`;
        out.push(`  ${(num(m.median) + unit + what).padStart(18)}  ${num(m.spread).padStart(9)}  ${String(m.n ?? '-').padStart(7)}  ${prof.padEnd(20)}  ${m.series}`);
      }
    }
  }
  return out.join('\n');
}

/** The baselines in the store (one service's with `service`). */
export async function readBaselines(store: MemoryStore, service?: string): Promise<ServiceBaselines[]> {
  return groupBaselines(await store.patterns.list<Stored>('performance-baseline', { ...(service ? { service } : {}), limit: 1_000_000 }));
}
