/**
 * The verdict loop replayed over recorded cases through the shipped path, prequentially: each case is ranked
 * with what the verdicts before it taught (runRca with the learned state), then its verdict is folded in by the
 * coordinator's update (learnFromVerdict), as `tswarm verdict <id> confirmed|rejected [--cause <service>]` does.
 */
import type { RcaCase } from '../../src/agents/detection/rca-cases.js';
import { runRca } from '../../src/agents/detection/rca-run.js';
import { NOT_CANDIDATES } from '../../src/agents/detection/rca-sources.js';
import { verdictData } from '../../src/agents/detection/root-cause-analyzer.js';
import { learnFromVerdict, type LearnedRankingState } from '../../src/agents/learning/learning-coordinator.js';

export type LearnerPart = keyof LearnedRankingState;

/**
 * Each case's ranking before its own verdict, and the learned state after each verdict. `named`: the verdict names
 * the culprit (`--cause`); otherwise it only confirms or rejects the top candidate. A function says it per case
 * (by position in the replay, and whether the top was right), for streams where some verdicts name the cause and
 * others do not.
 */
export function replayVerdicts(cases: readonly RcaCase[], parts: readonly LearnerPart[], namedAll: boolean | ((i: number, hit: boolean) => boolean) = true): { rankings: string[][]; states: LearnedRankingState[] } {
  let st: LearnedRankingState = {};
  const states: LearnedRankingState[] = [];
  const rankings = cases.map((c, i) => {
    const run = runRca(c, { exclude: NOT_CANDIDATES, learned: st });
    const truth = c.truth!.service;
    const hit = run.candidates[0]?.service === truth;
    const named = typeof namedAll === 'function' ? namedAll(i, hit) : namedAll;
    const data = named ? { ...verdictData(run), confirmedCause: truth } : verdictData(run);
    const next = learnFromVerdict(st, { id: c.id, subject: { service: run.candidates[0]?.service }, data }, named || hit ? 'confirmed' : 'rejected');
    st = Object.fromEntries(parts.map((p) => [p, next[p]]));
    states.push(st);
    return run.candidates.map((x) => x.service);
  });
  return { rankings, states };
}
