/**
 * The memory-facing operations of the swarm API: sharing knowledge between agents, reading namespaces, querying
 * the knowledge graph and learning store, the latest report and verdicts. Store-only, so they work whether or
 * not a fleet is running.
 */
import { formatBaselines, readBaselines } from '../analysis/baselines-view.js';
import type { MemoryStore, Verdict } from '../../store/store.js';
import type { Finding } from '../../fleet/contracts.js';
import { learnRankingFromVerdicts } from '../learning/learning-coordinator.js';
import { AccessDeniedError } from '../../store/store.js';
import { buildDependencyMap } from '../../algorithms/graph/dependency-map.js';
import { impactFromTraces } from '../../algorithms/graph/impact.js';
import type { FeedbackReport } from '../../feedback/report.js';
import { renderMarkdown } from '../../feedback/markdown.js';
import { renderHtmlReport } from '../../feedback/html.js';
import type { FigureSection } from '../../feedback/figures.js';
import type { Learning } from '../../algorithms/learning/synthesis.js';
import { agentAccuracy } from '../learning/accuracy-report.js';
import { SwarmInputError, type ToolAnswer } from './swarm-api.js';
import { ChangeInputError, describeChange, parseChanges, type ChangeEvent } from '../../signals/change-event.js';
import { declaredChanges, recordChanges } from '../declared-changes.js';
import { perfSeries, sliFor } from '../analysis/performance-tester.js';
import { SLO_CONFIG_KIND } from '../../config/slo-config.js';
import { budgetBurndown, budgetCell, describeBudget, describeSlo, errorBudget, longestWindow, sloStatus, slosFor, type ErrorBudget, type Slo, type SloStatus } from '../../algorithms/perf/slo.js';
import { firstStarts, windowRollups } from '../analysis/sli-history.js';

export const LATEST_REPORT_KIND = 'feedback-report';

/** Namespace of a knowledge domain. Owned by the agent that first shares into it. */
export const domainNamespace = (domain: string): string => `knowledge/${domain}`;

export async function memoryShare(
  store: MemoryStore,
  args: { sourceAgentId: string; targetAgentIds: string[]; knowledgeDomain: string; content?: unknown },
): Promise<ToolAnswer> {
  const ns = domainNamespace(args.knowledgeDomain);
  await store.shared.defineNamespace({ namespace: ns, owner: args.sourceAgentId, visibility: 'private', writers: [args.sourceAgentId] });
  let records: { key: string; value: unknown }[];
  if (args.content !== undefined) {
    const items = Array.isArray(args.content) ? args.content : [args.content];
    records = items.map((value, i) => {
      const key = typeof value === 'object' && value && 'key' in value && typeof (value as { key: unknown }).key === 'string' ? (value as { key: string }).key : `${args.knowledgeDomain}/${Date.now()}-${i}`;
      return { key, value };
    });
  } else {
    // No explicit content: share what the source knows — its learnings (coordinator) or its latest findings.
    const learnings = (await store.patterns.list<Learning>('learning', { limit: 500 })).map((r) => r.value).filter((l) => !l.retired);
    const own = await store.findings.list({ agentId: args.sourceAgentId, limit: 200 });
    records = learnings.length
      ? learnings.map((l) => ({ key: `learning/${l.key}`, value: { statement: l.statement, strength: l.strength, category: l.category, subject: l.subject, sources: l.sources } }))
      : own.map((f) => ({ key: `finding/${f.id}`, value: { title: f.title, kind: f.kind, category: f.category, severity: f.severity, confidence: f.confidence, subject: f.subject, basis: f.basis } }));
  }
  for (const r of records) await store.shared.write(ns, r.key, r.value, args.sourceAgentId, { domain: args.knowledgeDomain, source: args.sourceAgentId });
  const delivered = await store.shared.share(args.sourceAgentId, args.targetAgentIds, ns, records);
  return {
    summary: `shared ${records.length} record(s) of "${args.knowledgeDomain}" from ${args.sourceAgentId} to ${args.targetAgentIds.join(', ')} (namespace ${ns}; ${delivered} deliveries)`,
    data: { namespace: ns, records: records.length, delivered, targets: args.targetAgentIds, keys: records.map((r) => r.key).slice(0, 100) },
  };
}

export async function memoryQuery(store: MemoryStore, args: { namespace: string; reader: string; sinceUs?: number; limit?: number }): Promise<ToolAnswer> {
  try {
    const records = await store.shared.read(args.namespace, args.reader, { sinceUs: args.sinceUs, limit: args.limit });
    return { summary: `${records.length} record(s) in ${args.namespace} readable by ${args.reader}`, data: { namespace: args.namespace, records } };
  } catch (e) {
    if (e instanceof AccessDeniedError) throw new SwarmInputError(e.message);
    throw e;
  }
}

export interface SloOverview {
  nowUs?: number;
  /** The config file the SLOs came from; absent: none declared (every service has the default). */
  file?: string;
  services: { service: string; slos: ({ slo: Slo; text: string; budget: ErrorBudget; budgetText: string; budgetCell: string; burndown: [number, number][] } & SloStatus)[] }[];
}

/**
 * Each service's SLOs and where they stand (budget burn over 5 min / 1 h / 6 h, rules firing) at `atUs`: by default
 * just after the newest telemetry (a replayed or paused feed is judged where it is, not against an empty now).
 */
export async function sloOverview(store: MemoryStore, service?: string, atUs?: number): Promise<SloOverview> {
  const stored = (await store.patterns.get<{ slos: Slo[]; file: string }>(SLO_CONFIG_KIND, 'current'))?.value;
  const file = stored ? { file: stored.file } : {};
  let nowUs = atUs;
  if (nowUs === undefined) {
    const stats = await store.telemetry.stats();
    const lastUs = Math.max(0, ...stats.map((s) => s.lastUs ?? 0));
    if (!lastUs) return { ...file, services: [] };
    nowUs = lastUs + 1;
  }
  const rollups = await store.telemetry.rollups({ window: { fromUs: nowUs - 6 * 3600e6, toUs: nowUs }, ...(service ? { services: [service] } : {}) });
  const recent = perfSeries(rollups).filter((s) => !service || s.service === service);
  const slos = new Map(recent.map((s) => [s.service, slosFor(s.service, stored?.slos ?? [])]));
  // The budget windows: the closed hours come from the per-store digest, the open ones from the rollups just read.
  const windowed = await windowRollups(store, nowUs - longestWindow([...slos.values()].flat()), nowUs, rollups, service ? [service] : undefined);
  const long = new Map(perfSeries(windowed).map((s) => [s.service, s]));
  const firstOf = firstStarts(windowed);
  return {
    nowUs,
    ...file,
    services: recent.map((s) => ({
      service: s.service,
      slos: slos.get(s.service)!.map((slo) => {
        const status = sloStatus(slo, sliFor(s, slo), nowUs);
        const windowSli = sliFor(long.get(s.service) ?? s, slo);
        const budget = errorBudget(slo, windowSli, nowUs, status.burn['1h'], firstOf.get(s.service));
        return { slo, text: describeSlo(slo), ...status, budget, budgetText: describeBudget(budget), budgetCell: budgetCell(budget, nowUs), burndown: budgetBurndown(slo, windowSli, nowUs) };
      }),
    })),
  };
}

export async function knowledgeQuery(store: MemoryStore, args: { query: 'deps' | 'impact' | 'learnings' | 'accuracy' | 'baselines' | 'changes' | 'slos'; node?: string }): Promise<ToolAnswer> {
  if (args.query === 'changes') return changeList(store, { ...(args.node ? { service: args.node } : {}) });
  if (args.query === 'slos') {
    const o = await sloOverview(store, args.node);
    const lines = o.services.flatMap((s) => s.slos.map((x) => `${s.service}: ${x.text}, burn ${x.burn['1h']}× over 1 h, ${x.burn['5m']}× over 5 min; ${x.budgetText}${x.alerting.length ? ` — firing ${x.alerting.join(', ')}` : ''}`));
    return { summary: lines.length ? `${o.file ? `SLOs from ${o.file}` : 'no SLOs declared: the default'}\n${lines.join('\n')}` : `no telemetry${args.node ? ` for ${args.node}` : ''} to judge SLOs on yet`, data: { ...o } };
  }
  if (args.query === 'learnings') {
    const ls = (await store.patterns.list<Learning>('learning', { limit: 1000 })).map((r) => r.value).filter((l) => !l.retired).sort((a, b) => b.strength - a.strength);
    return { summary: ls.length ? ls.slice(0, 10).map((l) => `${l.strength.toFixed(2)} ${l.statement}`).join('\n') : 'no learnings yet', data: { learnings: ls } };
  }
  if (args.query === 'baselines') {
    const services = await readBaselines(store, args.node);
    if (!services.length) return { summary: args.node ? `no baselines for ${args.node} yet` : 'no baselines yet: they are learned by an analysis cycle over stored telemetry', data: { services } };
    return { summary: formatBaselines(services).trim(), data: { services } };
  }
  if (args.query === 'accuracy') {
    const rows = await agentAccuracy(store);
    return { summary: rows.length ? rows.filter((r) => r.kind === '*').map((r) => `${r.agentId}: ${(100 * r.precision).toFixed(0)}% of ${r.total}`).join('\n') : 'no verdicts yet', data: { accuracy: rows } };
  }
  const spans = await store.telemetry.querySpans({ limit: 500_000 });
  const map = buildDependencyMap(spans);
  if (args.query === 'deps') {
    const edges = map.edges.map((e) => ({ source: e.source, target: e.target, kind: e.kind, calls: e.calls, errors: e.errors, meanLatencyMs: e.calls ? e.durationSumUs / e.calls / 1000 : 0 }));
    const filtered = args.node ? edges.filter((e) => e.source === args.node || e.target === args.node) : edges;
    return { summary: filtered.map((e) => `${e.source} → ${e.target} (${e.calls} calls)`).join('\n') || 'no call edges stored', data: { edges: filtered } };
  }
  if (!args.node) throw new SwarmInputError('impact needs `node` (a service or dependency name)');
  const known = new Set([...map.services, ...map.edges.map((e) => e.target)]);
  if (!known.has(args.node)) throw new SwarmInputError(`unknown node "${args.node}"; known: ${[...known].sort().join(', ') || '(none)'}`);
  const impact = impactFromTraces(spans, map.edges, args.node);
  return {
    summary: `${args.node}: direct dependents ${impact.directDependents.join(', ') || '-'}; user-facing ${impact.userFacing.map((u) => `${u.service} ${u.operation} ${(100 * u.share).toFixed(0)}%`).join(', ') || '-'}`,
    data: { impact },
  };
}

export async function latestReport(store: MemoryStore): Promise<{ report: FeedbackReport; figures: FigureSection[] } | undefined> {
  const r = await store.patterns.get<{ report: FeedbackReport; figures?: FigureSection[] }>(LATEST_REPORT_KIND, 'latest');
  return r ? { report: r.value.report, figures: r.value.figures ?? [] } : undefined;
}

export async function feedbackReport(store: MemoryStore, args: { format?: 'json' | 'markdown' | 'html' }): Promise<ToolAnswer> {
  const latest = await latestReport(store);
  if (!latest) throw new SwarmInputError('no report yet: run an analysis cycle first (tswarm analyze, or the analyze API)');
  const { report, figures } = latest;
  const head = `cycle ${report.cycleId}: ${report.summary.items} items${report.summary.top ? `; top: ${report.summary.top.title}` : ''}`;
  if (args.format === 'markdown') return { summary: renderMarkdown(report), data: { report } };
  if (args.format === 'html') return { summary: head, data: { html: renderHtmlReport(report, { figures }) } };
  return { summary: head, data: { report } };
}

export interface VerdictArgs {
  findingId: string;
  verdict: 'confirmed' | 'rejected';
  /** For a root-cause finding: the service that really was the cause (the top candidate was wrong, or was right). */
  cause?: string;
  reason?: string;
  by?: string;
}

/**
 * A person's verdict, the same for CLI, MCP and HTTP: recorded, the named cause (if any) kept on the finding, and
 * the verdict learned at once (learnRankingFromVerdicts), so the next `tswarm rca` already ranks with it instead of
 * waiting for the coordinator's next cycle.
 */
export async function recordHumanVerdict(store: MemoryStore, args: VerdictArgs, defaultBy: string): Promise<{ finding: Finding; verdict: Verdict; learned: number }> {
  const stored = await store.findings.get(args.findingId);
  if (!stored) throw new SwarmInputError(`no finding "${args.findingId}"`);
  const { firstCycleId: _first, lastCycleId, ...finding } = stored;
  if (args.cause !== undefined) {
    const cause = args.cause.trim();
    if (finding.kind !== 'root-cause') throw new SwarmInputError(`a cause can only be named for a root-cause finding; "${finding.id}" is a ${finding.kind} finding`);
    if (!cause) throw new SwarmInputError('the cause must name a service');
    const top = (finding.data?.topCandidate as string | undefined) ?? finding.subject.service;
    if (args.verdict === 'confirmed' && top && cause !== top) throw new SwarmInputError(`"confirmed" says the top candidate (${top}) was the cause; to name ${cause} instead use "rejected" with the cause`);
    if (args.verdict === 'rejected' && cause === top) throw new SwarmInputError(`"rejected" says the top candidate (${top}) was not the cause, but the cause named is ${top}`);
    finding.data = { ...finding.data, confirmedCause: cause };
    await store.findings.upsert([finding], lastCycleId);
  }
  const verdict: Verdict = { findingId: finding.id, verdict: args.verdict, by: args.by ?? defaultBy, ...(args.reason !== undefined ? { reason: args.reason } : {}), atUs: Date.now() * 1000, automatic: false };
  await store.learning.recordVerdict(verdict);
  const learned = await learnRankingFromVerdicts(store);
  return { finding, verdict, learned };
}

export async function verdictRecord(store: MemoryStore, args: VerdictArgs): Promise<ToolAnswer> {
  const r = await recordHumanVerdict(store, args, 'mcp');
  return { summary: `${args.verdict}: ${r.finding.title}${args.cause ? ` (cause: ${args.cause})` : ''}`, data: { verdict: r.verdict, finding: { id: r.finding.id, agentId: r.finding.agentId, kind: r.finding.kind }, learned: r.learned > 0 } };
}

/**
 * Records declared changes (one or a list; signals/change-event.ts). All or none: the first bad one is a
 * SwarmInputError that names it, and nothing is stored.
 */
export async function changeRecord(store: MemoryStore, input: unknown, defaultBy?: string): Promise<ToolAnswer<{ changes: ChangeEvent[] }>> {
  let changes: ChangeEvent[];
  try {
    changes = parseChanges(input).map((c) => (c.by === undefined && defaultBy ? { ...c, by: defaultBy } : c));
  } catch (e) {
    if (e instanceof ChangeInputError) throw new SwarmInputError(e.message);
    throw e;
  }
  await recordChanges(store, changes);
  return { summary: changes.length === 1 ? `recorded ${describeChange(changes[0]!)} at ${new Date(changes[0]!.atUs / 1000).toISOString()}` : `recorded ${changes.length} changes`, data: { changes } };
}

/**
 * Declared changes of the last `days` (default 7) days, of one service when given, newest first, with the ones
 * services announced in their logs (`source: 'log'`: cited by a finding, or naming the setting and its value).
 */
export async function changeList(store: MemoryStore, args: { service?: string; days?: number }): Promise<ToolAnswer<{ changes: ChangeEvent[] }>> {
  const days = args.days ?? 7;
  if (!(days > 0)) throw new SwarmInputError(`days must be positive (got ${days})`);
  const nowUs = Date.now() * 1000;
  const changes = (await declaredChanges(store, { fromUs: nowUs - days * 86_400e6, toUs: nowUs + 86_400e6 }, args.service ? [args.service] : undefined)).reverse();
  return {
    summary: changes.length ? changes.slice(0, 20).map((c) => `${new Date(c.atUs / 1000).toISOString()} ${describeChange(c)}${c.by ? ` by ${c.by}` : ''}${c.source === 'log' ? ' (announced in its log)' : ''}`).join('\n') : `no changes declared${args.service ? ` for ${args.service}` : ''} in the last ${days} days`,
    data: { changes },
  };
}
