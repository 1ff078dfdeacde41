/**
 * Declared maintenance windows: planned work the analysis leaves out as it does the swarm's own experiments (no
 * anomaly, regression or incident onset from it, the report shades it), declared over HTTP, with `tswarm
 * maintenance add|list|end` (local or `--server`), ended early; bad declarations are refused and store nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { PerformanceTester } from '../src/agents/analysis/performance-tester.js';
import { maintenanceRecord } from '../src/agents/feedback/maintenance-ops.js';
import { collectFigures } from '../src/feedback/collect-figures.js';
import { silentLogger } from '../src/fleet/logger.js';
import type { Span } from '../src/signals/model.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, runCli, tempDir } from './helpers/env.js';

const T0 = 1_700_000_000_000_000;

test('a latency step inside a declared maintenance window is no anomaly; the real fault after it is, and the report shades the window', async () => {
  // shipping at 30 ms; 2 s slower during planned work (100–130 s); 180 ms from 170 s on (a real fault).
  const spans: Span[] = [];
  for (let i = 0; i < 240 * 5; i++) {
    const t = T0 + i * 200_000;
    const s = (t - T0) / 1e6;
    const dur = (s >= 100 && s < 130 ? 2_000_000 : s >= 170 ? 180_000 : 30_000) + (i % 5) * 2000;
    spans.push({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /quote', kind: 2, startUs: t, endUs: t + dur, service: 'shipping', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'shipping' } } });
  }
  const window = { fromUs: T0, toUs: T0 + 240e6 };
  const store = await openStore(':memory:');
  try {
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    const run = () => new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
    const atS = (f: { data?: Record<string, unknown> }): number => ((f.data!.firstDetectionUs as number) - T0) / 1e6;
    const anomalies = async () => (await run()).filter((x) => x.kind === 'anomaly' && x.subject.metric === 'latency p95');
    assert.ok((await anomalies()).some((x) => atS(x) >= 100 && atS(x) < 131), 'undeclared, the planned work reads as an anomaly');

    await maintenanceRecord(store, { service: 'shipping', reason: 'cache migration', from: (T0 + 99e6) / 1000, to: (T0 + 130e6) / 1000 });
    const found = await anomalies();
    assert.equal(found.length, 1, found.map((x) => x.title).join(' | '));
    assert.ok(atS(found[0]!) >= 170 && atS(found[0]!) < 171, `the real fault's onset: ${atS(found[0]!)} s`);
    assert.ok(found[0]!.evidence.chain!.includes('left out: buckets during declared maintenance of shipping (cache migration)'), found[0]!.evidence.chain!.join(' | '));

    const figures = (await collectFigures(store, { findings: found, window })).flatMap((s) => s.figures);
    const timeline = figures.find((f) => f.type === 'timeline');
    assert.ok(timeline?.type === 'timeline' && timeline.events.some((e) => e.label === 'declared maintenance of shipping (cache migration) (31 s)' && e.kind === 'experiment'), JSON.stringify(timeline));
    const p95 = figures.find((f) => f.id === 'p95-shipping');
    assert.ok(p95?.type === 'timeseries' && p95.shaded?.some((x) => x.label === 'maintenance' && x.fromX === T0 + 99e6), JSON.stringify(p95 && 'shaded' in p95 ? p95.shaded : p95));
  } finally {
    await store.close();
  }
});

test("a window on one service covers it and its callers by the call graph, not the rest: an unrelated slowdown inside it is an anomaly; a window on a service the graph does not know covers all", async () => {
  // db at 5 ms and api (calls db) at 30 ms are 2 s slower during planned work on db (100–130 s); email (calls
  // neither) takes 200 ms from 110 s on: a fault of its own, inside the window.
  const spans: Span[] = [];
  const span = (service: string, i: number, t: number, dur: number): Span => ({ traceId: `${service.slice(0, 2)}${(i + 1).toString(16).padStart(30, '0')}`, spanId: (i + 1).toString(16).padStart(16, '0'), name: 'GET /x', kind: 2, startUs: t, endUs: t + dur, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': service } } });
  for (let i = 0; i < 240 * 5; i++) {
    const t = T0 + i * 200_000;
    const s = (t - T0) / 1e6;
    const planned = s >= 100 && s < 130 ? 2_000_000 : 0;
    spans.push(span('db', i, t, 5000 + planned + (i % 5) * 200), span('api', i, t, 30_000 + planned + (i % 5) * 2000), span('email', i, t, (s >= 110 ? 200_000 : 10_000) + (i % 5) * 1000));
  }
  const window = { fromUs: T0, toUs: T0 + 240e6 };
  const store = await openStore(':memory:');
  try {
    await store.telemetry.ingest({ spans, logs: [], metrics: [], errors: [] });
    await store.graph.upsertEdges([{ source: 'api', target: 'db', kind: 'calls', seenUs: T0 }, { source: 'frontend', target: 'api', kind: 'calls', seenUs: T0 }, { source: 'frontend', target: 'email', kind: 'calls', seenUs: T0 }]);
    const run = () => new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
    const anomalous = async () => new Set((await run()).filter((x) => x.kind === 'anomaly' && x.subject.metric === 'latency p95').map((x) => x.subject.service));
    assert.deepEqual([...(await anomalous())].sort(), ['api', 'db', 'email'], 'undeclared, all three');

    const declared = await maintenanceRecord(store, { service: 'db', reason: 'index rebuild', from: (T0 + 99e6) / 1000, to: (T0 + 130e6) / 1000 });
    assert.match(declared.summary, /: the analysis leaves db and its callers \(api, frontend\) out of this stretch/);
    assert.deepEqual(declared.data.covers, ['api', 'db', 'frontend']);
    const w = declared.data.window;
    assert.deepEqual([...(await anomalous())], ['email'], 'db and its caller api are the planned work; email is not');
    const all = await run();
    const figures = (await collectFigures(store, { findings: all, window })).flatMap((x) => x.figures);
    const emailPlot = figures.find((x) => x.id === 'p95-email');
    assert.ok(emailPlot?.type === 'timeseries' && !emailPlot.shaded?.length, "email's plot is not shaded by db's window");

    // Planned work on a service no edge names: who depends on it is unknown, so it covers every service.
    await store.patterns.delete('maintenance-window', w.id);
    await maintenanceRecord(store, { service: 'ledger', reason: 'upgrade', from: (T0 + 99e6) / 1000, to: (T0 + 130e6) / 1000 });
    assert.deepEqual([...(await anomalous())], ['email'], 'email still: its fault goes on past the window');
    const f = (await run()).find((x) => x.kind === 'anomaly' && x.subject.service === 'email')!;
    assert.ok(((f.data!.firstDetectionUs as number) - T0) / 1e6 >= 130, 'but it is only seen once the window is over');
  } finally {
    await store.close();
  }
});

test('maintenance windows over HTTP, MCP and the CLI: declared, listed, ended early; bad ones refused with the field named', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const server = await runServer({ db: join(dir.path, 'm.db'), host: '127.0.0.1', port: await freePort(), token: 'tok' });
  const auth = { authorization: 'Bearer tok', 'content-type': 'application/json' };
  type Row = { id: string; service?: string; reason: string; fromUs: number; toUs: number; endedUs?: number };
  const list = async (): Promise<Row[]> => ((await (await fetch(`${server.url}/api/maintenance`, { headers: auth })).json()) as { windows: Row[] }).windows;
  try {
    assert.equal((await fetch(`${server.url}/api/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
    const ok = await fetch(`${server.url}/api/maintenance`, { method: 'POST', headers: auth, body: JSON.stringify({ service: 'db', reason: 'index rebuild', duration: '2h' }) });
    assert.equal(ok.status, 201);
    const body = (await ok.json()) as { window: Row; covers: string[] | 'all' };
    assert.equal(body.covers, 'all', 'no call edge names db in this memory');
    const declared = body.window;
    assert.equal(declared.toUs - declared.fromUs, 2 * 3600e6);
    for (const [body, re] of [
      [{ service: 'db', duration: '2h' }, /^reason: /],
      [{ reason: 'x', duration: '30d' }, /^a maintenance window lasts at most a week/],
      [[{ reason: 'x', duration: '1h' }], /^body must be JSON: \{reason/],
    ] as const) {
      const r = await fetch(`${server.url}/api/maintenance`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      assert.equal(r.status, 400);
      assert.match(((await r.json()) as { error: string }).error, re);
    }
    assert.deepEqual((await list()).map((w) => w.id), [declared.id], 'the refused ones stored nothing');

    const cli = await runCli(['maintenance', 'add', '--server', server.url, '--token', 'tok', '--reason', 'failover drill', '--for', '30m', '--by', 'sre-oncall']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^declared mw-[0-9a-f]{12} maintenance \(failover drill\) \S+ – \S+ by sre-oncall on http:\/\/127\.0\.0\.1:\d+; left out: every service's telemetry\n$/);
    const noLength = await runCli(['maintenance', 'add', '--server', server.url, '--token', 'tok', '--reason', 'x']);
    assert.equal(noLength.code, 2);
    assert.match(noLength.stderr, /give how long: --for <duration> \(e\.g\. 2h\) or --to <time>/);

    const ended = await runCli(['maintenance', 'end', declared.id, '--server', server.url, '--token', 'tok']);
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stdout, new RegExp(`^${declared.id} maintenance of db \\(index rebuild\\) \\S+ – \\S+ \\(ended early\\)\\n$`));
    const after = (await list()).find((w) => w.id === declared.id)!;
    assert.ok(after.endedUs !== undefined && after.toUs < declared.toUs);
    const unknown = await runCli(['maintenance', 'end', 'mw-000000000000', '--server', server.url, '--token', 'tok']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /answered 404: no maintenance window mw-000000000000/);

    // An operations agent over MCP.
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: 'Bearer tok' } } }));
    try {
      type Result = { isError?: boolean; content: { text?: string }[] };
      // Tomorrow at 01:00 UTC, for three hours.
      const day = new Date(Date.now() + 86_400e3).toISOString().slice(0, 10);
      const r = (await client.callTool({ name: 'maintenance_declare', arguments: { service: 'search', reason: 'reindex', from: `${day}T01:00:00Z`, duration: '3h' } })) as Result;
      assert.ok(!r.isError, JSON.stringify(r));
      assert.ok(r.content[0]!.text!.startsWith(`declared mw-`) && r.content[0]!.text!.includes(` maintenance of search (reindex) ${day}T01:00:00Z – ${day}T04:00:00Z by mcp: the analysis leaves every service's telemetry (no call edge names search: who depends on it is not known) out of this stretch`), r.content[0]!.text);
      const bad = (await client.callTool({ name: 'maintenance_declare', arguments: { reason: 'x' } })) as Result;
      assert.equal(bad.isError, true);
      assert.match(bad.content[0]!.text!, /give exactly one of to \(an end time\) or duration/);
    } finally {
      await client.close();
    }

    const remote = await runCli(['maintenance', 'list', '--server', server.url, '--token', 'tok']);
    assert.equal(remote.code, 0, remote.stderr);
    const local = await runCli(['maintenance', 'list', '--db', join(dir.path, 'm.db')]);
    assert.equal(remote.stdout, local.stdout, 'the server answers what its store holds');
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stdout.trim().split('\n').length, 3);
    assert.match(local.stdout.split('\n')[0]!, /maintenance of search \(reindex\)/, 'the planned one first (newest start)');
    // `tswarm status` says what is being left out now and what will be (the ended one is over).
    const status = await runCli(['status', '--db', join(dir.path, 'm.db')]);
    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.split('\n').filter((l) => /^ {2}(now|ahead) /.test(l));
    assert.deepEqual(lines.map((l) => l.trim().split(/\s+/)[0]), ['now', 'ahead'], status.stdout);
    assert.match(lines[0]!, /maintenance \(failover drill\) .*; left out: every service's telemetry$/);
    assert.match(lines[1]!, /maintenance of search \(reindex\) .*; left out: every service's telemetry \(no call edge names search: who depends on it is not known\)$/);
    assert.match(local.stdout, /maintenance \(failover drill\)/);
  } finally {
    await server.close();
    dir.cleanup();
  }
});
