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

/** Bands of the level bound visited in turn (see FuzzyArt.train). */
const BANDS = 8;
/** Partial-sum checkpoints in the full comparison (at every quarter of the 2 * dim terms). */
const TAILS = 3;
const NONE = -1;
/**
 * Per-train scratch shared by every network in the process (a train never runs inside another): the groups
 * sorted into bands of their level bound, and their level similarity. Thousands of detectors need one set.
 */
const scratch = {
  es: new Float64Array(16),
  band: new Int32Array(BANDS * 16),
  bandN: new Int32Array(BANDS),
};
/** Bit view of two doubles, to hash a group's pair of energy weights. */
const keyF = new Float64Array(2);
const keyI = new Int32Array(keyF.buffer);

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return h ^ (h >>> 15);
}

function grown<T extends Float64Array | Int32Array>(a: T, size: number): T {
  const b = (a instanceof Int32Array ? new Int32Array(size) : new Float64Array(size)) as T;
  b.set(a);
  return b;
}

/**
 * Dual-vigilance Fuzzy ART on complement-coded vectors, with fast commit.
 *
 * The search for the best category is exact (the category a plain scan in index order picks: the largest
 * feature similarity^3 * energy similarity^2, ties to the lowest index) but skips most of the work:
 *   - the feature similarity is at most 1 (x ∧ w <= w term by term, and rounded sums keep that order), so energy
 *     similarity^2 bounds a category's match. The energy similarity depends only on the category's two energy
 *     weights (newest block value and its complement), and categories share few such pairs (a noisy cycle: ~21
 *     pairs among 512 categories, the levels are quantised), so categories are kept in groups by pair and the
 *     bound is computed once per group;
 *   - groups are visited by falling bound (bands of it, sorted within a band), so a good match is found early and
 *     a group whose bound is below it is skipped whole;
 *   - within a comparison, every quarter of the sum the part summed plus the rest of the weights bounds it, and a
 *     category that cannot reach the best even so stops there (the sum itself runs in index order, so a finished
 *     one rounds exactly as the plain scan's);
 *   - the least recently used category (the one replaced at the cap) is the head of a list kept in order of
 *     (last use, index), instead of a scan.
 * A skipped category cannot change the result: its match is at most its bound, which is below the best, or equal
 * to it at a higher index. Measured on a noisy cycle with 512 categories (blocks of 3 / 6 points): comparisons
 * begun per block 65 / 129 in index order with the level bound alone, 9 / 42 now, of which 3 / 4 run to the
 * end. The test oracle (reference/art.ts) is the plain scan; differential.test.ts compares them step by step.
 */
class FuzzyArt {
  private w: Float64Array;
  private norm: Float64Array;
  /** Per category, the sum of its weights after each checkpoint (TAILS per category): bounds a partial comparison. */
  private tails: Float64Array;
  private cluster: Int32Array;
  /** Training step at which each category last won or was committed. */
  private used: Float64Array;
  /** Categories in order of (used, index), a doubly linked list: the head is the least recently used. */
  private lruNext: Int32Array;
  private lruPrev: Int32Array;
  private lruHead = NONE;
  private lruTail = NONE;
  /** Per category its group (by energy-weight pair) and its neighbours in the group's member list. */
  private group: Int32Array;
  private mNext: Int32Array;
  private mPrev: Int32Array;
  /** Per group: the pair (a, b), a + b, first and last member, size; and an open-addressing table pair -> group. */
  private gA: Float64Array;
  private gB: Float64Array;
  private gSum: Float64Array;
  private gHead: Int32Array;
  private gTail: Int32Array;
  private gSize: Int32Array;
  private groups = 0;
  /** Groups with at least one member. */
  private liveGroups = 0;
  private gTable: Int32Array;
  private t = 0;
  count = 0;
  private clusters = 0;
  rhoLo = 0;
  rhoHi = 0;
  private readonly x: Float64Array;
  /** The input's sum after each checkpoint (TAILS): min(x, w) <= x bounds the rest of a comparison too. */
  private readonly xTails = new Float64Array(TAILS);
  /** The last train's result (fields, not an object per block): cluster (-1: a new cluster), best match, its energy. */
  cluster0 = 0;
  sim = 0;
  energy = 0;

  constructor(
    private readonly dim: number,
    private readonly cap: number,
  ) {
    // Grown up to `cap`: most series need far fewer categories, and thousands of detectors may live in one
    // process.
    const initial = Math.min(cap, 16);
    this.w = new Float64Array(initial * 2 * dim);
    this.norm = new Float64Array(initial);
    this.tails = new Float64Array(initial * TAILS);
    this.cluster = new Int32Array(initial);
    this.used = new Float64Array(initial);
    this.lruNext = new Int32Array(initial);
    this.lruPrev = new Int32Array(initial);
    this.group = new Int32Array(initial);
    this.mNext = new Int32Array(initial);
    this.mPrev = new Int32Array(initial);
    this.gA = new Float64Array(8);
    this.gB = new Float64Array(8);
    this.gSum = new Float64Array(8);
    this.gHead = new Int32Array(8);
    this.gTail = new Int32Array(8);
    this.gSize = new Int32Array(8);
    this.gTable = new Int32Array(16).fill(NONE);
    this.x = new Float64Array(2 * dim);
  }

  clear(): void {
    this.count = 0;
    this.clusters = 0;
    this.lruHead = this.lruTail = NONE;
    this.groups = 0;
    this.liveGroups = 0;
    this.gTable.fill(NONE);
  }

  // ---- least-recently-used list ----------------------------------------------------------------------------------

  private lruRemove(j: number): void {
    const p = this.lruPrev[j]!;
    const n = this.lruNext[j]!;
    if (p === NONE) this.lruHead = n;
    else this.lruNext[p] = n;
    if (n === NONE) this.lruTail = p;
    else this.lruPrev[n] = p;
  }

  /** Appends j as the most recently used (callers append the categories of one step in index order). */
  private lruAppend(j: number): void {
    this.lruPrev[j] = this.lruTail;
    this.lruNext[j] = NONE;
    if (this.lruTail === NONE) this.lruHead = j;
    else this.lruNext[this.lruTail] = j;
    this.lruTail = j;
  }

  // ---- groups by energy-weight pair ------------------------------------------------------------------------------

  private static pairHash(a: number, b: number): number {
    keyF[0] = a;
    keyF[1] = b;
    return mix(mix(mix(mix(0x2545f491, keyI[0]!), keyI[1]!), keyI[2]!), keyI[3]!);
  }

  private groupOf(a: number, b: number): number {
    let m = this.gTable.length - 1;
    let h = FuzzyArt.pairHash(a, b) & m;
    for (;;) {
      const g = this.gTable[h]!;
      if (g === NONE) break;
      // Object.is: +0 and -0 would give the same similarity, but a group holds one exact pair.
      if (Object.is(this.gA[g], a) && Object.is(this.gB[g], b)) return g;
      h = (h + 1) & m;
    }
    const g = this.groups++;
    if (g >= this.gA.length) {
      const size = 2 * this.gA.length;
      this.gA = grown(this.gA, size);
      this.gB = grown(this.gB, size);
      this.gSum = grown(this.gSum, size);
      this.gHead = grown(this.gHead, size);
      this.gTail = grown(this.gTail, size);
      this.gSize = grown(this.gSize, size);
    }
    this.gA[g] = a;
    this.gB[g] = b;
    this.gSum[g] = a + b;
    this.gHead[g] = NONE;
    this.gTail[g] = NONE;
    this.gSize[g] = 0;
    this.gTable[h] = g;
    if (2 * this.groups > this.gTable.length) {
      const t = new Int32Array(2 * this.gTable.length).fill(NONE);
      m = t.length - 1;
      for (let k = 0; k < this.groups; k++) {
        let p = FuzzyArt.pairHash(this.gA[k]!, this.gB[k]!) & m;
        while (t[p] !== NONE) p = (p + 1) & m;
        t[p] = k;
      }
      this.gTable = t;
    }
    return g;
  }

  private leaveGroup(j: number): void {
    const g = this.group[j]!;
    const p = this.mPrev[j]!;
    const n = this.mNext[j]!;
    if (p === NONE) this.gHead[g] = n;
    else this.mNext[p] = n;
    if (n === NONE) this.gTail[g] = p;
    else this.mPrev[n] = p;
    if (--this.gSize[g]! === 0) this.liveGroups--;
  }

  /** Appends j to group g's members: the oldest categories come first, they are the broad ones that match best. */
  private joinGroup(j: number, g: number): void {
    this.group[j] = g;
    const t = this.gTail[g]!;
    this.mNext[j] = NONE;
    this.mPrev[j] = t;
    if (t === NONE) this.gHead[g] = j;
    else this.mNext[t] = j;
    this.gTail[g] = j;
    if (this.gSize[g]!++ === 0) this.liveGroups++;
  }

  /**
   * Re-derives category j's tail sums and group from its weights (`fresh`: j is in no group yet). Groups are
   * never deleted one by one (a pair that empties often comes back); when empty ones pile up, all are rebuilt.
   */
  private setDerived(j: number, fresh: boolean): void {
    const d2 = 2 * this.dim;
    const o = j * d2;
    const chunk = d2 / (TAILS + 1);
    let t = 0;
    for (let c = TAILS - 1, k = d2 - 1; c >= 0; c--) {
      for (const end = (c + 1) * chunk; k >= end; k--) t += this.w[o + k]!;
      this.tails[j * TAILS + c] = t;
    }
    const a = this.w[o + this.dim - 1]!;
    const b = this.w[o + d2 - 1]!;
    if (!fresh) {
      const g = this.group[j]!;
      if (Object.is(this.gA[g], a) && Object.is(this.gB[g], b)) return;
      this.leaveGroup(j);
    }
    // Pairs drift as boxes grow: without this, dead groups (and the arrays holding them) would pile up.
    if (this.groups >= 16 && this.groups > 2 * this.liveGroups + 8) this.regroup(j);
    else this.joinGroup(j, this.groupOf(a, b));
  }

  /** Rebuilds the groups from the categories (dropping empty ones); category `skip` (being re-derived) included. */
  private regroup(skip: number): void {
    const d2 = 2 * this.dim;
    const n = Math.max(this.count, skip + 1);
    this.groups = 0;
    this.liveGroups = 0;
    this.gTable.fill(NONE);
    for (let j = 0; j < n; j++) {
      const o = j * d2;
      this.joinGroup(j, this.groupOf(this.w[o + this.dim - 1]!, this.w[o + d2 - 1]!));
    }
  }

  /** Commits the current input as category `at` (a new slot, or a replaced one), most recently used. */
  private commit(at: number, cluster: number): void {
    const d2 = 2 * this.dim;
    const fresh = at === this.count;
    if (fresh && at === this.norm.length) {
      // By a quarter, not doubling: the weight matrix is most of a detector's memory, thousands may be live.
      const size = Math.min(this.cap, this.norm.length + (this.norm.length >> 2) + 1);
      this.w = grown(this.w, size * d2);
      this.norm = grown(this.norm, size);
      this.tails = grown(this.tails, size * TAILS);
      this.cluster = grown(this.cluster, size);
      this.used = grown(this.used, size);
      this.lruNext = grown(this.lruNext, size);
      this.lruPrev = grown(this.lruPrev, size);
      this.group = grown(this.group, size);
      this.mNext = grown(this.mNext, size);
      this.mPrev = grown(this.mPrev, size);
    }
    const o = at * d2;
    let n = 0;
    for (let k = 0; k < d2; k++) {
      this.w[o + k] = this.x[k]!;
      n += this.x[k]!;
    }
    this.norm[at] = n;
    this.cluster[at] = cluster;
    this.used[at] = this.t;
    if (!fresh) this.lruRemove(at);
    if (fresh) this.count++;
    this.setDerived(at, fresh);
  }

  /** The slot a new category takes: the next free one, else the given one (a least recently used category). */
  private slotFor(lru: number): number {
    return this.count === this.cap ? lru : this.count;
  }

  /** Finds the best-matching category, learns the input, and leaves the result in cluster0 / sim / energy. */
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
      this.commit(0, this.clusters++);
      this.lruAppend(0);
      this.cluster0 = 0;
      this.sim = 0;
      this.energy = 0;
      return;
    }
    const S = scratch;
    if (S.es.length < this.groups) {
      let n = S.es.length;
      while (n < this.groups) n *= 2;
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
    const gA = this.gA;
    const gB = this.gB;
    const gSum = this.gSum;
    const gSize = this.gSize;
    for (let g = 0, ng = this.groups; g < ng; g++) {
      if (gSize[g] === 0) continue;
      const a = gA[g]!;
      const b = gB[g]!;
      const e = ((xa < a ? xa : a) + (xb < b ? xb : b)) / (gSum[g]! || 0.001);
      es[g] = e;
      // Band by the bound es^2: band 0 holds the bounds near 1. Only the order of visits depends on it.
      let q = Math.floor((1 - e * e) * BANDS);
      q = q < 0 ? 0 : q >= BANDS ? BANDS - 1 : q;
      // Within a band, by falling similarity (a handful of groups: insertion).
      const from = q * stride;
      let i = from + bandN[q]!++;
      while (i > from && es[band[i - 1]!]! < e) {
        band[i] = band[i - 1]!;
        i--;
      }
      band[i] = g;
    }
    const w = this.w;
    const norm = this.norm;
    const tails = this.tails;
    const gHead = this.gHead;
    const mNext = this.mNext;
    const chunk = d2 / (TAILS + 1);
    const xTails = this.xTails;
    for (let c = TAILS - 1, k = d2 - 1, t = 0; c >= 0; c--) {
      for (const end = (c + 1) * chunk; k >= end; k--) t += x[k]!;
      xTails[c] = t;
    }
    let best = -1;
    let bestM = -1;
    let bestE = 0;
    for (let q = 0; q < BANDS; q++) {
      const nq = bandN[q]!;
      // Every bound in band q is below 1 - q / BANDS (up to rounding: hence the per-group check, which is exact).
      if (nq === 0 || bestM > 1 - (q - 0.5) / BANDS) continue;
      const from = q * stride;
      for (let i = from; i < from + nq; i++) {
        const g = band[i]!;
        const e = es[g]!;
        const bound = e * e;
        if (bound < bestM) continue;
        for (let j = gHead[g]!; j !== NONE; j = mNext[j]!) {
          if (bound === bestM && j > best) continue;
          const o = j * d2;
          const nj = norm[j]! || 0.001;
          // The sum runs in index order (the rounding must be the plain scan's); every `chunk` terms, the part
          // summed plus the rest of the weights (min(x, w) <= w) bounds it. The margin covers rounding (terms in
          // [0, 1]: errors ~1e-14 against it).
          let num = 0;
          let k = 0;
          let c = 0;
          for (; c < TAILS; c++) {
            for (const end = k + chunk; k < end; k++) {
              const a = x[k]!;
              const b = w[o + k]!;
              num += a < b ? a : b;
            }
            const tw = tails[j * TAILS + c]!;
            const tx = xTails[c]!;
            const ub = (num + (tw < tx ? tw : tx)) / nj;
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
    }
    const lru = this.lruHead;
    let cluster = -1;
    if (bestM >= this.rhoHi) {
      // Resonance: the winner learns (fast commit: w <- w ∧ x).
      const o = best * d2;
      let n = 0;
      for (let k = 0; k < d2; k++) {
        const v = Math.min(w[o + k]!, x[k]!);
        w[o + k] = v;
        n += v;
      }
      norm[best] = n;
      this.used[best] = this.t;
      this.lruRemove(best);
      this.lruAppend(best);
      this.setDerived(best, false);
      cluster = this.cluster[best]!;
    } else if (bestM >= this.rhoLo) {
      // A new category in the winner's cluster (at the cap it replaces the least recently used, or the next slot
      // when that is the winner itself).
      cluster = this.cluster[best]!;
      this.used[best] = this.t;
      const at = this.slotFor(lru === best ? (lru + 1) % count : lru);
      // (At a cap of 1 the new category replaces the winner itself: commit unlinks it.)
      if (at !== best) this.lruRemove(best);
      this.commit(at, cluster);
      // Both now have the newest use: in index order, as a scan for the first minimum would rank them.
      if (at === best) this.lruAppend(at);
      else if (at < best) {
        this.lruAppend(at);
        this.lruAppend(best);
      } else {
        this.lruAppend(best);
        this.lruAppend(at);
      }
    } else {
      const at = this.slotFor(lru);
      this.commit(at, this.clusters++);
      this.lruAppend(at);
    }
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
  /** Recent block values (raw units), a ring; grown up to `history` while it fills (no wrap before it is full). */
  private hist: Float64Array;
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
  /** Matches at past anomalies: how many, the last one (lowered while its incident lasts) and their sum. */
  private anomalyN = 0;
  private anomalyLast = 0;
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
    this.hist = new Float64Array(Math.min(this.history, 64));
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
    if (this.histAt === this.hist.length) this.hist = grown(this.hist, Math.min(this.history, this.hist.length * 2));
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
    if (k - this.lastAnomaly < this.mask && this.anomalyN > 0 && sim < this.anomalyLast) {
      this.anomalySimSum += sim - this.anomalyLast;
      this.anomalyLast = sim;
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
      this.anomalyN++;
      this.anomalyLast = sim;
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
      if (this.anomalyN > 0) lo = Math.max(this.anomalySimSum / this.anomalyN, lo);
    }
    art.rhoLo = Math.min(hi, lo);
    art.rhoHi = hi;
    this.lastRhoUpdate = k;
    this.maskAfterNew = true;
  }
}
