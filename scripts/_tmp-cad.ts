/**
 * Contextual Anomaly Detector (CAD OSE, Smirnov & Ivanov's "Contextual Anomaly Detector, Open Source Edition",
 * NAB entry `contextOSE`), written here from its published description; the data structures are our own.
 *
 * The idea: a value is quantised into a few bins and the bin's binary code becomes a set of "facts" (bit k set /
 * unset). A "context" joins a left semi-context (a set of facts seen at the previous step: the previous value's
 * facts plus the ids of the contexts that were active then, so contexts chain into longer sequences) with a right
 * semi-context (facts of the current value). At each step:
 *   - contexts whose left side was fully present at the previous step are "predicted"; those whose right side is
 *     fully present now are confirmed (active). Score part 1 = share of predicted contexts not confirmed;
 *   - a zero-level context (whole previous left group → whole current value) is learned if it is new, and partial
 *     overlaps of predicted-but-failed contexts become candidate new contexts; score part 2 = share of candidates
 *     that were genuinely new (novelty);
 *   - anomaly = (1 - confirmed share + novelty share) / 2.
 * The up to `maxActive` most-confirmed active contexts become facts of the next left group.
 *
 * What differs from the published detector, and why:
 *   - NAB hands its detectors the whole file's min and max (a look-ahead). Here the caller quantises without it
 *     (detector.ts) and hands `step` a bin.
 *   - Memory is bounded: at `maxContexts` learned contexts the store is cleared and relearned (like the
 *     published detector's own cold start), which bounds memory and cost per point on unbounded streams.
 *
 * Representation (why it is fast and small). It is the same algorithm: the outputs are bit-for-bit those of the
 * earlier direct version (Maps keyed on joined fact strings, Sets, per-semi-context arrays; kept in cad.test.ts as
 * the oracle), checked on all 58 NAB series (365,558 points) and on synthetic streams that hit the store cap.
 *   - Value facts are never stored as lists. Bit k of a bin gives fact 2k + bit, so any set of value facts drawn
 *     from one value is a pair (positions, bits) of `bits`-wide masks. A right semi-context is always such a set
 *     (the current value's facts, or the part of them a candidate kept), so it is one packed int and "how much of
 *     it is present now" is two ANDs: no right crossing, no per-step right state.
 *   - A left semi-context is (value positions, value bits) plus a sorted run of neuron ids in one shared pool,
 *     found through one open-addressing table keyed on those facts.
 *   - A left's contexts are slots of one block (packed right + zero-level flag, and count * idSpan + id as one
 *     double, so "most confirmed, ties to the newer" is one comparison); blocks grow by half and move, all
 *     arrays start at 16 entries, so a short series holds a few KB and a full store (the `maxContexts` cap)
 *     about 1 MB. (left, right) → context is a search of the left's block (a handful of slots).
 *   - Anything drawn from the previous left group G (a candidate's matched facts, the zero-level left) is a
 *     bitmask over G's ≤ bits + maxActive positions, so candidates are pairs of ints, not joined strings.
 *   - Per-step scratch is shared by all detectors in the process.
 *
 * Cost per step. Which lefts are fully present in G: value-only lefts are a short list; every other left sits on
 * the list of ONE of its neurons (a SAT solver's "watched literal") and is checked when that neuron is in G; when
 * the check finds a neuron missing, the left moves to that neuron's list. A full left has all its neurons in G,
 * whichever one it sits on, so this finds exactly the lefts the published code finds by crossing every semi-
 * context, at a cost set by the lists of G's ≤ maxActive neurons, not by the store. Then every context of a full
 * left is a prediction and is looked at once (the score is the confirmed share of them, and every confirmed one's
 * count goes up), and the top `maxActive` are selected from the active keys (mostly from the few above the last
 * step's top). A step that learns a new zero-level context also looks for candidates, but only among lefts
 * holding a zero-level context (the candidate rule's only source).
 * So the work per point is O(predicted contexts), what the algorithm computes, and not O(stored contexts); it
 * still grows as CAD learns a series, because more learned contexts fire each step (bench: ~400 predicted per
 * step after 10^3 points, ~1,600 after 10^5 on a noisy cycle).
 */

export interface CadOptions {
  /** Bits of the value code: 2^bits bins. */
  bits?: number;
  /** Longest partial left semi-context kept as a new context. */
  maxLeftFacts?: number;
  /** Active contexts that become facts of the next step. */
  maxActive?: number;
  /** Context store size at which it is relearned from scratch. */
  maxContexts?: number;
}

const EMPTY = -1;
/** Zero-level flag in a slot's packed right (bit 15: above any position mask, below the bits). */
const ZERO = 1 << 15;

/**
 * Growth by a quarter (not doubling, not by half): per-series arrays hold ~1/10 slack on average instead of ~1/6
 * (by half) or ~1/4 (doubling); the extra copies are memcpy of small arrays, lost in the step's cost.
 */
function grown<T extends Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = a.length;
  while (n < need) n += (n >> 2) + 1;
  // Growth is rare (not per step): the array's own constructor keeps one helper for every element type.
  const b = new (a.constructor as new (length: number) => T)(n);
  b.set(a);
  return b;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return h ^ (h >>> 15);
}

/** Initial capacity of every per-series table: a fresh or short series stays a few KB. */
const START = 16;

/**
 * Per-step scratch, shared by every detector in the process: a step never runs inside another (JS is single-
 * threaded and step calls nothing outside this class), so 10,000 series need one set, not 10,000.
 */
const scratch = {
  /** Keys of this step's active contexts (the top `maxActive` are selected from them), then the top's ids ascending. */
  act: new Float64Array(START),
  nextN: new Int32Array(32),
  query: new Int32Array(32),
  bucketHead: new Int32Array(32),
  bucketTail: new Int32Array(32),
  /** Per left: next left of its bucket and its mask over G (newZero scan), or the full lefts (other steps). */
  visitNext: new Int32Array(START),
  visitMask: new Int32Array(START),
  /** Candidates (mask over G, right) in first-seen order, and a hash of them. */
  candG: new Int32Array(START),
  candR: new Int32Array(START),
  nCand: 0,
  candTable: new Int32Array(START * 2),
};

export const C={steps:0,full:0,pred:0,act:0,walk:0,newZero:0,zeroLefts:0,candVisit:0,cands:0,ctxPerFull:0};
export class ContextualDetector {
  private readonly bits: number;
  private readonly maxLeftFacts: number;
  private readonly maxActive: number;
  private readonly maxContexts: number;
  private readonly allPos: number;

  // Lefts: packed value facts (positions | bits << 16), neuron run in the pool, size, contexts, anchor chain.
  private nLefts = 0;
  private lVal = new Int32Array(START);
  private lStart = new Int32Array(START);
  private lNeurons = new Uint8Array(START);
  private lSize = new Uint8Array(START);
  /**
   * A left's contexts sit in a block of slots (learned order), so a visit reads memory in sequence and an
   * active context's count is updated in the same place: per slot the packed right (positions | ZERO if
   * zero-level | bits << 16) and the count key. A full block moves to the end at half again its size; the
   * dead space is dropped when the slot arrays run out (see moveBlock).
   */
  private lBlock = new Int32Array(START);
  private lCtx = new Int32Array(START);
  private lCap = new Int32Array(START);
  private bRight = new Int32Array(START * 2);
  /**
   * Times confirmed and id in one number, count * idSpan + id: "more confirmed, ties to the newer" is then one
   * comparison. Exact while a context's count stays below 2^53 / idSpan (1.4e11 at the default cap).
   */
  private bKey = new Float64Array(START * 2);
  private slots = 0;
  private lAnchorNext = new Int32Array(START);
  /** Neuron ids of all lefts: 16-bit while ids fit (the default cap), half the memory of the biggest array. */
  private pool: Uint16Array<ArrayBuffer> | Int32Array<ArrayBuffer>;
  private poolLen = 0;
  /** Lefts holding a zero-level context, ascending (the only ones that can seed candidates). */
  private zeroLefts = new Int32Array(START);
  private nZeroLefts = 0;
  private lHasZero = new Uint8Array(START);
  /** Lefts without neurons (checked against the previous value each step). */
  private valueOnly = new Int32Array(START);
  private nValueOnly = 0;
  private leftTable = new Int32Array(START * 2).fill(EMPTY);

  private nCtx = 0;
  /** Per context as a neuron: first left anchored on it. */
  private anchorHead = new Int32Array(START).fill(EMPTY);

  // The previous step's left group G: its value (-1: none) and its neurons, ascending.
  private gBin = -1;
  private gN: Int32Array;
  private gLen = 0;
  /** Per context: 1 + its position among G's neurons while it is in G, else 0. */
  private inG = new Uint8Array(START);

  private readonly idSpan: number;
  /** The smallest key of the last step's top (-1: none): keys at or below it rarely make the next top. */
  private topHint = -1;

  constructor(opts: CadOptions = {}) {
    this.bits = opts.bits ?? 3;
    this.maxLeftFacts = opts.maxLeftFacts ?? 7;
    this.maxActive = opts.maxActive ?? 15;
    this.maxContexts = opts.maxContexts ?? 20_000;
    // Value facts pack into 16-bit halves and G's positions into one int mask.
    if (!(this.bits >= 1 && this.bits <= 15)) throw new RangeError(`CAD bits must be 1..15 (got ${this.bits})`);
    if (!(this.maxActive >= 0 && this.bits + this.maxActive <= 30)) throw new RangeError('CAD bits + maxActive must be <= 30');
    this.allPos = (1 << this.bits) - 1;
    this.gN = new Int32Array(this.maxActive);
    // Ids stay below 2 * maxContexts + 1 (the store is reset at maxContexts; one step adds at most one context
    // per context it visits, plus the zero-level one).
    if (!(this.maxContexts >= 1 && this.maxContexts <= 1 << 20)) throw new RangeError('CAD maxContexts must be 1..2^20');
    let span = 1;
    while (span < 2 * this.maxContexts + 2) span *= 2;
    this.idSpan = span;
    this.pool = span <= 1 << 16 ? new Uint16Array(START * 4) : new Int32Array(START * 4);
  }

  get contexts(): number {
    return this.nCtx;
  }

  get bins(): number {
    return 1 << this.bits;
  }

  /**
   * Forgets everything, as a new detector with the same options would start, but keeps the grown arrays (the
   * replayed CAD in detector.ts relearns often early in a series: no reallocation and regrowth each time).
   */
  reset(): void {
    this.nLefts = 0;
    this.poolLen = 0;
    this.slots = 0;
    this.nValueOnly = 0;
    this.nZeroLefts = 0;
    this.nCtx = 0;
    this.leftTable = new Int32Array(START * 2).fill(EMPTY);
    this.anchorHead.fill(EMPTY);
    this.inG.fill(0);
    this.gBin = -1;
    this.gLen = 0;
    this.topHint = -1;
  }

  // ---- lefts ---------------------------------------------------------------------------------------------------

  private static leftHash(val: number, neurons: ArrayLike<number>, n: number): number {
    let h = mix(0x2545f491, val);
    for (let i = 0; i < n; i++) h = mix(h, neurons[i]!);
    return h;
  }

  private leftEquals(li: number, val: number, neurons: Int32Array, n: number): boolean {
    if (this.lVal[li] !== val || this.lNeurons[li] !== n) return false;
    const s = this.lStart[li]!;
    for (let i = 0; i < n; i++) if (this.pool[s + i] !== neurons[i]) return false;
    return true;
  }

  private rehashLefts(): void {
    const t = new Int32Array(this.leftTable.length * 2).fill(EMPTY);
    const m = t.length - 1;
    for (let li = 0; li < this.nLefts; li++) {
      const n = this.lNeurons[li]!;
      let h = ContextualDetector.leftHash(this.lVal[li]!, this.pool.subarray(this.lStart[li]!, this.lStart[li]! + n), n) & m;
      while (t[h] !== EMPTY) h = (h + 1) & m;
      t[h] = li;
    }
    this.leftTable = t;
  }

  /** The left with value facts `val` (positions | bits << 16) and neurons `neurons[0..n)` (ascending); made if new. */
  private leftId(val: number, neurons: Int32Array, n: number): number {
    const m = this.leftTable.length - 1;
    let h = ContextualDetector.leftHash(val, neurons, n) & m;
    for (;;) {
      const li = this.leftTable[h]!;
      if (li === EMPTY) break;
      if (this.leftEquals(li, val, neurons, n)) return li;
      h = (h + 1) & m;
    }
    const li = this.nLefts++;
    if (li >= this.lVal.length) {
      const need = li + 1;
      this.lVal = grown(this.lVal, need);
      this.lStart = grown(this.lStart, need);
      this.lNeurons = grown(this.lNeurons, need);
      this.lSize = grown(this.lSize, need);
      this.lBlock = grown(this.lBlock, need);
      this.lCtx = grown(this.lCtx, need);
      this.lCap = grown(this.lCap, need);
      this.lHasZero = grown(this.lHasZero, need);
      this.lAnchorNext = grown(this.lAnchorNext, need);
    }
    this.leftTable[h] = li;
    this.lVal[li] = val;
    this.lStart[li] = this.poolLen;
    this.lNeurons[li] = n;
    this.lSize[li] = popcount(val & this.allPos) + n;
    this.lBlock[li] = 0;
    this.lCtx[li] = 0;
    this.lCap[li] = 0;
    this.lHasZero[li] = 0;
    if (this.poolLen + n > this.pool.length) {
      const size = this.pool.length + (this.pool.length >> 2) + n;
      const b = this.pool instanceof Uint16Array ? new Uint16Array(size) : new Int32Array(size);
      b.set(this.pool);
      this.pool = b;
    }
    for (let i = 0; i < n; i++) this.pool[this.poolLen + i] = neurons[i]!;
    this.poolLen += n;
    if (n === 0) {
      this.valueOnly = grown(this.valueOnly, this.nValueOnly + 1);
      this.valueOnly[this.nValueOnly++] = li;
      this.lAnchorNext[li] = EMPTY;
    } else {
      // Anchor on the newest neuron (the least confirmed, likely the rarest in later groups): the anchor only
      // decides which list finds this left, so any choice gives the same results.
      const a = neurons[n - 1]!;
      this.lAnchorNext[li] = this.anchorHead[a]!;
      this.anchorHead[a] = li;
    }
    if (this.nLefts * 2 > this.leftTable.length) this.rehashLefts();
    return li;
  }

  // ---- contexts ------------------------------------------------------------------------------------------------

  /** Gives left li a block of `cap` slots after the used ones, compacting the slot arrays when they are full. */
  private moveBlock(li: number, cap: number): void {
    if (this.slots + cap > this.bRight.length) {
      let live = cap;
      for (let l = 0; l < this.nLefts; l++) live += this.lCap[l]!;
      // Grow by a fifth when over 85% is live, else only drop the dead space (moved blocks leave holes: with
      // growth by half at 2/3 live, the slot arrays held about twice the live slots).
      let size = this.bRight.length;
      while (live * 20 > size * 17) size = Math.ceil(size * 1.2);
      const r = new Int32Array(size);
      const k = new Float64Array(size);
      let at = 0;
      for (let l = 0; l < this.nLefts; l++) {
        if (l === li) continue;
        const s = this.lBlock[l]!;
        const n = this.lCtx[l]!;
        r.set(this.bRight.subarray(s, s + n), at);
        k.set(this.bKey.subarray(s, s + n), at);
        this.lBlock[l] = at;
        at += this.lCap[l]!;
      }
      const s = this.lBlock[li]!;
      const n = this.lCtx[li]!;
      r.set(this.bRight.subarray(s, s + n), at);
      k.set(this.bKey.subarray(s, s + n), at);
      this.bRight = r;
      this.bKey = k;
      this.lBlock[li] = at;
      this.lCap[li] = cap;
      this.slots = at + cap;
      return;
    }
    const s = this.lBlock[li]!;
    const n = this.lCtx[li]!;
    this.bRight.copyWithin(this.slots, s, s + n);
    this.bKey.copyWithin(this.slots, s, s + n);
    this.lBlock[li] = this.slots;
    this.lCap[li] = cap;
    this.slots += cap;
  }

  private markZero(li: number): void {
    if (this.lHasZero[li]) return;
    this.lHasZero[li] = 1;
    this.zeroLefts = grown(this.zeroLefts, this.nZeroLefts + 1);
    let i = this.nZeroLefts++;
    // Usually the newest left; an older one moves the tail up.
    while (i > 0 && this.zeroLefts[i - 1]! > li) {
      this.zeroLefts[i] = this.zeroLefts[i - 1]!;
      i--;
    }
    this.zeroLefts[i] = li;
  }

  /**
   * Adds context (left li, right); returns its slot, or -1 - slot when it existed already. A left holds few
   * contexts (under 20 on average even on a full store), so its block is searched rather than hashed.
   */
  private addContext(li: number, right: number, zero: boolean): number {
    const s = this.lBlock[li]!;
    const n = this.lCtx[li]!;
    for (let e = s; e < s + n; e++) {
      if ((this.bRight[e]! & ~ZERO) === right) {
        if (zero) {
          this.bRight[e]! |= ZERO;
          this.markZero(li);
        }
        return -1 - e;
      }
    }
    const c = this.nCtx++;
    if (c >= this.anchorHead.length) {
      const old = this.anchorHead.length;
      this.anchorHead = grown(this.anchorHead, c + 1);
      this.anchorHead.fill(EMPTY, old);
      this.inG = grown(this.inG, c + 1);
    }
    this.anchorHead[c] = EMPTY;
    // Appended: a left's contexts are visited in the order they were learned.
    if (n === this.lCap[li]) this.moveBlock(li, n < 2 ? 2 : n + (n >> 1));
    const at = this.lBlock[li]! + n;
    this.bRight[at] = zero ? right | ZERO : right;
    if (zero) this.markZero(li);
    this.bKey[at] = c;
    this.lCtx[li] = n + 1;
    return at;
  }

  /** The left made of G's facts selected by `gm` (bit p: G's p-th fact, value facts first); made if new. */
  private leftOfG(gm: number): number {
    const vpos = gm & this.allPos;
    let n = 0;
    const q = scratch.query;
    for (let j = 0; j < this.gLen; j++) if (gm & (1 << (this.bits + j))) q[n++] = this.gN[j]!;
    return this.leftId(vpos | ((this.gBin & vpos) << 16), q, n);
  }

  // ---- candidates (per step) -----------------------------------------------------------------------------------

  /** Records candidate (gm, right) once, in first-seen order. */
  private static addCandidate(gm: number, right: number): void {
    const S = scratch;
    const m = S.candTable.length - 1;
    let h = mix(mix(0x3c6ef372, gm), right) & m;
    for (;;) {
      const k = S.candTable[h]!;
      if (k === EMPTY) break;
      if (S.candG[k] === gm && S.candR[k] === right) return;
      h = (h + 1) & m;
    }
    const k = S.nCand++;
    S.candG = grown(S.candG, k + 1);
    S.candR = grown(S.candR, k + 1);
    S.candG[k] = gm;
    S.candR[k] = right;
    S.candTable[h] = k;
    if (S.nCand * 2 > S.candTable.length) {
      const t = new Int32Array(S.candTable.length * 2).fill(EMPTY);
      const tm = t.length - 1;
      for (let i = 0; i < S.nCand; i++) {
        let p = mix(mix(0x3c6ef372, S.candG[i]!), S.candR[i]!) & tm;
        while (t[p] !== EMPTY) p = (p + 1) & tm;
        t[p] = i;
      }
      S.candTable = t;
    }
  }

  private static hasCandidate(gm: number, right: number): boolean {
    const S = scratch;
    const m = S.candTable.length - 1;
    let h = mix(mix(0x3c6ef372, gm), right) & m;
    for (;;) {
      const k = S.candTable[h]!;
      if (k === EMPTY) return false;
      if (S.candG[k] === gm && S.candR[k] === right) return true;
      h = (h + 1) & m;
    }
  }

  // ---- the step ------------------------------------------------------------------------------------------------

  /**
   * Moves the k largest of a[0, n) to a[n - k, n) (any order; the keys are distinct: the id is part of the key).
   * Quickselect (Hoare partition, median-of-three pivot), O(n) expected. It runs on the keys above the last
   * top's smallest (see step), usually a few more than k; a running heap over every active key re-sorted on
   * most of them on a small store (counts only grow, the newest keys tend to be the largest): ~30% of a step.
   */
  private static selectTop(a: Float64Array, n: number, k: number): void {
    const t = n - k;
    let lo = 0;
    let hi = n - 1;
    while (hi > lo) {
      const x = a[lo]!;
      const y = a[(lo + hi) >> 1]!;
      const z = a[hi]!;
      const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (a[i]! < pivot) i++;
        while (a[j]! > pivot) j--;
        if (i <= j) {
          const v = a[i]!;
          a[i] = a[j]!;
          a[j] = v;
          i++;
          j--;
        }
      }
      // Now a[lo..j] <= pivot <= a[i..hi], and anything strictly between j and i equals the pivot.
      if (t <= j) hi = j;
      else if (t >= i) lo = i;
      else break;
    }
  }

  /** One step on a value already quantised into [0, bins). Returns the raw anomaly in [0, 1]. */
  step(bin: number): number {
    if (this.nCtx >= this.maxContexts) this.reset();
    C.steps++;
    const bits = this.bits;
    const allPos = this.allPos;
    const sens = bin & allPos;
    const sensRight = allPos | (sens << 16);
    const gBin = this.gBin;
    const hasG = gBin >= 0;
    const gFull = hasG ? (1 << (bits + this.gLen)) - 1 : 0;
    // Zero-level context: the whole previous left group followed by this value.
    let newZero = false;
    let zeroSlot = -1;
    let zeroLeft = -1;
    if (hasG) {
      const li = this.leftOfG(gFull);
      const r = this.addContext(li, sensRight, true);
      if (r >= 0) {
        newZero = true;
        zeroSlot = r;
        zeroLeft = li;
      }
    }
    const cLeftFacts = this.maxLeftFacts;
    const bRight = this.bRight;
    const bKey = this.bKey;
    const S = scratch;
    if (S.act.length < this.nCtx) S.act = new Float64Array(Math.max(2 * S.act.length, this.nCtx));
    const act = S.act;
    if (S.visitNext.length < this.nLefts) {
      S.visitNext = grown(S.visitNext, this.nLefts);
      S.visitMask = grown(S.visitMask, this.nLefts);
    }
    const span = this.idSpan;
    const k = this.maxActive;
    let predicted = 0;
    let nActive = 0;
    // The top `k` active keys are chosen from act[0, nTop): the keys above the last top's smallest (the top
    // changes little from step to step, counts only grow: ~15 of ~70 active keys on a long noisy cycle, a few of
    // thousands on a big store), or all of them when fewer than k are above it. The hint changes only the work.
    const hint = this.topHint;
    let nTop = 0;
    /** Active keys at or below the hint, stored down from the end of the scratch. */
    let nBelow = 0;
    const actEnd = act.length;
    if (hasG) {
      // Only fully present lefts predict: value-only ones matching the previous value, and lefts anchored on a
      // neuron of G whose other facts are all in G too.
      const full = S.visitNext;
      const lVal = this.lVal;
      const lStart = this.lStart;
      const lNeurons = this.lNeurons;
      const lAnchorNext = this.lAnchorNext;
      const lBlock = this.lBlock;
      const lCtx = this.lCtx;
      const pool = this.pool;
      const inG = this.inG;
      const valueOnly = this.valueOnly;
      let nFull = 0;
      for (let i = 0, nv = this.nValueOnly; i < nv; i++) {
        const li = valueOnly[i]!;
        const v = lVal[li]!;
        if ((((v >>> 16) ^ gBin) & v & allPos) === 0) full[nFull++] = li;
      }
      const anchorHead = this.anchorHead;
      for (let j = 0; j < this.gLen; j++) {
        const a = this.gN[j]!;
        let prev = EMPTY;
        for (let li = anchorHead[a]!; li !== EMPTY; ) {
          C.walk++;
          const next = lAnchorNext[li]!;
          const v = lVal[li]!;
          if ((((v >>> 16) ^ gBin) & v & allPos) === 0) {
            const s = lStart[li]!;
            const e = s + lNeurons[li]!;
            let i = s;
            while (i < e && inG[pool[i]!]) i++;
            if (i < e) {
              // A neuron of this left is not in G: anchor the left on it instead (a SAT solver's watched
              // literal). It cannot be full until that neuron is in G, and then that neuron's list finds it.
              const x = pool[i]!;
              if (prev === EMPTY) anchorHead[a] = next;
              else lAnchorNext[prev] = next;
              lAnchorNext[li] = anchorHead[x]!;
              anchorHead[x] = li;
              li = next;
              continue;
            }
            full[nFull++] = li;
          }
          prev = li;
          li = next;
        }
      }
      for (let f = 0; f < nFull; f++) {
        const li = full[f]!;
        // The zero-level context just learned (the last of G's left, always full) is not a prediction.
        const n = li === zeroLeft ? lCtx[li]! - 1 : lCtx[li]!;
        predicted += n;
        for (let e = lBlock[li]!, end = e + n; e < end; e++) {
          const r = bRight[e]!;
          if ((((r >>> 16) ^ sens) & r & allPos) === 0) {
            const key = (bKey[e] = bKey[e]! + span);
            if (key > hint) act[nTop++] = key;
            else act[actEnd - ++nBelow] = key;
          }
        }
      }
      nActive = nTop + nBelow; C.full+=nFull; C.pred+=predicted; C.act+=nActive;
      // Fewer than k keys above the hint: the top needs the rest too (3% to 20% of steps, by series: 16-20% on a
      // noisy cycle on fixed bins). They were kept at the back of the scratch (nTop + nBelow <= nCtx <= its
      // length), so no second pass over the predictions; the order of the keys does not matter.
      if (nTop < k && nBelow > 0) {
        act.copyWithin(nTop, actEnd - nBelow, actEnd);
        nTop += nBelow;
      }
    }
    if (newZero) {
      C.newZero++; C.zeroLefts+=this.nZeroLefts;
      S.nCand = 0;
      S.candTable.fill(EMPTY);
      // Candidates: partial overlaps of zero-level contexts with G, in the order the published crossing meets
      // them — by G's first fact their left holds, then by the left's age, then the context's. Only lefts with
      // a zero-level context and at most maxLeftFacts facts in G can give one, so only those are looked at.
      const nb = bits + this.gLen;
      S.bucketHead.fill(EMPTY, 0, nb);
      const zl = this.zeroLefts;
      const lVal = this.lVal;
      const lNeurons = this.lNeurons;
      const lStart = this.lStart;
      const inG = this.inG;
      const pool = this.pool;
      for (let z = 0, nz = this.nZeroLefts; z < nz; z++) {
        const li = zl[z]!;
        const v = lVal[li]!;
        let gm = v & allPos & ~((v >>> 16) ^ gBin);
        let m = popcount(gm);
        const s = lStart[li]!;
        // Stops at the first fact over maxLeftFacts: such a left seeds no candidate.
        for (let i = s, e = s + lNeurons[li]!; i < e && m <= cLeftFacts; i++) {
          const p = inG[pool[i]!]!;
          if (p) {
            gm |= 1 << (bits + p - 1);
            m++;
          }
        }
        if (gm === 0 || m > cLeftFacts) continue;
        const b = 31 - Math.clz32(gm & -gm);
        S.visitMask[li] = gm;
        S.visitNext[li] = EMPTY;
        if (S.bucketHead[b] === EMPTY) S.bucketHead[b] = li;
        else S.visitNext[S.bucketTail[b]!] = li;
        S.bucketTail[b] = li;
      }
      for (let b = 0; b < nb; b++) {
        for (let li = S.bucketHead[b]!; li !== EMPTY; li = S.visitNext[li]!) {
          const gm = S.visitMask[li]!;
          const full = popcount(gm) === this.lSize[li]; C.candVisit+=this.lCtx[li]!;
          for (let e = this.lBlock[li]!, end = e + this.lCtx[li]!; e < end; e++) {
            const r = bRight[e]!;
            if ((r & ZERO) === 0 || e === zeroSlot) continue;
            const mp = r & allPos & ~((r >>> 16) ^ sens);
            // Fully matched on a full left it was active (counted above), else a candidate.
            if (mp === 0 || (full && mp === (r & allPos))) continue;
            ContextualDetector.addCandidate(gm, mp | ((sens & mp) << 16));
          }
        }
      }
    }
    const confirmed = predicted > 0 ? nActive / predicted : 0;
    // The most-confirmed active contexts become facts of the next left group (ties: the newer context; the
    // published code breaks ties by hash, i.e. arbitrarily — measured insensitive on NAB).
    const nextN = S.nextN;
    const from = nTop > k ? nTop - k : 0;
    if (nTop > k && k > 0) ContextualDetector.selectTop(act, nTop, k);
    const to = k > 0 ? nTop : 0;
    nTop = 0;
    let topMin = Infinity;
    for (let i = from; i < to; i++) {
      const key = act[i]!;
      if (key < topMin) topMin = key;
      const c = key - Math.floor(key / span) * span;
      let j = nTop++;
      while (j > 0 && nextN[j - 1]! > c) {
        nextN[j] = nextN[j - 1]!;
        j--;
      }
      nextN[j] = c;
    }
    this.topHint = nTop === k && k > 0 ? topMin : -1;
    // Learn the candidate contexts and count the genuinely new ones; novelty = new / all candidates (the
    // zero-level context included). They are learned against G, so before G is replaced.
    let novelty = 0;
    if (newZero) {
      let added = 1;
      const nc = S.nCand;
      // Candidates from one left share its mask and come one after the other: look its left up once (a left's
      // id never changes while contexts are added).
      let lastGm = 0;
      let lastLeft = -1;
      for (let q = 0; q < nc; q++) {
        const gm = S.candG[q]!;
        const r = S.candR[q]!;
        if (gm === gFull && r === sensRight) continue;
        if (gm !== lastGm || lastLeft < 0) {
          lastLeft = this.leftOfG(gm);
          lastGm = gm;
        }
        if (this.addContext(lastLeft, r, false) >= 0) added++;
      }
      C.cands+=nc; novelty = added / (nc + (ContextualDetector.hasCandidate(gFull, sensRight) ? 0 : 1));
    }
    for (let j = 0; j < this.gLen; j++) this.inG[this.gN[j]!] = 0;
    for (let j = 0; j < nTop; j++) {
      this.gN[j] = nextN[j]!;
      this.inG[nextN[j]!] = j + 1;
    }
    this.gLen = nTop;
    this.gBin = sens;
    return (1 - confirmed + novelty) / 2;
  }
}
