/**
 * Impact analysis (blast radius): who depends on a service, directly and transitively, and which user-facing
 * operations would feel it, with the share of their traffic that reaches it.
 *
 * Two estimators, because the evidence differs:
 * - `impactFromTraces` is measured: for every trace, its entry operation and the set of services it touched;
 *   the traffic share of entry operation E on service X = traces of E touching X / traces of E.
 * - `impactFromEdges` is inferred from the aggregated call graph alone (no traces kept): reverse reachability,
 *   with shares propagated as products of per-edge call ratios (an approximation, labelled as such).
 */
import type { Span } from '../../signals/model.js';
import type { CallEdge } from './dependency-map.js';

export interface ImpactedOperation {
  service: string;
  operation: string;
  /** Traces (or calls) of this entry operation in the sample. */
  calls: number;
  /** Fraction in [0,1] of this operation's traffic that reaches the target. */
  share: number;
}

export interface Impact {
  target: string;
  basis: 'measured' | 'inferred';
  /** Services calling the target directly. */
  directDependents: string[];
  /** Every service from which the target is reachable along call edges (excluding the target). */
  transitiveDependents: string[];
  /** The target's own callees (what it needs), for context. */
  dependencies: string[];
  userFacing: ImpactedOperation[];
}

function reverseReach(edges: CallEdge[], target: string): { direct: Set<string>; all: Set<string> } {
  const callers = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!callers.has(e.target)) callers.set(e.target, new Set());
    callers.get(e.target)!.add(e.source);
  }
  const direct = new Set(callers.get(target) ?? []);
  const all = new Set<string>();
  const queue = [...direct];
  while (queue.length) {
    const s = queue.pop()!;
    if (s === target || all.has(s)) continue;
    all.add(s);
    for (const c of callers.get(s) ?? []) queue.push(c);
  }
  return { direct, all };
}

export function impactFromTraces(spans: Iterable<Span>, edges: CallEdge[], target: string): Impact {
  const traces = new Map<string, { entry?: { service: string; operation: string }; services: Set<string> }>();
  const spanIds = new Set<string>();
  const list: Span[] = [];
  for (const s of spans) {
    list.push(s);
    spanIds.add(s.spanId);
  }
  for (const s of list) {
    let t = traces.get(s.traceId);
    if (!t) {
      t = { services: new Set() };
      traces.set(s.traceId, t);
    }
    t.services.add(s.service);
    const isRoot = !s.parentSpanId || !spanIds.has(s.parentSpanId);
    if (isRoot && (s.kind === 2 || s.kind === 5 || !t.entry)) t.entry = { service: s.service, operation: s.name };
  }
  const perOp = new Map<string, { service: string; operation: string; calls: number; hits: number }>();
  for (const t of traces.values()) {
    if (!t.entry) continue;
    const k = `${t.entry.service}\u0000${t.entry.operation}`;
    const cur = perOp.get(k) ?? { ...t.entry, calls: 0, hits: 0 };
    cur.calls++;
    if (t.services.has(target)) cur.hits++;
    perOp.set(k, cur);
  }
  const { direct, all } = reverseReach(edges, target);
  return {
    target,
    basis: 'measured',
    directDependents: [...direct].sort(),
    transitiveDependents: [...all].sort(),
    dependencies: [...new Set(edges.filter((e) => e.source === target).map((e) => e.target))].sort(),
    userFacing: [...perOp.values()]
      .filter((o) => o.hits > 0)
      .map((o) => ({ service: o.service, operation: o.operation, calls: o.calls, share: o.hits / o.calls }))
      .sort((a, b) => b.share * b.calls - a.share * a.calls),
  };
}

/**
 * Inferred impact from edges and entry operations only. The share of entry operation E (at service S) reaching
 * target X is approximated by the best path product of call ratios calls(A→B)/max(1, inbound calls of A).
 */
export function impactFromEdges(
  edges: CallEdge[],
  entryOperations: { service: string; operation: string; calls: number }[],
  target: string,
): Impact {
  const { direct, all } = reverseReach(edges, target);
  const inbound = new Map<string, number>();
  for (const e of edges) inbound.set(e.target, (inbound.get(e.target) ?? 0) + e.calls);
  const entryCalls = new Map<string, number>();
  for (const o of entryOperations) entryCalls.set(o.service, (entryCalls.get(o.service) ?? 0) + o.calls);
  const out = new Map<string, CallEdge[]>();
  for (const e of edges) {
    if (!out.has(e.source)) out.set(e.source, []);
    out.get(e.source)!.push(e);
  }
  // Best-path share from each service to the target (memoised DFS; cycles cut).
  const memo = new Map<string, number>();
  const share = (svc: string, seen: Set<string>): number => {
    if (svc === target) return 1;
    if (memo.has(svc)) return memo.get(svc)!;
    if (seen.has(svc)) return 0;
    seen.add(svc);
    const denom = Math.max(1, (inbound.get(svc) ?? 0) + (entryCalls.get(svc) ?? 0));
    let best = 0;
    for (const e of out.get(svc) ?? []) best = Math.max(best, Math.min(1, e.calls / denom) * share(e.target, seen));
    seen.delete(svc);
    memo.set(svc, best);
    return best;
  };
  const userFacing = entryOperations
    .filter((o) => o.service === target || all.has(o.service))
    .map((o) => ({ ...o, share: share(o.service, new Set()) }))
    .filter((o) => o.share > 0)
    .sort((a, b) => b.share * b.calls - a.share * a.calls);
  return {
    target,
    basis: 'inferred',
    directDependents: [...direct].sort(),
    transitiveDependents: [...all].sort(),
    dependencies: [...new Set(edges.filter((e) => e.source === target).map((e) => e.target))].sort(),
    userFacing,
  };
}
