/**
 * Minimal HTTP plumbing for the shop services: a route table, request context (request id) and an upstream
 * client that applies each call edge's policy from the catalogue (timeout or none, retries). Plain `node:http`
 * on purpose: it is what the official OTel HTTP instrumentation traces, with nothing in between.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type * as httpTypes from 'node:http';
import { edgePolicy, type ServiceName } from '../catalog.js';

export interface RequestContext {
  requestId: string;
}
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** An error with the HTTP status the service should answer with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A failed call to another service; carries the callee so logs name it. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly target: string,
    readonly status?: number,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface Handler {
  (input: { params: Record<string, string>; query: URLSearchParams; body: unknown }): Promise<unknown>;
}
export interface Route {
  method: string;
  /** e.g. `/products/:id` — also the span name's route. */
  pattern: string;
  handler: Handler;
}

export function matchRoute(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pp = route.pattern.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pp.length; i++) {
      if (pp[i].startsWith(':')) params[pp[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (pp[i] !== parts[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return undefined;
}

const MAX_BODY = 1024 * 1024;

export function readBody(req: httpTypes.IncomingMessage): Promise<unknown> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        fail(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size === 0) return ok(undefined);
      try {
        ok(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        fail(new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', fail);
  });
}

export class Upstream {
  private readonly agent: httpTypes.Agent;
  constructor(
    private readonly http: typeof httpTypes,
    private readonly self: ServiceName,
    private readonly peers: Partial<Record<ServiceName, string>>,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  async call<T>(target: ServiceName, method: string, path: string, body?: unknown): Promise<T> {
    const policy = edgePolicy(this.self, target);
    const base = this.peers[target];
    if (!base) throw new UpstreamError(`no address configured for ${target}`, target);
    let lastErr: unknown;
    for (let attempt = 0; attempt <= policy.retries; attempt++) {
      try {
        return (await this.once(base, target, method, path, body, policy.timeoutMs)) as T;
      } catch (e) {
        lastErr = e;
        // retry only what a retry can fix: transport failures and 5xx, never 4xx
        const retryable = !(e instanceof UpstreamError) || e.status === undefined || e.status >= 500;
        if (!retryable) break;
      }
    }
    throw lastErr;
  }

  private once(base: string, target: string, method: string, path: string, body: unknown, timeoutMs: number | undefined): Promise<unknown> {
    return new Promise((ok, fail) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = { accept: 'application/json' };
      const rid = requestContext.getStore()?.requestId;
      if (rid) headers['x-request-id'] = rid;
      if (payload) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = payload.length;
      }
      const req = this.http.request(new URL(path, base), { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(new UpstreamError(`${target}: response aborted: ${e.message}`, target)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* non-JSON body: reported below when it matters */
          }
          if (status >= 400) {
            const msg = parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : text.slice(0, 200);
            fail(new UpstreamError(`${target} ${method} ${path} responded ${status}: ${msg}`, target, status));
          } else if (text && parsed === undefined) {
            fail(new UpstreamError(`${target} ${method} ${path} returned invalid JSON`, target, status));
          } else ok(parsed);
        });
      });
      if (timeoutMs !== undefined) {
        req.setTimeout(timeoutMs, () => req.destroy(new UpstreamError(`${target} ${method} ${path} timed out after ${timeoutMs} ms`, target, undefined, true)));
      }
      req.on('error', (e) => fail(e instanceof UpstreamError ? e : new UpstreamError(`${target} ${method} ${path} failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`, target)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
