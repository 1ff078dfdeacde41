/** A throwaway nginx (Debian's) serving a small static file on a free loopback port, for load benches. */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export function nginxAvailable(): boolean {
  return existsSync('/usr/sbin/nginx');
}

export { freeLoopbackPort as freePort } from '../../src/util/net.js';
import { freeLoopbackPort as freePort } from '../../src/util/net.js';

export async function startNginx(): Promise<{ url: string; port: number; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tswarm-nginx-'));
  mkdirSync(join(dir, 'html'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'html', 'index.html'), 'hello from nginx\n');
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; error_log ${dir}/logs/error.log; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${dir}/html; location / { } } }`,
  );
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs wrk (asynchronously: a server under test may live in this process) → requests/s and p50 in ms. */
export async function wrk(url: string, seconds: number, connections: number): Promise<{ rps: number; p50Ms: number } | undefined> {
  if (!existsSync('/usr/bin/wrk')) return undefined;
  const stdout = await new Promise<string>((resolve) => {
    const c = spawn('/usr/bin/wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', url]);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', () => resolve(out));
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p50Ms = p50 ? Number(p50[1]) * (p50[2] === 'us' ? 0.001 : p50[2] === 's' ? 1000 : 1) : NaN;
  return { rps, p50Ms };
}
