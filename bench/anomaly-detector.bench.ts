/**
 * The streaming anomaly detector: points/s on one series, cost per point as the series grows (it must stay flat:
 * O(1) state), and 10,000 concurrent series in one process with the memory they take.
 */
import { StreamingDetector } from '../src/algorithms/anomaly/detector.js';

const series = (n: number): Float64Array => {
  const x = new Float64Array(n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    x[i] = 100 + 10 * Math.sin(i / 50) + (seed / 2147483647) * 5 + (i % 9973 === 0 ? 80 : 0);
  }
  return x;
};
const perPoint: Record<string, number> = {};
for (const n of [10_000, 100_000, 1_000_000]) {
  const xs = series(n);
  const d = new StreamingDetector();
  const t0 = performance.now();
  let s = 0;
  for (let i = 0; i < n; i++) s += d.update(xs[i]!);
  const ns = ((performance.now() - t0) * 1e6) / n;
  perPoint[`nsPerPoint_${n}`] = +ns.toFixed(1);
  if (s < 0) console.log(s);
}
const rate = 1e9 / perPoint.nsPerPoint_1000000!;
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const dets = Array.from({ length: 10_000 }, () => new StreamingDetector());
global.gc?.();
const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
const xs = series(1000);
const t0 = performance.now();
for (let i = 0; i < 1000; i++) for (const d of dets) d.update(xs[i]!);
const manyRate = 10_000_000 / ((performance.now() - t0) / 1000);
console.log(`anomaly detector: ${Math.round(rate).toLocaleString()} points/s on one series; ns/point at 10k/100k/1M points: ${perPoint.nsPerPoint_10000} / ${perPoint.nsPerPoint_100000} / ${perPoint.nsPerPoint_1000000}; 10,000 series: ${Math.round(manyRate).toLocaleString()} points/s, ${heapMb.toFixed(1)} MB of state`);
console.log(JSON.stringify({ bench: 'anomaly-detector', pointsPerSec: Math.round(rate), ...perPoint, series10kPointsPerSec: Math.round(manyRate), series10kHeapMb: +heapMb.toFixed(1) }));
