/**
 * Load generator throughput against nginx (Debian) serving a small file, side by side in one run: our closed
 * model at the same concurrency as autocannon (npm) and wrk (Debian). Also the open model's rate accuracy at
 * 80% of our maximum. Peers: autocannon and wrk; ratios printed.
 */
import autocannon from 'autocannon';
import { runLoad } from '../src/load/generator.js';
import { nginxAvailable, startNginx, wrk } from './helpers/nginx.js';

if (!nginxAvailable()) {
  console.log('load-generator: skipped (apt-get install nginx-light wrk)');
  console.log(JSON.stringify({ bench: 'load-generator', skipped: 'nginx not installed' }));
  process.exit(0);
}
const ng = await startNginx();
const C = 64;
const S = 5;
try {
  const ours = await runLoad({ requests: [{ url: ng.url }], model: { type: 'closed', vus: C }, duration: S, connections: C });
  const oursRps = ours.requests / ours.durationS;
  const ac = await new Promise<{ requests: { average: number } }>((resolve, reject) => {
    autocannon({ url: ng.url, connections: C, duration: S }, (err, res) => (err ? reject(err) : resolve(res as unknown as { requests: { average: number } })));
  });
  const w = await wrk(ng.url, S, C);
  const target = Math.round(0.8 * oursRps);
  const open = await runLoad({ requests: [{ url: ng.url }], model: { type: 'open', rate: target }, duration: S, connections: C });
  const accuracy = open.achievedRate / target;
  console.log(`load generator vs nginx, ${C} connections, ${S} s: tswarm ${Math.round(oursRps).toLocaleString()} req/s; autocannon ${Math.round(ac.requests.average).toLocaleString()} (ratio ${(oursRps / ac.requests.average).toFixed(2)}); wrk ${w ? Math.round(w.rps).toLocaleString() : 'n/a'} (ratio ${w ? (oursRps / w.rps).toFixed(2) : 'n/a'}); open model at ${target}/s achieved ${open.achievedRate.toFixed(0)}/s (${(100 * (accuracy - 1)).toFixed(2)}%)`);
  console.log(JSON.stringify({ bench: 'load-generator', tswarmRps: Math.round(oursRps), autocannonRps: Math.round(ac.requests.average), wrkRps: w ? Math.round(w.rps) : null, ratioToAutocannon: +(oursRps / ac.requests.average).toFixed(3), ratioToWrk: w ? +(oursRps / w.rps).toFixed(3) : null, openTargetRps: target, openAchievedRps: +open.achievedRate.toFixed(1) }));
} finally {
  ng.stop();
}
