/**
 * The testbed's programmatic API: a real instrumented microservice shop on loopback with run-time fault
 * injection and a traffic driver. Used by `tswarm testbed ...`, `tswarm demo` and end-to-end tests.
 *
 *   const tb = await startTestbed({ otlpEndpoint: receiver.url });
 *   tb.traffic.start({ model: 'closed', users: 4 });
 *   await tb.setFault('payment', 'delay', { ms: 500 });
 *   ...
 *   await tb.stop();
 */
import {
  BASE_VERSION,
  BAD_VERSION,
  FAULT_TYPES,
  SERVICE_NAMES,
  faultApplies,
  isFaultType,
  isServiceName,
  serviceTopology,
  type FaultParams,
  type FaultType,
  type ServiceName,
} from './catalog.js';
import { Supervisor, redisAvailable } from './supervisor.js';
import { TrafficDriver, type TrafficOptions, type TrafficStats } from './traffic.js';

export * from './catalog.js';
export type { TrafficOptions, TrafficStats } from './traffic.js';

export interface TestbedOptions {
  /** OTLP/HTTP base URL (e.g. http://127.0.0.1:4318); telemetry is not exported without it. */
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  seed?: number;
  /** Use redis-server for the cart (default: when installed); false: SQLite. */
  redis?: boolean;
  /** Loopback only: 127.0.0.1 (default) or ::1. */
  host?: '127.0.0.1' | '::1';
  /** OTLP export interval of metrics (traces and logs flush at least this often). Default 1000 ms. */
  exportIntervalMs?: number;
  /** Every service process exits by itself after this long. Default 2 h. */
  maxLifetimeMs?: number;
  /** Keep service logs and SQLite files here (otherwise a temp dir, removed on stop). */
  workDir?: string;
  startTimeoutMs?: number;
  /** Callers reach these services at the given URL instead (a chaos proxy in front of them, for experiments). */
  peerOverrides?: Partial<Record<ServiceName, string>>;
}

export interface TestbedService {
  name: ServiceName;
  url: string;
  adminUrl: string;
  metricsUrl: string;
  version: string;
  pid?: number;
}

export interface Testbed {
  readonly services: TestbedService[];
  readonly frontendUrl: string;
  /** Caller → callee edges of the real call graph (including the stores `redis` / `sqlite`). */
  readonly topology: { source: string; target: string }[];
  readonly redis: boolean;
  readonly workDir: string;
  setFault(service: string, fault: string, params?: FaultParams): Promise<void>;
  clearFault(service: string, fault: string): Promise<void>;
  /** Clears every fault, rolls bad deploys back to the base version, and empties carts. */
  clearFaults(opts?: { resetState?: boolean }): Promise<void>;
  activeFaults(): Promise<Record<string, { fault: string; params: FaultParams }[]>>;
  traffic: { start(opts?: TrafficOptions): void; stop(): Promise<void>; stats(): TrafficStats; readonly running: boolean };
  stop(): Promise<void>;
}

async function adminCall(url: string, method: string, body?: unknown): Promise<unknown> {
  let res: Response | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      break;
    } catch (e) {
      // admin calls are idempotent; a service whose event loop a fault blocked may close a kept-alive socket
      // just as it is reused (ECONNRESET), so a transport failure is retried
      if (attempt >= 2) throw new Error(`${method} ${url}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const msg = parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : text;
    throw new Error(`${method} ${url}: ${res.status} ${msg}`);
  }
  return parsed;
}

export function checkFault(service: string, fault: string): { service: ServiceName; fault: FaultType } {
  if (!isServiceName(service)) throw new Error(`unknown service "${service}" (services: ${SERVICE_NAMES.join(', ')})`);
  if (!isFaultType(fault)) throw new Error(`unknown fault "${fault}" (faults: ${FAULT_TYPES.join(', ')})`);
  if (!faultApplies(service, fault)) throw new Error(`fault "${fault}" does not apply to ${service}`);
  return { service, fault };
}

export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') throw new Error(`the testbed binds loopback only (127.0.0.1 or ::1), not ${String(host)}`);
  const useRedis = options.redis ?? redisAvailable();
  if (useRedis && !redisAvailable()) throw new Error('redis-server is not installed (apt-get install redis-server), or pass redis: false for SQLite');
  const sup = new Supervisor({
    host,
    peerOverrides: options.peerOverrides,
    otlpEndpoint: options.otlpEndpoint,
    otlpHeaders: options.otlpHeaders,
    exportIntervalMs: options.exportIntervalMs ?? 1000,
    seed: options.seed ?? 1,
    redis: useRedis,
    maxLifetimeMs: options.maxLifetimeMs ?? 2 * 3_600_000,
    workDir: options.workDir,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  try {
    await sup.start();
  } catch (e) {
    await sup.stop();
    throw e;
  }
  const fe = (): string => sup.services.get('frontend')?.url ?? '';
  const driver = new TrafficDriver(fe);
  const svc = (name: ServiceName) => {
    const s = sup.services.get(name);
    if (!s) throw new Error(`service ${name} is not running`);
    return s;
  };

  const tb: Testbed = {
    get services() {
      return SERVICE_NAMES.map((n) => {
        const s = svc(n);
        return { name: n, url: s.url, adminUrl: `${s.url}/admin`, metricsUrl: `${s.url}/metrics`, version: s.version, pid: s.pid };
      });
    },
    get frontendUrl() {
      return fe();
    },
    topology: serviceTopology(),
    redis: useRedis,
    workDir: sup.workDir,
    async setFault(service, fault, params = {}) {
      const c = checkFault(service, fault);
      if (c.fault === 'deploy') {
        // the supervisor replaces the process; waiting here makes the new version live when this resolves
        const inner = typeof params.fault === 'string' ? params.fault : 'exception';
        checkFault(service, inner);
        if (inner === 'deploy') throw new Error('a bad deploy cannot carry another deploy');
        if (inner === 'config') throw new Error('a bad deploy carries a code fault, not a config push (set the config fault on its own)');
        const rest = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'fault'));
        await sup.redeploy(c.service, BAD_VERSION, [{ fault: inner, params: rest }]);
        return;
      }
      await adminCall(`${svc(c.service).url}/admin/faults`, 'POST', { fault: c.fault, params });
    },
    async clearFault(service, fault) {
      const c = checkFault(service, fault);
      if (c.fault === 'deploy') {
        if (svc(c.service).version !== BASE_VERSION) await sup.redeploy(c.service, BASE_VERSION, []);
        return;
      }
      await adminCall(`${svc(c.service).url}/admin/faults/${c.fault}`, 'DELETE');
    },
    async clearFaults(opts = {}) {
      for (const n of SERVICE_NAMES) if (svc(n).version !== BASE_VERSION) await sup.redeploy(n, BASE_VERSION, []);
      // A reset right after an outage can meet a store that is still reconnecting: retry with backoff.
      const call = async (n: (typeof SERVICE_NAMES)[number]): Promise<void> => {
        for (let attempt = 1; ; attempt++) {
          try {
            await adminCall(`${svc(n).url}/admin/${opts.resetState === false ? 'faults' : 'reset'}`, opts.resetState === false ? 'DELETE' : 'POST');
            return;
          } catch (e) {
            if (attempt >= 5) throw e;
            await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
          }
        }
      };
      await Promise.all(SERVICE_NAMES.map(call));
    },
    async activeFaults() {
      const out: Record<string, { fault: string; params: FaultParams }[]> = {};
      await Promise.all(
        SERVICE_NAMES.map(async (n) => {
          const r = (await adminCall(`${svc(n).url}/admin/faults`, 'GET')) as { faults: { fault: string; params: FaultParams }[] };
          out[n] = r.faults.map((f) => ({ fault: f.fault, params: f.params }));
        }),
      );
      return out;
    },
    traffic: {
      start: (o) => driver.start(o),
      stop: () => driver.stop(),
      stats: () => driver.snapshot(),
      get running() {
        return driver.isRunning;
      },
    },
    async stop() {
      await driver.stop();
      await sup.stop();
    },
  };
  return tb;
}
