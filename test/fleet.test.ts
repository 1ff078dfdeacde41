/**
 * The fleet runtime and the commander's cycle: a DAG with a concurrency limit, timeouts, retries, isolation and
 * cancellation; a full cycle over an incident in memory that ranks the injected root cause first, does not
 * duplicate items when run twice, and reports an agent that failed without stopping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Agent, AgentTask, Finding } from '../src/fleet/contracts.js';
import { runPlan, type FleetEvent, type PlanStep } from '../src/fleet/scheduler.js';
import { memoryLogger, silentLogger } from '../src/fleet/logger.js';
import { openStore } from '../src/store/open.js';
import { createSwarm } from '../src/agents/feedback/fleet-commander.js';
import { IDEATION_NAMESPACE, readIdeationFeed } from '../src/feedback/sinks/ideation.js';
import { tempDir } from './helpers/env.js';
import { seedMemory } from './helpers/incident.js';

const finding = (agentId: string, id: string): Finding => ({ id, agentId, kind: 'test', category: 'learning-updates', title: id, severity: 'low', confidence: 0.5, subject: {}, evidence: {}, basis: 'measured', createdUs: 0 });

function agent(id: string, run: (task: AgentTask, signal: AbortSignal, upstream: readonly Finding[]) => Promise<Finding[]>): Agent {
  return { id, layer: 'analysis', description: id, run: (task, ctx) => run(task, ctx.signal, ctx.upstream) };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((r, j) => { const t = setTimeout(r, ms); signal?.addEventListener('abort', () => { clearTimeout(t); j(new Error('aborted')); }); });

test('the scheduler runs a DAG within maxAgents, passes findings downstream, times out, retries and isolates failures', async () => {
  const store = await openStore(':memory:');
  let running = 0;
  let peak = 0;
  const slow = (id: string): Agent => agent(id, async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(60);
    running--;
    return [finding(id, `${id}-f`)];
  });
  let flakyCalls = 0;
  const steps: PlanStep[] = [
    { id: 'a', agent: slow('a'), task: { id: 'a', kind: 't', params: {} }, dependsOn: [] },
    { id: 'b', agent: slow('b'), task: { id: 'b', kind: 't', params: {} }, dependsOn: [] },
    { id: 'c', agent: slow('c'), task: { id: 'c', kind: 't', params: {} }, dependsOn: [] },
    { id: 'hang', agent: agent('hang', async (_t, signal) => { await sleep(10_000, signal); return []; }), task: { id: 'h', kind: 't', params: {} }, dependsOn: [], timeoutMs: 100 },
    { id: 'flaky', agent: agent('flaky', async () => { if (++flakyCalls < 2) throw new Error('transient'); return [finding('flaky', 'flaky-f')]; }), task: { id: 'f', kind: 't', params: {} }, dependsOn: [], retries: 2 },
    { id: 'broken', agent: agent('broken', async () => { throw new Error('source unreachable'); }), task: { id: 'x', kind: 't', params: {} }, dependsOn: [] },
    { id: 'sink', agent: agent('sink', async (_t, _s, up) => [finding('sink', `saw-${up.map((f) => f.id).sort().join(',')}`)]), task: { id: 's', kind: 't', params: {} }, dependsOn: ['a', 'b', 'broken'] },
    { id: 'skipper', agent: slow('skipper'), task: { id: 'k', kind: 't', params: {} }, dependsOn: ['broken'], onDependencyFailure: 'skip' },
  ];
  const events: FleetEvent[] = [];
  const log = memoryLogger();
  const results = await runPlan(steps, { runId: 'r', store, log, clock: { nowUs: () => 0 }, maxAgents: 2, retryBaseMs: 10, onEvent: (e) => events.push(e) });
  const by = Object.fromEntries(results.map((r) => [r.stepId, r]));
  assert.ok(peak <= 2, `peak concurrency ${peak}`);
  assert.equal(by.hang!.status, 'timeout');
  assert.equal(by.flaky!.status, 'ok');
  assert.equal(by.flaky!.attempts, 2);
  assert.equal(by.broken!.status, 'failed');
  assert.equal(by.broken!.error, 'source unreachable');
  assert.equal(by.sink!.status, 'ok', 'a failed dependency does not stop its dependents by default');
  assert.equal(by.sink!.findings[0]!.id, 'saw-a-f,b-f');
  assert.equal(by.skipper!.status, 'skipped');
  assert.ok(events.some((e) => e.type === 'step-retry'));
  assert.ok(log.lines.some((l) => l.level === 'warn' && /broken failed/.test(l.msg)));
  await store.close();
});

test('cancelling a run stops the agents that are running and reports them cancelled', async () => {
  const store = await openStore(':memory:');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const results = await runPlan([{ id: 'long', agent: agent('long', async (_t, signal) => { await sleep(5000, signal); return []; }), task: { id: 'l', kind: 't', params: {} }, dependsOn: [] }], { runId: 'c', store, log: silentLogger, clock: { nowUs: () => 0 }, maxAgents: 1, signal: ac.signal });
  assert.equal(results[0]!.status, 'cancelled');
  await store.close();
});

test('a cycle ranks the root cause first, delivers to ideation, reports a failing agent, and does not duplicate items when run twice', { timeout: 120_000 }, async () => {
  const dir = tempDir('fleet-cycle');
  const db = join(dir.path, 'memory.db');
  await seedMemory(db);
  const store = await openStore(db);
  try {
    const failing = agent('qe-load-tester', async () => { throw new Error('target http://127.0.0.1:9/ unreachable'); });
    const swarm = createSwarm(store, { agents: { 'qe-load-tester': failing } });
    await swarm.fleetInit({ topology: 'hierarchical', enabledDomains: ['defect-intelligence', 'performance-analysis', 'chaos-resilience', 'learning-optimization'], maxAgents: 4 });
    const r1 = await swarm.runCycle({ params: { 'qe-defect-predictor': { repo: process.cwd(), target: 'testbed/' } } });
    const top = [...r1.report.sections['defect-patterns'], ...r1.report.sections['resilience-gaps']].sort((a, b) => b.score - a.score)[0]!;
    assert.equal(top.kind, 'root-cause');
    assert.equal(top.subject.service, 'payment');
    assert.ok(top.evidence.chain!.length > 2);
    for (const c of ['defect-patterns', 'performance-insights', 'learning-updates'] as const) assert.ok(r1.report.sections[c].length > 0, c);
    const lt = r1.report.agents.find((a) => a.agentId === 'qe-load-tester')!;
    assert.equal(lt.status, 'failed');
    assert.match(lt.reason!, /unreachable/);
    assert.ok(r1.report.agents.filter((a) => a.status === 'ok').length >= 7);
    const feed = await readIdeationFeed(store, 'qe-risk-assessor');
    assert.ok(feed.risk.length > 0 && feed.items.length > 0, 'ideation reads risk and items');
    await assert.rejects(store.shared.read(IDEATION_NAMESPACE, 'qe-stranger'), /may not read/);

    const before = (await store.findings.list({})).length;
    const r2 = await swarm.runCycle({ params: { 'qe-defect-predictor': { repo: process.cwd(), target: 'testbed/' } } });
    const ids = Object.values(r2.report.sections).flat().map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate items');
    assert.equal(r2.newFindings.length, 0, 'the same findings are updated, not inserted again');
    assert.equal((await store.findings.list({})).length, before);
    const again = Object.values(r2.report.sections).flat().find((i) => i.kind === 'root-cause')!;
    assert.equal(again.isNew, false);
    const status = await swarm.fleetStatus();
    assert.match(status.summary, /hierarchical/);
  } finally {
    await store.close();
    dir.cleanup();
  }
});
