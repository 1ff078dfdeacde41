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
  /** The error budget's window (rolling); SLO_WINDOW_US when absent. */
  windowUs?: number;
}

/** 30 days: the window of most published SLOs (and of the SRE Workbook's examples). */
export const SLO_WINDOW_US = 30 * 24 * 3600e6;

/** "99.9% availability", "99.0% of requests under 300 ms". */
export function describeSlo(slo: Slo): string {
  const pct = `${+(100 * slo.objective).toFixed(3)}%`;
  // The window only when it is not the usual 30 days, which every budget figure names anyway.
  const over = slo.windowUs !== undefined && slo.windowUs !== SLO_WINDOW_US ? ` over ${windowText(slo.windowUs)}` : '';
  return (slo.kind === 'latency' ? `${pct} of requests under ${slo.latencyMs} ms` : `${pct} availability`) + over;
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

export interface ErrorBudget {
  windowUs: number;
  /** How much of the window the data covers (a young service: less than the window). */
  coveredUs: number;
  total: number;
  bad: number;
  /** Bad requests the objective allows among the requests seen. */
  allowed: number;
  /** Share of the budget left: 1 untouched, 0 spent, below 0 overspent. */
  remaining: number;
  /**
   * When the rest runs out at the burn rate of the last hour (absent: not burning, or spent already). At burn b
   * a window's budget lasts window / b, so a remaining share r lasts r × window / b (the usual estimate: steady
   * traffic, and the bad requests leaving the window's far end not counted back).
   */
  exhaustedAtUs?: number;
}

/**
 * The error budget of `slo` over its rolling window ending at `nowUs`, from per-bucket SLI counts. `hourBurn`: the
 * last hour's burn rate when the caller has it at a finer resolution than `buckets` (else read off them).
 * `firstUs`: when the service's first request came, if the caller knows it more finely than wide buckets tell
 * (an hourly bucket starts at the hour; coverage counts from the first request).
 */
export function errorBudget(slo: Slo, buckets: readonly SliBucket[], nowUs: number, hourBurn?: number, firstUs?: number): ErrorBudget {
  const windowUs = slo.windowUs ?? SLO_WINDOW_US;
  const budget = Math.max(1e-9, 1 - slo.objective);
  let total = 0;
  let bad = 0;
  let first = Infinity;
  for (const b of buckets) {
    if (b.startUs < nowUs - windowUs || b.startUs >= nowUs) continue;
    total += b.total;
    bad += b.bad;
    if (b.startUs < first) first = b.startUs;
  }
  const allowed = total * budget;
  const remaining = total ? 1 - bad / allowed : 1;
  const burn = hourBurn ?? burnOver(buckets, nowUs - H, nowUs, budget).burn;
  if (firstUs !== undefined && firstUs > first && firstUs < nowUs) first = firstUs;
  const out: ErrorBudget = { windowUs, coveredUs: Number.isFinite(first) ? nowUs - first : 0, total, bad: +bad.toFixed(3), allowed: +allowed.toFixed(3), remaining: +remaining.toFixed(4) };
  if (remaining > 0 && burn > 0) out.exhaustedAtUs = Math.round(nowUs + (remaining * windowUs) / burn);
  return out;
}

/**
 * The error budget's burn-down over the window ending at `nowUs`: [time, share of the budget left] at the end of
 * each bucket, the classic SLO chart. The budget is the one errorBudget computes (the objective's share of all the
 * window's requests), so the curve starts at 1, falls with every bad request and ends at errorBudget's
 * `remaining`; a reader sees when it was spent, in one incident or steadily. At most `maxPoints` points (the last
 * one always), for a 30-day window of hourly buckets on a dashboard.
 */
export function budgetBurndown(slo: Slo, buckets: readonly SliBucket[], nowUs: number, maxPoints = 120): [number, number][] {
  const windowUs = slo.windowUs ?? SLO_WINDOW_US;
  const budget = Math.max(1e-9, 1 - slo.objective);
  const inWin = buckets.filter((b) => b.startUs >= nowUs - windowUs && b.startUs < nowUs).sort((a, b) => a.startUs - b.startUs);
  const total = inWin.reduce((n, b) => n + b.total, 0);
  if (!total) return [];
  const allowed = total * budget;
  // Thinned on time, not on bucket count: the closed hours come hourly and the open ones at 10 s, so one point
  // per bucket would spend most of the curve on the last hour.
  const first = inWin[0]!.startUs;
  const slot = Math.max(1, (nowUs - first) / maxPoints);
  const out: [number, number][] = [];
  let bad = 0;
  inWin.forEach((b, i) => {
    bad += b.bad;
    const end = Math.min(nowUs, i + 1 < inWin.length ? inWin[i + 1]!.startUs : nowUs);
    const next = i + 1 < inWin.length ? Math.min(nowUs, i + 2 < inWin.length ? inWin[i + 2]!.startUs : nowUs) : Infinity;
    // The last bucket ending in each slot (and the window's last).
    if (next === Infinity || Math.floor((next - first) / slot) !== Math.floor((end - first) / slot)) out.push([end, +(1 - bad / allowed).toFixed(4)]);
  });
  return out;
}

/** A window in whole days when it is one, else in hours: [30, 'day'], [36, 'hour']. */
function windowParts(us: number): [number, 'day' | 'hour'] {
  return us % 864e8 === 0 ? [us / 864e8, 'day'] : [+(us / 3600e6).toFixed(1), 'hour'];
}

/** "30 days", "36 hours". */
function windowText(us: number): string {
  const [n, unit] = windowParts(us);
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The longest budget window among `slos` (SLO_WINDOW_US at least): what a reader of their budgets must cover. */
export function longestWindow(slos: readonly Slo[]): number {
  return Math.max(SLO_WINDOW_US, ...slos.map((x) => x.windowUs ?? 0));
}

/** Whether the budget runs out within its window's length at this burn (past that the estimate says nothing). */
export function runsOutWithinWindow(b: ErrorBudget, nowUs: number): boolean {
  return b.exhaustedAtUs !== undefined && b.exhaustedAtUs - nowUs <= b.windowUs;
}

/** "62% of the 30-day error budget left", "30-day error budget overspent: 2.1× of it used". */
export function describeBudget(b: ErrorBudget): string {
  const win = windowParts(b.windowUs).join('-');
  // A young service is judged on the traffic it has had: say how little that is.
  const seen = b.coveredUs > 0 && b.coveredUs < 0.9 * b.windowUs ? ` (${spanText(b.coveredUs)} of data so far)` : '';
  if (b.remaining < 0) return `${win} error budget overspent: ${+(1 - b.remaining).toFixed(2)}× of it used${seen}`;
  return `${Math.floor(100 * b.remaining)}% of the ${win} error budget left${seen}`;
}

/** "40 min", "5.5 h", "12 days". */
function spanText(us: number): string {
  if (us < 3600e6) return `${Math.max(1, Math.round(us / 60e6))} min`;
  if (us < 48 * 3600e6) return `${+(us / 3600e6).toFixed(1)} h`;
  return `${+(us / 864e8).toFixed(1)} days`;
}

/** A table cell: "62% left", "62% left, gone in 3.2 d at this burn", "overspent 2.1×". */
export function budgetCell(b: ErrorBudget, nowUs: number): string {
  if (b.remaining < 0) return `overspent ${+(1 - b.remaining).toFixed(2)}×`;
  const left = `${Math.floor(100 * b.remaining)}% left`;
  // Past the window's length the estimate says only "not at this rate": nothing worth a figure.
  if (!runsOutWithinWindow(b, nowUs)) return left;
  const h = (b.exhaustedAtUs! - nowUs) / 3600e6;
  return `${left}, gone in ${h < 48 ? `${+h.toFixed(1)} h` : `${+(h / 24).toFixed(1)} d`} at this burn`;
}
