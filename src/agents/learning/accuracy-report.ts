/** Measured accuracy per agent and finding kind from the verdicts in the learning store. */
import { accuracyFromVerdicts, type AccuracyRow, type VerdictFact } from '../../algorithms/learning/accuracy.js';
import type { MemoryStore } from '../../store/store.js';

export async function agentAccuracy(store: MemoryStore): Promise<AccuracyRow[]> {
  const verdicts = (await store.learning.verdicts()).sort((a, b) => a.atUs - b.atUs);
  const facts: VerdictFact[] = [];
  const cache = new Map<string, { agentId: string; kind: string } | null>();
  for (const v of verdicts) {
    let f = cache.get(v.findingId);
    if (f === undefined) {
      const found = await store.findings.get(v.findingId);
      f = found ? { agentId: found.agentId, kind: found.kind } : null;
      cache.set(v.findingId, f);
    }
    if (f) facts.push({ findingId: v.findingId, agentId: f.agentId, kind: f.kind, verdict: v.verdict, automatic: v.automatic });
  }
  return accuracyFromVerdicts(facts);
}
