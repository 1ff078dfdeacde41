/**
 * The testbed's static description: which services exist, who calls whom (with which client policy), and the
 * fault catalogue. Shared by the supervisor (parent) and the services (children) so both agree on names.
 *
 * Service names never contain `_`: the RCAEval case layout splits `<service>_<fault>` on it.
 */

export const SERVICE_NAMES = [
  'frontend',
  'checkout',
  'cart',
  'payment',
  'shipping',
  'currency',
  'email',
  'catalog',
  'recommendation',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s);
}

/**
 * How a caller talks to a callee. `timeoutMs` undefined means NO client timeout: a few edges are left without
 * timeouts or retries on purpose so that the chaos engineer has real weaknesses to find (docs/testbed.md).
 */
export interface EdgePolicy {
  source: ServiceName;
  target: ServiceName | 'redis' | 'sqlite';
  timeoutMs?: number;
  retries: number;
  /** The caller degrades gracefully (serves without this callee) instead of failing. */
  fallback: boolean;
}

export const EDGES: readonly EdgePolicy[] = [
  { source: 'frontend', target: 'catalog', timeoutMs: 2000, retries: 0, fallback: false },
  { source: 'frontend', target: 'recommendation', timeoutMs: 1500, retries: 0, fallback: true },
  { source: 'frontend', target: 'cart', timeoutMs: 2000, retries: 0, fallback: false },
  { source: 'frontend', target: 'currency', timeoutMs: 1000, retries: 1, fallback: false },
  { source: 'frontend', target: 'checkout', timeoutMs: 10000, retries: 0, fallback: false },
  // weakness: no timeout; a slow catalog makes recommendation (and, through its fallback timeout, the home page) slow
  { source: 'recommendation', target: 'catalog', retries: 0, fallback: false },
  { source: 'checkout', target: 'cart', timeoutMs: 2000, retries: 0, fallback: false },
  // weakness: no timeout on the product look-up during checkout
  { source: 'checkout', target: 'catalog', retries: 0, fallback: false },
  { source: 'checkout', target: 'currency', timeoutMs: 1000, retries: 1, fallback: false },
  { source: 'checkout', target: 'shipping', timeoutMs: 2000, retries: 1, fallback: false },
  // weakness: no timeout and no retry on the payment call: a hanging payment hangs every checkout
  { source: 'checkout', target: 'payment', retries: 0, fallback: false },
  // email failures are swallowed (the order is placed, a WARN is logged)
  { source: 'checkout', target: 'email', timeoutMs: 2000, retries: 0, fallback: true },
  { source: 'cart', target: 'redis', timeoutMs: 1000, retries: 0, fallback: false },
  { source: 'catalog', target: 'sqlite', retries: 0, fallback: false },
];

export function edgePolicy(source: ServiceName, target: string): EdgePolicy {
  const e = EDGES.find((x) => x.source === source && x.target === target);
  if (!e) throw new Error(`no call edge ${source} -> ${target} in the testbed call graph`);
  return e;
}

/** Service-to-service edges (caller → callee), as `topology.csv` and the programmatic API expose them. */
export function serviceTopology(): { source: string; target: string }[] {
  return EDGES.map((e) => ({ source: e.source, target: e.target }));
}

export function calleesOf(service: ServiceName): ServiceName[] {
  return EDGES.filter((e) => e.source === service && isServiceName(e.target)).map((e) => e.target as ServiceName);
}

/** Modelled on the OpenTelemetry Demo feature flags and the RCAEval / Nezha fault types. */
export const FAULT_TYPES = [
  'cpu',
  'mem',
  'delay',
  'loss',
  'error',
  'exception',
  'bug',
  'outage',
  'slowquery',
  'deploy',
  'flag',
  'config',
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/**
 * The faults random scenarios and case sets draw from: all but `config`, whose service names the change in its own
 * log (as a real config reload does), so a labelled RCA case of it would hand the ranking its answer and make a
 * set's accuracy say less; it is injected by name (`<service>_config`, `setFault`).
 */
export const SCENARIO_FAULTS: readonly FaultType[] = FAULT_TYPES.filter((f) => f !== 'config');

export function isFaultType(s: string): s is FaultType {
  return (FAULT_TYPES as readonly string[]).includes(s);
}

export const FAULT_DESCRIPTIONS: Record<FaultType, string> = {
  cpu: 'CPU burn: a busy loop holds the event loop for a duty cycle (params: duty 0..0.95)',
  mem: 'memory leak: retains buffers at a rate until a cap (params: mbPerSecond, capMb)',
  delay: 'added latency on every request (params: ms, jitterMs)',
  loss: 'packet-loss-like failures: a fraction of connections reset without a response (params: rate)',
  error: 'error responses: a fraction of requests answered 500/503 (params: rate)',
  exception: 'thrown exceptions from a real code path, logged with a stack trace (params: rate)',
  bug: 'code-level bug: a wrong return value (HTTP 200) that the caller then fails on (params: rate)',
  outage: 'dependency outage: the service store becomes unreachable (cart: Redis/SQLite, catalog: SQLite)',
  slowquery: 'slow queries against the service store (params: ms)',
  deploy: 'bad deploy: the service restarts with a new service.version that carries a fault (params: fault)',
  flag: 'bad flag rollout: the service\'s flag <service>.new-code-path turns "on" for a share of requests, whose new code path is slow (params: rate, ms)',
  config: 'bad config push: the service reloads a new value of a setting and says so in its log ("configuration reloaded: cache.enabled changed from true to false"), and with it a share of its requests are slow; cleared, it reloads the old value (params: key, previous, value, rate, ms)',
};

/** Services whose own store a fault can target; the other faults apply to every service. */
const STORE_SERVICES: readonly ServiceName[] = ['cart', 'catalog'];
/** Services whose responses a caller consumes field by field, so that a wrong value breaks the caller. */
const BUG_SERVICES: readonly ServiceName[] = ['cart', 'catalog', 'currency', 'shipping', 'payment', 'recommendation'];

export function faultApplies(service: ServiceName, fault: FaultType): boolean {
  if (fault === 'outage' || fault === 'slowquery') return STORE_SERVICES.includes(service);
  if (fault === 'bug') return BUG_SERVICES.includes(service);
  return true;
}

export function servicesFor(fault: FaultType): ServiceName[] {
  return SERVICE_NAMES.filter((s) => faultApplies(s, fault));
}

export type FaultParams = Record<string, number | string | boolean>;

export interface ActiveFault {
  fault: FaultType;
  params: FaultParams;
  sinceMs: number;
}

/** Default parameters: strong enough to be visible in a few seconds of telemetry, not so strong the shop dies. */
export const DEFAULT_FAULT_PARAMS: Record<FaultType, FaultParams> = {
  cpu: { duty: 0.8 },
  mem: { mbPerSecond: 20, capMb: 400 },
  delay: { ms: 400, jitterMs: 100 },
  loss: { rate: 0.5 },
  error: { rate: 0.5 },
  exception: { rate: 0.6 },
  bug: { rate: 0.7 },
  outage: {},
  slowquery: { ms: 300 },
  deploy: { fault: 'exception' },
  flag: { rate: 0.3, ms: 300 },
  config: { key: 'cache.enabled', previous: 'true', value: 'false', rate: 1, ms: 300 },
};

/** The flag every testbed service evaluates on each request (OpenFeature-style, recorded on the server span). */
export const flagKeyOf = (service: ServiceName): string => `${service}.new-code-path`;

export const BASE_VERSION = '1.4.2';
export const BAD_VERSION = '1.5.0-rc.1';
