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
 * A borrowed baseline is a prior worth `priorCount` observations, scaled by similarity, with its spread widened
 * by dissimilarity; as the service's own observations arrive the prior's weight fades (n0 / (n0 + n)), so the
 * service ends up on its own data. This is the conjugate-normal update with the prior's variance inflated —
 * the simplest model that makes "widened uncertainty until its own data suffices" precise.
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

export interface BorrowedPrior extends BaselineStats {
  from: string;
  similarity: number;
}

/** A donor's baseline as a prior: pseudo-count scaled by similarity, spread widened by dissimilarity. */
export function borrow(donor: BaselineStats, from: string, sim: number, priorCount = 30): BorrowedPrior {
  const n0 = Math.max(1, Math.min(donor.n, priorCount) * sim);
  const widen = 1 + 2 * (1 - sim);
  return { mean: donor.mean, std: donor.std * widen, n: n0, from, similarity: sim };
}

/**
 * Streaming baseline of one series that starts from an optional borrowed prior. Without a prior it refuses to
 * judge until `warmup` own points exist (what any detector must do); with one it judges from the first point.
 */
export class ColdStartBaseline {
  private n = 0;
  private mean = 0;
  private m2 = 0;

  constructor(
    private readonly prior?: BaselineStats,
    private readonly warmup = 30,
  ) {}

  get observations(): number {
    return this.n;
  }

  /** Blended mean and std; undefined while there is neither a prior nor enough own data. */
  stats(): BaselineStats | undefined {
    const ownVar = this.n > 1 ? this.m2 / (this.n - 1) : 0;
    if (!this.prior) {
      if (this.n < this.warmup) return undefined;
      return { mean: this.mean, std: Math.sqrt(ownVar), n: this.n };
    }
    const n0 = this.prior.n;
    const w = n0 / (n0 + this.n);
    const mean = w * this.prior.mean + (1 - w) * this.mean;
    // Mixture variance: the prior's and own spread plus the disagreement between the two means.
    const v = w * this.prior.std ** 2 + (1 - w) * ownVar + w * (1 - w) * (this.prior.mean - this.mean) ** 2;
    return { mean, std: Math.sqrt(v), n: n0 + this.n };
  }

  /** |z| against the current baseline, undefined when the baseline cannot judge yet. */
  score(x: number): number | undefined {
    const s = this.stats();
    if (!s) return undefined;
    const floor = Math.max(1e-9, Math.abs(s.mean) * 0.01);
    return Math.abs(x - s.mean) / Math.max(s.std, floor);
  }

  add(x: number): void {
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
 * so a fault does not teach the baseline that it is normal.
 */
export function replayColdStart(series: readonly number[], onset: number, prior?: BaselineStats, opts: { threshold?: number; warmup?: number } = {}): ColdStartTrial {
  const threshold = opts.threshold ?? 4;
  const b = new ColdStartBaseline(prior, opts.warmup ?? 30);
  let falseAlarms = 0;
  let firstDetection: number | undefined;
  series.forEach((x, i) => {
    const z = b.score(x);
    const alert = z !== undefined && z > threshold;
    if (alert && i < onset) falseAlarms++;
    if (alert && i >= onset && firstDetection === undefined) firstDetection = i;
    if (!alert) b.add(x);
  });
  return { firstDetection, delay: firstDetection === undefined ? undefined : firstDetection - onset, falseAlarms };
}
