/**
 * Incident signatures (the seed's "defect patterns"): what an analysed incident looked like — log templates with
 * weights (how anomalous / how many lines), error fingerprints, anomalous metrics and the services involved —
 * plus what was learned (root cause, verdict). A new incident is matched to past ones by a weighted similarity:
 * weighted Jaccard over templates, plain Jaccard over the other facets, each facet weighted and renormalised over
 * the facets either incident actually has (an incident without metrics is not penalised for it).
 */

export interface IncidentSignature {
  id: string;
  atUs: number;
  /** template id → weight (e.g. lines in the burst, or -log10 p). */
  templates: Record<string, number>;
  fingerprints: string[];
  metrics: string[];
  services: string[];
  rootCause?: string;
  verdict?: 'confirmed' | 'rejected';
  notes?: string;
}

export const FACET_WEIGHTS = { templates: 0.35, fingerprints: 0.3, metrics: 0.15, services: 0.2 } as const;

export function weightedJaccard(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  let minSum = 0;
  let maxSum = 0;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = Math.max(0, a[k] ?? 0);
    const y = Math.max(0, b[k] ?? 0);
    minSum += Math.min(x, y);
    maxSum += Math.max(x, y);
  }
  return maxSum === 0 ? 0 : minSum / maxSum;
}

export function jaccard(a: readonly string[], b: readonly string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size === 0 && sb.size === 0) return 0;
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

export function signatureSimilarity(a: IncidentSignature, b: IncidentSignature): number {
  const facets: [number, number, boolean][] = [
    [FACET_WEIGHTS.templates, weightedJaccard(a.templates, b.templates), Object.keys(a.templates).length + Object.keys(b.templates).length > 0],
    [FACET_WEIGHTS.fingerprints, jaccard(a.fingerprints, b.fingerprints), a.fingerprints.length + b.fingerprints.length > 0],
    [FACET_WEIGHTS.metrics, jaccard(a.metrics, b.metrics), a.metrics.length + b.metrics.length > 0],
    [FACET_WEIGHTS.services, jaccard(a.services, b.services), a.services.length + b.services.length > 0],
  ];
  let w = 0;
  let s = 0;
  for (const [weight, sim, present] of facets) {
    if (!present) continue;
    w += weight;
    s += weight * sim;
  }
  return w === 0 ? 0 : s / w;
}

export interface SignatureMatch {
  signature: IncidentSignature;
  score: number;
}

/** Best past matches above `minScore`, most similar first (ties: confirmed verdicts, then most recent). */
export function matchIncident(current: IncidentSignature, past: readonly IncidentSignature[], opts: { k?: number; minScore?: number } = {}): SignatureMatch[] {
  const k = opts.k ?? 3;
  const minScore = opts.minScore ?? 0.3;
  return past
    .filter((p) => p.id !== current.id)
    .map((signature) => ({ signature, score: signatureSimilarity(current, signature) }))
    .filter((m) => m.score >= minScore)
    .sort(
      (x, y) =>
        y.score - x.score ||
        Number(y.signature.verdict === 'confirmed') - Number(x.signature.verdict === 'confirmed') ||
        y.signature.atUs - x.signature.atUs,
    )
    .slice(0, k);
}
