/**
 * The seed's MCP calls ("MCP Integration" in production-telemetry-swarm.md), made as written through the MCP
 * SDK's real Client, over stdio (`tswarm mcp`) and over Streamable HTTP (`tswarm serve`'s /mcp with a token).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { REPO_ROOT, freePort, tempDir } from './helpers/env.js';
import { seedMemory } from './helpers/incident.js';

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };

/**
 * Hands the client one message per macrotask. The SDK's client dispatches a notification in a microtask but a
 * response at once, so when progress and the answer arrive in one read (the pipe coalesces them under load) the
 * answer removes the progress handler before the progress is delivered, and the progress is dropped. Our server
 * sends every notification before its answer; delivering messages one at a time keeps the test about that order.
 */
function oneMessageAtATime<T extends Transport>(inner: T): Transport {
  let chain = Promise.resolve();
  const outer: Transport = {
    start: async () => {
      inner.onmessage = (m, extra) => {
        chain = chain.then(() => new Promise<void>((r) => setImmediate(() => {
          outer.onmessage?.(m, extra);
          r();
        })));
      };
      inner.onclose = () => outer.onclose?.();
      inner.onerror = (e) => outer.onerror?.(e);
      await inner.start();
    },
    send: (m, o) => inner.send(m, o),
    close: () => inner.close(),
    setProtocolVersion: (v) => inner.setProtocolVersion?.(v),
    get sessionId() {
      return inner.sessionId;
    },
  };
  return outer;
}

async function seedCalls(client: Client): Promise<void> {
  const tools = (await client.listTools()).tools.map((t) => t.name);
  for (const t of ['fleet_init', 'fleet_status', 'defect_predict', 'root_cause_analyze', 'pattern_learn', 'memory_share', 'memory_query', 'performance_analyze', 'chaos_run', 'load_test', 'knowledge_query', 'feedback_report', 'verdict_record', 'benchmark_regressions']) assert.ok(tools.includes(t), t);
  const call = async (name: string, args: Record<string, unknown>): Promise<ToolResult> => (await client.callTool({ name, arguments: args })) as ToolResult;

  const init = await call('fleet_init', { topology: 'mesh', enabledDomains: ['defect-intelligence', 'chaos-resilience', 'learning-optimization'], maxAgents: 10 });
  assert.ok(!init.isError, JSON.stringify(init));
  assert.equal(init.structuredContent!.topology, 'mesh');

  const dp = await call('defect_predict', { target: 'testbed/', signals: { logs: 'cloudwatch://app-logs', metrics: 'prometheus://app-metrics', traces: 'jaeger://app-traces' } });
  assert.ok(!dp.isError, JSON.stringify(dp.content));
  const dpFindings = dp.structuredContent!.findings as { subject: { file?: string } }[];
  assert.equal(dpFindings[0]!.subject.file, 'testbed/service/defects.ts');
  const sources = dp.structuredContent!.sources as { url: string; status: string }[];
  assert.equal(sources.length, 3);
  assert.ok(sources.every((s) => s.status === 'unavailable'), 'sources without a configured backend are reported, not fatal');

  const rca = await call('root_cause_analyze', { incident: 'INC-456', symptoms: ['500 errors spike', 'latency increase'], timeRange: 'last 4 hours' });
  assert.ok(!rca.isError, JSON.stringify(rca.content));
  const rf = rca.structuredContent!.findings as { subject: { service: string }; evidence: { chain: string[] } }[];
  assert.equal(rf[0]!.subject.service, 'payment');
  assert.ok(rf[0]!.evidence.chain.some((c) => c.includes('500 errors spike')));

  const pl = await call('pattern_learn', { domain: 'production-incidents', input: 'incident-INC-456', storeResults: true });
  assert.ok(!pl.isError, JSON.stringify(pl.content));
  assert.ok(Number(pl.structuredContent!.templates) > 0);

  const share = await call('memory_share', { sourceAgentId: 'qe-learning-coordinator', targetAgentIds: ['qe-quality-criteria-recommender', 'qe-risk-assessor'], knowledgeDomain: 'production-learnings' });
  assert.ok(!share.isError, JSON.stringify(share.content));
  const ns = share.structuredContent!.namespace as string;
  const read = await call('memory_query', { namespace: ns, reader: 'qe-risk-assessor' });
  assert.ok(!read.isError);
  const denied = await call('memory_query', { namespace: ns, reader: 'qe-someone-else' });
  assert.equal(denied.isError, true);
  assert.match(denied.content[0]!.text!, /may not read/);

  // Long tools report progress notifications when the client asks for them (a progress token).
  const progress: { progress: number; total?: number; message?: string }[] = [];
  const withProgress = (await client.callTool({ name: 'root_cause_analyze', arguments: { incident: 'INC-456', timeRange: 'last 4 hours' } }, undefined, { onprogress: (p) => progress.push(p) })) as ToolResult;
  assert.ok(!withProgress.isError, JSON.stringify(withProgress.content));
  assert.ok(progress.length >= 2, `progress notifications arrived: ${JSON.stringify(progress)}`);
  assert.ok(progress.some((p) => p.total === 4 && /spans/.test(p.message ?? '')), JSON.stringify(progress));
  assert.ok(progress.every((p, i) => i === 0 || p.progress >= progress[i - 1]!.progress), 'progress never goes back');

  const bad = await call('fleet_init', { topology: 'ring', enabledDomains: [], maxAgents: 99 });
  assert.equal(bad.isError, true, 'bad arguments are a tool error, not a crash');
  const status = await call('fleet_status', {});
  assert.ok(!status.isError);

  // What is normal per service, as learned by the performance tester's cycle, and one service's alone.
  const perf = await call('performance_analyze', { timeRange: 'last 4 hours' });
  assert.ok(!perf.isError, JSON.stringify(perf.content));
  const kb = await call('knowledge_query', { query: 'baselines', node: 'payment' });
  assert.ok(!kb.isError, JSON.stringify(kb.content));
  const bs = kb.structuredContent!.services as { service: string; latency?: { p95Ms: number; seasonal: { judgedBy: string } } }[];
  assert.deepEqual(bs.map((b) => b.service), ['payment']);
  assert.ok(bs[0]!.latency && bs[0]!.latency.p95Ms > 0 && bs[0]!.latency.seasonal.judgedBy === 'flat level', JSON.stringify(bs[0]));
  assert.match(kb.content[0]!.text!, /^payment {2}\(updated .*\n {2}latency p50 \/ p95 \/ p99/);

  // Where payment's SLO stands: none declared, the default, burning (its incident fails half its requests).
  const slo = await call('knowledge_query', { query: 'slos', node: 'payment' });
  assert.ok(!slo.isError, JSON.stringify(slo.content));
  assert.match(slo.content[0]!.text!, /^no SLOs declared: the default\npayment: 99\.5% availability, burn [\d.]+× over 1 h, [\d.]+× over 5 min; 30-day error budget overspent: [\d.]+× of it used \(\d+ min of data so far\) — firing 1h\/5m 14\.4x/);
  assert.deepEqual((slo.structuredContent!.services as { service: string }[]).map((x) => x.service), ['payment']);

  // A CI's benchmark history given inline: the step at run 21 (commit c20) is named.
  const runs = Array.from({ length: 40 }, (_, i) => ({ commit: `c${i}`, p95_ms: (i >= 20 ? 30 : 25) + ((i * 37) % 10) / 20 }));
  const br = await call('benchmark_regressions', { runs });
  assert.ok(!br.isError, JSON.stringify(br.content));
  const changes = br.structuredContent!.changes as { metric: string; labels: { commit: string }; regression: boolean }[];
  assert.deepEqual(changes.map((c) => [c.metric, c.labels.commit, c.regression]), [['p95_ms', 'c20', true]]);
  const noMetric = await call('benchmark_regressions', { runs: runs.map((r) => ({ commit: r.commit })) });
  assert.equal(noMetric.isError, true);
}

test('the seed\'s MCP calls work as written over stdio (tswarm mcp)', { timeout: 120_000 }, async () => {
  const dir = tempDir('mcp-stdio');
  const db = join(dir.path, 'memory.db');
  await seedMemory(db);
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'src/interfaces/cli/entry.ts'), 'mcp', '--db', db], cwd: REPO_ROOT, stderr: 'pipe' });
  const client = new Client({ name: 'test', version: '1.0.0' });
  try {
    await client.connect(oneMessageAtATime(transport));
    await seedCalls(client);
  } finally {
    await client.close();
    dir.cleanup();
  }
});

test('the same calls over Streamable HTTP at /mcp, with bearer auth', { timeout: 120_000 }, async () => {
  const dir = tempDir('mcp-http');
  const db = join(dir.path, 'memory.db');
  await seedMemory(db);
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const port = await freePort();
  const prevCwd = process.cwd();
  process.chdir(REPO_ROOT);
  const server = await runServer({ db, host: '127.0.0.1', port, token: 'tok' });
  try {
    const noAuth = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    assert.equal(noAuth.status, 401);
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(oneMessageAtATime(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: 'Bearer tok' } } })));
    try {
      await seedCalls(client);
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
    process.chdir(prevCwd);
    dir.cleanup();
  }
});
