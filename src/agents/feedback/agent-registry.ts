/**
 * Where the fleet finds its agents. Each agent module is loaded lazily (a CLI command that runs one agent does
 * not pay for the others); a module that is missing or fails to load leaves its agent "unavailable", which the
 * cycle reports instead of failing.
 */
import type { Agent, AgentId } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';

const MODULES: Partial<Record<AgentId, string>> = {
  [AGENT_IDS.defectPredictor]: '../detection/defect-predictor.js',
  [AGENT_IDS.rootCauseAnalyzer]: '../detection/root-cause-analyzer.js',
  [AGENT_IDS.performanceTester]: '../analysis/performance-tester.js',
  [AGENT_IDS.chaosEngineer]: '../analysis/chaos-engineer.js',
  [AGENT_IDS.loadTester]: '../analysis/load-tester.js',
  [AGENT_IDS.patternLearner]: '../learning/pattern-learner.js',
  [AGENT_IDS.learningCoordinator]: '../learning/learning-coordinator.js',
  [AGENT_IDS.transferSpecialist]: '../learning/transfer-specialist.js',
  [AGENT_IDS.queenCoordinator]: './queen-coordinator.js',
};

function isAgent(x: unknown, id: string): x is Agent {
  return typeof x === 'object' && x !== null && (x as Agent).id === id && typeof (x as Agent).run === 'function';
}

/** Finds the agent in a module: an exported instance, or an exported class whose instance has the right id. */
export function agentFromModule(mod: Record<string, unknown>, id: string): Agent | undefined {
  for (const v of Object.values(mod)) if (isAgent(v, id)) return v;
  for (const v of Object.values(mod)) {
    if (typeof v !== 'function' || !/^class\s/.test(Function.prototype.toString.call(v))) continue;
    try {
      const inst: unknown = new (v as new () => unknown)();
      if (isAgent(inst, id)) return inst;
    } catch {
      // Constructors that need arguments are not agent classes we can build here.
    }
  }
  return undefined;
}

export async function loadAgent(id: AgentId): Promise<{ agent?: Agent; reason?: string }> {
  const path = MODULES[id];
  if (!path) return { reason: 'no implementation registered' };
  try {
    const mod = (await import(new URL(path, import.meta.url).href)) as Record<string, unknown>;
    const agent = agentFromModule(mod, id);
    return agent ? { agent } : { reason: `module ${path} exports no agent with id ${id}` };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { reason: /Cannot find module|ERR_MODULE_NOT_FOUND/.test(msg) ? 'not installed in this build' : `failed to load: ${msg.split('\n')[0]}` };
  }
}
