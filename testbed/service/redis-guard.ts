/**
 * Runs redis-server as its own child and ties its life to the testbed: redis-server cannot watch its parent, so
 * this small Node process does (IPC channel, parent pid, maximum lifetime) and takes redis down with it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const port = Number(process.env.TESTBED_REDIS_PORT);
const maxLifetimeMs = Number(process.env.TESTBED_MAX_LIFETIME_MS ?? 3_600_000);
const bin = process.env.TESTBED_REDIS_BIN ?? 'redis-server';
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`redis-guard: TESTBED_REDIS_PORT must be a TCP port, got ${String(process.env.TESTBED_REDIS_PORT)}\n`);
  process.exit(2);
}

// setpriv (util-linux) asks the kernel to SIGTERM redis when this guard dies, even by SIGKILL
const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'];
const withDeathSignal = existsSync('/usr/bin/setpriv');
const redis = spawn(withDeathSignal ? '/usr/bin/setpriv' : bin, withDeathSignal ? ['--pdeathsig', 'SIGTERM', bin, ...args] : args, {
  stdio: ['ignore', 'inherit', 'inherit'],
});
let done = false;
function stop(code: number): void {
  if (done) return;
  done = true;
  redis.kill('SIGTERM');
  const hard = setTimeout(() => {
    redis.kill('SIGKILL');
    process.exit(code);
  }, 2000);
  redis.once('exit', () => {
    clearTimeout(hard);
    process.exit(code);
  });
}
redis.on('error', (e) => {
  process.stderr.write(`redis-guard: cannot start ${bin}: ${e.message}\n`);
  process.exit(3);
});
redis.on('exit', (code) => {
  if (!done) {
    process.stderr.write(`redis-guard: redis-server exited with ${String(code)}\n`);
    process.exit(4);
  }
});
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.on('disconnect', () => stop(0));
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) stop(0);
}, 1000).unref();
setTimeout(() => stop(0), maxLifetimeMs).unref();
process.send?.({ type: 'spawned', pid: redis.pid });
