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
 *   - NAB hands its detectors the whole file's min and max (a look-ahead). Here the quantisation range is learned
 *     online (see `RangeQuantiser`): it is the range seen so far, widened when a value falls outside it.
 *   - Memory is bounded: at `maxContexts` learned contexts the store is cleared and relearned (like the
 *     published detector's own cold start), which keeps cost per point flat on unbounded streams.
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

interface LeftSemi {
  size: number;
  /** Facts of this semi-context present in the current left group (rebuilt each step). */
  matched: number[];
  /** right semi-context id → context id */
  contexts: Map<number, number>;
}

interface RightSemi {
  size: number;
  matched: number[];
}

const NEURON = 1 << 20;

export class ContextualDetector {
  private readonly bits: number;
  private readonly maxLeftFacts: number;
  private readonly maxActive: number;
  private readonly maxContexts: number;

  private leftKeys = new Map<string, number>();
  private rightKeys = new Map<string, number>();
  private lefts: LeftSemi[] = [];
  private rights: RightSemi[] = [];
  private leftIndex = new Map<number, number[]>();
  private rightIndex = new Map<number, number[]>();
  /** Per context: times confirmed, zero-level flag. */
  private ctxCount: number[] = [];
  private ctxZero: boolean[] = [];
  /** Left semi-contexts with at least one fact in the last left group. */
  private crossedLeft: number[] = [];
  private leftGroup: number[] = [];

  constructor(opts: CadOptions = {}) {
    this.bits = opts.bits ?? 3;
    this.maxLeftFacts = opts.maxLeftFacts ?? 7;
    this.maxActive = opts.maxActive ?? 15;
    this.maxContexts = opts.maxContexts ?? 20_000;
  }

  get contexts(): number {
    return this.ctxCount.length;
  }

  private reset(): void {
    this.leftKeys = new Map();
    this.rightKeys = new Map();
    this.lefts = [];
    this.rights = [];
    this.leftIndex = new Map();
    this.rightIndex = new Map();
    this.ctxCount = [];
    this.ctxZero = [];
    this.crossedLeft = [];
    this.leftGroup = [];
  }

  private semiId(side: 0 | 1, facts: readonly number[]): number {
    const keys = side === 0 ? this.leftKeys : this.rightKeys;
    const key = facts.join(',');
    let id = keys.get(key);
    if (id !== undefined) return id;
    const index = side === 0 ? this.leftIndex : this.rightIndex;
    if (side === 0) {
      id = this.lefts.length;
      this.lefts.push({ size: facts.length, matched: [], contexts: new Map() });
    } else {
      id = this.rights.length;
      this.rights.push({ size: facts.length, matched: [] });
    }
    keys.set(key, id);
    for (const f of facts) {
      let l = index.get(f);
      if (!l) index.set(f, (l = []));
      l.push(id);
    }
    return id;
  }

  /** Adds a context; returns its id and whether it is new. */
  private addContext(left: readonly number[], right: readonly number[], zero: boolean): [number, boolean] {
    const li = this.semiId(0, left);
    const ri = this.semiId(1, right);
    const m = this.lefts[li]!.contexts;
    const existing = m.get(ri);
    if (existing !== undefined) {
      if (zero) this.ctxZero[existing] = true;
      return [existing, false];
    }
    const id = this.ctxCount.length;
    m.set(ri, id);
    this.ctxCount.push(0);
    this.ctxZero.push(zero);
    return [id, true];
  }

  /** Sensor facts of a bin: for each bit k, 2k + bit. */
  private facts(bin: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.bits; k++) out.push(2 * k + ((bin >> k) & 1));
    return out;
  }

  get bins(): number {
    return 1 << this.bits;
  }

  /** One step on a value already quantised into [0, bins). Returns the raw anomaly in [0, 1]. */
  step(bin: number): number {
    if (this.ctxCount.length >= this.maxContexts) this.reset();
    const sens = this.facts(bin);
    // Zero-level context: the whole previous left group followed by this value.
    let newZero = false;
    let zeroId = -1;
    const candidates = new Map<string, [number[], number[]]>();
    if (this.leftGroup.length > 0) {
      const key = this.leftGroup.join(',') + '|' + sens.join(',');
      candidates.set(key, [this.leftGroup, sens]);
      [zeroId, newZero] = this.addContext(this.leftGroup, sens, true);
      if (!newZero) zeroId = -1;
    }
    // Right crossing: how much of each right semi-context is present now.
    const touchedRight: number[] = [];
    for (const f of sens) {
      for (const ri of this.rightIndex.get(f) ?? []) {
        const r = this.rights[ri]!;
        if (r.matched.length === 0) touchedRight.push(ri);
        r.matched.push(f);
      }
    }
    // Predicted contexts (left side fully present at the previous step) and which of them came true.
    let predicted = 0;
    const active: number[] = [];
    const potential: [number[], number[]][] = [];
    for (const li of this.crossedLeft) {
      const l = this.lefts[li]!;
      const full = l.matched.length === l.size;
      for (const [ri, cid] of l.contexts) {
        if (cid === zeroId) continue;
        const r = this.rights[ri]!;
        const rm = r.matched.length;
        if (full) {
          predicted++;
          if (rm === r.size) {
            this.ctxCount[cid]!++;
            active.push(cid);
          } else if (newZero && this.ctxZero[cid] && rm > 0) potential.push([l.matched, r.matched]);
        } else if (newZero && this.ctxZero[cid] && rm > 0) potential.push([l.matched, r.matched]);
      }
    }
    for (const [lf, rf] of potential) {
      if (lf.length > this.maxLeftFacts) continue;
      const key = lf.join(',') + '|' + rf.join(',');
      if (!candidates.has(key)) candidates.set(key, [lf.slice(), rf.slice()]);
    }
    const confirmed = predicted > 0 ? active.length / predicted : 0;
    // The most-confirmed active contexts become facts of the next left group (ties: the newer context; the
    // published code breaks ties by hash, i.e. arbitrarily — measured insensitive on NAB).
    active.sort((a, b) => this.ctxCount[b]! - this.ctxCount[a]! || b - a);
    const next = sens.slice();
    for (let i = 0; i < Math.min(this.maxActive, active.length); i++) next.push(NEURON + active[i]!);
    next.sort((a, b) => a - b);
    // Learn the candidate contexts (partial overlaps) and count the novel ones.
    let added = newZero ? 1 : 0;
    for (const [lf, rf] of candidates.values()) {
      if (lf === this.leftGroup) continue; // the zero-level context, already learned above
      if (this.addContext(lf, rf, false)[1]) added++;
    }
    const novelty = newZero && candidates.size > 0 ? added / candidates.size : 0;
    for (const ri of touchedRight) this.rights[ri]!.matched = [];
    // Left crossing for the next step.
    for (const li of this.crossedLeft) this.lefts[li]!.matched = [];
    const crossed: number[] = [];
    for (const f of next) {
      for (const li of this.leftIndex.get(f) ?? []) {
        const l = this.lefts[li]!;
        if (l.matched.length === 0) crossed.push(li);
        l.matched.push(f);
      }
    }
    this.crossedLeft = crossed;
    this.leftGroup = next;
    return (1 - confirmed + novelty) / 2;
  }
}
