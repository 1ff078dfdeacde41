/** A throwaway nginx (Debian's) serving a small static file on a free loopback port, for load benches. */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export function nginxAvailable(): boolean {
  return existsSync('/usr/sbin/nginx');
}

export { freeLoopbackPort as freePort } from '../../src/util/net.js';
import { freeLoopbackPort as freePort } from '../../src/util/net.js';

/** CPU seconds (user, system) a live process has used so far, from /proc/<pid>/stat; zeros when it is gone. */
export function cpuOf(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are the 14th
    // and 15th fields of the line, in clock ticks (100 per second on Linux).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** The worker processes of an nginx master (its children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function startNginx(opts: { workers?: number } = {}): Promise<{ url: string; port: number; workers: number; workerPids(): number[]; stop(): void }> {
  const workers = opts.workers ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'tswarm-nginx-'));
  mkdirSync(join(dir, 'html'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'html', 'index.html'), 'hello from nginx\n');
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes ${workers}; daemon off; error_log ${dir}/logs/error.log; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${dir}/html; location / { } } }`,
  );
  const h = spawnNginx(dir, port, workers);
  await waitForPort(port);
  return { url: `http://127.0.0.1:${port}/`, ...h };
}

/** Runs nginx on the config in `dir`; stop() ends it and removes the folder. */
function spawnNginx(dir: string, port: number, workers: number): { port: number; workers: number; workerPids(): number[]; stop(): void } {
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  return {
    port,
    workers,
    workerPids: () => (child.pid ? childPids(child.pid) : []),
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/**
 * nginx as a plain TCP proxy (its stream module, Debian package libnginx-mod-stream) in front of a loopback port:
 * a C, epoll-based reference for what any user-space proxy costs. Undefined when the module is not installed.
 */
export async function startNginxStreamProxy(upstreamPort: number, opts: { workers?: number } = {}): Promise<{ port: number; workers: number; workerPids(): number[]; stop(): void } | undefined> {
  if (!nginxAvailable() || !existsSync(STREAM_MODULE)) return undefined;
  const workers = opts.workers ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'tswarm-nginx-stream-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `load_module ${STREAM_MODULE}; worker_processes ${workers}; daemon off; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
stream { server { listen 127.0.0.1:${port}; proxy_pass 127.0.0.1:${upstreamPort}; tcp_nodelay on; } }`,
  );
  const h = spawnNginx(dir, port, workers);
  if (!(await waitForPort(port))) {
    h.stop();
    return undefined;
  }
  return h;
}

async function waitForPort(port: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  /** Requests completed in the run. */
  requests: number;
  /** CPU seconds wrk itself used (user + system), from its parent shell's accounting of waited-for children. */
  cpuS: number;
  /** The command line, for the bench's statement of its setup. */
  args: string[];
}

/**
 * Runs wrk (asynchronously: a server under test may live in this process) → requests/s, p50 in ms, and wrk's own
 * CPU time. Threads default to 2, capped by the connection count (wrk refuses fewer connections than threads).
 * `cpus` pins wrk to those CPUs (taskset's list syntax).
 */
export async function wrk(url: string, seconds: number, connections: number, opts: { threads?: number; cpus?: string } = {}): Promise<WrkResult | undefined> {
  if (!existsSync('/usr/bin/wrk')) return undefined;
  const threads = Math.max(1, Math.min(opts.threads ?? 2, connections));
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url];
  // wrk runs under a shell that prints its own /proc stat afterwards: the cutime/cstime fields there hold the
  // CPU of the children it waited for, i.e. wrk's whole run (its /proc entry is gone by the time it exits).
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    const run = opts.cpus === undefined ? '/usr/bin/wrk "$@"' : `/usr/bin/taskset -c ${opts.cpus} /usr/bin/wrk "$@"`;
    const c = spawn('/bin/sh', ['-c', `${run}; cat /proc/$$/stat >&2`, 'wrk', ...args]);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', () => resolve({ stdout: out, stderr: err }));
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p50Ms = p50 ? Number(p50[1]) * (p50[2] === 'us' ? 0.001 : p50[2] === 's' ? 1000 : 1) : NaN;
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  const stat = stderr.trim().split('\n').pop() ?? '';
  // cutime and cstime are the 16th and 17th fields of the stat line.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[13]) + Number(f[14])) / 100;
  return { rps, p50Ms, requests, cpuS, args };
}
