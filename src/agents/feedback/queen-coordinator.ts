/**
 * qe-queen-coordinator: strategic decisions over all findings of a cycle. Ranks them (severity × confidence ×
 * impact from the knowledge graph × novelty against earlier cycles), deduplicates and merges related findings,
 * builds the feedback report, and decides follow-ups (e.g. ask the chaos engineer to verify an RCA hypothesis,
 * the load tester to re-measure capacity after a regression). Every decision is recorded, with why, in the
 * learning store as a decision trajectory.
 */
import type { Agent, AgentContext, AgentTask, Finding } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import { prioritise, type PriorFinding, type RankedItem } from '../../algorithms/feedback/prioritise.js';
import { buildReport, type AgentRunNote, type FeedbackReport } from '../../feedback/report.js';
import type { GraphEdge, MemoryStore } from '../../store/store.js';

export interface FollowUp {
  agentId: string;
  task: string;
  subject: Record<string, string | undefined>;
  reason: string;
  fromItem: string;
}

/**
 * Impact of a service from the stored call graph: the share of all observed calls that pass through it,
 * counting calls into it and into everything it (transitively) serves. Inferred from aggregates, in [0,1].
 */
export function serviceImpact(edges: GraphEdge[]): (service: string | undefined) => number | undefined {
  const calls = edges.filter((e) => e.kind === 'calls');
  if (!calls.length) return () => undefined;
  const inbound = new Map<string, number>();
  const callers = new Map<string, Set<string>>();
  const nodes = new Set<string>();
  for (const e of calls) {
    inbound.set(e.target, (inbound.get(e.target) ?? 0) + e.weight);
    if (!callers.has(e.target)) callers.set(e.target, new Set());
    callers.get(e.target)!.add(e.source);
    nodes.add(e.source);
    nodes.add(e.target);
  }
  const maxIn = Math.max(1, ...inbound.values());
  return (service) => {
    if (!service) return undefined;
    const id = `service:${service}`;
    if (!nodes.has(id)) return undefined;
    const seen = new Set<string>();
    const stack = [...(callers.get(id) ?? [])];
    while (stack.length) {
      const s = stack.pop()!;
      if (seen.has(s) || s === id) continue;
      seen.add(s);
      for (const c of callers.get(s) ?? []) stack.push(c);
    }
    const reach = seen.size / Math.max(1, nodes.size - 1);
    const volume = (inbound.get(id) ?? 0) / maxIn;
    // Entry services (no callers) carry all user traffic themselves.
    const isEntry = !callers.has(id);
    return isEntry ? 1 : 0.5 * reach + 0.5 * volume;
  };
}

/**
 * Which services are of one system: connected through calls in either direction (the weakly connected components
 * of the stored call graph). undefined for a service the graph has not seen: the queen then relates by time alone.
 */
export function serviceSystems(edges: GraphEdge[]): (a: string, b: string) => boolean | undefined {
  const parent = new Map<string, string>();
  const root = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  for (const e of edges) {
    if (e.kind !== 'calls') continue;
    for (const n of [e.source, e.target]) if (!parent.has(n)) parent.set(n, n);
    const [a, b] = [root(e.source), root(e.target)];
    if (a !== b) parent.set(a, b);
  }
  return (a, b) => {
    const [x, y] = [`service:${a}`, `service:${b}`];
    if (!parent.has(x) || !parent.has(y)) return undefined;
    return root(x) === root(y);
  };
}

export function decideFollowUps(items: RankedItem[]): FollowUp[] {
  const out: FollowUp[] = [];
  for (const item of items.slice(0, 10)) {
    const f = item.lead;
    const kinds = new Set(item.members.map((m) => m.kind));
    const hasChaos = item.agents.includes(AGENT_IDS.chaosEngineer);
    if (kinds.has('root-cause') && !hasChaos && f.subject.service) {
      out.push({
        agentId: AGENT_IDS.chaosEngineer,
        task: 'verify-hypothesis',
        subject: { service: f.subject.service },
        reason: `RCA names ${f.subject.service} (confidence ${item.confidence.toFixed(2)}); reproduce the fault in staging to confirm before it becomes a learning`,
        fromItem: item.id,
      });
    }
    if (kinds.has('regression') && f.subject.service) {
      out.push({
        agentId: AGENT_IDS.loadTester,
        task: 're-measure-capacity',
        subject: { service: f.subject.service },
        reason: `a lasting regression on ${f.subject.service} may have moved its saturation knee`,
        fromItem: item.id,
      });
    }
    if (kinds.has('slo-burn') && f.subject.service && !hasChaos) {
      out.push({
        agentId: AGENT_IDS.rootCauseAnalyzer,
        task: 'analyze-incident',
        subject: { service: f.subject.service },
        reason: `error budget of ${f.subject.service} is burning; find the cause`,
        fromItem: item.id,
      });
    }
  }
  return out;
}

export async function priorFindings(store: MemoryStore, ids: string[]): Promise<Map<string, PriorFinding>> {
  const out = new Map<string, PriorFinding>();
  for (const id of ids) {
    const f = await store.findings.get(id);
    if (f) out.set(id, { id, severity: f.severity, confidence: f.confidence, cycles: f.firstCycleId === f.lastCycleId ? 1 : 2 });
  }
  return out;
}

export class QueenCoordinator implements Agent {
  readonly id = AGENT_IDS.queenCoordinator;
  readonly layer = 'feedback' as const;
  readonly description = 'Ranks, deduplicates and merges all findings, decides follow-ups, and builds the feedback to ideation';
  /** The last report built, for the fleet commander to deliver to sinks. */
  lastReport?: FeedbackReport;
  lastFollowUps: FollowUp[] = [];

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const cycleId = String(task.params.cycleId ?? task.id);
    const findings = ctx.upstream.filter((f) => f.agentId !== this.id);
    const ids = [...new Set(findings.map((f) => f.id))];
    const prior = await priorFindings(ctx.store, ids);
    const calls = await ctx.store.graph.edges({ kind: 'calls' });
    const ranked = prioritise(findings, { impact: serviceImpact(calls), related: serviceSystems(calls), prior });
    ctx.progress({ done: 1, total: 2, message: `${ranked.length} items from ${findings.length} findings` });
    const followUps = decideFollowUps(ranked);
    const nowUs = ctx.clock.nowUs();
    await ctx.store.learning.recordTrajectory({
      id: `queen-${cycleId}`,
      agentId: this.id,
      taskId: task.id,
      cycleId,
      decision: `ranked ${ranked.length} items; ${followUps.length} follow-ups`,
      evidence: { order: ranked.slice(0, 20).map((r) => ({ id: r.id, score: r.score, rationale: r.rationale })), followUps },
      findingIds: ranked.map((r) => r.id),
      atUs: nowUs,
    });
    const agents = (task.params.agentNotes as AgentRunNote[] | undefined) ?? [];
    this.lastReport = buildReport({ cycleId, ranked, previouslyReported: new Set(prior.keys()), agents, window: task.window });
    this.lastFollowUps = followUps;
    ctx.progress({ done: 2, total: 2 });
    return followUps.map((fu) => ({
      id: `followup-${fu.agentId}-${fu.task}-${fu.subject.service ?? ''}`,
      agentId: this.id,
      kind: 'follow-up',
      category: 'learning-updates',
      title: `Follow-up for ${fu.agentId}: ${fu.task} on ${fu.subject.service ?? '?'}`,
      summary: fu.reason,
      severity: 'info',
      confidence: 1,
      subject: fu.subject,
      evidence: { findings: [fu.fromItem], chain: [fu.reason] },
      basis: 'inferred',
      window: task.window,
      createdUs: nowUs,
      data: { followUp: fu },
    }));
  }
}
