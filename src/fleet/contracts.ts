/**
 * The contracts every agent, the fleet runtime and the feedback stage share. Kept deliberately small (in the
 * spirit of OpenTelemetry JS's SpanExporter / SpanProcessor): an Agent turns a task into Findings; a Finding
 * always carries its evidence and says whether it was measured or inferred.
 */
import type { MemoryStore } from '../store/store.js';

export type Layer = 'detection' | 'analysis' | 'learning' | 'feedback';

/** The ten agents of the seed, by layer. */
export const AGENT_IDS = {
  defectPredictor: 'qe-defect-predictor',
  rootCauseAnalyzer: 'qe-root-cause-analyzer',
  performanceTester: 'qe-performance-tester',
  chaosEngineer: 'qe-chaos-engineer',
  loadTester: 'qe-load-tester',
  patternLearner: 'qe-pattern-learner',
  learningCoordinator: 'qe-learning-coordinator',
  transferSpecialist: 'qe-transfer-specialist',
  fleetCommander: 'qe-fleet-commander',
  queenCoordinator: 'qe-queen-coordinator',
} as const;
export type AgentId = (typeof AGENT_IDS)[keyof typeof AGENT_IDS];

/** The four outputs of the seed ("feedback to ideation"). */
export type FeedbackCategory = 'defect-patterns' | 'performance-insights' | 'resilience-gaps' | 'learning-updates';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITY_WEIGHT: Record<Severity, number> = { info: 0.1, low: 0.25, medium: 0.5, high: 0.75, critical: 1 };

/** `measured`: computed from data. `inferred`: derived from other findings. Never present an estimate as a measurement. */
export type Basis = 'measured' | 'inferred';

export interface TimeWindow {
  fromUs: number;
  toUs: number;
}

export interface MetricEvidence {
  series: string;
  service?: string;
  window: TimeWindow;
  baseline?: number;
  observed?: number;
  unit?: string;
}

export interface LogTemplateEvidence {
  templateId: string;
  template: string;
  samples?: string[];
  count?: number;
  service?: string;
}

export interface CodeEvidence {
  file: string;
  line?: number;
  function?: string;
  service?: string;
}

/**
 * Who reported a declared change (agents/declared-changes.ts), or the log line a service announced it in
 * (`source: 'log'`, description: the line's message); absent: the change was seen on the spans.
 */
export interface DeclaredEvidence {
  by?: string;
  url?: string;
  description?: string;
  source?: 'log';
}

export interface DeployEvidence {
  service: string;
  version: string;
  atUs: number;
  declared?: DeclaredEvidence;
}

/**
 * A new value of a configuration or feature-flag resource attribute, or a declared config change or flag flip
 * (the change nearest a regression).
 */
export interface ConfigChangeEvidence {
  service: string;
  key: string;
  value: string;
  previous?: string;
  atUs: number;
  /** `flag`: a declared feature-flag flip; absent: a config change. */
  kind?: 'flag';
  declared?: DeclaredEvidence;
}

export interface Evidence {
  traceIds?: string[];
  spanIds?: string[];
  logTemplates?: LogTemplateEvidence[];
  metrics?: MetricEvidence[];
  code?: CodeEvidence[];
  fingerprints?: string[];
  experiments?: string[];
  loadRuns?: string[];
  commits?: string[];
  deploys?: DeployEvidence[];
  configChanges?: ConfigChangeEvidence[];
  /** Ids of findings this one was derived from (required when basis is `inferred`). */
  findings?: string[];
  /** Human-readable steps of reasoning, in order: the evidence chain as text. */
  chain?: string[];
}

export interface FindingSubject {
  service?: string;
  operation?: string;
  file?: string;
  dependency?: string;
  metric?: string;
  [key: string]: string | undefined;
}

export interface Finding {
  /** Stable id: the same issue found again in a later cycle gets the same id (used to deduplicate). */
  id: string;
  agentId: string;
  /** Specific kind, e.g. `anomaly`, `regression`, `slo-burn`, `root-cause`, `log-burst`, `new-error`, `defect-risk`. */
  kind: string;
  category: FeedbackCategory;
  title: string;
  summary?: string;
  severity: Severity;
  /** In [0, 1]. */
  confidence: number;
  subject: FindingSubject;
  evidence: Evidence;
  basis: Basis;
  window?: TimeWindow;
  createdUs: number;
  /** Agent-specific structured payload (scores, rankings, fitted parameters ...). */
  data?: Record<string, unknown>;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Progress {
  done: number;
  total?: number;
  message?: string;
}

/** Injected so that runs over recorded data are reproducible. */
export interface Clock {
  nowUs(): number;
}

export const systemClock: Clock = { nowUs: () => Date.now() * 1000 };

export interface AgentTask {
  id: string;
  /** What to do, e.g. `analyze-window`, `rca`, `predict`, `run-experiment`. */
  kind: string;
  params: Record<string, unknown>;
  window?: TimeWindow;
}

export interface AgentContext {
  store: MemoryStore;
  log: Logger;
  progress(p: Progress): void;
  signal: AbortSignal;
  clock: Clock;
  /** Findings visible to this agent: upstream findings of this cycle (how depends on the fleet topology). */
  upstream: readonly Finding[];
}

export interface Agent {
  id: string;
  layer: Layer;
  description: string;
  run(task: AgentTask, ctx: AgentContext): Promise<Finding[]>;
}
