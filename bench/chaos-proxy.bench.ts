/**
 * Fault-injection proxy overhead with no toxics: wrk (Debian) against nginx directly and through the proxy, in
 * one run. Targets: throughput ≥ 80% of direct, added p50 ≤ 0.2 ms.
 */
import { startChaosApi } from '../src/chaos/api.js';
import { nginxAvailable, startNginx, wrk, freePort } from './helpers/nginx.js';

const direct0 = nginxAvailable() ? await wrk('http://127.0.0.1:1/', 1, 1) : undefined;
if (!nginxAvailable() || direct0 === undefined) {
  console.log('chaos-proxy: skipped (apt-get install nginx-light wrk)');
  console.log(JSON.stringify({ bench: 'chaos-proxy', skipped: 'nginx or wrk not installed' }));
  process.exit(0);
}
const ng = await startNginx();
const api = await startChaosApi({ port: 0 });
try {
  const port = await freePort();
  await fetch(`${api.url}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'ng', listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${ng.port}` }) });
  const direct = (await wrk(ng.url, 5, 32))!;
  const proxied = (await wrk(`http://127.0.0.1:${port}/`, 5, 32))!;
  // Latency at a light load, where queueing does not hide the proxy's own cost.
  const d1 = (await wrk(ng.url, 3, 1))!;
  const p1 = (await wrk(`http://127.0.0.1:${port}/`, 3, 1))!;
  console.log(`chaos proxy, no toxics: ${Math.round(proxied.rps).toLocaleString()} req/s through it vs ${Math.round(direct.rps).toLocaleString()} direct (ratio ${(proxied.rps / direct.rps).toFixed(2)}); added p50 at 1 connection ${(p1.p50Ms - d1.p50Ms).toFixed(3)} ms`);
  console.log(JSON.stringify({ bench: 'chaos-proxy', directRps: Math.round(direct.rps), proxiedRps: Math.round(proxied.rps), ratio: +(proxied.rps / direct.rps).toFixed(3), addedP50Ms: +(p1.p50Ms - d1.p50Ms).toFixed(3) }));
} finally {
  await api.close();
  ng.stop();
}
