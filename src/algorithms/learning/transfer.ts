/**
 * Transfer learning for cold starts: a new or changed service borrows what was learned about similar ones.
 *
 * Similarity is a weighted mix of what we can observe about a service before its own history exists:
 *   - its dependency neighbourhood (who calls it, whom it calls) — Jaccard over neighbour names;
 *   - its operations — Jaccard over normalised operation-name tokens (`GET /api/cart/{id}` → get, api, cart);
 *   - its runtime — share of equal resource attributes (language, runtime, framework);
 *   - its log templates — Jaccard over template ids.
 * Only features present on both sides count, so a service with no logs is not penalised for it. The same service
 * seen in another environment (staging → production) or another version is the strongest donor there is.
 *
 * A borrowed baseline is two priors, because a similar service shares its donor's jitter far more than its level
 * (two sub-millisecond services can sit 40% apart, and more when the machine is loaded):
 *   - the noise: the donor's spread, widened by dissimilarity, worth `priorCount` observations scaled by
 *     similarity; own residuals pool with it and its weight fades (n0 / (n0 + n));
 *   - the level: the donor's mean with a spread of its own (`levelStd`, a fraction 1 − similarity of the level,
 *     plus the noise), so the service's first few points move the level to where they are.
 * This is the normal model with known noise and a normal prior on the mean (the predictive spread is the noise plus
 * the level's remaining uncertainty). It judges from the first point, like the donor would, without taking the
 * donor's level as the service's. A prior that the service's first points all refuse (`refuteAfter` alerts before
 * any point is accepted) is dropped: the transfer was wrong, and the service goes on as a service without one.
 */

export interface ServiceProfile {
  service: string;
  environment?: string;
  version?: string;
  neighbours: readonly string[];
  operations: readonly string[];
  runtime: Readonly<Record<string, string>>;
  templates: readonly string[];
}

export interface Similarity {
  donor: string;
  score: number;
  parts: Record<'identity' | 'neighbours' | 'operations' | 'runtime' | 'templates', number | undefined>;
}

const WEIGHTS = { neighbours: 0.35, operations: 0.3, runtime: 0.1, templates: 0.25 } as const;

function jaccardSets(a: ReadonlySet<string>, b: ReadonlySet<string>): number | undefined {
  if (!a.size || !b.size) return undefined;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Tokens of operation names with ids, numbers and hex removed, lower-cased. */
export function operationTokens(ops: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const op of ops) {
    for (const t of op.toLowerCase().split(/[^a-z0-9]+/)) {
      if (t.length < 2 || /^\d+$/.test(t) || /^[0-9a-f]{8,}$/.test(t)) continue;
      out.add(t);
    }
  }
  return out;
}

export function similarity(target: ServiceProfile, donor: ServiceProfile): Similarity {
  const parts: Similarity['parts'] = { identity: undefined, neighbours: undefined, operations: undefined, runtime: undefined, templates: undefined };
  if (target.service === donor.service && (target.environment !== donor.environment || target.version !== donor.version)) {
    parts.identity = 1;
    return { donor: donor.service, score: 0.95, parts };
  }
  // A service is not its own neighbour: drop each side from the other's neighbour list before comparing.
  const nt = new Set(target.neighbours.filter((n) => n !== donor.service && n !== target.service));
  const nd = new Set(donor.neighbours.filter((n) => n !== target.service && n !== donor.service));
  parts.neighbours = jaccardSets(nt, nd);
  parts.operations = jaccardSets(operationTokens(target.operations), operationTokens(donor.operations));
  const rk = Object.keys(target.runtime).filter((k) => k in donor.runtime);
  parts.runtime = rk.length ? rk.filter((k) => target.runtime[k] === donor.runtime[k]).length / rk.length : undefined;
  parts.templates = jaccardSets(new Set(target.templates), new Set(donor.templates));
  let wsum = 0;
  let s = 0;
  for (const k of Object.keys(WEIGHTS) as (keyof typeof WEIGHTS)[]) {
    const v = parts[k];
    if (v === undefined) continue;
    wsum += WEIGHTS[k];
    s += WEIGHTS[k] * v;
  }
  // With only runtime in common the evidence is thin: cap the score so such donors rank low.
  const score = wsum ? (s / wsum) * Math.min(1, wsum / 0.5) : 0;
  return { donor: donor.service, score, parts };
}

export function rankDonors(target: ServiceProfile, candidates: readonly ServiceProfile[], minScore = 0.2): Similarity[] {
  return candidates
    .filter((c) => !(c.service === target.service && c.environment === target.environment && c.version === target.version))
    .map((c) => similarity(target, c))
    .filter((s) => s.score >= minScore)
    .sort((a, b) => b.score - a.score || a.donor.localeCompare(b.donor));
}

export interface BaselineStats {
  mean: number;
  std: number;
  n: number;
}

/** A prior: `std` is the noise around the level, `levelStd` the uncertainty of the level itself (0 when absent). */
export interface PriorStats extends BaselineStats {
  levelStd?: number;
}

export interface BorrowedPrior extends PriorStats {
  from: string;
  similarity: number;
  levelStd: number;
}

/** A donor's baseline as a prior: pseudo-count scaled by similarity, spreads widened by dissimilarity. */
export function borrow(donor: BaselineStats, from: string, sim: number, priorCount = 30): BorrowedPrior {
  const n0 = Math.max(1, Math.min(donor.n, priorCount) * sim);
  const std = donor.std * (1 + 2 * (1 - sim));
  return { mean: donor.mean, std, n: n0, levelStd: Math.abs(donor.mean) * (1 - sim) + std, from, similarity: sim };
}

/** The spread a prior predicts for a point before any own data: noise and level uncertainty together. */
export function predictiveStd(p: PriorStats): number {
  return Math.hypot(p.std, p.levelStd ?? 0);
}

/** What a cold-start baseline starts from: a prior with its level's own uncertainty (see `borrow`). */
export type ColdStartPrior = BaselineStats & { levelStd: number };

/**
 * Streaming baseline of one series that starts from an optional borrowed prior. Without a prior it refuses to
 * judge until `warmup` own points exist (what any detector must do); with one it judges from the first point.
 */
export class ColdStartBaseline {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private prior: ColdStartPrior | undefined;
  /** Points refused before any was accepted (only then can they refute the prior). */
  private readonly pending: number[] = [];

  constructor(
    prior?: ColdStartPrior,
    private readonly warmup = 30,
    private readonly refuteAfter = 5,
  ) {
    this.prior = prior;
  }

  get observations(): number {
    return this.n;
  }

  /** Whether the borrowed prior is still in use (false once the data refuted it, or when there was none). */
  get hasPrior(): boolean {
    return this.prior !== undefined;
  }

  /** Predictive mean and std for the next point; undefined while there is neither a prior nor enough own data. */
  stats(): BaselineStats | undefined {
    const ownSs = this.n > 1 ? this.m2 : 0;
    const p = this.prior;
    if (!p) {
      if (this.n < this.warmup) return undefined;
      return { mean: this.mean, std: Math.sqrt(ownSs / (this.n - 1)), n: this.n };
    }
    const n0 = p.n;
    // Noise: the prior's spread pooled with own residuals; a level above the donor's brings proportionally larger
    // noise (latency jitter scales with latency), never smaller.
    const scale = p.mean !== 0 && this.n ? Math.max(1, Math.abs(this.mean / p.mean)) : 1;
    const noiseVar = (n0 * (p.std * scale) ** 2 + ownSs) / (n0 + Math.max(0, this.n - 1));
    // A level the prior claims to know exactly stays put (the limit of a vanishing level spread).
    const tau = Math.max(p.levelStd, 1e-12);
    const precision = 1 / tau ** 2 + this.n / noiseVar;
    const mean = (p.mean / tau ** 2 + (this.n * this.mean) / noiseVar) / precision;
    return { mean, std: Math.sqrt(noiseVar + 1 / precision), n: n0 + this.n };
  }

  /** |z| against the current baseline, undefined when the baseline cannot judge yet. */
  score(x: number): number | undefined {
    const s = this.stats();
    if (!s) return undefined;
    const floor = Math.max(1e-9, Math.abs(s.mean) * 0.01);
    return Math.abs(x - s.mean) / Math.max(s.std, floor);
  }

  /** Learns a point the caller judged normal. */
  add(x: number): void {
    this.pending.length = 0;
    this.learn(x);
  }

  /**
   * Notes a point the caller alerted on. An alert is not learned (a fault must not teach the baseline that it is
   * normal), but when the service's first `refuteAfter` points all disagree with the prior, the prior was wrong,
   * not the service: it is dropped and the refused points become the service's first own data. (A shift after
   * points the prior accepted is a fault, and stays one.)
   */
  refuse(x: number): void {
    if (!this.prior || this.n > 0) return;
    this.pending.push(x);
    if (this.pending.length < this.refuteAfter) return;
    this.prior = undefined;
    for (const y of this.pending) this.learn(y);
    this.pending.length = 0;
  }

  private learn(x: number): void {
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }
}

export interface ColdStartTrial {
  /** Index of the first alert at or after the fault onset, or undefined when the fault was never flagged. */
  firstDetection?: number;
  /** Points after onset until the first detection. */
  delay?: number;
  falseAlarms: number;
}

/**
 * Replays a fresh service's series: every point is scored before it is learned (no look-ahead); an alert is a
 * score over `threshold`. Alerts before `onset` are false alarms; points flagged as anomalous are not learned,
 * so a fault does not teach the baseline that it is normal (unless they refute the prior, see `refuse`).
 */
export function replayColdStart(series: readonly number[], onset: number, prior?: ColdStartPrior, opts: { threshold?: number; warmup?: number } = {}): ColdStartTrial {
  const threshold = opts.threshold ?? 4;
  const b = new ColdStartBaseline(prior, opts.warmup ?? 30);
  let falseAlarms = 0;
  let firstDetection: number | undefined;
  series.forEach((x, i) => {
    const z = b.score(x);
    const alert = z !== undefined && z > threshold;
    if (alert && i < onset) falseAlarms++;
    if (alert && i >= onset && firstDetection === undefined) firstDetection = i;
    if (alert) b.refuse(x);
    else b.add(x);
  });
  return { firstDetection, delay: firstDetection === undefined ? undefined : firstDetection - onset, falseAlarms };
}
