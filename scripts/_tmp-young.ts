import { StreamingDetector } from '../src/algorithms/anomaly/detector.js';
import { ArtDetector } from '../src/algorithms/anomaly/art.js';
const n = Number(process.env.N ?? 2000), per = Number(process.env.P ?? 1000);
const mk = (k: number) => { let seed = 1 + k * 7919; return (i: number) => { seed = (seed * 16807) % 2147483647; return 100 + 10 * Math.sin((i + 13 * k) / 50) + (seed / 2147483647) * 5; }; };
for (const [name, make] of [['whole', () => new StreamingDetector()], ['noart', () => new StreamingDetector({ art: false })], ['art', () => { const a = [new ArtDetector({ step: 3, warmup: 300 }), new ArtDetector({ step: 6, warmup: 600 })]; return { update: (x: number) => a[0]!.update(x) + a[1]!.update(x) }; }]] as const) {
  const t = process.cpuUsage();
  let s = 0;
  for (let k = 0; k < n; k++) { const d = (make as () => { update(x: number): number })(); const g = mk(k); for (let i = 0; i < per; i++) s += d.update(g(i)); }
  const u = process.cpuUsage(t);
  console.log(name, Math.round((n * per) / ((u.user + u.system) / 1e6)), 'pts/s', s > -1 ? '' : s);
}
