/**
 * The swarm's own disturbances: chaos experiments that injected a fault and load tests, read from memory with their
 * times, and the maintenance windows people declared, each with the services it touches (`services`). Their effects
 * (slow requests, errors, a flood of normal log lines, busy CPUs) are the experiment's, already reported by the
 * agent that ran it (resilience gaps, capacity), or the planned work's. The detectors that judge the telemetry leave
 * these times out: the root-cause analyzer does not place an incident inside one, the performance tester raises no
 * anomaly or regression from one and the pattern learner counts no burst in one. Without it every chaos experiment
 * came back a second time as a "performance insight" and every load test as a "burst" of the home page's log line.
 */
import type { AgentContext, TimeWindow } from '../fleet/contracts.js';
import type { Journal } from '../chaos/experiment.js';
import { JOURNAL_KIND } from './analysis/chaos-engineer.js';
import { LOAD_RUN_KIND, type LoadRunRecord } from './analysis/load-tester.js';
import { maintenanceIn } from './maintenance-windows.js';
import { describeMaintenance } from '../signals/maintenance-window.js';

export interface KnownDisturbance {
  fromS: number;
  toS: number;
  what: string;
  /** Declared by people (a maintenance window), not run by the swarm. */
  declared?: boolean;
  /**
   * The services whose telemetry is the disturbance's: the one worked on or faulted and every service that calls
   * it, directly or not (their requests wait on it). Absent: all of them (a load test, which runs through the
   * whole path; a window naming no service; a service the call graph does not know).
   */
  services?: string[];
}

/**
 * `service` and every service that calls it, directly or through others, by the knowledge graph's `calls` edges;
 * undefined (all services) when no edge names it: who depends on it is not known, and leaving a caller's
 * symptoms in would report planned work as an incident.
 */
export function affectedBy(service: string, calls: readonly { source: string; target: string }[]): string[] | undefined {
  if (!calls.some((e) => e.source === service || e.target === service)) return undefined;
  const callers = new Map<string, string[]>();
  for (const e of calls) {
    const c = callers.get(e.target);
    if (c) c.push(e.source);
    else callers.set(e.target, [e.source]);
  }
  const out = new Set([service]);
  const queue = [service];
  while (queue.length) {
    for (const c of callers.get(queue.pop()!) ?? []) {
      if (out.has(c)) continue;
      out.add(c);
      queue.push(c);
    }
  }
  return [...out].sort();
}

/** Seconds after a disturbance ends that still count as its own: queues drain, the last slow requests finish. */
export const KNOWN_SETTLE_S = 5;

/**
 * How far the telemetry's clock may run ahead of the swarm host's: a record is written (on the swarm's clock) after
 * its run ends, so one that overlaps a window was written after the window's start, less this.
 */
const CLOCK_SLACK_US = 3600e6;

/**
 * The swarm's own chaos experiments (those that injected) and load tests that overlap the window, from memory, and
 * the maintenance windows people declared (planned work is as expected as an experiment; see maintenance-window.ts).
 */
export async function knownDisturbances(ctx: Pick<AgentContext, 'store'>, window: TimeWindow): Promise<KnownDisturbance[]> {
  const out: KnownDisturbance[] = [];
  const inWindow = (fromUs: number, toUs: number): boolean => toUs >= window.fromUs && fromUs <= window.toUs;
  // Only the records written since the window began: an old window still finds its own among thousands of later runs.
  const since = { updatedSinceUs: window.fromUs - CLOCK_SLACK_US };
  let calls: { source: string; target: string }[] | undefined;
  const scope = async (service: string | undefined): Promise<{ services?: string[] }> => {
    if (!service) return {};
    calls ??= await ctx.store.graph.edges({ kind: 'calls' });
    const services = affectedBy(service, calls);
    return services ? { services } : {};
  };
  for (const r of await ctx.store.patterns.list<Journal>(JOURNAL_KIND, since)) {
    const j = r.value;
    const fromUs = Date.parse(j.start) * 1000;
    const toUs = Date.parse(j.end) * 1000;
    if (!j.dry_run && Number.isFinite(fromUs) && Number.isFinite(toUs) && inWindow(fromUs, toUs)) out.push({ fromS: fromUs / 1e6, toS: toUs / 1e6, what: `chaos experiment "${j.experiment.title}"`, ...(await scope(j.experiment.configuration?.target?.dependency)) });
  }
  for (const r of await ctx.store.patterns.list<LoadRunRecord>(LOAD_RUN_KIND, since)) {
    const l = r.value;
    if (typeof l.startUs === 'number' && typeof l.endUs === 'number' && inWindow(l.startUs, l.endUs)) out.push({ fromS: l.startUs / 1e6, toS: l.endUs / 1e6, what: `load test of ${l.target}` });
  }
  for (const w of await maintenanceIn(ctx.store, window)) out.push({ fromS: w.fromUs / 1e6, toS: w.toUs / 1e6, what: describeMaintenance(w), declared: true, ...(await scope(w.service)) });
  return out.sort((a, b) => a.fromS - b.fromS);
}

/**
 * What the evidence says was left out: "the swarm's own chaos experiment "x", load test of y" and/or "declared
 * maintenance of db (index rebuild)".
 */
export function describeDisturbances(known: readonly KnownDisturbance[]): string {
  const own = known.filter((k) => !k.declared);
  const declared = known.filter((k) => k.declared);
  return [own.length ? `the swarm's own ${own.map((k) => k.what).join(', ')}` : '', declared.length ? `declared ${declared.map((k) => k.what).join(', ')}` : ''].filter(Boolean).join('; ');
}

/** Whether the disturbance's telemetry includes `service`'s (any service's when none is given). */
export function touches(k: KnownDisturbance, service?: string): boolean {
  return !k.services || service === undefined || k.services.includes(service);
}

/** The disturbances' time ranges in seconds, each extended by the settling time; of `service` when given. */
export function settledRangesS(known: readonly KnownDisturbance[] = [], service?: string): { fromS: number; toS: number }[] {
  return known.filter((k) => touches(k, service)).map((k) => ({ fromS: k.fromS, toS: k.toS + KNOWN_SETTLE_S }));
}

/** The same in µs. */
export function quietRangesUs(known: readonly KnownDisturbance[], service?: string): { fromUs: number; toUs: number }[] {
  return settledRangesS(known, service).map((r) => ({ fromUs: r.fromS * 1e6, toUs: r.toS * 1e6 }));
}

/**
 * The disturbance that the interval [fromUs, toUs) overlaps, if any (a bucket, or a scrape's interval); for
 * `service`'s telemetry, only those that touch it.
 */
export function disturbanceAt(known: readonly KnownDisturbance[], fromUs: number, toUs: number, service?: string): KnownDisturbance | undefined {
  return known.find((k) => fromUs < (k.toS + KNOWN_SETTLE_S) * 1e6 && toUs > k.fromS * 1e6 && touches(k, service));
}
