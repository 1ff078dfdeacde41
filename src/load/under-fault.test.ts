/**
 * Load under fault, for real: steady load on a front service whose dependency sits behind our chaos proxy; a
 * toxic is added mid-run through the Toxiproxy API and removed after. A front without a timeout passes the
 * dependency's latency to users (a gap, "no timeout"); one with a 100 ms timeout and a fallback holds its SLO;
 * a failing dependency without a fallback burns the error budget ("no fallback"). No toxic outlives a run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Pool } from 'undici';
import { startChaosApi } from '../chaos/api.js';
import { loadUnderFault, toxiproxyHooks } from './under-fault.js';
import { assessLoadUnderFault } from '../algorithms/load/under-fault.js';

let api: Awaited<ReturnType<typeof startChaosApi>>;
let backend: http.Server;
let proxyUrl = '';
const fronts: http.Server[] = [];
const pools: Pool[] = [];

async function listen(s: http.Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
}

/** A front service calling the dependency through the proxy, with or without a timeout + fallback. */
async function front(timeoutMs?: number): Promise<string> {
  const pool = new Pool(proxyUrl, { connections: 32 });
  pools.push(pool);
  const s = http.createServer((_req, res) => {
    pool
      // AbortSignal.timeout: undici's own headersTimeout ticks too coarsely for a 100 ms budget.
      .request({ path: '/', method: 'GET', ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) })
      .then(async (r) => {
        const body = await r.body.text();
        res.statusCode = r.statusCode >= 500 ? 502 : 200;
        res.end(body);
      })
      .catch(() => {
        if (timeoutMs) res.end('fallback'); // degrade: a default answer instead of an error
        else {
          res.statusCode = 502;
          res.end('dependency failed');
        }
      });
  });
  fronts.push(s);
  return listen(s);
}

before(async () => {
  backend = http.createServer((_req, res) => res.end('ok'));
  const backendUrl = new URL(await listen(backend));
  api = await startChaosApi({ port: 0 });
  const r = await fetch(`${api.url}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'dep', listen: '127.0.0.1:0', upstream: backendUrl.host }) });
  assert.equal(r.status, 201);
  proxyUrl = `http://127.0.0.1:${api.proxies.get('dep')!.port}`;
});

after(async () => {
  for (const p of pools) await p.close();
  for (const s of fronts) s.close();
  backend.close();
  await api.close();
});

// The SLO sits well between what a 100 ms timeout lets through and the 300 ms fault, so a loaded machine's
// scheduling delays (tens of ms) do not decide the verdicts.
const slo = { p95Ms: 220, errorRate: 0.01 };
const phases = { baselineS: 1.5, faultS: 2.5, recoveryS: 1.5 };

test('a slow dependency behind a front without a timeout: users feel all of it — a "no timeout" gap with numbers', { timeout: 30_000 }, async () => {
  const url = await front();
  const r = await loadUnderFault({ requests: [{ url }], rate: 50, ...phases, slo, hooks: toxiproxyHooks(api.url, 'dep', { type: 'latency', attributes: { latency: 300 } }) });
  const [b, d, a] = r.summary.phases!;
  assert.ok(r.injected);
  assert.ok(b!.p95 < 100, `baseline p95 ${b!.p95} ms`);
  assert.ok(d!.p95 >= 300, `the fault's 300 ms shows in p95 during the fault: ${d!.p95} ms`);
  assert.ok(a!.p95 < 100, `recovered: ${a!.p95} ms`);
  assert.equal(r.verdict.gap, true);
  assert.match(r.verdict.mechanism ?? '', /no timeout/);
  assert.ok(r.verdict.recovered);
  assert.equal(api.proxies.get('dep')!.toxics.size, 0, 'the toxic was removed');
});

test('the same fault behind a front with a 100 ms timeout and a fallback: the SLO holds, no gap', { timeout: 30_000 }, async () => {
  const url = await front(100);
  const r = await loadUnderFault({ requests: [{ url }], rate: 50, ...phases, slo, hooks: toxiproxyHooks(api.url, 'dep', { type: 'latency', attributes: { latency: 300 } }) });
  const d = r.summary.phases![1]!;
  assert.ok(d.p95 >= 90 && d.p95 < slo.p95Ms, `the timeout caps user latency: p95 ${d.p95} ms`);
  assert.equal(d.errors, 0);
  assert.equal(r.verdict.gap, false, r.verdict.chain.join('\n'));
});

test('a failing dependency without a fallback: errors reach users fast — a "no fallback" gap, budget burned many times over', { timeout: 30_000 }, async () => {
  const url = await front();
  const r = await loadUnderFault({ requests: [{ url }], rate: 50, ...phases, slo, hooks: toxiproxyHooks(api.url, 'dep', { type: 'http_error', attributes: { status: 503 } }) });
  const d = r.summary.phases![1]!;
  assert.ok(d.errorRate > 0.9, `errors during the fault: ${d.errorRate}`);
  assert.ok(r.verdict.budgetBurn > 50, `budget burn ${r.verdict.budgetBurn}`);
  assert.match(r.verdict.mechanism ?? '', /no fallback/);
  assert.equal(r.verdict.severity, 'high');
  assert.equal(api.proxies.get('dep')!.toxics.size, 0);
});

test('the assessment is pure arithmetic on the phases', () => {
  const p = (p95: number, errorRate = 0, n = 100): { requests: number; errors: number; errorRate: number; p50: number; p95: number; p99: number } => ({ requests: n, errors: Math.round(errorRate * n), errorRate, p50: p95 / 2, p95, p99: p95 });
  const held = assessLoadUnderFault({ label: 'x' }, p(10), p(40), p(10), slo);
  assert.equal(held.gap, false);
  const slowRecovery = assessLoadUnderFault({ label: 'x' }, p(10), p(40), p(400), slo);
  assert.equal(slowRecovery.recovered, false);
  assert.match(slowRecovery.mechanism ?? '', /slow recovery/);
});

test('`tswarm load under-fault` refuses a control API off the allow-list and a toxic that is not JSON', async () => {
  const { runCli } = await import('../../test/helpers/env.js');
  const bad = await runCli(['load', 'under-fault', '--url', 'http://127.0.0.1:1/', '--proxy', 'dep', '--toxic', '{latency']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--toxic: not JSON/);
  const off = await runCli(['load', 'under-fault', '--url', 'http://127.0.0.1:1/', '--proxy', 'dep', '--toxiproxy', 'http://10.0.0.8:8474']);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /not on the allow-list/);
});
