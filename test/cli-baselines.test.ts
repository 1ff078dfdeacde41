/**
 * `tswarm baselines`: what the performance tester learned is normal, read back by a person. A store is filled the
 * way `serve --continuous` fills it (telemetry ingested, the performance tester run in cycles) and the command is
 * run as a user runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import type { MetricPoint, Span } from '../src/signals/model.js';
import { PerformanceTester } from '../src/agents/analysis/performance-tester.js';
import { silentLogger } from '../src/fleet/logger.js';
import type { TimeWindow } from '../src/fleet/contracts.js';
import { runCli, tempDir } from './helpers/env.js';

const DAY = 86_400e6;
const HOUR = 3600e6;

test('baselines per service: latency, errors, traffic, operations and metric series, each saying whether it is judged by the hour yet', async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, 'memory.db');
    const store = await openStore(db);
    const start = Math.ceil(1_700_000_000_000_000 / DAY) * DAY;
    // Three days of a queue depth with a daily cycle (every 15 s), and the last 4 minutes of two operations' spans.
    const metrics: MetricPoint[] = Array.from({ length: (3 * DAY) / 15e6 }, (_, i) => {
      const t = start + i * 15e6;
      return { name: 'queue.depth', service: 'orders', attributes: { queue: 'payments' }, timeUs: t, type: 'gauge', value: 50 - 30 * Math.cos((2 * Math.PI * ((t / HOUR) % 24 - 3)) / 24) + (i % 5), resource: { attributes: { 'service.name': 'orders' } } };
    });
    const spansFrom = start + 3 * DAY - 240e6;
    const spans: Span[] = Array.from({ length: 2400 }, (_, i) => {
      const t = spansFrom + i * 100_000;
      const quote = i % 2 === 0;
      const dur = (quote ? 20_000 : 5_000) + (i % 7) * 1000;
      return { traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), name: quote ? 'GET /quote' : 'GET /health', kind: 2, startUs: t, endUs: t + dur, service: 'orders', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': 'orders' } } };
    });
    await store.telemetry.ingest({ spans, logs: [], metrics, errors: [] });
    const analyse = (window: TimeWindow): Promise<unknown> => new PerformanceTester().run({ id: 'p', kind: 'analyze-window', params: {}, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
    for (let h = 6; h < 72; h += 6) await analyse({ fromUs: start + h * HOUR, toUs: start + (h + 6) * HOUR });
    await store.close();

    const json = await runCli(['baselines', '--db', db, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const { services } = JSON.parse(json.stdout) as { services: { service: string; latency?: { p50Ms: number; p95Ms: number; seasonal: { judgedBy: string; days: number } }; throughput?: { rps: number }; operations: { operation: string; p95Ms: number }[]; metrics: { series: string; median: number; seasonal: { judgedBy: string; days: number; strength: number; byHour: number[] } }[] }[] };
    assert.deepEqual(services.map((s) => s.service), ['orders']);
    const s = services[0]!;
    // 10 requests/s, half of them quotes at 20-26 ms and half health checks at 5-11 ms (percentiles read off histogram buckets).
    assert.ok(s.latency && s.latency.p95Ms > 20 && s.latency.p95Ms < 30, JSON.stringify(s.latency));
    assert.equal(s.latency.seasonal.judgedBy, 'flat level');
    assert.ok(s.throughput && Math.abs(s.throughput.rps - 10) < 1, JSON.stringify(s.throughput));
    assert.deepEqual(s.operations.map((o) => o.operation), ['GET /health', 'GET /quote']);
    assert.ok(s.operations[1]!.p95Ms > 20 && s.operations[0]!.p95Ms < 15, JSON.stringify(s.operations));
    const q = s.metrics.find((m) => m.series === 'queue.depth{queue="payments"}');
    assert.ok(q, JSON.stringify(s.metrics.map((m) => m.series)));
    assert.ok(q.seasonal.days >= 2 && q.seasonal.strength > 3 && q.seasonal.byHour.length === 24, JSON.stringify(q.seasonal));
    assert.ok(q.seasonal.byHour[15]! > 70 && q.seasonal.byHour[3]! < 30, 'afternoon high, night low');

    const text = await runCli(['baselines', '--db', db]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^orders {2}\(updated /m);
    assert.match(text.stdout, /latency p50 \/ p95 \/ p99 .* ms .*flat level \(profile over 0\.0 of 2 days\)/);
    assert.match(text.stdout, /GET \/quote +2\d\.\d/);
    assert.match(text.stdout, /\d+ d, strength \d+\.\d +queue\.depth\{queue="payments"\}/);

    const none = await runCli(['baselines', '--db', db, '--service', 'billing']);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no baselines in .* for billing yet/);
    const missing = await runCli(['baselines', '--db', join(dir.path, 'nope.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no memory store at/);
  } finally {
    dir.cleanup();
  }
});
