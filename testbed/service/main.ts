/**
 * Entry point of one shop service process. Started by the supervisor (testbed/supervisor.ts) with its config in
 * an environment variable and an IPC channel; exits when the channel closes, when the parent process is gone, or
 * when its maximum lifetime is reached, so a crashed parent never leaves services behind.
 */
import { trace, SpanStatusCode } from '@opentelemetry/api';
import { Registry, collectDefaultMetrics, Histogram } from 'prom-client';
import { flagKeyOf, isServiceName } from '../catalog.js';
import { Rng } from '../rng.js';
import { CONFIG_ENV, type ServiceConfig, type ServiceMessage } from './config.js';
import { setupTelemetry } from './telemetry.js';
import { AppLogger } from './log.js';
import { Faults, FaultError } from './faults.js';
import { routesFor } from './handlers.js';
import { RedisCartStore, SqliteCartStore, CatalogStore, type CartStore } from './stores.js';
import { HttpError, UpstreamError, Upstream, matchRoute, readBody, requestContext } from './web.js';

function loadConfig(): ServiceConfig {
  const raw = process.env[CONFIG_ENV];
  if (!raw) throw new Error(`${CONFIG_ENV} is not set: services are started by the testbed supervisor`);
  const cfg = JSON.parse(raw) as ServiceConfig;
  if (!isServiceName(cfg.service)) throw new Error(`unknown service "${String(cfg.service)}"`);
  return cfg;
}

const cfg = loadConfig();
const tel = setupTelemetry({
  service: cfg.service,
  version: cfg.version,
  instanceId: cfg.instanceId,
  otlpEndpoint: cfg.otlpEndpoint,
  otlpHeaders: cfg.otlpHeaders,
  exportIntervalMs: cfg.exportIntervalMs,
});
const log = new AppLogger(cfg.service, cfg.logStyle, tel.otelLogger);
const rng = new Rng(cfg.seed);
const faults = new Faults(cfg.service, cfg.seed + 1);

let cartStore: CartStore | undefined;
let catalogStore: CatalogStore | undefined;
if (cfg.service === 'cart') {
  cartStore = cfg.redisUrl ? new RedisCartStore(new URL(cfg.redisUrl), faults) : new SqliteCartStore(cfg.dataDir, faults);
  faults.onChange = () => cartStore?.refresh();
}
if (cfg.service === 'catalog') catalogStore = new CatalogStore(cfg.dataDir, faults);

const up = new Upstream(tel.http, cfg.service, cfg.peers);
const routes = routesFor({ service: cfg.service, up, log, faults, rng, cart: cartStore, catalog: catalogStore });

const registry = new Registry();
registry.setDefaultLabels({ service: cfg.service });
collectDefaultMetrics({ register: registry });
const promDuration = new Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'Duration of HTTP requests served',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

faults.onDeploy = (params) => {
  if (!process.send) throw new FaultError('not supervised: a bad deploy needs the testbed supervisor', 409);
  const msg: ServiceMessage = { type: 'redeploy', service: cfg.service, params };
  process.send(msg);
};
for (const f of cfg.faults) faults.set(f.fault, f.params ?? {});

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A config push is the one fault a service announces, as a real service logs its config reloads (a Spring refresh,
 * a SIGHUP): the line is what a person finds first, so the swarm must read it (announced-changes.ts). Reverted
 * when the fault is cleared, like the rollback a config server would push.
 */
function announceConfig(from: unknown, to: unknown, key: unknown): void {
  log.info(`configuration reloaded: ${String(key)} changed from ${String(from)} to ${String(to)}`, { by: 'config-server' });
}

/** Clears faults (one or all), announcing the rollback of a config push that was active. */
function clearFaults(fault?: Parameters<Faults['clear']>[0]): void {
  const pushed = faults.active('config');
  faults.clear(fault);
  if (pushed && !faults.active('config')) announceConfig(pushed.params.value, pushed.params.previous, pushed.params.key);
}

async function admin(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, path: string): Promise<void> {
  const parts = path.split('/').filter(Boolean); // ['admin', 'faults', ...]
  try {
    if (req.method === 'GET' && path === '/admin/faults') return send(res, 200, { service: cfg.service, version: cfg.version, faults: faults.list() });
    if (req.method === 'POST' && path === '/admin/faults') {
      const body = (await readBody(req)) as { fault?: unknown; params?: unknown } | undefined;
      if (!body || typeof body.fault !== 'string') throw new HttpError(400, 'body must be {"fault": "<name>", "params": {...}}');
      const params = body.params ?? {};
      if (typeof params !== 'object' || Array.isArray(params) || params === null) throw new HttpError(400, 'params must be an object');
      const before = faults.active('config');
      const active = faults.set(body.fault, params as Record<string, number | string | boolean>);
      if (active.fault === 'config') announceConfig(before?.params.value ?? active.params.previous, active.params.value, active.params.key);
      // Other faults are not written to the service's log: a fault stands for an organic failure (a slow query, a bug), which does
      // not announce itself, and the swarm reads config changes announced in logs as direct evidence
      // (announced-changes.ts): a line here would hand it the answer. The scenario's record (record.ts) keeps the truth.
      return send(res, body.fault === 'deploy' ? 202 : 200, { service: cfg.service, active });
    }
    if (req.method === 'DELETE' && parts[0] === 'admin' && parts[1] === 'faults' && parts.length <= 3) {
      if (parts[2] && !faults.list().some((f) => f.fault === parts[2]) && !/^[a-z]+$/.test(parts[2])) throw new HttpError(400, `bad fault name "${parts[2]}"`);
      clearFaults(parts[2] as Parameters<Faults['clear']>[0]);
      return send(res, 200, { service: cfg.service, faults: faults.list() });
    }
    if (req.method === 'POST' && path === '/admin/reset') {
      clearFaults();
      await cartStore?.flush();
      return send(res, 200, { service: cfg.service, reset: true });
    }
    throw new HttpError(404, `no admin route ${req.method} ${path}`);
  } catch (e) {
    const status = e instanceof HttpError || e instanceof FaultError ? e.status : 500;
    send(res, status, { error: (e as Error).message });
  }
}

const server = tel.http.createServer((req, res) => {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return send(res, 400, { error: 'malformed request URL' });
  }
  const path = url.pathname;
  if (path.startsWith('/admin/')) return void admin(req, res, path);
  if (path === '/health') return send(res, 200, { service: cfg.service, version: cfg.version, status: 'ok' });
  if (path === '/metrics') {
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (e: Error) => send(res, 500, { error: e.message }),
    );
    return;
  }
  const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 64)) || rng.hex(8);
  res.setHeader('x-request-id', requestId);
  const method = req.method ?? 'GET';
  const match = matchRoute(routes, method, path);
  const routeName = match?.route.pattern ?? 'unmatched';
  const span = trace.getActiveSpan();
  span?.updateName(`${method} ${routeName}`);
  span?.setAttribute('http.route', routeName);
  span?.setAttribute('request.id', requestId);
  const t0 = performance.now();
  res.on('finish', () => {
    const ms = performance.now() - t0;
    promDuration.observe({ method, route: routeName, status_code: String(res.statusCode) }, ms / 1000);
    if (cfg.service === 'frontend') log.info(`${method} ${url.pathname}${url.search} ${res.statusCode} ${ms.toFixed(1)}ms`, { request_id: requestId });
  });
  requestContext.run({ requestId }, async () => {
    if (await faults.beforeRequest(req, res)) {
      if (res.statusCode >= 500 && res.writableEnded) log.error('request rejected: worker pool exhausted', undefined, { request_id: requestId, route: routeName });
      return;
    }
    // The service's feature flag, evaluated per request and recorded as OpenFeature's OpenTelemetry hook does
    // (semantic conventions: a feature_flag.evaluation event); "on" only under the flag fault, whose new code
    // path is slow.
    const flagOn = faults.trigger('flag');
    span?.addEvent('feature_flag.evaluation', { 'feature_flag.key': flagKeyOf(cfg.service), 'feature_flag.result.variant': flagOn ? 'on' : 'off', 'feature_flag.provider.name': 'testbed' });
    if (flagOn) await new Promise((ok) => setTimeout(ok, faults.num('flag', 'ms', 300)));
    // The pushed setting's slow path (say, the cache it switched off): nothing on the span says why.
    if (faults.trigger('config')) await new Promise((ok) => setTimeout(ok, faults.num('config', 'ms', 300)));
    try {
      if (!match) throw new HttpError(404, `no route ${method} ${path}`);
      const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req);
      const out = await match.route.handler({ params: match.params, query: url.searchParams, body });
      send(res, 200, out);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      // a callee's 4xx is the client's problem and passes through (unknown product, declined card); anything else
      // from a callee is a bad gateway
      const status =
        e instanceof HttpError ? e.status : e instanceof UpstreamError ? (e.timedOut ? 504 : e.status && e.status < 500 ? e.status : 502) : 500;
      if (status >= 500) {
        span?.recordException(e);
        span?.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
        log.error(`${method} ${routeName} failed: ${e.message}`, e instanceof HttpError ? undefined : e, { request_id: requestId, route: routeName, status });
      } else if (status !== 404 || cfg.service === 'frontend') {
        log.warn(`${method} ${routeName} rejected: ${e.message}`, { request_id: requestId, status });
      }
      send(res, status, { error: e.message, request_id: requestId });
    }
  });
});
server.keepAliveTimeout = 5000;
server.headersTimeout = 10_000;
server.requestTimeout = 60_000;

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    setTimeout(() => process.exit(code), 4000).unref();
    faults.stop();
    server.close();
    server.closeAllConnections();
    up.close();
    await tel.shutdown();
    await cartStore?.close();
    catalogStore?.close();
  }
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('disconnect', () => void shutdown(0));
const parentPid = process.ppid;
setInterval(() => {
  // the parent died without closing the IPC channel (SIGKILL): we are re-parented
  if (process.ppid !== parentPid) void shutdown(0);
}, 1000).unref();
setTimeout(() => void shutdown(0), cfg.maxLifetimeMs).unref();
process.on('uncaughtException', (e) => {
  log.error('uncaught exception, shutting down', e);
  void shutdown(1);
});

server.on('error', (e) => {
  process.stderr.write(`${cfg.service}: cannot listen on ${cfg.host}:${cfg.port}: ${e.message}\n`);
  void shutdown(2);
});
server.listen(cfg.port, cfg.host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  log.info(`${cfg.service} ${cfg.version} listening`, { port, store: cartStore?.kind ?? (catalogStore ? 'sqlite' : 'none') });
  const msg: ServiceMessage = { type: 'ready', service: cfg.service, port, version: cfg.version };
  process.send?.(msg);
});
