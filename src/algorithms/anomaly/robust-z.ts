/**
 * The statistical half of the streaming detector (see detector.ts): streaming, no look-ahead, O(1) time and
 * memory per point, one configuration for every series. Written by hand because the npm options are batch (seasonal decomposition,
 * MSTL) or need a model per series; the edge here is an online score that is calibrated across very different
 * series (NAB spans CPU gauges, ad click rates, taxi counts, tweet volumes).
 *
 * Three views of "unusual", each a robust z against an exponentially weighted baseline whose updates are
 * winsorised (an anomaly does not become the new normal at once):
 *   - level: the value against the long baseline;
 *   - shift: the short-term mean against the long baseline (level shifts that no single point shows);
 *   - change: the first difference against its own baseline (spikes and drops).
 * The strongest view goes through an "anomaly likelihood" (Numenta's idea): how unusual is the recent average
 * of raw scores given the long-run distribution of raw scores — which turns a noisy series' constant moderate
 * z-scores into low likelihoods and a quiet series' jump into a high one. Finally a refractory rule emits a
 * score only when it exceeds what was already emitted in the recent past, so one incident is one detection.
 */

export interface RobustZOptions {
  /** Points before any score above 0.5 is emitted (the baseline's warm-up). */
  warmup?: number;
  /** Long baseline memory in points. */
  longSpan?: number;
  /** Short mean memory in points. */
  shortSpan?: number;
  /** Refractory period in points after an emitted high score. */
  refractory?: number;
}

class Ew {
  mean = 0;
  dev = 0;
  n = 0;
  constructor(private readonly alpha: number) {}
  z(x: number): number {
    if (this.n < 2) return 0;
    const scale = Math.max(this.dev * 1.2533, Math.abs(this.mean) * 1e-3, 1e-9);
    return (x - this.mean) / scale;
  }
  update(x: number): void {
    if (this.n === 0) {
      this.mean = x;
      this.dev = 0;
      this.n = 1;
      return;
    }
    const a = Math.max(this.alpha, 1 / (this.n + 1));
    // Winsorise: a far outlier moves the baseline as if it were at 4 deviations.
    const scale = Math.max(this.dev * 1.2533, Math.abs(this.mean) * 1e-3, 1e-9);
    const clipped = this.n > 10 ? Math.min(this.mean + 4 * scale, Math.max(this.mean - 4 * scale, x)) : x;
    const d = clipped - this.mean;
    this.mean += a * d;
    this.dev += a * (Math.abs(d) - this.dev);
    this.n++;
  }
}

/** Standard normal upper tail Q(x) via the complementary error function (Abramowitz-Stegun 7.1.26). */
function normalTail(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x / Math.SQRT2));
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = y * Math.exp(-(x * x) / 2);
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export class RobustZDetector {
  private readonly level: Ew;
  private readonly shortMean: Ew;
  private readonly diff: Ew;
  private readonly rawDist: Ew;
  private readonly rawShort: Ew;
  private prev: number | undefined;
  private n = 0;
  private recentMax = 0;
  private sinceMax = 0;
  private readonly warmup: number;
  private readonly refractory: number;

  constructor(opts: RobustZOptions = {}) {
    const longSpan = opts.longSpan ?? 400;
    const shortSpan = opts.shortSpan ?? 5;
    this.level = new Ew(2 / (longSpan + 1));
    this.shortMean = new Ew(2 / (shortSpan + 1));
    this.diff = new Ew(2 / (longSpan + 1));
    this.rawDist = new Ew(2 / (4 * longSpan + 1));
    this.rawShort = new Ew(2 / (shortSpan + 1));
    this.warmup = opts.warmup ?? 150;
    this.refractory = opts.refractory ?? 200;
  }

  /** Scores a point (before learning it) and learns it. Returns an anomaly score in [0, 1]. */
  update(x: number): number {
    if (!Number.isFinite(x)) return 0;
    this.n++;
    const zLevel = Math.abs(this.level.z(x));
    this.shortMean.update(x);
    const zShift = Math.abs(this.level.z(this.shortMean.mean)) * 0.8;
    const d = this.prev === undefined ? 0 : x - this.prev;
    const zDiff = Math.abs(this.diff.z(d));
    this.prev = x;
    this.level.update(x);
    this.diff.update(d);
    const raw = Math.log1p(Math.max(zLevel, zShift, zDiff));
    // Likelihood of the recent raw scores under their own long-run distribution.
    const zRaw = this.rawDist.n > 10 ? (this.rawShort.mean - this.rawDist.mean) / Math.max(this.rawDist.dev * 1.2533, 0.05) : 0;
    this.rawShort.update(raw);
    const zNow = this.rawDist.n > 10 ? (Math.max(this.rawShort.mean, raw * 0.6) - this.rawDist.mean) / Math.max(this.rawDist.dev * 1.2533, 0.05) : 0;
    this.rawDist.update(raw);
    // Reported on a log scale of the tail probability, so the far tail stays ordered (1 - 1e-9 vs 1 - 1e-15).
    const zl = Math.max(zRaw, zNow);
    const tail = normalTail(zl);
    const logTail = zl > 6 ? (zl * zl) / 2 / Math.LN10 + Math.log10(zl * Math.sqrt(2 * Math.PI)) : -Math.log10(Math.max(tail, 1e-300));
    let likelihood = zl <= 0 ? 0.5 * (1 - tail) : Math.min(1, 0.5 + logTail / 40);
    if (this.n < this.warmup) likelihood = Math.min(likelihood, 0.5);
    // Refractory: while an episode lasts, and for `refractory` quiet points after it, only a higher score than
    // the episode's best is emitted — one incident, one detection.
    if (likelihood > 0.55) this.sinceMax = 0;
    else this.sinceMax++;
    if (this.sinceMax > this.refractory) this.recentMax = 0;
    let out = likelihood;
    if (likelihood > 0.5) {
      if (likelihood <= this.recentMax) out = 0.5 * likelihood;
      else this.recentMax = likelihood;
    }
    return out;
  }
}
