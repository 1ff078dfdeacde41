/**
 * Toxiproxy's HTTP control API (same routes and JSON, port 8474 by default), so existing Toxiproxy clients and
 * scripts drive our proxy unchanged: /proxies, /proxies/{name}, /proxies/{name}/toxics[/{toxic}], /reset,
 * /populate, /version. Also: every toxic gets a deadline (`maxToxicMs`), and upstreams must be allow-listed.
 */
import http from 'node:http';
import { ChaosError, ChaosProxy, type ProxyConfig, type Toxic } from './proxy.js';

export interface ChaosApiOptions {
  host?: string;
  port?: number;
  allow?: string[];
  /** No toxic lives longer than this, whoever added it (default 10 minutes). */
  maxToxicMs?: number;
}

export interface ChaosApi {
  url: string;
  port: number;
  proxies: Map<string, ChaosProxy>;
  close(): Promise<void>;
}

export const VERSION = '2.9.0-tswarm';

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1 << 20) throw new ChaosError('request body over 1 MiB', 413);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ChaosError(`invalid JSON: ${(e as Error).message}`);
  }
}

export async function startChaosApi(opts: ChaosApiOptions = {}): Promise<ChaosApi> {
  const proxies = new Map<string, ChaosProxy>();
  const allow = opts.allow ?? ['loopback'];
  const maxToxicMs = opts.maxToxicMs ?? 10 * 60_000;

  const create = async (body: Partial<ProxyConfig>): Promise<ChaosProxy> => {
    if (!body.name || typeof body.name !== 'string') throw new ChaosError('proxy needs a name');
    if (!body.upstream || typeof body.upstream !== 'string') throw new ChaosError('proxy needs an upstream host:port');
    if (proxies.has(body.name)) throw new ChaosError('proxy already exists', 409);
    const p = new ChaosProxy({ name: body.name, listen: body.listen ?? '127.0.0.1:0', upstream: body.upstream, enabled: body.enabled !== false }, { allow, maxToxicMs });
    await p.start();
    proxies.set(body.name, p);
    return p;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const send = (status: number, body?: unknown): void => {
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }).end(text);
    };
    const proxyOf = (name: string): ChaosProxy => {
      const p = proxies.get(name);
      if (!p) throw new ChaosError('proxy not found', 404);
      return p;
    };
    if (parts[0] === 'version' && method === 'GET') return send(200, VERSION);
    if (parts[0] === 'reset' && method === 'POST') {
      for (const p of proxies.values()) {
        p.removeAllToxics();
        if (!p.config.enabled) await p.update({ enabled: true });
      }
      return send(204);
    }
    if (parts[0] === 'populate' && method === 'POST') {
      const body = await readJson(req);
      if (!Array.isArray(body)) throw new ChaosError('populate expects an array of proxies');
      const out: ReturnType<ChaosProxy['toJSON']>[] = [];
      for (const b of body as Partial<ProxyConfig>[]) {
        const existing = b.name ? proxies.get(b.name) : undefined;
        if (existing) {
          await existing.update(b);
          out.push(existing.toJSON());
        } else out.push((await create(b)).toJSON());
      }
      return send(201, { proxies: out });
    }
    if (parts[0] !== 'proxies') throw new ChaosError('not found', 404);
    if (parts.length === 1) {
      if (method === 'GET') return send(200, Object.fromEntries([...proxies].map(([k, p]) => [k, p.toJSON()])));
      if (method === 'POST') return send(201, (await create((await readJson(req)) as Partial<ProxyConfig>)).toJSON());
    }
    const p = proxyOf(parts[1]!);
    if (parts.length === 2) {
      if (method === 'GET') return send(200, p.toJSON());
      if (method === 'POST' || method === 'PATCH') {
        await p.update((await readJson(req)) as Partial<ProxyConfig>);
        return send(200, p.toJSON());
      }
      if (method === 'DELETE') {
        await p.stop();
        proxies.delete(parts[1]!);
        return send(204);
      }
    }
    if (parts[2] === 'toxics') {
      if (parts.length === 3) {
        if (method === 'GET') return send(200, p.toJSON().toxics);
        if (method === 'POST') {
          const body = (await readJson(req)) as Partial<Toxic> & { type: Toxic['type']; ttl_ms?: number };
          return send(200, p.addToxic(body, typeof body.ttl_ms === 'number' ? body.ttl_ms : undefined));
        }
      }
      const name = parts[3]!;
      if (method === 'GET') {
        const t = p.toJSON().toxics.find((x) => x.name === name);
        if (!t) throw new ChaosError('toxic not found', 404);
        return send(200, t);
      }
      if (method === 'POST' || method === 'PATCH') return send(200, p.updateToxic(name, (await readJson(req)) as Partial<Toxic>));
      if (method === 'DELETE') {
        if (!p.removeToxic(name)) throw new ChaosError('toxic not found', 404);
        return send(204);
      }
    }
    throw new ChaosError(`${method} ${url.pathname} is not a route`, 405);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof ChaosError ? e.status : 500;
      const msg = e instanceof Error ? e.message : String(e);
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: msg, status }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8474, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : (opts.port ?? 8474);
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    proxies,
    close: async () => {
      for (const p of proxies.values()) await p.stop();
      proxies.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
