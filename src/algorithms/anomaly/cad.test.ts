import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContextualDetector, type CadOptions } from './cad.js';
import { StreamingDetector, scoreSeries } from './detector.js';

test('CAD: a repeated bin sequence becomes predictable, a break in it is surprising', () => {
  const cad = new ContextualDetector();
  const pattern = [0, 2, 5, 7, 5, 2];
  let late = 0;
  for (let i = 0; i < 600; i++) {
    const s = cad.step(pattern[i % pattern.length]!);
    if (i >= 500) late = Math.max(late, s);
  }
  assert.ok(late < 0.2, `learned pattern scores low (${late})`);
  const surprise = cad.step(6); // after ...5, 2 the pattern continues with 0
  assert.ok(surprise > 0.5, `broken pattern scores high (${surprise})`);
});

test('CAD: the context store is bounded (relearned from scratch at maxContexts)', () => {
  const cad = new ContextualDetector({ maxContexts: 500 });
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 16807) % 2147483647;
    cad.step(seed % 8);
    assert.ok(cad.contexts <= 500 + 64, `contexts ${cad.contexts}`);
  }
});

test('CAD: outputs are exactly those of the direct reference implementation (store resets, option variants)', () => {
  const cases: { opts: CadOptions; n: number; bins: (i: number, r: number) => number }[] = [
    // random bins, small cap: many relearns
    { opts: { bits: 3, maxContexts: 300 }, n: 4000, bins: (_i, r) => r % 8 },
    // a noisy cycle on 5 bits (the detector's setting) with a level shift, cap hit several times
    { opts: { bits: 5, maxContexts: 1500 }, n: 5000, bins: (i, r) => Math.max(0, Math.min(31, 8 + Math.floor(3.5 + 3.5 * Math.sin(i / 20) + (r % 1000) / 700) + (i > 3000 ? 3 : 0))) },
    // other option values; a cap above 32,767 takes the 32-bit neuron pool
    { opts: { bits: 4, maxActive: 3, maxLeftFacts: 2, maxContexts: 40_000 }, n: 3000, bins: (i, r) => (i % 7) + (r % 3) },
    { opts: { bits: 2, maxActive: 0 }, n: 500, bins: (_i, r) => r % 4 },
  ];
  for (const { opts, n, bins } of cases) {
    const fast = new ContextualDetector(opts);
    const ref = new ReferenceCad(opts);
    let seed = 11;
    for (let i = 0; i < n; i++) {
      seed = (seed * 16807) % 2147483647;
      const b = bins(i, seed);
      const a = fast.step(b);
      const e = ref.step(b);
      if (a !== e) assert.fail(`${JSON.stringify(opts)}: step ${i} (bin ${b}) gives ${a}, reference ${e}`);
      assert.equal(fast.contexts, ref.contexts, `context count at step ${i}`);
    }
  }
});

test('detector: one incident is one alarm (rest period after a high score)', () => {
  const xs = Array.from({ length: 1400 }, (_, i) => 10 + Math.sin(i / 8) + (i >= 1000 && i < 1010 ? 40 : 0));
  const s = scoreSeries(xs);
  const high = Array.from(s).map((v, i) => [v, i] as const).filter(([v, i]) => i >= 900 && v >= 0.75);
  assert.ok(high.length >= 1 && high[0]![1] >= 1000 && high[0]![1] <= 1001, `detected at the onset (${high.map((h) => h[1]).join(',')})`);
  assert.equal(high.length, 1, 'and only once');
});

test('detector: non-finite values are ignored and score 0', () => {
  const d = new StreamingDetector();
  for (let i = 0; i < 100; i++) d.update(i % 10);
  assert.equal(d.update(Number.NaN), 0);
  assert.equal(d.update(Number.POSITIVE_INFINITY), 0);
});

interface LeftSemi {
  /** Sorted facts. */
  facts: number[];
  /** right semi-context id → context id */
  contexts: Map<number, number>;
}

interface RightSemi {
  size: number;
  matched: number[];
}

/** Facts >= NEURON are ids of contexts active at the previous step ("neurons"); below are value-code facts. */
const NEURON = 1 << 20;

/**
 * The earlier, direct implementation (Maps keyed on joined fact strings, Sets, arrays per semi-context), kept here
 * as the oracle: the fast store in cad.ts must give exactly its outputs.
 */
class ReferenceCad {
  private readonly bits: number;
  private readonly maxLeftFacts: number;
  private readonly maxActive: number;
  private readonly maxContexts: number;

  private leftKeys = new Map<string, number>();
  private rightKeys = new Map<string, number>();
  private lefts: LeftSemi[] = [];
  private rights: RightSemi[] = [];
  /** fact → left semi-contexts holding it (all facts). */
  private leftIndex = new Map<number, number[]>();
  /** neuron fact → left semi-contexts holding it, and the left semi-contexts made of value facts only. */
  private leftByNeuron = new Map<number, number[]>();
  private valueOnlyLefts: number[] = [];
  private rightIndex = new Map<number, number[]>();
  /** Per context: times confirmed, zero-level flag. */
  private ctxCount: number[] = [];
  private ctxZero: boolean[] = [];
  /** The previous step's left group (value facts + neuron facts), sorted, and as a set. */
  private leftGroup: number[] = [];
  private leftSet = new Set<number>();
  private stamp: number[] = [];
  private tick = 0;

  constructor(opts: CadOptions = {}) {
    this.bits = opts.bits ?? 3;
    this.maxLeftFacts = opts.maxLeftFacts ?? 7;
    this.maxActive = opts.maxActive ?? 15;
    this.maxContexts = opts.maxContexts ?? 20_000;
  }

  get contexts(): number {
    return this.ctxCount.length;
  }

  get bins(): number {
    return 1 << this.bits;
  }

  private reset(): void {
    this.leftKeys = new Map();
    this.rightKeys = new Map();
    this.lefts = [];
    this.rights = [];
    this.leftIndex = new Map();
    this.leftByNeuron = new Map();
    this.valueOnlyLefts = [];
    this.rightIndex = new Map();
    this.ctxCount = [];
    this.ctxZero = [];
    this.leftGroup = [];
    this.leftSet = new Set();
    this.stamp = [];
  }

  private static push(index: Map<number, number[]>, f: number, id: number): void {
    const l = index.get(f);
    if (l) l.push(id);
    else index.set(f, [id]);
  }

  private leftId(facts: readonly number[]): number {
    const key = facts.join(',');
    let id = this.leftKeys.get(key);
    if (id !== undefined) return id;
    id = this.lefts.length;
    this.lefts.push({ facts: facts.slice(), contexts: new Map() });
    this.stamp.push(0);
    this.leftKeys.set(key, id);
    let neurons = false;
    for (const f of facts) {
      ReferenceCad.push(this.leftIndex, f, id);
      if (f >= NEURON) {
        neurons = true;
        ReferenceCad.push(this.leftByNeuron, f, id);
      }
    }
    if (!neurons) this.valueOnlyLefts.push(id);
    return id;
  }

  private rightId(facts: readonly number[]): number {
    const key = facts.join(',');
    let id = this.rightKeys.get(key);
    if (id !== undefined) return id;
    id = this.rights.length;
    this.rights.push({ size: facts.length, matched: [] });
    this.rightKeys.set(key, id);
    for (const f of facts) ReferenceCad.push(this.rightIndex, f, id);
    return id;
  }

  /** Adds a context; returns its id and whether it is new. */
  private addContext(left: readonly number[], right: readonly number[], zero: boolean): [number, boolean] {
    const m = this.lefts[this.leftId(left)]!.contexts;
    const ri = this.rightId(right);
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

  /** Value facts of a bin: for each bit k, 2k + bit. */
  private facts(bin: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.bits; k++) out.push(2 * k + ((bin >> k) & 1));
    return out;
  }

  /** Facts of left semi-context `li` present in the previous left group (ascending). */
  private matchedLeft(li: number): number[] {
    const out: number[] = [];
    for (const f of this.lefts[li]!.facts) if (this.leftSet.has(f)) out.push(f);
    return out;
  }

  /**
   * Left semi-contexts to visit this step. Only fully matched ones can predict; partially matched ones matter
   * only when a new zero-level context was just learned (they seed new contexts). So on a familiar step we visit
   * just the semi-contexts reachable from an active neuron plus the value-only ones — the same result as
   * crossing every semi-context (what the published code does) at a fraction of the cost.
   */
  private leftsToVisit(all: boolean): number[] {
    const t = ++this.tick;
    const out: number[] = [];
    const visit = (li: number): void => {
      if (this.stamp[li] === t) return;
      this.stamp[li] = t;
      out.push(li);
    };
    if (all) {
      for (const f of this.leftGroup) for (const li of this.leftIndex.get(f) ?? []) visit(li);
    } else {
      for (const f of this.leftGroup) if (f >= NEURON) for (const li of this.leftByNeuron.get(f) ?? []) visit(li);
      for (const li of this.valueOnlyLefts) visit(li);
    }
    return out;
  }

  /** One step on a value already quantised into [0, bins). Returns the raw anomaly in [0, 1]. */
  step(bin: number): number {
    if (this.ctxCount.length >= this.maxContexts) this.reset();
    const sens = this.facts(bin);
    // Zero-level context: the whole previous left group followed by this value.
    let newZero = false;
    let zeroId = -1;
    if (this.leftGroup.length > 0) {
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
    // Predicted contexts (left side fully present at the previous step) and which of them came true; when a new
    // zero-level context appeared, partial overlaps of zero-level contexts become candidate new contexts.
    let predicted = 0;
    const active: number[] = [];
    const candidates = new Map<string, [number[], number[]]>();
    for (const li of this.leftsToVisit(newZero)) {
      const l = this.lefts[li]!;
      const matched = newZero ? this.matchedLeft(li) : l.facts;
      if (matched.length === 0) continue;
      const full = matched.length === l.facts.length;
      if (!full && !newZero) continue;
      if (full && !newZero && !l.facts.every((f) => this.leftSet.has(f))) continue;
      for (const [ri, cid] of l.contexts) {
        if (cid === zeroId) continue;
        const r = this.rights[ri]!;
        const rm = r.matched.length;
        if (full) predicted++;
        if (rm === 0) continue;
        if (full && rm === r.size) {
          this.ctxCount[cid]!++;
          active.push(cid);
        } else if (newZero && this.ctxZero[cid] && matched.length <= this.maxLeftFacts) {
          const key = matched.join(',') + '|' + r.matched.join(',');
          if (!candidates.has(key)) candidates.set(key, [matched, r.matched.slice()]);
        }
      }
    }
    const confirmed = predicted > 0 ? active.length / predicted : 0;
    // The most-confirmed active contexts become facts of the next left group (ties: the newer context; the
    // published code breaks ties by hash, i.e. arbitrarily — measured insensitive on NAB).
    active.sort((a, b) => this.ctxCount[b]! - this.ctxCount[a]! || b - a);
    const next = sens.slice();
    for (let i = 0; i < Math.min(this.maxActive, active.length); i++) next.push(NEURON + active[i]!);
    next.sort((a, b) => a - b);
    // Learn the candidate contexts and count the genuinely new ones; novelty = new / all candidates (the
    // zero-level context included).
    let novelty = 0;
    if (newZero) {
      let added = 1;
      const zeroKey = this.leftGroup.join(',') + '|' + sens.join(',');
      for (const [key, [lf, rf]] of candidates) {
        if (key === zeroKey) continue;
        if (this.addContext(lf, rf, false)[1]) added++;
      }
      novelty = added / (candidates.size + (candidates.has(zeroKey) ? 0 : 1));
    }
    for (const ri of touchedRight) this.rights[ri]!.matched = [];
    this.leftGroup = next;
    this.leftSet = new Set(next);
    return (1 - confirmed + novelty) / 2;
  }
}
