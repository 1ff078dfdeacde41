/**
 * The proxy's faults, measured through it with real clients — including toxiproxy-node-client, a Toxiproxy
 * client nobody here wrote, driving our API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { request } from 'undici';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startChaosApi } from './api.js';

async function upstream(): Promise<{ port: number; close(): Promise<void> }> {
  const big = Buffer.alloc(200 * 1024, 'x');
  const s = http.createServer((req, res) => {
    if (req.url === '/big') res.end(big);
    else res.end('ok');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address() as { port: number };
  return { port: a.port, close: () => new Promise((r) => s.close(() => r())) };
}

async function timed(url: string, step = ''): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  try {
    const r = await request(url, { reset: true });
    const body = await r.body.text();
    return { ms: performance.now() - t0, status: r.statusCode, body };
  } catch (e) {
    throw new Error(`${step} ${url}: ${(e as Error).message}`);
  }
}

test('toxiproxy-node-client drives our API: latency with jitter, bandwidth, http errors, reset, and /reset clears them', async () => {
  const up = await upstream();
  const api = await startChaosApi({ port: 0 });
  try {
    const tp = new Toxiproxy(api.url);
    assert.match(await tp.getVersion(), /tswarm/);
    const proxy = await tp.createProxy({ name: 'web', listen: '127.0.0.1:0', upstream: `127.0.0.1:${up.port}` });
    const port = api.proxies.get('web')!.port;
    const url = `http://127.0.0.1:${port}`;
    const base = await timed(`${url}/`, 'base');
    assert.equal(base.body, 'ok');

    await proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 10 } } as never);
    const lat: number[] = [];
    for (let i = 0; i < 8; i++) lat.push((await timed(`${url}/`, `latency ${i}`)).ms);
    const med = lat.sort((a, b) => a - b)[4]!;
    // The lower bound is the toxic's contract; the upper one leaves room for a loaded machine's scheduling delays.
    assert.ok(med >= 90 && med <= 180, `latency 100±10 ms observed: median ${med.toFixed(1)} ms`);
    await (await proxy.getToxic('slow')).remove();

    await proxy.addToxic({ name: 'bw', type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: 200 } } as never);
    const bw = await timed(`${url}/big`, 'bandwidth');
    const kbps = 200 / (bw.ms / 1000);
    // A bandwidth toxic is a cap: never more than 10% over it. Below it only by scheduling delays (loaded CI).
    assert.ok(kbps <= 220 && kbps >= 120, `bandwidth capped at 200 KB/s (+10%), and not far below: ${kbps.toFixed(0)} KB/s`);
    await (await proxy.getToxic('bw')).remove();

    await proxy.addToxic({ name: 'err', type: 'http_error', stream: 'downstream', toxicity: 1, attributes: { status: 503, rate: 1 } } as never);
    assert.equal((await timed(`${url}/`, 'http_error')).status, 503);
    await tp.reset();
    assert.equal((await timed(`${url}/`, 'after reset')).status, 200, '/reset removes every toxic');

    await proxy.addToxic({ name: 'rst', type: 'reset_peer', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } } as never);
    await assert.rejects(timed(`${url}/`), /socket|reset|closed|other side/i);
    const all = await tp.getAll();
    assert.deepEqual(Object.keys(all), ['web']);
  } finally {
    await api.close();
    await up.close();
  }
});

test('toxicity is a per-connection probability; toxics expire by themselves; upstreams off the allow-list are refused', async () => {
  const up = await upstream();
  const api = await startChaosApi({ port: 0, maxToxicMs: 60_000 });
  try {
    const post = async (path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const r = await request(`${api.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const text = await r.body.text();
      return { status: r.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const denied = await post('/proxies', { name: 'evil', listen: '127.0.0.1:0', upstream: '10.0.0.1:80' });
    assert.equal(denied.status, 403);
    assert.match(String(denied.json.error), /not on the allow-list/);
    await post('/proxies', { name: 'p', listen: '127.0.0.1:0', upstream: `127.0.0.1:${up.port}` });
    const port = api.proxies.get('p')!.port;
    await post('/proxies/p/toxics', { type: 'http_error', toxicity: 0.5, attributes: { status: 500 } });
    let errors = 0;
    for (let i = 0; i < 60; i++) if ((await timed(`http://127.0.0.1:${port}/`)).status === 500) errors++;
    assert.ok(errors > 12 && errors < 48, `about half the connections fail: ${errors}/60`);
    await post('/proxies/p/toxics', { name: 'short', type: 'latency', attributes: { latency: 10 }, ttl_ms: 300 });
    assert.equal(api.proxies.get('p')!.toxics.size, 2);
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual([...api.proxies.get('p')!.toxics.keys()], ['http_error_downstream'], 'the short-lived toxic expired at its deadline');
    const bad = await post('/proxies/p/toxics', { type: 'nonsense' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /unknown toxic type/);
  } finally {
    await api.close();
    await up.close();
  }
});
