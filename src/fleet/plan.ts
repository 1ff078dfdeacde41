/**
 * The seed's flow as data: which agent feeds which (production-telemetry-swarm.md, "Swarm Architecture"):
 *   logs, errors → defect-predictor;  metrics → performance-tester;  traces → root-cause-analyzer
 *   dp → pl, rca → pl, pt → lt, ce → lt, lt → lc, pl → lc, lc → tl, tl → fc, fc → qc
 * The fleet commander turns this into plan steps with the agents it has.
 */
import { AGENT_IDS, type AgentId } from './contracts.js';

export const SEED_FLOW: readonly { agent: AgentId; dependsOn: AgentId[] }[] = [
  { agent: AGENT_IDS.defectPredictor, dependsOn: [] },
  { agent: AGENT_IDS.rootCauseAnalyzer, dependsOn: [] },
  { agent: AGENT_IDS.performanceTester, dependsOn: [] },
  { agent: AGENT_IDS.chaosEngineer, dependsOn: [] },
  { agent: AGENT_IDS.loadTester, dependsOn: [AGENT_IDS.performanceTester, AGENT_IDS.chaosEngineer] },
  { agent: AGENT_IDS.patternLearner, dependsOn: [AGENT_IDS.defectPredictor, AGENT_IDS.rootCauseAnalyzer] },
  { agent: AGENT_IDS.learningCoordinator, dependsOn: [AGENT_IDS.loadTester, AGENT_IDS.patternLearner] },
  { agent: AGENT_IDS.transferSpecialist, dependsOn: [AGENT_IDS.learningCoordinator] },
  { agent: AGENT_IDS.fleetCommander, dependsOn: [AGENT_IDS.transferSpecialist] },
  { agent: AGENT_IDS.queenCoordinator, dependsOn: [AGENT_IDS.fleetCommander] },
];

/** Which input signals feed which detection/analysis agent, for the report's "what did not run" notes. */
export const SIGNAL_INPUTS: Partial<Record<AgentId, ('logs' | 'metrics' | 'traces' | 'errors')[]>> = {
  [AGENT_IDS.defectPredictor]: ['logs', 'errors'],
  [AGENT_IDS.performanceTester]: ['metrics'],
  [AGENT_IDS.rootCauseAnalyzer]: ['traces'],
};
