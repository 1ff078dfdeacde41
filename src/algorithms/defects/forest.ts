/**
 * A seeded random forest of regression trees (Breiman 2001): bootstrap rows, a random subset of the features at
 * every split, variance-reduction splits (for 0/1 labels the same as Gini), leaves of at least `minLeaf` rows,
 * predictions averaged over the trees.
 *
 * Why not ml-random-forest (mljs), which was added for this: its trees (ml-cart) try every split point by
 * re-splitting and re-summing the node's rows, O(rows²) per feature and node — 0.7 s CPU for one depth-8 tree on
 * eslint's ~3,000 training rows, so 100 trees would take 70 s per training and `tswarm predict` has 10 s; and it
 * samples the features once per tree, not per split. Here the features are cut into at most 64 quantile bins once,
 * and every split is a histogram scan over the bins: O(rows × features tried) per tree level, ~5 ms a tree.
 *
 * Measured against the logistic model for issue 13 and not shipped (figures above fitHistoryModel in
 * defect-eval.ts): alone it ranks worse, and rank averages with the logistic model do not beat it on held-out cuts.
 */

export interface ForestOptions {
  trees: number;
  /** Features tried at each split: a share of all features (≤ 1) or a count (> 1). */
  maxFeatures: number;
  /** The fewest (bootstrap) rows a leaf may hold. */
  minLeaf: number;
  maxDepth: number;
  seed: number;
  /** Rows drawn (with replacement) per tree, as a share of the training rows. */
  sampleShare: number;
}

export const DEFAULT_FOREST: ForestOptions = { trees: 200, maxFeatures: 0.3, minLeaf: 5, maxDepth: 12, seed: 1, sampleShare: 1 };

interface Node {
  /** Feature index, or -1 for a leaf. */
  f: number;
  /** Rows with bin ≤ this go left. */
  bin: number;
  left: number;
  right: number;
  value: number;
}

export interface Forest {
  /** Per feature, the upper edges of its bins (a value ≤ edges[b] falls in bin b or lower). */
  edges: number[][];
  trees: Node[][];
}

/** mulberry32: a tiny seeded PRNG, so the same rows and seed give the same forest on every run and machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_BINS = 64;

function binEdges(values: number[]): number[] {
  const s = [...values].sort((a, b) => a - b);
  const distinct: number[] = [];
  for (const v of s) if (distinct[distinct.length - 1] !== v) distinct.push(v);
  if (distinct.length <= MAX_BINS) return distinct.slice(0, -1).map((v, i) => (v + distinct[i + 1]!) / 2);
  const edges: number[] = [];
  for (let b = 1; b < MAX_BINS; b++) {
    const q = s[Math.floor((b * s.length) / MAX_BINS)]!;
    // Midway to the next distinct value above q, so equal values never straddle an edge.
    const next = s.find((v) => v > q);
    if (next === undefined) break;
    const e = (q + next) / 2;
    if (edges[edges.length - 1] !== e) edges.push(e);
  }
  return edges;
}

function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * `weights` (optional, one per row) make the bootstrap draw rows in proportion to them, so a weighted row counts
 * as more (or fewer) copies without the split search having to carry weights.
 */
export function trainForest(X: readonly (readonly number[])[], y: readonly number[], options: Partial<ForestOptions> = {}, weights?: readonly number[]): Forest {
  const o = { ...DEFAULT_FOREST, ...options };
  const n = X.length;
  const d = X[0]?.length ?? 0;
  const edges = Array.from({ length: d }, (_, j) => binEdges(X.map((x) => x[j]!)));
  const nb = edges.map((e) => e.length + 1);
  // Column-major bins: the split scan reads one feature over many rows.
  const bins = edges.map((e, j) => Uint8Array.from(X, (x) => binOf(e, x[j]!)));
  const mtry = Math.max(1, Math.min(d, o.maxFeatures <= 1 ? Math.round(o.maxFeatures * d) : Math.round(o.maxFeatures)));
  const random = rng(o.seed);
  const trees: Node[][] = [];
  const sum = new Float64Array(MAX_BINS);
  const cnt = new Float64Array(MAX_BINS);
  const feats = Array.from({ length: d }, (_, j) => j);
  // Cumulative weights for the weighted bootstrap (binary search per draw).
  const cum = weights ? Float64Array.from(weights) : undefined;
  if (cum) for (let i = 1; i < n; i++) cum[i]! += cum[i - 1]!;
  const draw = (): number => {
    if (!cum) return Math.floor(random() * n);
    const u = random() * cum[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  for (let t = 0; t < o.trees; t++) {
    const m = Math.max(1, Math.round(o.sampleShare * n));
    const idx = new Int32Array(m);
    for (let i = 0; i < m; i++) idx[i] = draw();
    const nodes: Node[] = [];
    // Depth-first over [start, end) ranges of idx, partitioned in place.
    const grow = (start: number, end: number, depth: number): number => {
      let s = 0;
      for (let i = start; i < end; i++) s += y[idx[i]!]!;
      const count = end - start;
      const id = nodes.length;
      nodes.push({ f: -1, bin: 0, left: -1, right: -1, value: s / count });
      if (depth >= o.maxDepth || count < 2 * o.minLeaf) return id;
      let bestGain = 1e-12;
      let bestF = -1;
      let bestBin = 0;
      // Partial Fisher-Yates: the first mtry entries of feats are this split's random features.
      for (let k = 0; k < mtry; k++) {
        const r = k + Math.floor(random() * (d - k));
        [feats[k], feats[r]] = [feats[r]!, feats[k]!];
        const j = feats[k]!;
        const B = nb[j]!;
        if (B < 2) continue;
        sum.fill(0, 0, B);
        cnt.fill(0, 0, B);
        const col = bins[j]!;
        for (let i = start; i < end; i++) {
          const b = col[idx[i]!]!;
          sum[b]! += y[idx[i]!]!;
          cnt[b]! += 1;
        }
        let ls = 0;
        let lc = 0;
        for (let b = 0; b < B - 1; b++) {
          ls += sum[b]!;
          lc += cnt[b]!;
          if (lc < o.minLeaf) continue;
          const rc = count - lc;
          if (rc < o.minLeaf) break;
          const rs = s - ls;
          // Variance reduction up to a constant: the children's Σ²/n minus the parent's.
          const gain = (ls * ls) / lc + (rs * rs) / rc - (s * s) / count;
          if (gain > bestGain) {
            bestGain = gain;
            bestF = j;
            bestBin = b;
          }
        }
      }
      if (bestF < 0) return id;
      const col = bins[bestF]!;
      let i = start;
      let e = end - 1;
      while (i <= e) {
        if (col[idx[i]!]! <= bestBin) i++;
        else {
          const tmp = idx[i]!;
          idx[i] = idx[e]!;
          idx[e] = tmp;
          e--;
        }
      }
      const node = nodes[id]!;
      node.f = bestF;
      node.bin = bestBin;
      node.left = grow(start, i, depth + 1);
      node.right = grow(i, end, depth + 1);
      return id;
    };
    grow(0, m, 0);
    trees.push(nodes);
  }
  return { edges, trees };
}

export function predictForest(forest: Forest, x: readonly number[]): number {
  const b = forest.edges.map((e, j) => binOf(e, x[j]!));
  let s = 0;
  for (const nodes of forest.trees) {
    let k = 0;
    while (nodes[k]!.f >= 0) k = b[nodes[k]!.f]! <= nodes[k]!.bin ? nodes[k]!.left : nodes[k]!.right;
    s += nodes[k]!.value;
  }
  return s / Math.max(1, forest.trees.length);
}
