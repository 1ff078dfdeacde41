/**
 * What the swarm offers its interfaces (MCP tools, HTTP API, CLI): one operation per seed tool. The fleet
 * commander implements it; the adapters in src/interfaces/ only validate arguments and format answers.
 */

export type Topology = 'mesh' | 'hierarchical';

/** The seed's domains (agentic-qe naming) and the agents each enables. */
export const DOMAINS = {
  'defect-intelligence': ['qe-defect-predictor', 'qe-root-cause-analyzer'],
  'performance-analysis': ['qe-performance-tester', 'qe-load-tester'],
  'chaos-resilience': ['qe-chaos-engineer', 'qe-load-tester'],
  'learning-optimization': ['qe-pattern-learner', 'qe-learning-coordinator', 'qe-transfer-specialist'],
} as const;
export type Domain = keyof typeof DOMAINS;

export interface FleetConfig {
  topology: Topology;
  enabledDomains: Domain[];
  maxAgents: number;
}

/** Every operation answers with a readable summary and structured data. */
export interface ToolAnswer<T = Record<string, unknown>> {
  summary: string;
  data: T;
}

export type ProgressFn = (done: number, total: number | undefined, message?: string) => void;

export interface SwarmApi {
  fleetInit(cfg: FleetConfig): Promise<ToolAnswer>;
  fleetStatus(): Promise<ToolAnswer>;
  analyze(args: { timeRange?: string }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  defectPredict(args: { target: string; signals?: { logs?: string; metrics?: string; traces?: string; errors?: string }; top?: number }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  rootCauseAnalyze(args: { incident: string; symptoms?: string[]; timeRange?: string }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  patternLearn(args: { domain: string; input: string; storeResults?: boolean }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  performanceAnalyze(args: { service?: string; timeRange?: string }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  chaosRun(args: { experiment: string | Record<string, unknown>; confirm?: boolean }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  loadTest(args: { target: string; rate?: number; vus?: number; duration?: string; thresholds?: string[]; capacity?: boolean; underFault?: { toxiproxy: string; proxy: string; toxic: { type: string; stream?: string; attributes?: Record<string, number> }; rate?: number; baselineS?: number; faultS?: number; recoveryS?: number; slo?: { p95Ms: number; errorRate: number } } }, progress?: ProgressFn, signal?: AbortSignal): Promise<ToolAnswer>;
  memoryShare(args: { sourceAgentId: string; targetAgentIds: string[]; knowledgeDomain: string; content?: unknown }): Promise<ToolAnswer>;
  memoryQuery(args: { namespace: string; reader: string; sinceUs?: number; limit?: number }): Promise<ToolAnswer>;
  knowledgeQuery(args: { query: 'deps' | 'impact' | 'learnings' | 'accuracy' | 'baselines' | 'changes' | 'slos'; node?: string }): Promise<ToolAnswer>;
  /** Declares deploys, config changes and flag flips (signals/change-event.ts: one, or a list). */
  changeRecord(args: { changes: unknown }): Promise<ToolAnswer>;
  /** Declares planned work (signals/maintenance-window.ts): left out of the analysis like the swarm's own experiments. */
  maintenanceDeclare(args: { window: unknown }): Promise<ToolAnswer>;
  feedbackReport(args: { format?: 'json' | 'markdown' | 'html' }): Promise<ToolAnswer>;
  verdictRecord(args: { findingId: string; verdict: 'confirmed' | 'rejected'; cause?: string; reason?: string; by?: string }): Promise<ToolAnswer>;
}

/** A user mistake (unknown id, bad range ...): adapters show the message as is, with a 4xx / isError. */
export class SwarmInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SwarmInputError';
  }
}
