/**
 * The raw HTTP/1.1 fast path reads every response framing a server may use, keeps connections alive, and turns
 * what is not a response into an error — against real servers: Node's http (chunked, keep-alive) and a TCP
 * server that writes exact bytes (framings Node's server never produces, split at awkward places).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { RawPool, serializeRequest, type RawResult } from './raw-http.js';

const ask = (pool: RawPool, req: Buffer, isHead = false): Promise<RawResult> => new Promise((r) => pool.request(req, isHead, r));

async function listen(s: net.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as net.AddressInfo).port;
}

test('Node http server: content-length and chunked bodies, HEAD, 204, keep-alive reuse, POST bodies', async () => {
  let connections = 0;
  const bodies: string[] = [];
  const s = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      bodies.push(b);
      if (req.url === '/chunked') {
        res.write('a'.repeat(5000));
        setTimeout(() => res.end('b'.repeat(3000)), 5);
      } else if (req.url === '/empty') {
        res.statusCode = 204;
        res.end();
      } else if (req.url === '/missing') {
        res.statusCode = 404;
        res.end('nope');
      } else res.end('hello');
    });
  });
  s.on('connection', () => connections++);
  const port = await listen(s);
  const pool = new RawPool('127.0.0.1', port, 2, 5_000);
  try {
    const url = (p: string): URL => new URL(`http://127.0.0.1:${port}${p}`);
    for (let i = 0; i < 20; i++) assert.deepEqual(await ask(pool, serializeRequest('GET', url('/chunked'), {})), { status: 200 });
    assert.deepEqual(await ask(pool, serializeRequest('HEAD', url('/'), {}), true), { status: 200 });
    assert.deepEqual(await ask(pool, serializeRequest('GET', url('/empty'), {})), { status: 204 });
    assert.deepEqual(await ask(pool, serializeRequest('GET', url('/missing'), {})), { status: 404 });
    assert.deepEqual(await ask(pool, serializeRequest('POST', url('/'), { 'content-type': 'application/json' }, '{"a":1}')), { status: 200 });
    assert.equal(bodies.at(-1), '{"a":1}');
    const many = await Promise.all(Array.from({ length: 50 }, () => ask(pool, serializeRequest('GET', url('/'), {}))));
    assert.ok(many.every((r) => r.status === 200));
    assert.equal(connections, 2, 'two keep-alive connections served all 74 requests');
  } finally {
    pool.close();
    s.close();
  }
});

test('exact bytes: 100-continue, split heads, chunked with trailers, close-delimited bodies, connection: close', async () => {
  const replies: Record<string, string[]> = {
    '/continue': ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    '/split': ['HTTP/1.1 20', '1 Created\r\nConte', 'nt-Length: 3\r\n', '\r\nab', 'c'],
    '/trailers': ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n'],
    '/until-close': ['HTTP/1.0 200 OK\r\n\r\nbody until the server closes'],
    '/close': ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx'],
    '/garbage': ['SSH-2.0-OpenSSH_9.2\r\n\r\n'],
  };
  const s = net.createServer((c) => {
    let buf = '';
    c.on('data', async (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        const head = buf.slice(0, buf.indexOf('\r\n\r\n'));
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        const path = head.split(' ')[1]!;
        if (path === '/stall') continue; // never answers
        for (const part of replies[path]!) {
          c.write(part);
          await new Promise((r) => setTimeout(r, 2));
        }
        if (path === '/until-close' || path === '/close') c.end();
      }
    });
    c.on('error', () => undefined);
  });
  const port = await listen(s);
  const pool = new RawPool('127.0.0.1', port, 1, 300);
  try {
    const get = (p: string): Promise<RawResult> => ask(pool, serializeRequest('GET', new URL(`http://127.0.0.1:${port}${p}`), {}));
    assert.deepEqual(await get('/continue'), { status: 200 });
    assert.deepEqual(await get('/split'), { status: 201 });
    assert.deepEqual(await get('/trailers'), { status: 200 });
    assert.deepEqual(await get('/until-close'), { status: 200 });
    assert.deepEqual(await get('/close'), { status: 200 });
    assert.deepEqual(await get('/split'), { status: 201 }, 'a new connection after the server closed the last one');
    assert.deepEqual(await get('/garbage'), { status: 0, error: 'malformed response' });
    const t0 = performance.now();
    const stalled = await get('/stall');
    assert.equal(stalled.error, 'UND_ERR_HEADERS_TIMEOUT');
    assert.ok(performance.now() - t0 >= 290, 'the timeout is the pool timeout');
    assert.deepEqual(await get('/continue'), { status: 200 }, 'the pool recovers after a timeout');
  } finally {
    pool.close();
    s.close();
  }
  const refused = new RawPool('127.0.0.1', port, 1, 1_000);
  try {
    assert.deepEqual(await ask(refused, serializeRequest('GET', new URL(`http://127.0.0.1:${port}/`), {})), { status: 0, error: 'ECONNREFUSED' });
  } finally {
    refused.close();
  }
});
