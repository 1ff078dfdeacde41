/**
 * qe-fleet-commander: spawns the swarm (`fleet_init`: topology, enabled domains, maxAgents), runs the seed's flow
 * as a cycle (detection → analysis → learning → feedback), keeps agent health (last run, failures, retries),
 * collects findings, and hands them to the queen. It is also the SwarmApi behind the MCP tools, HTTP API and CLI.
 *
 * Topology is real: in `mesh` every agent reads the cycle's findings so far from the shared namespace
 * `fleet/<cycle>` (its reads are audited); in `hierarchical` the commander passes each agent only the findings
 * of the steps it depends on.
 */
import { randomUUID } from 'node:crypto';
import type { Agent, AgentContext, AgentId, AgentTask, Finding, Logger, TimeWindow } from '../../fleet/contracts.js';
import { AGENT_IDS, systemClock } from '../../fleet/contracts.js';
import { runPlan, transitiveDeps, type FleetEvent, type PlanStep, type StepResult } from '../../fleet/scheduler.js';
import { SEED_FLOW } from '../../fleet/plan.js';
import { silentLogger } from '../../fleet/logger.js';
import type { MemoryStore } from '../../store/store.js';
import type { AgentRunNote, FeedbackReport } from '../../feedback/report.js';
import type { FigureSection } from '../../feedback/figures.js';
import { deliverToIdeation } from '../../feedback/sinks/ideation.js';
import { collectFigures } from '../../feedback/collect-figures.js';
import { parseTimeRange } from '../../algorithms/time/range.js';
import { loadAgent } from './agent-registry.js';
import { QueenCoordinator, type FollowUp } from './queen-coordinator.js';
import { DOMAINS, SwarmInputError, type Domain, type FleetConfig, type ProgressFn, type SwarmApi, type ToolAnswer } from './swarm-api.js';
import * as memory from './memory-ops.js';
import { maintenanceRecord } from './maintenance-ops.js';

export const DEFAULT_FLEET: FleetConfig = { topology: 'mesh', enabledDomains: Object.keys(DOMAINS) as Domain[], maxAgents: 10 };
const CONFIG_KIND = 'fleet-config';
const HEALTH_KIND = 'agent-health';

export interface AgentHealth {
  agentId: string;
  lastRunUs?: number;
  lastStatus?: StepResult['status'] | 'unavailable';
  lastError?: string;
  lastFindings: number;
  runs: number;
  failures: number;
  consecutiveFailures: number;
  retries: number;
  lastDurationMs?: number;
}

export interface CycleResult {
  cycleId: string;
  window: TimeWindow;
  results: StepResult[];
  findings: Finding[];
  report: FeedbackReport;
  followUps: FollowUp[];
  newFindings: string[];
}

export interface CycleOptions {
  window?: TimeWindow;
  timeRange?: string;
  /** Per-agent task params (e.g. the chaos experiment to run, the RCA incident). */
  params?: Partial<Record<AgentId, Record<string, unknown>>>;
  /** Agents to leave out of this cycle (reported as skipped). */
  skip?: AgentId[];
  /** Extra agents or replacements (tests, demo). */
  agents?: Partial<Record<AgentId, Agent>>;
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (e: FleetEvent) => void;
  figures?: (store: MemoryStore, cycle: Omit<CycleResult, 'report'> & { report: FeedbackReport }) => Promise<FigureSection[]>;
}

/** Which agents a fleet config enables: the enabled domains' agents plus the learning core and the feedback pair. */
export function enabledAgents(cfg: FleetConfig): Set<string> {
  const out = new Set<string>([AGENT_IDS.fleetCommander, AGENT_IDS.queenCoordinator, AGENT_IDS.patternLearner, AGENT_IDS.learningCoordinator]);
  for (const d of cfg.enabledDomains) for (const a of DOMAINS[d] ?? []) out.add(a);
  return out;
}

/** The commander as a step of the plan: reports the health of the cycle so far (a learning update when agents fail). */
class CommanderStep implements Agent {
  readonly id = AGENT_IDS.fleetCommander;
  readonly layer = 'feedback' as const;
  readonly description = 'Orchestrates the swarm: runs the flow, tracks agent health, collects findings for the queen';
  constructor(private readonly results: () => StepResult[]) {}
  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const failed = this.results().filter((r) => r.status === 'failed' || r.status === 'timeout');
    if (!failed.length) return [];
    return [
      {
        id: `fleet-health-${failed.map((f) => f.agentId).sort().join('+')}`,
        agentId: this.id,
        kind: 'agent-failure',
        category: 'learning-updates',
        title: `${failed.length} agent(s) did not complete this cycle: ${failed.map((f) => f.agentId.replace(/^qe-/, '')).join(', ')}`,
        severity: 'low',
        confidence: 1,
        subject: {},
        evidence: { chain: failed.map((f) => `${f.agentId}: ${f.status}${f.error ? ` — ${f.error}` : ''}`) },
        basis: 'measured',
        window: task.window,
        createdUs: ctx.clock.nowUs(),
      },
    ];
  }
}

export class FleetCommander implements SwarmApi {
  private config?: FleetConfig;
  private running?: Promise<CycleResult>;

  constructor(
    readonly store: MemoryStore,
    private readonly opts: {
      log?: Logger;
      hub?: { publish(type: string, data: unknown): void };
      agents?: Partial<Record<AgentId, Agent>>;
      cycleDefaults?: Partial<CycleOptions>;
      /** Run the detection, analysis and learning agents on `tswarm worker` processes (BullMQ on Redis). */
      remote?: { agent(id: string, layer?: Agent['layer']): Agent };
    } = {},
  ) {}

  private get log(): Logger {
    return this.opts.log ?? silentLogger;
  }

  async fleetConfig(): Promise<FleetConfig> {
    if (this.config) return this.config;
    const saved = await this.store.patterns.get<FleetConfig>(CONFIG_KIND, 'current');
    this.config = saved?.value ?? DEFAULT_FLEET;
    return this.config;
  }

  async fleetInit(cfg: FleetConfig): Promise<ToolAnswer> {
    for (const d of cfg.enabledDomains) if (!(d in DOMAINS)) throw new SwarmInputError(`unknown domain "${d}"; known: ${Object.keys(DOMAINS).join(', ')}`);
    if (!Number.isInteger(cfg.maxAgents) || cfg.maxAgents < 1 || cfg.maxAgents > 10) throw new SwarmInputError('maxAgents must be an integer in 1..10');
    this.config = cfg;
    await this.store.patterns.put(CONFIG_KIND, 'current', cfg);
    const enabled = enabledAgents(cfg);
    const agents = await Promise.all(
      SEED_FLOW.map(async (s) => {
        const available = s.agent === AGENT_IDS.fleetCommander || Boolean(this.opts.agents?.[s.agent]) || Boolean((await loadAgent(s.agent)).agent);
        return { id: s.agent, enabled: enabled.has(s.agent), available, dependsOn: s.dependsOn };
      }),
    );
    await this.store.shared.defineNamespace({ namespace: 'fleet/findings', owner: AGENT_IDS.fleetCommander, visibility: cfg.topology === 'mesh' ? 'public' : 'private', writers: [AGENT_IDS.fleetCommander] });
    const on = agents.filter((a) => a.enabled && a.available).length;
    return {
      summary: `fleet initialised: ${cfg.topology} topology, ${on}/10 agents enabled and available (max ${cfg.maxAgents} at once); domains: ${cfg.enabledDomains.join(', ')}`,
      data: { fleetId: `fleet-${cfg.topology}`, topology: cfg.topology, maxAgents: cfg.maxAgents, enabledDomains: cfg.enabledDomains, agents },
    };
  }

  async health(): Promise<AgentHealth[]> {
    return (await this.store.patterns.list<AgentHealth>(HEALTH_KIND, { limit: 100 })).map((r) => r.value);
  }

  async fleetStatus(): Promise<ToolAnswer> {
    const cfg = await this.fleetConfig();
    const health = new Map((await this.health()).map((h) => [h.agentId, h]));
    const enabled = enabledAgents(cfg);
    const cycles = (await this.store.learning.trajectories({ agentId: AGENT_IDS.queenCoordinator, limit: 5 })).map((t) => ({ cycleId: t.cycleId, atUs: t.atUs, decision: t.decision }));
    const agents = SEED_FLOW.map((s) => ({ id: s.agent, enabled: enabled.has(s.agent), ...(health.get(s.agent) ?? { runs: 0, failures: 0, lastFindings: 0 }) }));
    const lines = agents.map((a) => `${a.id.padEnd(26)} ${a.enabled ? 'on ' : 'off'} ${('lastStatus' in a && a.lastStatus) || 'never run'}${'lastFindings' in a ? `, ${a.lastFindings} findings` : ''}${'lastError' in a && a.lastError ? ` (${a.lastError})` : ''}`);
    return { summary: `${cfg.topology} fleet, max ${cfg.maxAgents} agents\n${lines.join('\n')}`, data: { config: cfg, agents, cycles } };
  }

  private async recordHealth(results: StepResult[], nowUs: number): Promise<void> {
    const prev = new Map((await this.health()).map((h) => [h.agentId, h]));
    const rows: { key: string; value: AgentHealth }[] = [];
    for (const r of results) {
      if (r.status === 'skipped' && r.attempts === 0 && /not installed|no implementation|disabled/.test(r.error ?? '')) {
        rows.push({ key: r.agentId, value: { ...(prev.get(r.agentId) ?? { agentId: r.agentId, lastFindings: 0, runs: 0, failures: 0, consecutiveFailures: 0, retries: 0 }), lastStatus: 'unavailable', lastError: r.error } });
        continue;
      }
      const p = prev.get(r.agentId) ?? { agentId: r.agentId, lastFindings: 0, runs: 0, failures: 0, consecutiveFailures: 0, retries: 0 };
      const bad = r.status === 'failed' || r.status === 'timeout';
      rows.push({
        key: r.agentId,
        value: {
          agentId: r.agentId,
          lastRunUs: nowUs,
          lastStatus: r.status,
          ...(r.error ? { lastError: r.error } : {}),
          lastFindings: r.findings.length,
          runs: p.runs + 1,
          failures: p.failures + (bad ? 1 : 0),
          consecutiveFailures: bad ? p.consecutiveFailures + 1 : 0,
          retries: p.retries + Math.max(0, r.attempts - 1),
          lastDurationMs: r.durationMs,
        },
      });
    }
    await this.store.patterns.putMany(HEALTH_KIND, rows);
  }

  /** The window of a cycle: explicit, a time range relative to the newest stored telemetry, or the last 15 minutes of it. */
  async resolveWindow(o: { window?: TimeWindow; timeRange?: string }): Promise<TimeWindow> {
    if (o.window) return o.window;
    const stats = await this.store.telemetry.stats();
    const newest = Math.max(0, ...stats.map((s) => s.lastUs ?? 0));
    const oldest = Math.min(...stats.map((s) => s.firstUs ?? Infinity));
    const anchor = newest ? newest + 1 : systemClock.nowUs();
    if (o.timeRange) {
      let w: TimeWindow;
      try {
        w = parseTimeRange(o.timeRange, anchor);
      } catch (e) {
        throw new SwarmInputError((e as Error).message);
      }
      // "last 4 hours" of a memory that holds 3 minutes is those 3 minutes: analysis resolution follows the data.
      return Number.isFinite(oldest) ? { fromUs: Math.max(w.fromUs, oldest), toUs: w.toUs } : w;
    }
    const from = Number.isFinite(oldest) ? Math.max(oldest, anchor - 15 * 60_000_000) : anchor - 15 * 60_000_000;
    return { fromUs: from, toUs: anchor };
  }

  /** Runs one cycle of the seed's flow. Cycles never overlap: a second call waits for the first. */
  async runCycle(o: CycleOptions = {}): Promise<CycleResult> {
    while (this.running) await this.running.catch(() => undefined);
    const p = this.runCycleNow({ ...this.opts.cycleDefaults, ...o });
    this.running = p;
    try {
      return await p;
    } finally {
      this.running = undefined;
    }
  }

  private async runCycleNow(o: CycleOptions): Promise<CycleResult> {
    const cfg = await this.fleetConfig();
    const cycleId = `cycle-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 6)}`;
    const window = await this.resolveWindow(o);
    const enabled = enabledAgents(cfg);
    const queen = new QueenCoordinator();
    const results = new Map<string, StepResult>();
    const queenParams: Record<string, unknown> = { cycleId };
    const steps: PlanStep[] = [];
    for (const s of SEED_FLOW) {
      let agent: Agent | undefined = o.agents?.[s.agent] ?? this.opts.agents?.[s.agent];
      let disabledReason: string | undefined;
      if (s.agent === AGENT_IDS.fleetCommander) agent = new CommanderStep(() => [...results.values()]);
      else if (s.agent === AGENT_IDS.queenCoordinator) agent = queen;
      else if (!agent && this.opts.remote) agent = this.opts.remote.agent(s.agent);
      else if (!agent) {
        const loaded = await loadAgent(s.agent);
        agent = loaded.agent;
        if (!agent) disabledReason = loaded.reason ?? 'unavailable';
      }
      if (!enabled.has(s.agent)) disabledReason = `domain disabled by fleet_init`;
      if (o.skip?.includes(s.agent)) disabledReason = 'skipped for this cycle';
      const placeholder: Agent = { id: s.agent, layer: 'feedback', description: 'unavailable', run: async () => [] };
      steps.push({
        id: s.agent,
        agent: agent ?? placeholder,
        task: { id: `${cycleId}/${s.agent}`, kind: 'analyze-window', params: s.agent === AGENT_IDS.queenCoordinator ? queenParams : { cycleId, ...(o.params?.[s.agent] ?? {}) }, window },
        dependsOn: s.dependsOn,
        timeoutMs: o.timeoutMs ?? 120_000,
        retries: s.agent === AGENT_IDS.queenCoordinator ? 0 : 1,
        onDependencyFailure: 'run',
        ...(disabledReason ? { disabledReason } : {}),
      });
    }
    if (cfg.topology === 'mesh') {
      await this.store.shared.defineNamespace({ namespace: `fleet/${cycleId}`, owner: AGENT_IDS.fleetCommander, visibility: 'public', writers: [AGENT_IDS.fleetCommander] });
    }
    const hub = this.opts.hub;
    hub?.publish('cycle-started', { cycleId, window, topology: cfg.topology });
    const stepResults = await runPlan(steps, {
      runId: cycleId,
      store: this.store,
      log: this.log,
      clock: systemClock,
      maxAgents: cfg.maxAgents,
      signal: o.signal,
      onEvent: (e) => {
        o.onEvent?.(e);
        if (e.type === 'step-started') hub?.publish('agent-started', { cycleId, agentId: e.agentId, attempt: e.attempt });
        if (e.type === 'step-finished') hub?.publish('agent-finished', { cycleId, agentId: e.result.agentId, status: e.result.status, findings: e.result.findings.length, error: e.result.error });
      },
      upstreamFor: async (step, done, plan) => {
        if (cfg.topology === 'mesh') {
          // Every agent reads what the swarm found so far in this cycle from shared memory.
          const recs = await this.store.shared.read(`fleet/${cycleId}`, step.agent.id);
          return recs.map((r) => r.value as Finding);
        }
        const deps = transitiveDeps(step, plan);
        return [...done.values()].filter((r) => deps.has(r.stepId)).flatMap((r) => r.findings);
      },
      afterStep: async (step, result) => {
        results.set(step.id, result);
        if (cfg.topology === 'mesh' && result.findings.length) {
          for (const f of result.findings) await this.store.shared.write(`fleet/${cycleId}`, f.id, f, AGENT_IDS.fleetCommander, { agent: f.agentId });
        }
        if (step.agent.id === AGENT_IDS.fleetCommander) {
          queenParams.agentNotes = [...results.values()].map((r): AgentRunNote => ({ agentId: r.agentId, status: r.status === 'cancelled' ? 'failed' : r.status, ...(r.error ? { reason: r.error } : {}), findings: r.findings.length, durationMs: r.durationMs }));
        }
      },
    });
    const nowUs = systemClock.nowUs();
    const findings = stepResults.flatMap((r) => r.findings);
    const { inserted } = await this.store.findings.upsert(findings, cycleId);
    await this.recordHealth(stepResults, nowUs);
    const report = queen.lastReport;
    if (!report) throw new Error(`the queen did not produce a report: ${stepResults.find((r) => r.agentId === AGENT_IDS.queenCoordinator)?.error ?? 'unknown error'}`);
    report.agents = stepResults.filter((r) => r.agentId !== AGENT_IDS.queenCoordinator).map((r) => ({ agentId: r.agentId, status: r.status === 'cancelled' ? 'failed' : r.status, ...(r.error ? { reason: r.error } : {}), findings: r.findings.length, durationMs: r.durationMs }));
    const base = { cycleId, window, results: stepResults, findings, report, followUps: queen.lastFollowUps, newFindings: inserted };
    const figures = await (o.figures ?? collectFigures)(this.store, base).catch((e: unknown) => {
      this.log.warn('figures failed', { error: String(e) });
      return [] as FigureSection[];
    });
    await this.store.patterns.put(memory.LATEST_REPORT_KIND, 'latest', { report, figures });
    await this.store.patterns.put(memory.LATEST_REPORT_KIND, cycleId, { report, figures });
    await deliverToIdeation(this.store, report);
    hub?.publish('cycle-finished', { cycleId, items: report.summary.items, top: report.summary.top });
    return base;
  }

  // ---- SwarmApi ----

  async analyze(args: { timeRange?: string }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    let done = 0;
    const r = await this.runCycle({ timeRange: args.timeRange, signal, onEvent: (e) => e.type === 'step-finished' && progress?.(++done, 10, `${e.result.agentId}: ${e.result.status}`) });
    return {
      summary: `cycle ${r.cycleId}: ${r.report.summary.items} feedback items (${r.newFindings.length} new findings)${r.report.summary.top ? `; top: ${r.report.summary.top.title}` : ''}`,
      data: { cycleId: r.cycleId, window: r.window, summary: r.report.summary, agents: r.report.agents, followUps: r.followUps },
    };
  }

  private async runOne(id: AgentId, task: Omit<AgentTask, 'id'>, progress?: ProgressFn, signal?: AbortSignal): Promise<Finding[]> {
    const agent = this.opts.agents?.[id] ?? (await loadAgent(id)).agent;
    if (!agent) throw new SwarmInputError(`${id} is not available in this build`);
    const findings = await agent.run(
      { id: `${id}/${randomUUID().slice(0, 8)}`, ...task },
      { store: this.store, log: this.log, clock: systemClock, signal: signal ?? new AbortController().signal, upstream: [], progress: (p) => progress?.(p.done, p.total, p.message) },
    );
    await this.store.findings.upsert(findings, `adhoc-${id}`);
    return findings;
  }

  private answerFindings(what: string, findings: Finding[], extra: Record<string, unknown> = {}): ToolAnswer {
    const top = [...findings].sort((a, b) => b.confidence - a.confidence).slice(0, 5);
    return {
      summary: findings.length ? `${what}: ${findings.length} finding(s)\n${top.map((f, i) => `${i + 1}. [${f.severity}] ${f.title} (confidence ${f.confidence.toFixed(2)})`).join('\n')}` : `${what}: nothing found`,
      data: { findings, ...extra },
    };
  }

  async defectPredict(args: { target: string; signals?: Record<string, string | undefined>; top?: number }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    const sources = await this.pullSignals(args.signals ?? {});
    const window = await this.resolveWindow({});
    const findings = await this.runOne(AGENT_IDS.defectPredictor, { kind: 'predict', params: { target: args.target, top: args.top ?? 20 }, window }, progress, signal);
    return this.answerFindings(`defect risk under ${args.target}`, findings, { sources });
  }

  /** Pulls the named signal sources into memory; unreachable ones are reported, not fatal. */
  async pullSignals(signals: Record<string, string | undefined>): Promise<{ signal: string; url: string; status: 'ingested' | 'unavailable'; detail: string }[]> {
    const out: { signal: string; url: string; status: 'ingested' | 'unavailable'; detail: string }[] = [];
    for (const [signal, url] of Object.entries(signals)) {
      if (!url) continue;
      try {
        const { pullSource } = await import('../../signals/sources/pull.js');
        const r = await pullSource(url, this.store);
        out.push({ signal, url, status: 'ingested', detail: r });
      } catch (e) {
        out.push({ signal, url, status: 'unavailable', detail: `${(e as Error).message.split('\n')[0]}; using the telemetry already in memory` });
      }
    }
    return out;
  }

  async rootCauseAnalyze(args: { incident: string; symptoms?: string[]; timeRange?: string }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    const window = await this.resolveWindow({ timeRange: args.timeRange });
    const findings = await this.runOne(AGENT_IDS.rootCauseAnalyzer, { kind: 'rca', params: { incident: args.incident, symptoms: args.symptoms ?? [] }, window }, progress, signal);
    return this.answerFindings(`root cause of ${args.incident}`, findings, { window });
  }

  async patternLearn(args: { domain: string; input: string; storeResults?: boolean }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    const window = await this.resolveWindow({ timeRange: /^last |\//.test(args.input) ? args.input : undefined });
    const findings = await this.runOne(AGENT_IDS.patternLearner, { kind: 'learn', params: { incidentId: args.input, domain: args.domain }, window }, progress, signal);
    const templates = await this.store.patterns.list('log-template', { limit: 10_000 });
    const groups = await this.store.patterns.list('error-group', { limit: 10_000 });
    if (args.storeResults === false) {
      // Patterns are the agent's memory; "not storing" means not sharing them with other agents.
      return this.answerFindings(`patterns in ${args.domain}`, findings, { templates: templates.length, errorGroups: groups.length, shared: false });
    }
    const share = await memory.memoryShare(this.store, {
      sourceAgentId: AGENT_IDS.patternLearner,
      targetAgentIds: [AGENT_IDS.rootCauseAnalyzer, AGENT_IDS.defectPredictor, AGENT_IDS.learningCoordinator],
      knowledgeDomain: args.domain,
      content: findings.map((f) => ({ key: f.id, title: f.title, kind: f.kind, evidence: f.evidence })),
    });
    return this.answerFindings(`patterns in ${args.domain}`, findings, { templates: templates.length, errorGroups: groups.length, shared: share.data });
  }

  async performanceAnalyze(args: { service?: string; timeRange?: string }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    const window = await this.resolveWindow({ timeRange: args.timeRange });
    const findings = await this.runOne(AGENT_IDS.performanceTester, { kind: 'analyze-window', params: { services: args.service ? [args.service] : undefined }, window }, progress, signal);
    return this.answerFindings('performance', args.service ? findings.filter((f) => !f.subject.service || f.subject.service === args.service) : findings, { window });
  }

  async chaosRun(args: { experiment: string | Record<string, unknown>; confirm?: boolean }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    const findings = await this.runOne(AGENT_IDS.chaosEngineer, { kind: 'run-experiment', params: { experiment: args.experiment, dryRun: !args.confirm } }, progress, signal);
    return this.answerFindings(args.confirm ? 'chaos experiment' : 'chaos experiment (dry run: pass confirm=true to inject faults)', findings);
  }

  async loadTest(args: { target: string; rate?: number; vus?: number; duration?: string; thresholds?: string[]; capacity?: boolean; underFault?: { toxiproxy: string; proxy: string; toxic: { type: string; stream?: string; attributes?: Record<string, number> }; rate?: number; baselineS?: number; faultS?: number; recoveryS?: number; slo?: { p95Ms: number; errorRate: number } } }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer> {
    const findings = await this.runOne(AGENT_IDS.loadTester, { kind: 'load-test', params: args }, progress, signal);
    return this.answerFindings(`load test of ${args.target}`, findings);
  }

  memoryShare(args: { sourceAgentId: string; targetAgentIds: string[]; knowledgeDomain: string; content?: unknown }): Promise<ToolAnswer> {
    return memory.memoryShare(this.store, args);
  }
  memoryQuery(args: { namespace: string; reader: string; sinceUs?: number; limit?: number }): Promise<ToolAnswer> {
    return memory.memoryQuery(this.store, args);
  }
  knowledgeQuery(args: { query: 'deps' | 'impact' | 'learnings' | 'accuracy' | 'baselines' | 'changes' | 'slos'; node?: string }): Promise<ToolAnswer> {
    return memory.knowledgeQuery(this.store, args);
  }

  changeRecord(args: { changes: unknown }): Promise<ToolAnswer> {
    return memory.changeRecord(this.store, args.changes, 'mcp');
  }
  maintenanceDeclare(args: { window: unknown }): Promise<ToolAnswer> {
    const w = args.window;
    return maintenanceRecord(this.store, w && typeof w === 'object' && !Array.isArray(w) && !('by' in w) ? { ...w, by: 'mcp' } : w);
  }
  feedbackReport(args: { format?: 'json' | 'markdown' | 'html' }): Promise<ToolAnswer> {
    return memory.feedbackReport(this.store, args);
  }
  verdictRecord(args: { findingId: string; verdict: 'confirmed' | 'rejected'; cause?: string; reason?: string; by?: string }): Promise<ToolAnswer> {
    return memory.verdictRecord(this.store, args);
  }
}

export function createSwarm(store: MemoryStore, opts: ConstructorParameters<typeof FleetCommander>[1] = {}): FleetCommander {
  return new FleetCommander(store, opts);
}
