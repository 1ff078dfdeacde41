/**
 * Scenario plans: which service gets which fault, under what load, when, and what background noise happens
 * around it. Pure and seeded: the same (scenario, seed, periods) always gives the same plan, which is what makes
 * `tswarm testbed record --scenario random --seed 7` reproducible in its choices.
 */
import {
  BAD_VERSION,
  BASE_VERSION,
  DEFAULT_FAULT_PARAMS,
  FAULT_TYPES,
  SCENARIO_FAULTS,
  SERVICE_NAMES,
  faultApplies,
  isFaultType,
  isServiceName,
  servicesFor,
  type FaultParams,
  type FaultType,
  type ServiceName,
} from './catalog.js';
import { Rng } from './rng.js';
import type { TrafficOptions } from './traffic.js';

export interface NoiseEvent {
  service: ServiceName;
  fault: 'delay' | 'error';
  params: FaultParams;
  /** Offset from the start of the case (ms). */
  atMs: number;
  durationMs: number;
}

export interface ScenarioPlan {
  scenario: string;
  seed: number;
  service: ServiceName;
  fault: FaultType;
  params: FaultParams;
  /** service.version after the injection (differs from the base version for a bad deploy). */
  version: string;
  baseVersion: string;
  load: Required<Pick<TrafficOptions, 'model' | 'seed'>> & { users?: number; rate?: number; level: 'low' | 'medium' | 'high' };
  normalMs: number;
  afterMs: number;
  /** Offset of the injection from the start of the case (ms). */
  injectAtMs: number;
  noise: NoiseEvent[];
}

export interface PlanOptions {
  normalMs: number;
  afterMs: number;
}

const LEVELS = { low: { users: 3, rate: 3 }, medium: { users: 5, rate: 5 }, high: { users: 8, rate: 8 } } as const;

/** Faults whose intensity is drawn per case, so cases differ in strength and not only in place. */
function drawParams(fault: FaultType, service: ServiceName, rng: Rng): FaultParams {
  const p: FaultParams = { ...DEFAULT_FAULT_PARAMS[fault] };
  switch (fault) {
    case 'cpu':
      p.duty = Number(rng.range(0.6, 0.9).toFixed(2));
      break;
    case 'mem':
      p.mbPerSecond = rng.int(10, 30);
      break;
    case 'delay':
      p.ms = rng.int(250, 800);
      p.jitterMs = rng.int(20, 150);
      break;
    case 'loss':
    case 'error':
    case 'exception':
    case 'bug':
      p.rate = Number(rng.range(0.3, 0.8).toFixed(2));
      break;
    case 'slowquery':
      p.ms = rng.int(150, 500);
      break;
    case 'flag':
    case 'config':
      p.rate = Number(rng.range(0.2, 0.6).toFixed(2));
      p.ms = rng.int(250, 800);
      break;
    case 'deploy': {
      const inner = (['exception', 'error', 'delay', 'bug'] as const).filter((f) => faultApplies(service, f));
      p.fault = rng.pick(inner);
      break;
    }
    case 'outage':
      break;
  }
  return p;
}

/** Parses `<service>_<fault>` (or `random`) into a plan. */
export function planScenario(scenario: string, seed: number, opts: PlanOptions): ScenarioPlan {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  if (!(opts.normalMs >= 1000) || !(opts.afterMs >= 1000)) throw new Error('normal and after periods must be at least 1 s each');
  const rng = new Rng(seed);
  let service: ServiceName;
  let fault: FaultType;
  if (scenario === 'random') {
    // fault first, then a service it applies to: every fault type is equally likely
    fault = rng.pick(SCENARIO_FAULTS);
    service = rng.pick(servicesFor(fault));
  } else {
    const m = /^([a-z][a-z0-9-]*)_([a-z]+)$/.exec(scenario);
    if (!m) throw new Error(`scenario must be "random" or "<service>_<fault>", e.g. payment_delay; got "${scenario}"`);
    const [, s, f] = m;
    if (!isServiceName(s)) throw new Error(`unknown service "${s}" in scenario (services: ${SERVICE_NAMES.join(', ')})`);
    if (!isFaultType(f)) throw new Error(`unknown fault "${f}" in scenario (faults: ${FAULT_TYPES.join(', ')})`);
    if (!faultApplies(s, f)) throw new Error(`fault "${f}" does not apply to ${s} (it applies to: ${servicesFor(f).join(', ')})`);
    service = s;
    fault = f;
    rng.next();
    rng.next();
  }
  const params = drawParams(fault, service, rng);
  const level = rng.pick(['low', 'medium', 'high'] as const);
  const model = rng.chance(0.7) ? 'closed' : 'open';
  const load: ScenarioPlan['load'] =
    model === 'closed' ? { model, users: LEVELS[level].users, level, seed: rng.int(1, 1_000_000) } : { model, rate: LEVELS[level].rate, level, seed: rng.int(1, 1_000_000) };
  // the injection lands anywhere in the last fifth of the normal period
  const injectAtMs = Math.round(opts.normalMs * rng.range(0.8, 1.0));
  const total = injectAtMs + opts.afterMs;
  const others = SERVICE_NAMES.filter((s) => s !== service);
  const noise: NoiseEvent[] = [];
  const nNoise = rng.int(1, 3);
  for (let i = 0; i < nNoise; i++) {
    const kind = rng.chance(0.5) ? 'delay' : 'error';
    const durationMs = rng.int(1500, 4000);
    noise.push({
      service: rng.pick(others),
      fault: kind,
      params: kind === 'delay' ? { ms: rng.int(60, 200), jitterMs: 30 } : { rate: Number(rng.range(0.03, 0.1).toFixed(2)) },
      atMs: rng.int(500, Math.max(600, total - durationMs - 500)),
      durationMs,
    });
  }
  noise.sort((a, b) => a.atMs - b.atMs);
  return {
    scenario,
    seed,
    service,
    fault,
    params,
    version: fault === 'deploy' ? BAD_VERSION : BASE_VERSION,
    baseVersion: BASE_VERSION,
    load,
    normalMs: opts.normalMs,
    afterMs: opts.afterMs,
    injectAtMs,
    noise,
  };
}

/**
 * Plans a set of cases that covers every fault of SCENARIO_FAULTS (round robin over a seeded shuffle) and spreads
 * each fault over the services it applies to (least-used service first).
 */
export function planSet(count: number, seed: number, opts: PlanOptions): ScenarioPlan[] {
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`count must be an integer in [1, 1000], got ${count}`);
  const rng = new Rng(seed * 31 + 7);
  const faults = [...SCENARIO_FAULTS];
  for (let i = faults.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [faults[i], faults[j]] = [faults[j], faults[i]];
  }
  const used = new Map<string, number>();
  const plans: ScenarioPlan[] = [];
  for (let i = 0; i < count; i++) {
    const fault = faults[i % faults.length];
    const candidates = servicesFor(fault);
    const minUse = Math.min(...candidates.map((s) => used.get(s) ?? 0));
    const service = rng.pick(candidates.filter((s) => (used.get(s) ?? 0) === minUse));
    used.set(service, (used.get(service) ?? 0) + 1);
    plans.push(planScenario(`${service}_${fault}`, seed * 1000 + i, opts));
  }
  return plans;
}
