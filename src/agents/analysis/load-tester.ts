/**
 * qe-load-tester: runs load tests and step tests when asked (targets on the allow-list only), fits the Universal
 * Scalability Law and finds the saturation knee, checks thresholds, and compares each run with the previous run
 * of the same target (regressions between runs). Runs are kept in the pattern store (`load-run`) so later cycles
 * and the report can use them.
 */
import { createHash } from 'node:crypto';
import type { Agent, AgentContext, AgentTask, Finding } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import { runLoad, type LoadSummary } from '../../load/generator.js';
import { capacityTest, type CapacityResult } from '../../load/capacity.js';
import { loadUnderFault, toxiproxyHooks, type UnderFaultResult } from '../../load/under-fault.js';
import { parseDurationMs } from '../../algorithms/time/duration.js';

export const LOAD_RUN_KIND = 'load-run';

export interface LoadRunRecord {
  id: string;
  target: string;
  atUs: number;
  /** When the load ran (wall clock, µs): a known, self-inflicted disturbance the RCA does not take for an incident. */
  startUs?: number;
  endUs?: number;
  summary?: LoadSummary;
  capacity?: CapacityResult;
  /** Load under fault: the same load before, during and after a fault. */
  underFault?: Omit<UnderFaultResult, 'summary'> & { phases: NonNullable<LoadSummary['phases']> };
}

const hash = (...p: string[]): string => createHash('sha256').update(p.join('\u0000')).digest('hex').slice(0, 12);

/**
 * With κ = 0 the USL has no peak: throughput keeps rising (ever more slowly) however many users arrive, so the
 * honest headline is the best rate measured and that it was still climbing at the largest step tried; a peak the
 * fit places beyond the largest step is reported as an extrapolation.
 */
function capacityHeadline(u: NonNullable<CapacityResult['usl']>, steps: readonly { n: number; x: number }[]): string {
  const best = steps.reduce((a, s) => Math.max(a, s.x), 0);
  const maxN = steps.reduce((a, s) => Math.max(a, s.n), 0);
  // A peak past the largest step is the model's extrapolation, not a measurement: say so.
  if (Number.isFinite(u.peakConcurrency) && u.peakConcurrency <= maxN) return `peak ${u.peakThroughput.toFixed(0)} req/s at ${u.peakConcurrency.toFixed(0)} concurrent`;
  if (Number.isFinite(u.peakConcurrency)) return `best measured ${best.toFixed(0)} req/s at ${maxN} concurrent; USL extrapolates a peak of ${u.peakThroughput.toFixed(0)} req/s at ${u.peakConcurrency.toFixed(0)}`;
  return `no throughput peak up to ${maxN} concurrent (best measured ${best.toFixed(0)} req/s, still rising)`;
}

export function findingsFromRun(run: LoadRunRecord, previous: LoadRunRecord | undefined, agentId: string, nowUs: number): Finding[] {
  const out: Finding[] = [];
  const subject = { service: new URL(run.target).host, operation: new URL(run.target).pathname };
  if (run.capacity?.usl) {
    const u = run.capacity.usl;
    out.push({
      id: `load-capacity-${hash(run.target)}`,
      agentId,
      kind: 'capacity',
      category: 'performance-insights',
      title: `${run.target}: ${capacityHeadline(u, run.capacity.steps)} (USL σ ${u.sigma.toFixed(3)}, κ ${u.kappa.toFixed(4)})${run.capacity.knee ? `; knee at ${run.capacity.knee.n}` : ''}`,
      severity: 'info',
      confidence: Math.max(0.3, Math.min(0.95, u.r2)),
      subject,
      evidence: { loadRuns: [run.id], chain: [...run.capacity.steps.map((s) => `${s.n} concurrent: ${s.x.toFixed(0)}/s, p95 ${s.p95Ms.toFixed(1)} ms, ${(100 * s.errorRate).toFixed(1)}% errors`), ...(run.capacity.knee ? [run.capacity.knee.reason] : [])] },
      basis: 'measured',
      createdUs: nowUs,
      data: { usl: u, steps: run.capacity.steps, knee: run.capacity.knee },
    });
  }
  const uf = run.underFault;
  if (uf) {
    const v = uf.verdict;
    const d = uf.phases[1]!;
    out.push({
      id: `load-under-fault-${hash(run.target, uf.fault.label)}`,
      agentId,
      kind: uf.injected ? (v.gap ? 'resilience-gap' : 'resilience-held') : 'not-executed',
      category: 'resilience-gaps',
      title: !uf.injected
        ? `${run.target}: load under fault (${uf.fault.label}) not executed — the fault was never injected`
        : v.gap
          ? `${run.target} under ${uf.fault.label}: p95 ${d.p95.toFixed(0)} ms (×${v.p95Inflation.toFixed(1)}), errors ${(100 * d.errorRate).toFixed(1)}%, error budget burned ${v.budgetBurn.toFixed(1)}× — ${v.mechanism ?? 'SLO broken'}`
          : `${run.target} held its SLO under ${uf.fault.label}: p95 ${d.p95.toFixed(0)} ms, errors ${(100 * d.errorRate).toFixed(2)}%`,
      severity: uf.injected ? v.severity : 'info',
      confidence: uf.injected ? 0.9 : 0.2,
      subject,
      evidence: { loadRuns: [run.id], chain: v.chain },
      basis: uf.injected ? 'measured' : 'inferred',
      createdUs: nowUs,
      data: { verdict: v, phases: uf.phases, fault: uf.fault },
    });
  }
  const s = run.summary;
  if (s && !uf) {
    for (const t of s.thresholds.filter((x) => !x.passed)) {
      out.push({ id: `load-threshold-${hash(run.target, t.expr)}`, agentId, kind: 'threshold-failed', category: 'performance-insights', title: `${run.target}: threshold ${t.expr} failed (observed ${t.observed.toFixed(3)})`, severity: 'medium', confidence: 0.95, subject, evidence: { loadRuns: [run.id], chain: [`${s.requests} requests at ${s.achievedRate.toFixed(0)}/s; p95 ${s.latency.p95.toFixed(1)} ms, errors ${(100 * s.errorRate).toFixed(2)}%`] }, basis: 'measured', createdUs: nowUs, data: { summary: s } });
    }
    const p = previous?.summary;
    if (p && s.latency.p95 > p.latency.p95 * 1.2 && s.latency.p95 - p.latency.p95 > 5) {
      out.push({ id: `load-regression-${hash(run.target)}`, agentId, kind: 'regression', category: 'performance-insights', title: `${run.target}: p95 under load regressed ${p.latency.p95.toFixed(1)} → ${s.latency.p95.toFixed(1)} ms since the previous run`, severity: 'medium', confidence: 0.8, subject, evidence: { loadRuns: [previous!.id, run.id] }, basis: 'measured', createdUs: nowUs, data: { before: p.latency, after: s.latency } });
    }
  }
  return out;
}

export class LoadTester implements Agent {
  readonly id = AGENT_IDS.loadTester;
  readonly layer = 'analysis' as const;
  readonly description = 'Generates load with honest latency, checks thresholds, fits USL capacity, compares runs';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const now = ctx.clock.nowUs();
    const target = task.params.target as string | undefined;
    if (target) {
      const allow = (task.params.allow as string[] | undefined) ?? ['loopback'];
      const record: LoadRunRecord = { id: `L-${hash(target, String(now))}`, target, atUs: now, startUs: Date.now() * 1000 };
      const uf = task.params.underFault as { toxiproxy: string; proxy: string; toxic: { type: string; attributes?: Record<string, number> }; rate?: number; baselineS?: number; faultS?: number; recoveryS?: number; slo?: { p95Ms: number; errorRate: number } } | undefined;
      if (uf) {
        const r = await loadUnderFault({
          requests: [{ url: target }],
          rate: uf.rate ?? 50,
          baselineS: uf.baselineS ?? 5,
          faultS: uf.faultS ?? 10,
          recoveryS: uf.recoveryS ?? 5,
          slo: uf.slo ?? { p95Ms: 300, errorRate: 0.01 },
          hooks: toxiproxyHooks(uf.toxiproxy, uf.proxy, uf.toxic, allow),
          allow,
          signal: ctx.signal,
          onEvent: (e) => ctx.progress({ done: 0, message: e }),
        });
        record.underFault = { verdict: r.verdict, fault: r.fault, injected: r.injected, phases: r.summary.phases! };
      } else if (task.params.capacity) {
        record.capacity = await capacityTest([{ url: target }], { levels: (task.params.levels as number[] | undefined) ?? [1, 2, 4, 8, 16], stepS: Number(task.params.stepS ?? 3), allow, signal: ctx.signal, onStep: (n) => ctx.progress({ done: n, message: `${n} concurrent` }) });
      } else {
        const rate = task.params.rate as number | undefined;
        const vus = task.params.vus as number | undefined;
        record.summary = await runLoad({
          requests: [{ url: target }],
          model: vus ? { type: 'closed', vus } : { type: 'open', rate: rate ?? 50 },
          duration: parseDurationMs(String(task.params.duration ?? '10s')) / 1000,
          thresholds: (task.params.thresholds as string[] | undefined) ?? [],
          allow,
          signal: ctx.signal,
          onProgress: (p) => ctx.progress({ done: Math.round(p.elapsedS), message: `${p.ratePerS.toFixed(0)}/s, p95 ${p.p95Ms.toFixed(1)} ms` }),
        });
      }
      record.endUs = Date.now() * 1000;
      const prev = (await ctx.store.patterns.list<LoadRunRecord>(LOAD_RUN_KIND, { limit: 500 })).map((r) => r.value).filter((r) => r.target === target && r.summary).sort((a, b) => b.atUs - a.atUs)[0];
      await ctx.store.patterns.put(LOAD_RUN_KIND, record.id, record);
      const f = findingsFromRun(record, prev, this.id, now);
      if (record.summary && !f.length) f.push({ id: `load-ok-${hash(target)}`, agentId: this.id, kind: 'load-ok', category: 'performance-insights', title: `${target}: ${record.summary.achievedRate.toFixed(0)} req/s, p95 ${record.summary.latency.p95.toFixed(1)} ms, ${(100 * record.summary.errorRate).toFixed(2)}% errors`, severity: 'info', confidence: 0.95, subject: { service: new URL(target).host }, evidence: { loadRuns: [record.id] }, basis: 'measured', createdUs: now, data: { summary: record.summary } });
      return f;
    }
    // In a cycle: runs recorded in or near the window become findings (stable ids merge across cycles).
    const runs = (await ctx.store.patterns.list<LoadRunRecord>(LOAD_RUN_KIND, { limit: 500 })).map((r) => r.value).sort((a, b) => a.atUs - b.atUs);
    const from = (task.window?.fromUs ?? 0) - 24 * 3600e6;
    const out: Finding[] = [];
    runs.forEach((r, i) => {
      if (r.atUs < from) return;
      const prev = runs.slice(0, i).reverse().find((x) => x.target === r.target && x.summary);
      out.push(...findingsFromRun(r, prev, this.id, now));
    });
    return out;
  }
}

export const loadTester = new LoadTester();
