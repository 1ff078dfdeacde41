/**
 * Feature flags as evidence on a root-cause candidate: the flag variant it started serving near the onset
 * (algorithms/perf/flags.ts, flagChanges) and the variant its failing or slow requests carry (flagAttribution).
 * The RCA's own span read is columnar and carries no span events, so this reads the candidate's spans around the
 * onset as objects: one service, a few minutes, after the ranking.
 */
import type { Span } from '../../signals/model.js';
import { flagAttribution, flagChanges, isRequest, type FlagAttribution, type FlagChange } from '../../algorithms/perf/flags.js';

export interface FlagEvidence {
  change?: FlagChange;
  attribution?: FlagAttribution;
  /** What "bad" meant for the attribution. */
  bad: string;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))]!;
}

/**
 * `spans`: the service's spans from a few minutes before the onset to the incident's end. A flag change counts
 * from `leadUs` before the onset to `afterUs` after it (as a declared change does). A request after the onset is
 * bad when it failed or took longer than the slowest 1% before the onset (and at least twice their median).
 */
export function flagEvidence(spans: readonly Span[], service: string, onsetUs: number, leadUs: number, afterUs: number): FlagEvidence | undefined {
  const own = spans.filter((sp) => sp.service === service);
  const change = flagChanges(own).find((c) => c.atUs >= onsetUs - leadUs && c.atUs <= onsetUs + afterUs);
  const before = own.filter((sp) => isRequest(sp) && sp.startUs < onsetUs && sp.status.code !== 2).map((sp) => sp.endUs - sp.startUs).sort((a, b) => a - b);
  const slowUs = before.length >= 20 ? Math.max(quantile(before, 0.99), 2 * quantile(before, 0.5)) : Infinity;
  const bad = Number.isFinite(slowUs) ? `failed or over ${(slowUs / 1000).toFixed(1)} ms` : 'failed';
  const attribution = flagAttribution(own.filter((sp) => sp.startUs >= onsetUs), service, (sp) => sp.status.code === 2 || sp.endUs - sp.startUs > slowUs);
  return change || attribution ? { ...(change ? { change } : {}), ...(attribution ? { attribution } : {}), bad } : undefined;
}
