/**
 * The fault state of one service process and the faults that act on the process as a whole (CPU burn, memory
 * leak) or on the request edge (delay, loss, error). Code-path faults (exception, bug, outage, slow query) are
 * consulted by the handlers and stores through `trigger()` / `active()`, so they fail where real code fails.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_FAULT_PARAMS, isFaultType, faultApplies, type ActiveFault, type FaultParams, type FaultType, type ServiceName } from '../catalog.js';
import { Rng } from '../rng.js';

export class FaultError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class Faults {
  private readonly faults = new Map<FaultType, ActiveFault>();
  private cpuTimer?: NodeJS.Timeout;
  private memTimer?: NodeJS.Timeout;
  /** The leak: kept reachable on purpose until the fault is cleared. */
  private leaked: Buffer[] = [];
  private readonly rng: Rng;
  /** Called for faults the process cannot apply to itself (a bad deploy restarts the process). */
  onDeploy?: (params: FaultParams) => void;
  /** Called whenever the set of active faults changes (stores react to outage). */
  onChange?: () => void;

  constructor(
    private readonly service: ServiceName,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  list(): ActiveFault[] {
    return [...this.faults.values()];
  }

  active(fault: FaultType): ActiveFault | undefined {
    return this.faults.get(fault);
  }

  /** True for this request when the fault is active and its `rate` (default 1) draws it. */
  trigger(fault: FaultType): boolean {
    const f = this.faults.get(fault);
    if (!f) return false;
    const rate = typeof f.params.rate === 'number' ? f.params.rate : 1;
    return this.rng.chance(rate);
  }

  num(fault: FaultType, key: string, fallback: number): number {
    const v = this.faults.get(fault)?.params[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  }

  set(faultName: string, params: FaultParams = {}): ActiveFault {
    if (!isFaultType(faultName)) throw new FaultError(`unknown fault "${faultName}"`);
    const fault = faultName;
    if (!faultApplies(this.service, fault)) throw new FaultError(`fault "${fault}" does not apply to service ${this.service}`);
    const merged = validateParams(fault, { ...DEFAULT_FAULT_PARAMS[fault], ...params });
    if (fault === 'deploy') {
      if (!faultApplies(this.service, merged.fault as FaultType)) throw new FaultError(`fault deploy: inner fault "${String(merged.fault)}" does not apply to ${this.service}`);
      if (!this.onDeploy) throw new FaultError('this process cannot redeploy itself (not supervised)', 409);
      this.onDeploy(merged);
      return { fault, params: merged, sinceMs: Date.now() };
    }
    this.clear(fault);
    const af: ActiveFault = { fault, params: merged, sinceMs: Date.now() };
    this.faults.set(fault, af);
    if (fault === 'cpu') this.startCpu();
    if (fault === 'mem') this.startMem();
    this.onChange?.();
    return af;
  }

  clear(fault?: FaultType): void {
    const which = fault ? [fault] : [...this.faults.keys()];
    for (const f of which) {
      this.faults.delete(f);
      if (f === 'cpu' && this.cpuTimer) {
        clearInterval(this.cpuTimer);
        this.cpuTimer = undefined;
      }
      if (f === 'mem') {
        if (this.memTimer) clearInterval(this.memTimer);
        this.memTimer = undefined;
        this.leaked = [];
      }
    }
    this.onChange?.();
  }

  /**
   * Request-edge faults. Returns true when the request was consumed by a fault (reset or error response), so
   * the handler must not run.
   */
  async beforeRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (this.faults.has('delay')) {
      const ms = this.num('delay', 'ms', 400) + this.rng.range(0, this.num('delay', 'jitterMs', 0));
      await new Promise((ok) => setTimeout(ok, ms));
    }
    if (this.trigger('loss')) {
      // like a dropped connection: no response at all, the caller's socket is reset
      req.socket.destroy();
      return true;
    }
    if (this.trigger('error')) {
      const status = this.rng.chance(0.5) ? 500 : 503;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: status === 503 ? 'service unavailable' : 'internal error' }));
      return true;
    }
    return false;
  }

  private startCpu(): void {
    const period = 100;
    this.cpuTimer = setInterval(() => {
      const duty = Math.min(0.95, Math.max(0.05, this.num('cpu', 'duty', 0.8)));
      const until = performance.now() + duty * period;
      // the burn: a real busy loop on the event loop thread, so every request of this service waits for it
      let x = 0;
      while (performance.now() < until) x = (x * 1103515245 + 12345) % 2147483648;
      if (x < 0) this.rng.next();
    }, period);
  }

  private startMem(): void {
    const tickMs = 250;
    this.memTimer = setInterval(() => {
      const cap = this.num('mem', 'capMb', 400) * 1024 * 1024;
      const held = this.leaked.reduce((s, b) => s + b.length, 0);
      if (held >= cap) return;
      const chunk = Math.min(cap - held, Math.round((this.num('mem', 'mbPerSecond', 20) * 1024 * 1024 * tickMs) / 1000));
      // fill, not just allocate: untouched pages would not show up in the resident set size
      this.leaked.push(Buffer.alloc(chunk, 1));
    }, tickMs);
  }

  stop(): void {
    this.clear();
  }
}

function validateParams(fault: FaultType, p: FaultParams): FaultParams {
  const numKeys: Record<string, [number, number]> = {
    rate: [0, 1],
    duty: [0, 0.95],
    ms: [0, 60_000],
    jitterMs: [0, 60_000],
    mbPerSecond: [0, 200],
    capMb: [1, 2048],
  };
  for (const [k, v] of Object.entries(p)) {
    const range = numKeys[k];
    if (!range) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < range[0] || v > range[1]) {
      throw new FaultError(`fault ${fault}: parameter ${k} must be a number in [${range[0]}, ${range[1]}], got ${JSON.stringify(v)}`);
    }
  }
  if (fault === 'deploy') {
    const inner = p.fault;
    if (typeof inner !== 'string' || !isFaultType(inner) || inner === 'deploy' || inner === 'config') {
      throw new FaultError(`fault deploy: parameter fault must name another fault (not a config push), got ${JSON.stringify(inner)}`);
    }
  }
  if (fault === 'config') {
    // Written into the service's log line: a setting's name and values, not free text.
    for (const k of ['key', 'previous', 'value']) {
      const v = p[k];
      if (typeof v !== 'string' || !/^[\w.-]{1,64}$/.test(v)) throw new FaultError(`fault config: parameter ${k} must be a setting's name or value (letters, digits, . _ -), got ${JSON.stringify(v)}`);
    }
    if (p.previous === p.value) throw new FaultError('fault config: value must differ from previous (a push that changes nothing is no fault)');
  }
  return p;
}
