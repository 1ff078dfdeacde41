/**
 * Lasting regressions in a service's bucketed indicators (latency p95, error rate, throughput): energy change
 * points (changepoint.ts) kept only when the change is for the worse, inside the analysed window, and large enough
 * in absolute terms to matter; and the system change nearest to each (a deploy: a new service.version; or a
 * config change: a new value of a resource attribute that names a configuration or feature-flag set).
 */
import { changePoints } from './changepoint.js';
import type { Span } from '../../signals/model.js';
import { robustSummary } from './metric-anomalies.js';
import { CONFIG_ATTRIBUTE } from '../../signals/resource-config.js';
import { flagChanges } from './flags.js';
import { sameValue } from '../../signals/change-event.js';

export interface IndicatorRule {
  /** +1: a rise is worse (latency, errors); -1: a fall is (throughput). */
  worse: 1 | -1;
  /** Least absolute change (in the indicator's unit) worth a person's attention. */
  minAbs: number;
  /** Least relative change of the mean. */
  minRel: number;
}

/**
 * Why these: a p95 change under 5 ms is below what the rollup histogram resolves and what a user feels; an error
 * rate rising by under a percentage point is noise at a few requests per bucket; a fall in traffic is only a
 * regression when the system changed then (deploy or config): otherwise it is demand (evening, a client gone).
 */
export const INDICATOR_RULES = {
  'latency p95': { worse: 1, minAbs: 5, minRel: 0.3 },
  'error rate': { worse: 1, minAbs: 0.01, minRel: 0.3 },
  throughput: { worse: -1, minAbs: 0.5, minRel: 0.3 },
} as const satisfies Record<string, IndicatorRule>;

export type Indicator = keyof typeof INDICATOR_RULES;

export interface Regression {
  /** Bucket index where the new level starts, and its time. */
  index: number;
  atUs: number;
  before: number;
  after: number;
  magnitude: number;
  pValue: number;
}

/**
 * The energy statistic's search is O(n² log n) per permutation: a long series (6 h of 10 s buckets is 2,160
 * points, with its history 10,800) is cut into at most this many runs of consecutive buckets, each its median,
 * and a change is placed at the first bucket of its run.
 */
export const MAX_CP_POINTS = 240;


/** Regressions of one indicator whose new level starts at or after `fromUs`. */
export function regressionsIn(t: readonly number[], values: readonly (number | null | undefined)[], rule: IndicatorRule, fromUs: number): Regression[] {
  const finite: [number, number][] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) finite.push([v, i]);
  }
  const run = Math.ceil(finite.length / MAX_CP_POINTS);
  const valid = run <= 1 ? finite : Array.from({ length: Math.ceil(finite.length / run) }, (_, k) => {
    const part = finite.slice(k * run, (k + 1) * run);
    return [robustSummary(part.map(([x]) => x)).median, part[0]![1]] as [number, number];
  });
  if (valid.length < 12) return [];
  const out: Regression[] = [];
  for (const cp of changePoints(valid.map(([x]) => x), { minSize: 4, minMagnitude: rule.minRel })) {
    const index = valid[cp.index]![1];
    const atUs = t[index]!;
    if (atUs < fromUs) continue;
    if (rule.worse * (cp.after - cp.before) < rule.minAbs) continue;
    out.push({ index, atUs, before: cp.before, after: cp.after, magnitude: cp.magnitude, pValue: cp.pValue });
  }
  return out;
}

export interface SystemChange {
  /** `flag`: declared, or a variant that starts being served in the flag evaluations on spans (flags.ts). */
  kind: 'deploy' | 'config' | 'flag';
  service: string;
  /** service.version for a deploy; the attribute for a config change. */
  key: string;
  value: string;
  /** The value it replaced (the one seen before it), when known. */
  previous?: string;
  atUs: number;
  /**
   * Present when the change was reported by whoever made it (agents/declared-changes.ts) or announced in the
   * service's log (announced-changes.ts), not seen on spans.
   */
  declared?: DeclaredBy;
}

export interface DeclaredBy {
  by?: string;
  url?: string;
  description?: string;
  /** `log`: announced in the service's own log (announced-changes.ts; description: the line's message). */
  source?: 'log';
}


/**
 * The deploy, config change or flag change closest to `atUs` (within `withinUs`): a value of service.version or of
 * a config attribute that first appears then, or a flag variant that starts being served (flags.ts). A value present from the first span on is not a change; nor is the
 * first appearance of an attribute at all (an SDK that starts to report it).
 * `declared` changes (the caller's: those of the services the spans are of) take part too. A change seen on the
 * spans that one of them reports (same service, key and value — a short sha of the full one is the same version —
 * within `withinUs`) is that declared change: its
 * time is when the change was made, not when its first span arrived, and it says who made it.
 */
export function nearestSystemChange(spans: readonly Span[], atUs: number, withinUs = 300e6, declared: readonly SystemChange[] = []): SystemChange | undefined {
  // Per (service, key): each value's first sighting.
  const first = new Map<string, Map<string, number>>();
  for (const sp of spans) {
    for (const [k, v] of Object.entries(sp.resource.attributes)) {
      if (typeof v !== 'string' || (k !== 'service.version' && !CONFIG_ATTRIBUTE.test(k))) continue;
      const id = `${sp.service}\u0000${k}`;
      let m = first.get(id);
      if (!m) first.set(id, (m = new Map()));
      const cur = m.get(v);
      if (cur === undefined || sp.startUs < cur) m.set(v, sp.startUs);
    }
  }
  let best: SystemChange | undefined;
  const consider = (c: SystemChange): void => {
    if (Math.abs(c.atUs - atUs) > withinUs) return;
    if (!best || Math.abs(c.atUs - atUs) < Math.abs(best.atUs - atUs)) best = c;
  };
  for (const d of declared) consider(d);
  const isDeclared = (service: string, key: string, value: string, at: number): boolean =>
    declared.some((d) => d.service === service && d.key === key && sameValue(key, d.value, value) && Math.abs(d.atUs - at) <= withinUs);
  for (const [id, values] of first) {
    if (values.size < 2) continue;
    const [service, key] = id.split('\u0000') as [string, string];
    const ordered = [...values].sort((a, b) => a[1] - b[1]);
    for (let i = 1; i < ordered.length; i++) {
      const [value, at] = ordered[i]!;
      if (isDeclared(service, key, value, at)) continue;
      consider({ kind: key === 'service.version' ? 'deploy' : 'config', service, key, value, previous: ordered[i - 1]![0], atUs: at });
    }
  }
  // A flag variant that starts being served (flags.ts: the evaluations recorded on the spans).
  for (const f of flagChanges(spans)) {
    if (isDeclared(f.service, f.key, f.value, f.atUs)) continue;
    consider({ kind: 'flag', service: f.service, key: f.key, value: f.value, previous: f.previous, atUs: f.atUs });
  }
  return best;
}
