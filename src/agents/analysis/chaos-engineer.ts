/**
 * qe-chaos-engineer: runs chaos experiments (when asked, dry run unless confirmed) and turns every journal —
 * its own or ones recorded by `tswarm chaos run` — into resilience gaps (hypothesis broken, measured deviation,
 * likely missing mechanism) or resilience learnings (hypothesis held). A fault that was not executed never
 * yields a finding: dry runs and journals whose injection failed say "not executed".
 */
import { createHash } from 'node:crypto';
import type { Agent, AgentContext, AgentTask, Finding } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import { runExperiment, type Journal } from '../../chaos/experiment.js';
import { gapsFromJournal } from '../../algorithms/chaos/gaps.js';

export const JOURNAL_KIND = 'chaos-journal';

export function journalId(j: Journal): string {
  return `E-${createHash('sha256').update(`${j.experiment.title}\u0000${j.start}`).digest('hex').slice(0, 8)}`;
}

export function findingsFromJournal(j: Journal, agentId: string, nowUs: number): Finding[] {
  const id = journalId(j);
  return gapsFromJournal(j).map((g) => ({
    id: `chaos-${createHash('sha256').update(`${g.caller ?? ''}\u0000${g.dependency ?? g.experiment}\u0000${g.mechanism}`).digest('hex').slice(0, 16)}`,
    agentId,
    kind: g.held ? 'resilience-confirmed' : 'resilience-gap',
    category: g.held ? ('learning-updates' as const) : ('resilience-gaps' as const),
    title: g.statement,
    severity: g.severity,
    confidence: g.held ? 0.8 : 0.9,
    subject: { ...(g.caller ? { service: g.caller } : {}), ...(g.dependency ? { dependency: g.dependency } : {}) },
    evidence: { experiments: [id], chain: [...g.evidence, `experiment "${g.experiment}" (${id}), journal status ${j.status}${j.deviated ? ', deviated' : ''}`] },
    basis: 'measured' as const,
    window: { fromUs: Date.parse(j.start) * 1000, toUs: Date.parse(j.end) * 1000 },
    createdUs: nowUs,
    data: { mechanism: g.mechanism, fault: g.fault, before: g.before, during: g.during, experiment: g.experiment, journal: id },
  }));
}

export class ChaosEngineer implements Agent {
  readonly id = AGENT_IDS.chaosEngineer;
  readonly layer = 'analysis' as const;
  readonly description = 'Runs chaos experiments with steady-state hypotheses and turns journals into resilience gaps';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const now = ctx.clock.nowUs();
    const findings: Finding[] = [];
    if (task.params.experiment) {
      const dryRun = task.params.dryRun !== false;
      const j = await runExperiment(task.params.experiment, { store: ctx.store, dryRun, signal: ctx.signal, onEvent: (m) => ctx.progress({ done: 0, message: m }) });
      const id = journalId(j);
      if (dryRun) {
        return [{ id: `chaos-plan-${id}`, agentId: this.id, kind: 'chaos-plan', category: 'learning-updates', title: `Dry run of "${j.experiment.title}": not executed`, severity: 'info', confidence: 1, subject: {}, evidence: { chain: ['blast radius:', ...j.blast_radius] }, basis: 'inferred', createdUs: now, data: { journal: j } }];
      }
      await ctx.store.patterns.put(JOURNAL_KIND, id, j);
      findings.push(...findingsFromJournal(j, this.id, now));
      if (!findings.length) findings.push({ id: `chaos-not-executed-${id}`, agentId: this.id, kind: 'chaos-not-executed', category: 'learning-updates', title: `"${j.experiment.title}" did not run to a verdict: ${j.abort_reason ?? j.status}`, severity: 'low', confidence: 1, subject: {}, evidence: { experiments: [id], chain: [j.abort_reason ?? j.status] }, basis: 'measured', createdUs: now });
      return findings;
    }
    // In a cycle: every journal recorded in the window becomes findings (ids are stable, so re-runs merge).
    const journals = await ctx.store.patterns.list<Journal>(JOURNAL_KIND, { limit: 500 });
    const from = task.window?.fromUs ?? 0;
    for (const r of journals) {
      if (Date.parse(r.value.end) * 1000 < from - 24 * 3600e6) continue;
      findings.push(...findingsFromJournal(r.value, this.id, now));
    }
    ctx.progress({ done: 1, total: 1, message: `${journals.length} journals, ${findings.length} findings` });
    return findings;
  }
}

export const chaosEngineer = new ChaosEngineer();
