/**
 * Every toxic, measured through the proxy with a raw TCP client: what arrives, in how many pieces, when the
 * connection closes. (Latency, bandwidth, http_error and reset_peer are measured with HTTP clients in
 * proxy.test.ts.) Bounds are wide on the slow side only where a loaded CI machine can add delay, never on the
 * side that would let a toxic that does nothing pass.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { request } from 'undici';
import { startChaosApi } from './api.js';

const BODY = Buffer.alloc(10_000, 'y');
let up: http.Server;
let upPort = 0;
let api: Awaited<ReturnType<typeof startChaosApi>>;
let n = 0;

before(async () => {
  up = http.createServer((req, res) => {
    res.setHeader('connection', 'close');
    if (req.url === '/10k') res.end(BODY);
    else res.end('ok');
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  upPort = (up.address() as net.AddressInfo).port;
  api = await startChaosApi({ port: 0 });
});

after(async () => {
  await api.close();
  await new Promise<void>((r) => up.close(() => r()));
});

async function post(path: string, body: unknown): Promise<number> {
  const r = await request(`${api.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await r.body.text();
  return r.statusCode;
}

/** A fresh proxy with one toxic; returns its port. */
async function proxyWith(toxic: Record<string, unknown>): Promise<number> {
  const name = `t${++n}`;
  assert.equal(await post('/proxies', { name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upPort}` }), 201);
  assert.equal(await post(`/proxies/${name}/toxics`, toxic), 200);
  return api.proxies.get(name)!.port;
}

interface Exchange {
  chunks: number[];
  bytes: number;
  firstByteMs: number;
  lastByteMs: number;
  closeMs: number;
  error?: string;
}

/** Sends one HTTP/1.1 request over a raw socket and records every read until the connection closes. */
function exchange(port: number, path: string, giveUpMs = 5_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const x: Exchange = { chunks: [], bytes: 0, firstByteMs: -1, lastByteMs: -1, closeMs: -1 };
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (): void => {
      clearTimeout(timer);
      resolve(x);
    };
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, giveUpMs);
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`));
    s.on('data', (b: Buffer) => {
      const now = performance.now() - t0;
      if (x.firstByteMs < 0) x.firstByteMs = now;
      x.lastByteMs = now;
      x.chunks.push(b.length);
      x.bytes += b.length;
    });
    s.on('error', (e) => (x.error = (e as NodeJS.ErrnoException).code ?? e.message));
    s.on('close', () => {
      x.closeMs = performance.now() - t0;
      done();
    });
  });
}

test('baseline: without toxics the 10 kB response arrives whole and fast', async () => {
  const port = await proxyWith({ type: 'latency', stream: 'upstream', toxicity: 0 });
  const x = await exchange(port, '/10k');
  assert.ok(x.bytes > BODY.length, `headers + body arrived (${x.bytes} B)`);
  assert.ok(x.chunks.length <= 5, `in a few reads (${x.chunks.length})`);
});

test('slicer splits the stream into average_size pieces, delay µs apart', async () => {
  const port = await proxyWith({ type: 'slicer', stream: 'downstream', attributes: { average_size: 100, size_variation: 0, delay: 3000 } });
  const x = await exchange(port, '/10k');
  assert.ok(x.bytes > BODY.length, 'nothing is lost');
  // ≈ 101 slices 3 ms apart: at least ~300 ms end to end, and the client sees many separate reads of ≤ 100 B
  // (a slow reader may merge a few — most must still be single slices).
  assert.ok(x.lastByteMs - x.firstByteMs >= 250, `slices spread over time: ${(x.lastByteMs - x.firstByteMs).toFixed(0)} ms`);
  assert.ok(x.chunks.length >= 60, `many pieces: ${x.chunks.length}`);
  const small = x.chunks.filter((c) => c <= 100).length;
  assert.ok(small / x.chunks.length >= 0.8, `pieces are 100 B slices: ${small}/${x.chunks.length}`);
});

test('limit_data lets exactly `bytes` through, then closes the connection', async () => {
  const port = await proxyWith({ type: 'limit_data', stream: 'downstream', attributes: { bytes: 1000 } });
  const x = await exchange(port, '/10k');
  assert.equal(x.bytes, 1000);
  assert.ok(x.closeMs >= 0 && x.closeMs < 2_000, `closed right after the limit (${x.closeMs.toFixed(0)} ms)`);
});

test('timeout blackholes the data and closes the connection after `timeout` ms', async () => {
  const port = await proxyWith({ type: 'timeout', stream: 'upstream', attributes: { timeout: 400 } });
  const x = await exchange(port, '/');
  assert.equal(x.bytes, 0, 'no response gets through');
  assert.ok(x.closeMs >= 390 && x.closeMs < 2_000, `closed after ~400 ms: ${x.closeMs.toFixed(0)} ms`);
});

test('timeout 0 blackholes the data and keeps the connection open', async () => {
  const port = await proxyWith({ type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
  const x = await exchange(port, '/', 700);
  assert.equal(x.bytes, 0);
  assert.equal(x.closeMs, -1, 'still open when the client gave up');
});

test('slow_close delays the close by `delay` ms after the data has arrived', async () => {
  const port = await proxyWith({ type: 'slow_close', stream: 'downstream', attributes: { delay: 500 } });
  const x = await exchange(port, '/10k');
  assert.ok(x.bytes > BODY.length, 'the data arrives');
  assert.ok(x.closeMs - x.lastByteMs >= 450, `close held back ~500 ms after the last byte: ${(x.closeMs - x.lastByteMs).toFixed(0)} ms`);
});

test('http_abort drops the connection when the request arrives: no response at all', async () => {
  const port = await proxyWith({ type: 'http_abort', stream: 'upstream' });
  const x = await exchange(port, '/');
  assert.equal(x.bytes, 0);
  assert.ok(x.closeMs >= 0, 'the connection was closed');
});

test('latency on the upstream direction delays the request by `latency` ms', async () => {
  const port = await proxyWith({ type: 'latency', stream: 'upstream', attributes: { latency: 200, jitter: 0 } });
  const x = await exchange(port, '/');
  assert.ok(x.firstByteMs >= 195 && x.firstByteMs < 1_500, `first byte after ~200 ms: ${x.firstByteMs.toFixed(0)} ms`);
});

/** Sends one keep-alive request on an open socket and resolves with the ms until the first byte of the answer. */
function firstByteMs(s: net.Socket): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    s.once('data', () => resolve(performance.now() - t0));
    s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  });
}

/** An HTTP upstream answering "ok", a proxy in front of it, and one raw client connection to the proxy. */
async function keptAliveThroughProxy(): Promise<{ ka: http.Server; name: string; s: net.Socket }> {
  const ka = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => ka.listen(0, '127.0.0.1', () => r()));
  const name = `t${++n}`;
  assert.equal(await post('/proxies', { name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${(ka.address() as net.AddressInfo).port}` }), 201);
  return { ka, name, s: net.connect({ host: '127.0.0.1', port: api.proxies.get(name)!.port }) };
}

test('a toxic added while a kept-alive connection is open applies to its next request; removed, the same connection is fast again', async () => {
  // The fast path (no toxic) is decided per chunk, not per connection: this is what keeps it honest.
  let connections = 0;
  const { ka, name, s } = await keptAliveThroughProxy();
  ka.on('connection', () => connections++);
  try {
    await new Promise((r) => s.once('connect', r));
    const before = await firstByteMs(s);
    assert.equal(await post(`/proxies/${name}/toxics`, { name: 'lat', type: 'latency', stream: 'downstream', attributes: { latency: 250 } }), 200);
    const during = await firstByteMs(s);
    assert.ok(during >= 245, `the live connection got the latency: ${during.toFixed(0)} ms (before: ${before.toFixed(0)} ms)`);
    assert.ok(api.proxies.get(name)!.removeToxic('lat'));
    const after = await firstByteMs(s);
    assert.ok(after < 245, `and lost it with the toxic: ${after.toFixed(0)} ms`);
    assert.equal(connections, 1, 'all three requests used the one connection');
  } finally {
    s.destroy();
    await new Promise<void>((r) => ka.close(() => r()));
  }
});

test('backpressure: a client that does not read holds the upstream back, with and without a delaying toxic', async () => {
  // An upstream offering 128 MiB to a client that never reads. A proxy that reads regardless would take it all
  // into memory (measured before backpressure: all 128 MiB); with backpressure only the sockets' buffers (and at
  // most the 8 MiB a toxic may queue) fill up.
  const OFFER = 128 * 2 ** 20;
  const flushed: number[] = [];
  const big = net.createServer((sock) => {
    const i = flushed.push(0) - 1;
    const chunk = Buffer.alloc(2 ** 20, 'z');
    let sent = 0;
    const pump = (): void => {
      while (sent < OFFER) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
    };
    pump();
    const t = setInterval(() => (flushed[i] = sock.bytesWritten - sock.writableLength), 50);
    sock.on('close', () => clearInterval(t));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => big.listen(0, '127.0.0.1', () => r()));
  const name = `t${++n}`;
  assert.equal(await post('/proxies', { name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${(big.address() as net.AddressInfo).port}` }), 201);
  const port = api.proxies.get(name)!.port;
  const idle = async (): Promise<number> => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.pause();
    await new Promise((r) => setTimeout(r, 1_500));
    const f = flushed[flushed.length - 1] ?? 0;
    c.destroy();
    return f;
  };
  try {
    const plain = await idle();
    assert.ok(plain > 0 && plain < OFFER / 2, `no toxic: the upstream could hand over ${(plain / 2 ** 20).toFixed(1)} of 128 MiB`);
    assert.equal(await post(`/proxies/${name}/toxics`, { type: 'latency', stream: 'downstream', attributes: { latency: 20 } }), 200);
    const delayed = await idle();
    assert.ok(delayed > 0 && delayed < OFFER / 2, `latency toxic: ${(delayed / 2 ** 20).toFixed(1)} of 128 MiB`);
  } finally {
    await new Promise<void>((r) => big.close(() => r()));
  }
});

test('reset_peer with a timeout added to a live, idle connection resets it that long after it was added', async () => {
  const { ka, name, s } = await keptAliveThroughProxy();
  try {
    await new Promise((r) => s.once('connect', r));
    await firstByteMs(s);
    const ended = new Promise<{ ms: number; error?: string }>((resolve) => {
      let error: string | undefined;
      s.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
      s.on('close', () => resolve({ ms: performance.now() - t0, error }));
      setTimeout(() => resolve({ ms: -1 }), 3_000).unref();
    });
    const t0 = performance.now();
    assert.equal(await post(`/proxies/${name}/toxics`, { type: 'reset_peer', attributes: { timeout: 300 } }), 200);
    const x = await ended;
    assert.equal(x.error, 'ECONNRESET', `reset, not closed: ${JSON.stringify(x)}`);
    assert.ok(x.ms >= 290 && x.ms < 2_000, `~300 ms after the toxic was added, with no data flowing: ${x.ms.toFixed(0)} ms`);
  } finally {
    s.destroy();
    await new Promise<void>((r) => ka.close(() => r()));
  }
});
