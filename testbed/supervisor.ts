/**
 * Starts and stops the shop: Redis (through a guard process) and one child process per service on random free
 * loopback ports. Services run from source through tsx when this module itself runs from source (tests), and
 * from the compiled JavaScript when it runs from dist/ (the CLI after `npm run build`): the entry is resolved
 * next to this file either way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_VERSION, BAD_VERSION, SERVICE_NAMES, type FaultParams, type ServiceName } from './catalog.js';
import { CONFIG_ENV, type ServiceConfig, type ServiceMessage } from './service/config.js';
import type { LogStyle } from './service/log.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');

function nodeArgs(entry: string): string[] {
  const file = join(HERE, 'service', `${entry}${FROM_SOURCE ? '.ts' : '.js'}`);
  // stack traces of thrown exceptions must point at the .ts source lines in both modes
  const base = ['--enable-source-maps'];
  return FROM_SOURCE ? [...base, '--import', import.meta.resolve('tsx'), file] : [...base, file];
}

export function redisAvailable(bin = 'redis-server'): boolean {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

export function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => ok(port));
    });
  });
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      s.destroy();
      ok(false);
    }, 500);
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      clearTimeout(t);
      s.destroy();
      ok(d.toString().startsWith('+PONG'));
    });
    s.on('error', () => {
      clearTimeout(t);
      ok(false);
    });
  });
}

export interface SupervisorOptions {
  host: string;
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  exportIntervalMs: number;
  seed: number;
  redis: boolean;
  maxLifetimeMs: number;
  /** Where service logs (stdout) and SQLite files go; a temp dir removed on stop when not given. */
  workDir?: string;
  startTimeoutMs: number;
  /** Callers reach these services at the given URL instead (e.g. a chaos proxy in front of them). */
  peerOverrides?: Partial<Record<ServiceName, string>>;
}

export interface RunningService {
  name: ServiceName;
  port: number;
  url: string;
  version: string;
  pid?: number;
  child?: ChildProcess;
}

const LOG_STYLE: Record<ServiceName, LogStyle> = {
  frontend: 'plain',
  checkout: 'json',
  cart: 'plain',
  payment: 'json',
  shipping: 'plain',
  currency: 'json',
  email: 'plain',
  catalog: 'json',
  recommendation: 'plain',
};

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // last resort: the services watch their parent too, but do not leave them even for a second. SIGTERM, not
  // SIGKILL, so that the redis guard still takes redis-server down with it.
  process.on('exit', () => {
    for (const c of liveChildren) c.kill('SIGTERM');
  });
}

export class Supervisor {
  readonly services = new Map<ServiceName, RunningService>();
  redisPort?: number;
  private redisGuard?: ChildProcess;
  readonly workDir: string;
  private readonly ownWorkDir: boolean;
  private stopped = false;
  /** Called after a service was redeployed (bad deploy or rollback). */
  onRedeploy?: (service: ServiceName, version: string) => void;

  constructor(private readonly opts: SupervisorOptions) {
    this.ownWorkDir = !opts.workDir;
    this.workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'tswarm-testbed-'));
    mkdirSync(join(this.workDir, 'logs'), { recursive: true });
    mkdirSync(join(this.workDir, 'data'), { recursive: true });
    installExitHook();
  }

  async start(): Promise<void> {
    const host = this.opts.host;
    if (this.opts.redis) await this.startRedis();
    // A port found free can be taken by another process before the service binds it (parallel tests do). Every
    // service knows its peers' ports from the start, so a service that could not listen (exit code 2) makes the
    // whole set start again on fresh ports, at most three times.
    for (let attempt = 1; ; attempt++) {
      for (const name of SERVICE_NAMES) {
        const port = await freeLoopbackPort(host);
        this.services.set(name, { name, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, version: BASE_VERSION });
      }
      const started = await Promise.allSettled(SERVICE_NAMES.map((n) => this.spawnService(n, BASE_VERSION, [])));
      const failures = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      if (!failures.length) return;
      const portTaken = failures.some((e) => /exited during start-up \(code 2,/.test(e.message));
      if (!portTaken || attempt >= 3 || this.stopped) throw failures[0]!;
      const children = [...this.services.values()].flatMap((svc) => {
        const c = svc.child;
        svc.child = undefined;
        return c ? [c] : [];
      });
      await Promise.all(children.map((c) => stopChild(c, 5000)));
    }
  }

  private async startRedis(): Promise<void> {
    const port = await freeLoopbackPort('127.0.0.1');
    const out = openSync(join(this.workDir, 'logs', 'redis.log'), 'a');
    const guard = spawn(process.execPath, nodeArgs('redis-guard'), {
      env: { ...process.env, TESTBED_REDIS_PORT: String(port), TESTBED_MAX_LIFETIME_MS: String(this.opts.maxLifetimeMs) },
      stdio: ['ignore', out, out, 'ipc'],
    });
    closeSync(out);
    liveChildren.add(guard);
    guard.on('exit', () => liveChildren.delete(guard));
    this.redisGuard = guard;
    const deadline = Date.now() + this.opts.startTimeoutMs;
    while (Date.now() < deadline) {
      if (guard.exitCode !== null) throw new Error(`redis-server could not start (guard exited ${guard.exitCode}); see ${join(this.workDir, 'logs', 'redis.log')}`);
      if (await redisPing(port)) {
        this.redisPort = port;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within ${this.opts.startTimeoutMs} ms`);
  }

  private peers(): Partial<Record<ServiceName, string>> {
    const p: Partial<Record<ServiceName, string>> = {};
    for (const s of this.services.values()) p[s.name] = this.opts.peerOverrides?.[s.name] ?? s.url;
    return p;
  }

  private spawnService(name: ServiceName, version: string, faults: { fault: string; params?: FaultParams }[]): Promise<void> {
    const svc = this.services.get(name);
    if (!svc) throw new Error(`unknown service ${name}`);
    const cfg: ServiceConfig = {
      service: name,
      host: this.opts.host,
      port: svc.port,
      version,
      instanceId: `${name}-${svc.port}-${version}`,
      otlpEndpoint: this.opts.otlpEndpoint,
      otlpHeaders: this.opts.otlpHeaders,
      exportIntervalMs: this.opts.exportIntervalMs,
      peers: this.peers(),
      redisUrl: name === 'cart' && this.redisPort ? `redis://127.0.0.1:${this.redisPort}` : undefined,
      dataDir: join(this.workDir, 'data'),
      faults,
      seed: this.opts.seed + SERVICE_NAMES.indexOf(name) * 1000 + (version === BASE_VERSION ? 0 : 17),
      maxLifetimeMs: this.opts.maxLifetimeMs,
      logStyle: LOG_STYLE[name],
    };
    const out = openSync(join(this.workDir, 'logs', `${name}.log`), 'a');
    const child = spawn(process.execPath, nodeArgs('main'), {
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(cfg) },
      stdio: ['ignore', out, out, 'ipc'],
    });
    closeSync(out);
    liveChildren.add(child);
    svc.child = child;
    svc.pid = child.pid;
    svc.version = version;
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`service ${name} did not become ready within ${this.opts.startTimeoutMs} ms; see ${join(this.workDir, 'logs', `${name}.log`)}`));
      }, this.opts.startTimeoutMs);
      child.on('message', (m: ServiceMessage) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          ok();
        } else if (m.type === 'redeploy') {
          void this.redeploy(name, BAD_VERSION, [{ fault: String(m.params.fault), params: {} }]).catch((e: Error) => {
            process.stderr.write(`testbed: redeploy of ${name} failed: ${e.message}\n`);
          });
        }
      });
      child.on('exit', (code, sig) => {
        liveChildren.delete(child);
        clearTimeout(timer);
        if (svc.child === child && !this.stopped) {
          svc.child = undefined;
          fail(new Error(`service ${name} exited during start-up (code ${String(code)}, signal ${String(sig)}); see ${join(this.workDir, 'logs', `${name}.log`)}`));
        }
      });
    });
  }

  /** Replaces a service process with a new version (same port), e.g. a bad deploy or its rollback. */
  async redeploy(name: ServiceName, version: string, faults: { fault: string; params?: FaultParams }[]): Promise<void> {
    const svc = this.services.get(name);
    if (!svc) throw new Error(`unknown service ${name}`);
    if (svc.child) await stopChild(svc.child, 4000);
    svc.child = undefined;
    await this.spawnService(name, version, faults);
    this.onRedeploy?.(name, version);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const all = [...this.services.values()].map((s) => s.child).filter((c): c is ChildProcess => !!c);
    await Promise.all(all.map((c) => stopChild(c, 5000)));
    if (this.redisGuard) await stopChild(this.redisGuard, 4000);
    if (this.ownWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(hard);
      liveChildren.delete(child);
      ok();
    });
    child.kill('SIGTERM');
  });
}
