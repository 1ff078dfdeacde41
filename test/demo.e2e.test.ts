/**
 * End to end, as a newcomer runs it: `tswarm demo` against the real testbed (OTel SDK → receiver → memory →
 * ten agents → report), then the seed's MCP calls against the telemetry the demo recorded. The report must name
 * the injected fault's service as the top root cause with its evidence chain, and carry all four outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO_ROOT, runCli, tempDir } from './helpers/env.js';
import type { FeedbackReport } from '../src/feedback/report.js';

test('tswarm demo finds the surprise fault, writes the four outputs with evidence, and the seed MCP calls work on its data', { timeout: 300_000 }, async () => {
  const dir = tempDir('demo-e2e');
  try {
    // Seed 0 injects an exception into payment.
    const r = await runCli(['demo', '--out', dir.path, '--seed', '0', '--normal', '12s', '--after', '20s'], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stdout, /surprise fault: exception in payment/);
    assert.match(r.stdout, /root cause found: payment .*✓ correct/);
    const report = JSON.parse(readFileSync(join(dir.path, 'report.json'), 'utf8')) as FeedbackReport;
    for (const c of ['defect-patterns', 'performance-insights', 'resilience-gaps', 'learning-updates'] as const) assert.ok(report.sections[c].length > 0, `${c} has items`);
    const defectsAndGaps = [...report.sections['defect-patterns'], ...report.sections['resilience-gaps']].sort((a, b) => b.score - a.score);
    assert.equal(defectsAndGaps[0]!.kind, 'root-cause');
    assert.equal(defectsAndGaps[0]!.subject.service, 'payment');
    assert.ok(defectsAndGaps[0]!.evidence.code?.some((c) => /testbed\/service\/defects\.ts$/.test(c.file) && c.line), 'the code location from the stack trace');
    assert.ok(report.sections['resilience-gaps'].some((g) => g.kind === 'resilience-gap' && g.subject.dependency === 'payment'), 'the chaos experiment found the missing timeout');
    // The thrown exception as the pattern learner saw it on this fresh memory: a new error fingerprint on payment
    // with trace ids, and its error-level log template newly appearing there with its trace ids; the steady
    // traffic's templates, logged from the start, are not news.
    const { openStore } = await import('../src/store/open.js');
    const mem = await openStore(join(dir.path, 'memory.db'));
    try {
      const learned = await mem.findings.list({ agentId: 'qe-pattern-learner', cycleId: report.cycleId, limit: 1000 });
      const newErr = learned.find((f) => f.kind === 'new-error' && f.subject.service === 'payment' && /TypeError/.test(f.title));
      assert.ok(newErr && newErr.evidence.fingerprints?.length === 1 && (newErr.evidence.traceIds ?? []).length > 0, learned.map((f) => f.title).join(' | '));
      const tpl = learned.find((f) => (f.kind === 'new-template' || f.kind === 'log-burst') && f.subject.service === 'payment' && /"level":"error"/.test(f.evidence.logTemplates?.[0]?.template ?? ''));
      assert.ok(tpl && (tpl.evidence.traceIds ?? []).length > 0 && (tpl.evidence.logTemplates?.[0]?.count ?? 0) >= 5, learned.map((f) => f.title).join(' | '));
      assert.ok(!learned.some((f) => f.kind === 'new-template' && /INFO \[frontend\] GET/.test(f.evidence.logTemplates?.[0]?.template ?? '')), 'steady frontend traffic is not a new template');
      // The demo's own chaos experiment (2 s on payment) and load test are the chaos engineer's and the load
      // tester's findings, not performance anomalies or log bursts of their own.
      const journals = await mem.patterns.list<{ start: string; end: string }>('chaos-journal');
      assert.equal(journals.length, 1);
      const [fromUs, toUs] = [Date.parse(journals[0]!.value.start) * 1000, Date.parse(journals[0]!.value.end) * 1000 + 5e6];
      const perf = await mem.findings.list({ agentId: 'qe-performance-tester', cycleId: report.cycleId, limit: 1000 });
      const during = perf.filter((f) => f.kind === 'anomaly' && Number(f.data?.firstDetectionUs) >= fromUs && Number(f.data?.firstDetectionUs) <= toUs);
      assert.deepEqual(during.map((f) => f.title), [], 'no anomaly inside the chaos experiment');
      assert.ok(!learned.some((f) => f.kind === 'log-burst' && f.subject.service === 'frontend' && /rendered home page/.test(f.evidence.logTemplates?.[0]?.template ?? '')), "the load test's home pages are no burst");
    } finally {
      await mem.close();
    }
    const html = readFileSync(join(dir.path, 'report.html'), 'utf8');
    assert.match(html, /Root-cause evidence chain \(payment\)/);
    assert.match(html, /fill="#d32f2f"[^>]*\/><text[^>]*>payment</);
    // The timeline and the series show what the analysis left out.
    assert.match(html, /<li class="ev-experiment"><time>[^<]+<\/time> the swarm&#39;s own chaos experiment &quot;checkout stays fast when payment is slow&quot; \(\d+ s\)<\/li>/);
    assert.match(html, /"shaded":\[\{"fromX":\d+,"toX":\d+,"label":"chaos"\}/);
    // Log findings sit at their first line: the surprise fault's new error comes after the experiment, not first.
    const timeline = html.slice(html.indexOf('<ol class="timeline">'), html.indexOf('</ol>', html.indexOf('<ol class="timeline">')));
    const [experiment, newError] = [timeline.indexOf('ev-experiment'), timeline.indexOf('New error TypeError')];
    assert.ok(experiment >= 0 && newError > experiment, timeline.slice(0, 1500));

    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'src/interfaces/cli/entry.ts'), 'mcp', '--db', join(dir.path, 'memory.db')], cwd: REPO_ROOT, stderr: 'pipe' }));
    try {
      const call = async (name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; structuredContent?: Record<string, unknown>; content: { text?: string }[] }> =>
        (await client.callTool({ name, arguments: args })) as never;
      assert.ok(!(await call('fleet_init', { topology: 'mesh', enabledDomains: ['defect-intelligence', 'chaos-resilience', 'learning-optimization'], maxAgents: 10 })).isError);
      const rca = await call('root_cause_analyze', { incident: 'INC-456', symptoms: ['500 errors spike', 'latency increase'], timeRange: 'last 4 hours' });
      assert.ok(!rca.isError, JSON.stringify(rca.content));
      assert.equal((rca.structuredContent!.findings as { subject: { service: string } }[])[0]!.subject.service, 'payment');
      const dp = await call('defect_predict', { target: 'testbed/', signals: { logs: 'cloudwatch://app-logs', metrics: 'prometheus://app-metrics', traces: 'jaeger://app-traces' } });
      assert.ok(!dp.isError, JSON.stringify(dp.content));
      assert.equal((dp.structuredContent!.findings as { subject: { file: string } }[])[0]!.subject.file, 'testbed/service/defects.ts');
      assert.ok(!(await call('pattern_learn', { domain: 'production-incidents', input: 'incident-INC-456', storeResults: true })).isError);
      const share = await call('memory_share', { sourceAgentId: 'qe-learning-coordinator', targetAgentIds: ['qe-quality-criteria-recommender', 'qe-risk-assessor'], knowledgeDomain: 'production-learnings' });
      assert.ok(!share.isError && Number(share.structuredContent!.records) > 0, JSON.stringify(share.content));
      const fr = await call('feedback_report', { format: 'json' });
      assert.equal((fr.structuredContent!.report as FeedbackReport).cycleId, report.cycleId);
    } finally {
      await client.close();
    }

    // The same seed call over Streamable HTTP against the recorded incident.
    const { runServer } = await import('../src/interfaces/http/serve.js');
    const { freePort } = await import('./helpers/env.js');
    const server = await runServer({ db: join(dir.path, 'memory.db'), host: '127.0.0.1', port: await freePort() });
    const http = new Client({ name: 'e2e-http', version: '1.0.0' });
    try {
      await http.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      const rca = (await http.callTool({ name: 'root_cause_analyze', arguments: { incident: 'INC-456', symptoms: ['500 errors spike', 'latency increase'], timeRange: 'last 4 hours' } })) as { structuredContent?: { findings: { subject: { service: string } }[] } };
      assert.equal(rca.structuredContent!.findings[0]!.subject.service, 'payment');
    } finally {
      await http.close();
      await server.close();
    }

    // `tswarm analyze` over the recorded incident, twice: same top item, no duplicates, not new the second time.
    const runs: FeedbackReport[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await runCli(['analyze', '--db', join(dir.path, 'memory.db'), '--out', join(dir.path, `analyze-${i}`), '--json'], { timeoutMs: 120_000 });
      assert.equal(a.code, 0, a.stderr.slice(-1000));
      runs.push(JSON.parse(a.stdout) as FeedbackReport);
    }
    for (const rep of runs) {
      const top = [...rep.sections['defect-patterns'], ...rep.sections['resilience-gaps']].sort((x, y) => y.score - x.score)[0]!;
      assert.equal(top.kind, 'root-cause');
      assert.equal(top.subject.service, 'payment');
      const ids = Object.values(rep.sections).flat().map((x) => x.id);
      assert.equal(new Set(ids).size, ids.length, 'no duplicate items');
    }
    const again = Object.values(runs[1]!.sections).flat().find((x) => x.kind === 'root-cause')!;
    assert.equal(again.isNew, false, 'the second analysis recognises the root cause from the first');
  } finally {
    dir.cleanup();
  }
});
