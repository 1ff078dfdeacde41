/**
 * qe-transfer-specialist: cold-starts new or changed services from similar ones, carries incident signatures and
 * resilience learnings across services and environments, and records which transfers proved right.
 *
 * Per cycle:
 *  1. Profiles every service from memory (graph neighbours and operations, runtime resource attributes, log
 *     templates) and its latency history from rollups.
 *  2. A service with too little history of its own (`minOwnBuckets`) is a cold start: it gets the best donor's
 *     latency and error-rate baselines as a prior (`transfer/baseline` pattern records, read by the performance
 *     tester) and the donor's resilience learnings as hypotheses to verify.
 *  3. Earlier transfers whose target now has enough data of its own are judged automatically: confirmed when the
 *     target's own baseline falls inside the borrowed one's widened band, rejected otherwise.
 */
import type { Agent, AgentContext, AgentTask, Finding } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import { borrow, predictiveStd, rankDonors, type BaselineStats, type BorrowedPrior, type ServiceProfile } from '../../algorithms/learning/transfer.js';
import type { MemoryStore, Rollup } from '../../store/store.js';

export interface TransferredBaseline {
  service: string;
  metric: 'latency-mean-ms' | 'error-rate';
  prior: BorrowedPrior;
  transferId: string;
}

const BASELINE_KIND = 'transfer-baseline';

/** Per-bucket mean latency (ms) and error rate of each service, from rollups (server spans). */
export function serviceSeries(rollups: readonly Rollup[]): Map<string, { latencyMs: number[]; errorRate: number[] }> {
  const per = new Map<string, Map<number, { req: number; err: number; dur: number }>>();
  for (const r of rollups) {
    let m = per.get(r.service);
    if (!m) per.set(r.service, (m = new Map()));
    const cur = m.get(r.bucketStartUs) ?? { req: 0, err: 0, dur: 0 };
    cur.req += r.requests;
    cur.err += r.errors;
    cur.dur += r.durationSumUs;
    m.set(r.bucketStartUs, cur);
  }
  const out = new Map<string, { latencyMs: number[]; errorRate: number[] }>();
  for (const [svc, m] of per) {
    const buckets = [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v).filter((v) => v.req > 0);
    out.set(svc, { latencyMs: buckets.map((b) => b.dur / b.req / 1000), errorRate: buckets.map((b) => b.err / b.req) });
  }
  return out;
}

/** Median and MAD-scaled spread: robust, because a donor's own incidents must not become the new service's normal. */
export function robustStats(xs: readonly number[]): BaselineStats {
  if (!xs.length) return { mean: 0, std: 0, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)]!;
  const dev = s.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  const mad = dev[Math.floor(dev.length / 2)]!;
  return { mean: med, std: Math.max(1.4826 * mad, Math.abs(med) * 0.02, 1e-6), n: xs.length };
}

export async function buildProfiles(store: MemoryStore): Promise<ServiceProfile[]> {
  const [calls, hasOp, services, templates] = await Promise.all([
    store.graph.edges({ kind: 'calls' }),
    store.graph.edges({ kind: 'has-operation' }),
    store.graph.nodes({ kind: 'service' }),
    store.patterns.list<{ template?: string }>('log-template', { limit: 50_000 }),
  ]);
  const strip = (id: string): string => id.replace(/^(service|peer):/, '');
  const names = new Set(services.map((n) => strip(n.id)));
  for (const e of calls) {
    names.add(strip(e.source));
  }
  const profiles: ServiceProfile[] = [];
  for (const svc of names) {
    const id = `service:${svc}`;
    const neighbours = new Set<string>();
    for (const e of calls) {
      if (e.source === id) neighbours.add(`callee:${strip(e.target)}`);
      if (e.target === id) neighbours.add(`caller:${strip(e.source)}`);
    }
    const operations = hasOp.filter((e) => e.source === id).map((e) => e.target.replace(/^operation:[^/]*\//, ''));
    const node = services.find((n) => n.id === id);
    const runtime: Record<string, string> = {};
    for (const k of ['telemetry.sdk.language', 'process.runtime.name', 'deployment.environment', 'service.version']) {
      const v = node?.props?.[k];
      if (typeof v === 'string') runtime[k] = v;
    }
    profiles.push({
      service: svc,
      environment: runtime['deployment.environment'],
      neighbours: [...neighbours],
      operations,
      runtime: Object.fromEntries(Object.entries(runtime).filter(([k]) => k !== 'deployment.environment' && k !== 'service.version')),
      templates: templates.filter((t) => t.service === svc).map((t) => t.key),
    });
  }
  return profiles;
}

export class TransferSpecialist implements Agent {
  readonly id = AGENT_IDS.transferSpecialist;
  readonly layer = 'learning' as const;
  readonly description = 'Cold-starts new services from similar ones (borrowed baselines, carried resilience learnings) and judges past transfers';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const minOwnBuckets = Number(task.params.minOwnBuckets ?? 30);
    const nowUs = ctx.clock.nowUs();
    const findings: Finding[] = [];
    const rollups = await ctx.store.telemetry.rollups({});
    const series = serviceSeries(rollups);
    const profiles = await buildProfiles(ctx.store);
    ctx.progress({ done: 1, total: 3, message: `${profiles.length} service profiles` });

    // Judge earlier transfers whose target now stands on its own data.
    const past = await ctx.store.learning.transfers({ kind: 'baseline' });
    for (const t of past) {
      if (t.outcome) continue;
      const p = t.payload as TransferredBaseline;
      const own = series.get(p.service);
      const xs = p.metric === 'latency-mean-ms' ? own?.latencyMs : own?.errorRate;
      if (!xs || xs.length < minOwnBuckets) continue;
      const ownStats = robustStats(xs);
      // The prior claimed the level within its predictive spread (noise and level uncertainty); stores from before
      // levelStd existed judge by the noise alone.
      const band = 3 * predictiveStd(p.prior);
      const ok = Math.abs(ownStats.mean - p.prior.mean) <= band;
      await ctx.store.learning.recordTransfer({ ...t, outcome: ok ? 'confirmed' : 'rejected' });
      await ctx.store.learning.recordVerdict({ findingId: t.id, verdict: ok ? 'confirmed' : 'rejected', by: this.id, reason: `own ${p.metric} ${ownStats.mean.toFixed(3)} vs borrowed ${p.prior.mean.toFixed(3)} ± ${band.toFixed(3)}`, atUs: nowUs, automatic: true });
      findings.push({
        id: `transfer-verdict-${t.id}`,
        agentId: this.id,
        kind: 'transfer-verdict',
        category: 'learning-updates',
        title: `Transfer ${t.fromSubject} → ${t.toSubject} (${p.metric}) ${ok ? 'proved right' : 'proved wrong'}`,
        severity: ok ? 'info' : 'low',
        confidence: 0.9,
        subject: { service: p.service },
        evidence: { chain: [`borrowed ${p.prior.mean.toFixed(3)} ± ${predictiveStd(p.prior).toFixed(3)} from ${p.prior.from} (similarity ${p.prior.similarity.toFixed(2)})`, `own baseline over ${xs.length} buckets: ${ownStats.mean.toFixed(3)}`] },
        basis: 'measured',
        createdUs: nowUs,
      });
      await ctx.store.patterns.delete(BASELINE_KIND, `${p.service}|${p.metric}`);
    }
    ctx.progress({ done: 2, total: 3 });

    const established = profiles.filter((p) => (series.get(p.service)?.latencyMs.length ?? 0) >= minOwnBuckets);
    const resilience = await ctx.store.patterns.list<{ title?: string; statement?: string }>('resilience-learning', { limit: 10_000 });
    for (const target of profiles) {
      const own = series.get(target.service);
      if (own && own.latencyMs.length >= minOwnBuckets) continue;
      if (ctx.signal.aborted) break;
      const donors = rankDonors(target, established);
      const best = donors[0];
      if (!best) continue;
      const donorSeries = series.get(best.donor)!;
      const made: TransferredBaseline[] = [];
      for (const metric of ['latency-mean-ms', 'error-rate'] as const) {
        const xs = metric === 'latency-mean-ms' ? donorSeries.latencyMs : donorSeries.errorRate;
        const prior = borrow(robustStats(xs), best.donor, best.score);
        const transferId = `transfer-${best.donor}-${target.service}-${metric}`;
        const tb: TransferredBaseline = { service: target.service, metric, prior, transferId };
        const existing = await ctx.store.patterns.get<TransferredBaseline>(BASELINE_KIND, `${target.service}|${metric}`);
        await ctx.store.patterns.put(BASELINE_KIND, `${target.service}|${metric}`, tb, { service: target.service });
        if (!existing) {
          await ctx.store.learning.recordTransfer({ id: transferId, fromSubject: best.donor, toSubject: target.service, kind: 'baseline', payload: tb, atUs: nowUs });
          made.push(tb);
        }
      }
      // Resilience learnings of the donor become hypotheses for the target (to verify, hence inferred).
      const carried = resilience.filter((r) => r.service === best.donor).slice(0, 5);
      for (const r of carried) {
        const id = `transfer-${best.donor}-${target.service}-resilience-${r.key}`;
        await ctx.store.learning.recordTransfer({ id, fromSubject: best.donor, toSubject: target.service, kind: 'resilience-learning', payload: r.value, atUs: nowUs });
      }
      if (made.length || carried.length) {
        findings.push({
          id: `cold-start-${target.service}`,
          agentId: this.id,
          kind: 'cold-start-transfer',
          category: 'learning-updates',
          title: `${target.service} cold-started from ${best.donor} (similarity ${best.score.toFixed(2)})`,
          summary: made.map((m) => `${m.metric}: ${m.prior.mean.toFixed(3)} ± ${predictiveStd(m.prior).toFixed(3)} (worth ${m.prior.n.toFixed(0)} observations)`).join('; '),
          severity: 'info',
          confidence: best.score,
          subject: { service: target.service },
          evidence: {
            chain: [
              `${target.service} has ${own?.latencyMs.length ?? 0} buckets of its own history (< ${minOwnBuckets})`,
              `best donor ${best.donor}: ${Object.entries(best.parts).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${(v as number).toFixed(2)}`).join(', ')}`,
              ...carried.map((r) => `carried resilience learning: ${r.value.statement ?? r.value.title ?? r.key}`),
            ],
          },
          basis: 'inferred',
          createdUs: nowUs,
          data: { donors: donors.slice(0, 3), baselines: made },
        });
      }
    }
    ctx.progress({ done: 3, total: 3 });
    return findings;
  }
}
