/**
 * An adaptive-resonance (Fuzzy ART) detector in the manner of Mark Hampton's ARTime (NAB entry `ARTime`), written
 * here from the method's description; the online range handling, the bounded memory and the code are our own.
 *
 * The method. The series is downsampled into blocks of `step` points (each block is represented by its mean, or
 * by its extreme when that sticks out by more than 10% of the mean, so a one-point spike survives the
 * downsampling). Each block value is normalised to [0, 1], quantised into `levels` levels and, when it is close to
 * the running median, snapped onto the median ("chomp": small wobble around the usual level is not a pattern
 * worth learning). The last `window` block values form a feature vector together with their Haar wavelet
 * coefficients (computed on the window rescaled to its own min/max, so a shape is recognised at any level). A
 * Fuzzy ART network with two vigilance levels clusters these vectors online: a vector that resonates with a
 * category (match >= the upper vigilance) refines it, one in between founds a new category in the same cluster,
 * and one below the lower vigilance founds a new cluster. A new cluster is the anomaly; its score grows with how
 * far the best match fell below the vigilances and with how badly the current level matched (the "energy" term).
 * Vigilance adapts: the upper one follows the mean best match, the lower one rises towards the smallest recent
 * match when the series is calm and falls when matches keep missing, but not below the matches seen at past
 * anomalies. After an anomaly, and while new categories keep appearing, further anomalies are masked unless
 * they match even worse — one incident, one alarm.
 *
 * What differs from the published detector, and why:
 *   - ARTime is handed the file's min and max (look-ahead) and its length (it sets the downsampling step and the
 *     warm-up from it). Here the step and the warm-up are fixed, and the range is learned: the warm-up's observed
 *     range widened by `margin` on each side. When a value leaves that range, the range is re-derived from what
 *     has been seen and the network is relearned from the last `history` block values under the new range
 *     (features of the old and the new scale must not be mixed: every category would stop matching at once).
 *   - Memory and cost per point are bounded: at `maxCategories` a new category replaces the least recently used.
 *   - The category search keeps only the best match (plain Fuzzy ART), not every category above vigilance.
 */

export interface ArtOptions {
  /** Points per downsampled block. */
  step?: number;
  /** Blocks per feature window (a power of two, for the Haar transform). */
  window?: number;
  /** Quantisation levels of the normalised block value. */
  levels?: number;
  /** Distance to the median (normalised) under which a block value snaps onto the median. */
  chomp?: number;
  /** Points of warm-up: range learned, network trained, no score. */
  warmup?: number;
  /** Share of the observed range added on each side of the normalisation range. */
  margin?: number;
  /** Block values kept to relearn from when the range or the network is rebuilt. */
  history?: number;
  /** Most categories held; beyond, a new one replaces the least recently used (bounds memory and cost per point). */
  maxCategories?: number;
  /** Fewest blocks between two relearns (bounds the cost on a trending series, where every block is a new extreme). */
  relearnGap?: number;
}

/** In-place full Haar decomposition of a power-of-two length window into `out`: [approx, coarse .. fine]. */
function haar(x: Float64Array, out: Float64Array, tmp: Float64Array): void {
  tmp.set(x);
  let n = x.length;
  while (n > 1) {
    const h = n >> 1;
    for (let i = 0; i < h; i++) {
      out[h + i] = (tmp[2 * i]! - tmp[2 * i + 1]!) * Math.SQRT1_2;
      out[i] = (tmp[2 * i]! + tmp[2 * i + 1]!) * Math.SQRT1_2;
    }
    for (let i = 0; i < h; i++) tmp[i] = out[i]!;
    n = h;
  }
  out[0] = tmp[0]!;
}

/** Rescales a[from, from+len) to [0, 1] by its own min and max (a flat window stays at 0). */
function rescale(a: Float64Array, from: number, len: number): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < from + len; i++) {
    if (a[i]! < lo) lo = a[i]!;
    if (a[i]! > hi) hi = a[i]!;
  }
  const r = hi - lo;
  for (let i = from; i < from + len; i++) a[i] = r > 0 ? (a[i]! - lo) / r : a[i]! - lo;
}

/**
 * Per-train scratch shared by every network in the process (a train never runs inside another): the level
 * similarity of each category and the categories sorted into bands of it. Thousands of detectors need one set.
 */
const BANDS = 8;
/** Partial-sum checkpoints in the full comparison (at every quarter of the 2 * dim terms). */
const TAILS = 3;
const scratch = {
  es: new Float64Array(16),
  band: new Int32Array(BANDS * 16),
  bandN: new Int32Array(BANDS),
};

/** Dual-vigilance Fuzzy ART on complement-coded vectors, with fast commit. */
class FuzzyArt {
  private w: Float64Array;
  private norm: Float64Array;
  /**
   * The energy coordinates of each category (the newest block value and its complement) and their sum, kept
   * beside the weight matrix: the level pass reads only these, three small contiguous arrays instead of one
   * 256-byte row per category.
   */
  private eA: Float64Array;
  private eB: Float64Array;
  private eSum: Float64Array;
  /** Per category, the sum of its weights after each checkpoint (TAILS per category): bounds a partial comparison. */
  private tails: Float64Array;
  private cluster: Int32Array;
  /** Training step at which each category last won (the least recently used one is replaced when full). */
  private used: Float64Array;
  private t = 0;
  count = 0;
  private clusters = 0;
  rhoLo = 0;
  rhoHi = 0;
  private readonly x: Float64Array;
  /** The last train's result (fields, not an object per block): cluster (-1: a new cluster), best match, its energy. */
  cluster0 = 0;
  sim = 0;
  energy = 0;

  constructor(
    private readonly dim: number,
    private readonly cap: number,
  ) {
    // Grown by doubling up to `cap`: most series need far fewer categories, and thousands of detectors may live
    // in one process.
    const initial = Math.min(cap, 16);
    this.w = new Float64Array(initial * 2 * dim);
    this.norm = new Float64Array(initial);
    this.eA = new Float64Array(initial);
    this.eB = new Float64Array(initial);
    this.eSum = new Float64Array(initial);
    this.tails = new Float64Array(initial * TAILS);
    this.cluster = new Int32Array(initial);
    this.used = new Float64Array(initial);
    this.x = new Float64Array(2 * dim);
  }

  clear(): void {
    this.count = 0;
    this.clusters = 0;
  }

  private static grown<T extends Float64Array | Int32Array>(a: T, size: number): T {
    const b = (a instanceof Int32Array ? new Int32Array(size) : new Float64Array(size)) as T;
    b.set(a);
    return b;
  }

  /** Re-derives the energy columns and the tail sums of category j from its weights. */
  private setEnergy(j: number): void {
    const d2 = 2 * this.dim;
    const o = j * d2;
    const a = this.w[o + this.dim - 1]!;
    const b = this.w[o + d2 - 1]!;
    this.eA[j] = a;
    this.eB[j] = b;
    this.eSum[j] = a + b;
    const chunk = d2 / (TAILS + 1);
    let t = 0;
    for (let c = TAILS - 1, k = d2 - 1; c >= 0; c--) {
      for (const end = (c + 1) * chunk; k >= end; k--) t += this.w[o + k]!;
      this.tails[j * TAILS + c] = t;
    }
  }

  /** Commits the current input as a category: a new slot, or the least recently used one when the store is full. */
  private add(cluster: number, lru: number): void {
    const d2 = 2 * this.dim;
    let at = this.count;
    if (this.count === this.cap) at = lru;
    else if (this.count === this.norm.length) {
      const size = Math.min(this.cap, 2 * this.norm.length);
      this.w = FuzzyArt.grown(this.w, size * d2);
      this.norm = FuzzyArt.grown(this.norm, size);
      this.eA = FuzzyArt.grown(this.eA, size);
      this.eB = FuzzyArt.grown(this.eB, size);
      this.eSum = FuzzyArt.grown(this.eSum, size);
      this.tails = FuzzyArt.grown(this.tails, size * TAILS);
      this.cluster = FuzzyArt.grown(this.cluster, size);
      this.used = FuzzyArt.grown(this.used, size);
    }
    const o = at * d2;
    let n = 0;
    for (let k = 0; k < d2; k++) {
      this.w[o + k] = this.x[k]!;
      n += this.x[k]!;
    }
    this.norm[at] = n;
    this.setEnergy(at);
    this.cluster[at] = cluster;
    this.used[at] = this.t;
    if (at === this.count) this.count++;
  }

  /**
   * Finds the best-matching category (the largest feature similarity^3 * energy similarity^2, ties to the lowest
   * index, as a plain scan in index order finds it), learns the input, and leaves the result in cluster0 / sim /
   * energy.
   *
   * Why the search is cheap and still exact: the feature similarity is at most 1 (x ∧ w <= w term by term, and
   * rounded sums keep that order), so energy similarity^2 bounds a category's match. The energy similarity is
   * two mins per category; the full 2 * dim comparison is needed only while that bound can beat the best so far.
   * Categories are visited in bands of falling bound, so the best is found early and most of the rest skip the
   * full comparison (on a noisy cycle with 512 categories: ~65-130 full comparisons per block in index order,
   * a handful in bands). A skipped category cannot change the result: its match is at most its bound, which is
   * below the best, or equal to it at a higher index.
   */
  train(f: Float64Array): void {
    const d = this.dim;
    const d2 = 2 * d;
    const x = this.x;
    for (let k = 0; k < d; k++) {
      x[k] = f[k]!;
      x[d + k] = 1 - f[k]!;
    }
    this.t++;
    const count = this.count;
    if (count === 0) {
      this.add(this.clusters++, 0);
      this.cluster0 = 0;
      this.sim = 0;
      this.energy = 0;
      return;
    }
    const S = scratch;
    if (S.es.length < count) {
      let n = S.es.length;
      while (n < count) n *= 2;
      S.es = new Float64Array(n);
      S.band = new Int32Array(BANDS * n);
    }
    const es = S.es;
    const band = S.band;
    const bandN = S.bandN;
    const stride = es.length;
    bandN.fill(0);
    // The energy term compares the newest block value (last feature) and its complement only: a familiar shape at
    // an unfamiliar level must not resonate.
    const xa = x[d - 1]!;
    const xb = x[d2 - 1]!;
    const eA = this.eA;
    const eB = this.eB;
    const eSum = this.eSum;
    const used = this.used;
    let lru = 0;
    let lruT = used[0]!;
    for (let j = 0; j < count; j++) {
      const u = used[j]!;
      if (u < lruT) {
        lruT = u;
        lru = j;
      }
      const a = eA[j]!;
      const b = eB[j]!;
      const e = ((xa < a ? xa : a) + (xb < b ? xb : b)) / (eSum[j]! || 0.001);
      es[j] = e;
      // Band by the bound es^2: band 0 holds the bounds near 1. Only the order of visits depends on it.
      const e2 = e * e;
      let q = Math.floor((1 - e2) * BANDS);
      q = q < 0 ? 0 : q >= BANDS ? BANDS - 1 : q;
      band[q * stride + bandN[q]!++] = j;
    }
    const w = this.w;
    const norm = this.norm;
    const tails = this.tails;
    const chunk = d2 / (TAILS + 1);
    let best = -1;
    let bestM = -1;
    let bestE = 0;
    for (let q = 0; q < BANDS; q++) {
      const nq = bandN[q]!;
      // Every bound in band q is below 1 - q / BANDS (up to rounding: hence the per-category check, which is exact).
      if (nq === 0 || bestM > 1 - (q - 0.5) / BANDS) continue;
      const from = q * stride;
      for (let i = from; i < from + nq; i++) {
        const j = band[i]!;
        const e = es[j]!;
        const bound = e * e;
        if (bound < bestM || (bound === bestM && j > best)) continue;
        const o = j * d2;
        const nj = norm[j]! || 0.001;
        // The sum runs in index order (the rounding must be the plain scan's); every `chunk` terms, the part
        // summed plus the rest of the weights (min(x, w) <= w) bounds it, and a category that cannot reach the
        // best even so stops there. The margin covers rounding (terms in [0, 1]: errors ~1e-14 against it).
        let num = 0;
        let k = 0;
        let c = 0;
        for (; c < TAILS; c++) {
          for (const end = k + chunk; k < end; k++) {
            const a = x[k]!;
            const b = w[o + k]!;
            num += a < b ? a : b;
          }
          const ub = (num + tails[j * TAILS + c]!) / nj;
          if (ub * ub * ub * bound < bestM - 1e-9) break;
        }
        if (c < TAILS) continue;
        for (; k < d2; k++) {
          const a = x[k]!;
          const b = w[o + k]!;
          num += a < b ? a : b;
        }
        const fs = num / nj;
        const m = fs * fs * fs * e * e;
        if (m > bestM || (m === bestM && j < best)) {
          bestM = m;
          best = j;
          bestE = e;
        }
      }
    }
    let cluster = -1;
    if (bestM >= this.rhoHi) {
      const o = best * d2;
      let n = 0;
      for (let k = 0; k < d2; k++) {
        const v = Math.min(w[o + k]!, x[k]!);
        w[o + k] = v;
        n += v;
      }
      norm[best] = n;
      this.setEnergy(best);
      used[best] = this.t;
      cluster = this.cluster[best]!;
    } else if (bestM >= this.rhoLo) {
      cluster = this.cluster[best]!;
      used[best] = this.t;
      this.add(cluster, lru === best ? (lru + 1) % count : lru);
    } else this.add(this.clusters++, lru);
    this.cluster0 = cluster;
    this.sim = bestM;
    this.energy = bestE;
  }
}

export class ArtDetector {
  private readonly step: number;
  private readonly window: number;
  private readonly levels: number;
  private readonly chomp: number;
  private readonly warmBlocks: number;
  private readonly margin: number;
  private readonly history: number;
  private readonly maxCategories: number;
  private readonly art: FuzzyArt;
  private readonly mask: number;
  private readonly relearnGap: number;
  private lastRelearn = 0;

  /** Normalisation range and the observed range. */
  private lo = 0;
  private hi = 1;
  private seenLo = Infinity;
  private seenHi = -Infinity;
  /** Current block. */
  private blkSum = 0;
  private blkMax = -Infinity;
  private blkMin = Infinity;
  private blkN = 0;
  private movingAvg = 0;
  /** Block index (1-based once a block is complete). */
  private blocks = 0;
  /** Recent block values (raw units), a ring. */
  private readonly hist: Float64Array;
  private histN = 0;
  private histAt = 0;
  /** Feature window (normalised block values), a ring, and the median in raw units. */
  private readonly win: Float64Array;
  private winN = 0;
  private winAt = 0;
  private median = Number.NaN;
  private readonly feat: Float64Array;
  private readonly tmpA: Float64Array;
  private readonly tmpB: Float64Array;
  private readonly tmpC: Float64Array;

  /** Vigilance adaptation and masking state (block indices). */
  private lastAnomaly = -1e9;
  private lastAnomalySim = 0;
  private lastRhoUpdate = 0;
  private maskAfterNew = false;
  private sinceNewCluster = 0;
  private simSum = 0;
  private simN = 0;
  /** Recent best matches (the smallest one raises the lower vigilance) and vigilance shortfalls, rings. */
  private readonly simRing: Float64Array;
  private simAt = 0;
  private readonly gapRing: Float64Array;
  private gapAt = 0;
  private anomalySims: number[] = [];
  private anomalySimSum = 0;

  constructor(opts: ArtOptions = {}) {
    this.step = opts.step ?? 3;
    this.window = opts.window ?? 8;
    this.levels = opts.levels ?? 80;
    this.chomp = opts.chomp ?? 0.075;
    this.warmBlocks = Math.max(this.window + 2, Math.floor((opts.warmup ?? 300) / this.step));
    this.margin = opts.margin ?? 0.25;
    this.history = Math.max(opts.history ?? 500, this.warmBlocks);
    this.maxCategories = opts.maxCategories ?? 512;
    this.art = new FuzzyArt(2 * this.window, this.maxCategories);
    this.mask = Math.round(this.window * 1.5);
    this.relearnGap = opts.relearnGap ?? 20;
    this.hist = new Float64Array(this.history);
    this.win = new Float64Array(this.window);
    this.feat = new Float64Array(2 * this.window);
    this.tmpA = new Float64Array(this.window);
    this.tmpB = new Float64Array(this.window);
    this.tmpC = new Float64Array(this.window);
    this.simRing = new Float64Array((this.warmBlocks >> 1) + 1).fill(1);
    this.gapRing = new Float64Array(this.warmBlocks + 1);
  }

  /** Categories currently held (bounded by maxCategories). */
  get categories(): number {
    return this.art.count;
  }

  private setRange(): void {
    const r = this.seenHi - this.seenLo;
    this.lo = this.seenLo - this.margin * r;
    this.hi = this.seenHi + this.margin * r;
  }

  /** Normalises a block value, updates the median and the window; returns the feature vector once the window is full. */
  private feature(ds: number): Float64Array | undefined {
    const r = this.hi - this.lo;
    const L = this.levels;
    let dn = r > 0 ? (ds - this.lo) / r : 0;
    dn = Math.round((dn < 0 ? 0 : dn > 1 ? 1 : dn) * L) / L;
    // A frugal streaming median (a fixed step towards each value): O(1), and it only needs to be roughly right.
    if (Number.isNaN(this.median)) this.median = ds;
    else this.median += (r / 400) * Math.sign(ds - this.median);
    let m = r > 0 ? (this.median - this.lo) / r : 0;
    m = Math.round((m < 0 ? 0 : m > 1 ? 1 : m) * L) / L;
    if (Math.abs(dn - m) < this.chomp) dn = m;
    this.win[this.winAt] = dn;
    this.winAt = (this.winAt + 1) % this.window;
    if (this.winN < this.window) this.winN++;
    if (this.winN < this.window) return undefined;
    const w = this.window;
    for (let k = 0; k < w; k++) this.tmpA[k] = this.win[(this.winAt + k) % w]!;
    // Shape part: Haar coefficients of the window rescaled to its own range, themselves rescaled.
    this.tmpC.set(this.tmpA);
    rescale(this.tmpC, 0, w);
    haar(this.tmpC, this.feat, this.tmpB);
    rescale(this.feat, 0, w);
    // Level part: the normalised values, oldest first (the newest is the last feature: the energy term's).
    for (let k = 0; k < w; k++) this.feat[w + k] = this.tmpA[k]!;
    return this.feat;
  }

  /** Relearns the network from the block history under the current range; returns the mean best match of its second half. */
  private relearn(rho: number): number {
    this.art.clear();
    this.art.rhoLo = this.art.rhoHi = rho;
    this.winN = 0;
    this.winAt = 0;
    this.median = Number.NaN;
    const n = this.histN;
    const sims: number[] = [];
    for (let k = 0; k < n; k++) {
      const f = this.feature(this.hist[(this.histAt - n + k + this.history) % this.history]!);
      if (f) {
        this.art.train(f);
        sims.push(this.art.sim);
      }
    }
    let sum = 0;
    const from = sims.length >> 1;
    for (let k = from; k < sims.length; k++) sum += sims[k]!;
    return sims.length - from > 0 ? sum / (sims.length - from) : rho;
  }

  /** Scores a point (before learning it) and learns it. Returns an anomaly score in [0, 1]; non-zero only at block ends. */
  update(x: number): number {
    if (!Number.isFinite(x)) return 0;
    if (x < this.seenLo) this.seenLo = x;
    if (x > this.seenHi) this.seenHi = x;
    this.blkSum += x;
    if (x > this.blkMax) this.blkMax = x;
    if (x < this.blkMin) this.blkMin = x;
    if (++this.blkN < this.step) return 0;
    const mean = this.blkSum / this.blkN;
    const mx = this.blkMax;
    const mn = this.blkMin;
    this.blkSum = 0;
    this.blkN = 0;
    this.blkMax = -Infinity;
    this.blkMin = Infinity;
    if (this.blocks === 0) this.movingAvg = mean;
    this.movingAvg = (this.movingAvg + mean) / 2;
    let ds = Math.abs(mx - this.movingAvg) < Math.abs(mn - this.movingAvg) ? mn : mx;
    if (Math.abs(ds - mean) < 0.1 * Math.abs(mean)) ds = mean;
    const k = ++this.blocks;
    this.hist[this.histAt] = ds;
    this.histAt = (this.histAt + 1) % this.history;
    if (this.histN < this.history) this.histN++;
    if (k < this.warmBlocks) return 0;
    const art = this.art;
    if (k === this.warmBlocks) {
      // End of warm-up: range from what was seen, network trained on the warm-up at a moderate vigilance, then
      // both vigilances set to the typical match it reached.
      this.setRange();
      const rho = this.relearn(0.8);
      art.rhoLo = art.rhoHi = rho;
      this.lastRhoUpdate = k;
      return 0;
    }
    const f = this.feature(ds);
    if (!f) return 0;
    const doUpdateAfterAnomaly = k - this.lastAnomaly === this.mask;
    const doUpdateForTrend = k - this.lastRhoUpdate >= this.warmBlocks >> 1;
    const inAnomalyMask = k - this.lastAnomaly <= this.mask;
    if (this.maskAfterNew && this.sinceNewCluster >= this.mask) this.maskAfterNew = false;
    art.train(f);
    const cluster = art.cluster0;
    const sim = art.sim;
    const energy = art.energy;
    this.sinceNewCluster = cluster === -1 ? 0 : this.sinceNewCluster + 1;
    this.simSum += sim;
    this.simN++;
    this.simRing[this.simAt] = sim;
    this.simAt = (this.simAt + 1) % this.simRing.length;
    this.gapRing[this.gapAt] = art.rhoHi - sim;
    this.gapAt = (this.gapAt + 1) % this.gapRing.length;
    const na = this.anomalySims.length;
    if (k - this.lastAnomaly < this.mask && na > 0 && sim < this.anomalySims[na - 1]!) {
      this.anomalySimSum += sim - this.anomalySims[na - 1]!;
      this.anomalySims[na - 1] = sim;
    }
    let score = 0;
    const masked = this.maskAfterNew || inAnomalyMask;
    const muchWorse = sim < this.lastAnomalySim * (inAnomalyMask ? 0.9 : 0.7);
    if (cluster === -1 && (!masked || muchWorse)) {
      const s = Math.min(0.999, sim);
      const above = (1 - s - (1 - art.rhoHi)) / (1 - s);
      const below = (1 - s - (1 - art.rhoLo)) / (1 - s);
      score = above * 0.35 + below * 0.65 + (1 - energy) * 1.5;
      score = score < 0 ? 0 : score > 1 ? 1 : score;
      this.anomalySims.push(sim);
      this.anomalySimSum += sim;
      this.lastAnomalySim = sim;
      this.lastAnomaly = k;
    }
    this.maskAfterNew = cluster === -1 || this.maskAfterNew;
    if (doUpdateAfterAnomaly || doUpdateForTrend) this.adaptVigilance(k);
    if ((this.seenLo < this.lo || this.seenHi > this.hi) && k - this.lastRelearn >= this.relearnGap) {
      // Out of range: relearn under the new range, keeping the vigilances.
      const lo = art.rhoLo;
      const hi = art.rhoHi;
      this.setRange();
      this.relearn(hi);
      this.lastRelearn = k;
      art.rhoLo = lo;
      art.rhoHi = hi;
    }
    return score;
  }

  private adaptVigilance(k: number): void {
    const art = this.art;
    let minSim = Infinity;
    for (const s of this.simRing) if (s < minSim) minSim = s;
    const hi = Math.min(0.97, this.simSum / this.simN);
    let lo = art.rhoLo;
    if (lo <= minSim) lo += (minSim - lo) * 0.19;
    else {
      // Matches keep falling short: lower the lower vigilance by half the typical shortfall, but not below the
      // matches that were anomalies before (those must stay anomalies).
      let decr = 0;
      if (k > 2 * this.warmBlocks) {
        let sum = 0;
        let n = 0;
        for (const g of this.gapRing)
          if (g > 0.05) {
            sum += Math.min(0.37, g);
            n++;
          }
        if (n > 0) decr = sum / n;
      }
      lo -= Math.max(0.01, decr) / 2;
      if (this.anomalySims.length > 0) lo = Math.max(this.anomalySimSum / this.anomalySims.length, lo);
    }
    art.rhoLo = Math.min(hi, lo);
    art.rhoHi = hi;
    this.lastRhoUpdate = k;
    this.maskAfterNew = true;
  }
}
