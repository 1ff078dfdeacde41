/**
 * SLO burn-rate alerting, the Google SRE Workbook's multi-window multi-burn-rate rules: a page when the error
 * budget burns 14.4× too fast over both 1 h and 5 min, or 6× over 6 h and 30 min; a ticket at 1× over 3 days and
 * 6 h. The short window makes an alert stop soon after the problem does.
 */

export interface Slo {
  service: string;
  /** Availability objective, e.g. 0.999; or a latency objective: share of requests under `latencyMs`. */
  objective: number;
  kind: 'availability' | 'latency';
  latencyMs?: number;
}

/** "99.9% availability", "99.0% of requests under 300 ms". */
export function describeSlo(slo: Slo): string {
  const pct = `${+(100 * slo.objective).toFixed(3)}%`;
  return slo.kind === 'latency' ? `${pct} of requests under ${slo.latencyMs} ms` : `${pct} availability`;
}

/**
 * The SLOs that apply to `service`: its own, else the catch-all ones (service "*"), else the default: 99.5%
 * availability, so every service has its error budget watched without any configuration.
 */
export function slosFor(service: string, declared: readonly Slo[], fallback: Slo = { service: '*', objective: 0.995, kind: 'availability' }): Slo[] {
  const own = declared.filter((s) => s.service === service);
  const any = declared.filter((s) => s.service === '*');
  return (own.length ? own : any.length ? any : [fallback]).map((s) => ({ ...s, service }));
}

export interface BurnRule {
  name: string;
  severity: 'page' | 'ticket';
  longUs: number;
  shortUs: number;
  factor: number;
}

const H = 3600e6;
export const WORKBOOK_RULES: BurnRule[] = [
  { name: '1h/5m 14.4x', severity: 'page', longUs: H, shortUs: 5 * 60e6, factor: 14.4 },
  { name: '6h/30m 6x', severity: 'page', longUs: 6 * H, shortUs: 30 * 60e6, factor: 6 },
  { name: '3d/6h 1x', severity: 'ticket', longUs: 72 * H, shortUs: 6 * H, factor: 1 },
];

/** Per-bucket good/total counts of a service (from rollups). */
export interface SliBucket {
  startUs: number;
  total: number;
  bad: number;
}

export interface BurnAlert {
  rule: BurnRule;
  longBurn: number;
  shortBurn: number;
  /** Share of the window the data covers; rules are only judged on windows mostly covered. */
  coverage: number;
}

function burnOver(buckets: readonly SliBucket[], fromUs: number, toUs: number, budget: number): { burn: number; covered: number } {
  let total = 0;
  let bad = 0;
  let first = Infinity;
  for (const b of buckets) {
    if (b.startUs < fromUs || b.startUs >= toUs) continue;
    total += b.total;
    bad += b.bad;
    first = Math.min(first, b.startUs);
  }
  const covered = Number.isFinite(first) ? (toUs - first) / (toUs - fromUs) : 0;
  return { burn: total ? bad / total / budget : 0, covered };
}

/**
 * Which rules fire at `nowUs`. When the data covers less than the long window (a young deployment, a recorded
 * case), the rule is judged on what exists if it covers at least `minCoverage` of the short window.
 */
export function burnAlerts(slo: Slo, buckets: readonly SliBucket[], nowUs: number, rules: BurnRule[] = WORKBOOK_RULES, minCoverage = 0.5): BurnAlert[] {
  const budget = Math.max(1e-9, 1 - slo.objective);
  const out: BurnAlert[] = [];
  for (const rule of rules) {
    const long = burnOver(buckets, nowUs - rule.longUs, nowUs, budget);
    const short = burnOver(buckets, nowUs - rule.shortUs, nowUs, budget);
    if (short.covered < minCoverage) continue;
    if (long.burn >= rule.factor && short.burn >= rule.factor) out.push({ rule, longBurn: long.burn, shortBurn: short.burn, coverage: long.covered });
  }
  return out;
}

export interface SloStatus {
  /** Budget burn rate (1 = spending exactly the budget) over the last 5 minutes, hour and 6 hours. */
  burn: { '5m': number; '1h': number; '6h': number };
  /** The workbook rules firing now. */
  alerting: string[];
}

/** Where an SLO stands now: what a dashboard shows next to the service (the same arithmetic as the alerts). */
export function sloStatus(slo: Slo, buckets: readonly SliBucket[], nowUs: number): SloStatus {
  const budget = Math.max(1e-9, 1 - slo.objective);
  const at = (us: number): number => +burnOver(buckets, nowUs - us, nowUs, budget).burn.toFixed(3);
  return { burn: { '5m': at(5 * 60e6), '1h': at(H), '6h': at(6 * H) }, alerting: burnAlerts(slo, buckets, nowUs).map((a) => a.rule.name) };
}
