/**
 * The streaming anomaly detector (the one `eval nab` scores: CAD OSE + robust-z, detector.ts): points/s on one
 * series, cost per point as the series grows, and many concurrent series in one process with the memory they
 * take. The robust-z half alone is measured too (it is the O(1) part; CAD's cost grows with its context store
 * until the store's cap, `maxContexts`, relearns it).
 *
 * Sizes: BENCH_SERIES (default 10,000) concurrent series × BENCH_POINTS (default 100) points each.
 */
import { StreamingDetector } from '../src/algorithms/anomaly/detector.js';
import { RobustZDetector } from '../src/algorithms/anomaly/robust-z.js';

const series = (n: number): Float64Array => {
  const x = new Float64Array(n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    x[i] = 100 + 10 * Math.sin(i / 50) + (seed / 2147483647) * 5 + (i % 9973 === 0 ? 80 : 0);
  }
  return x;
};

// One long series: ns/point over consecutive segments (does the cost per point stay flat as it grows?).
const segments = [10_000, 40_000, 50_000];
const xs = series(segments.reduce((a, b) => a + b, 0));
const d = new StreamingDetector();
const perPoint: Record<string, number> = {};
let at = 0;
let total = 0;
let sink = 0;
for (const len of segments) {
  const t0 = performance.now();
  for (let i = at; i < at + len; i++) sink += d.update(xs[i]!);
  const ms = performance.now() - t0;
  total += ms;
  at += len;
  perPoint[`nsPerPoint_to${at}`] = +((ms * 1e6) / len).toFixed(0);
}
const rate = at / (total / 1000);

const rz = new RobustZDetector();
const t1 = performance.now();
for (let i = 0; i < xs.length; i++) sink += rz.update(xs[i]!);
const rzRate = xs.length / ((performance.now() - t1) / 1000);

// Many concurrent series.
const nSeries = Number(process.env.BENCH_SERIES ?? 10_000);
const nPoints = Number(process.env.BENCH_POINTS ?? 100);
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const dets = Array.from({ length: nSeries }, () => new StreamingDetector());
const ys = series(nPoints);
const t2 = performance.now();
for (let i = 0; i < nPoints; i++) for (const det of dets) sink += det.update(ys[i]!);
const manyRate = (nSeries * nPoints) / ((performance.now() - t2) / 1000);
global.gc?.();
const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
if (sink < 0 || dets.length !== nSeries) console.log(sink); // keeps the detectors alive past the measurement

console.log(
  `anomaly detector (CAD + robust-z): ${Math.round(rate).toLocaleString()} points/s on one ${at.toLocaleString()}-point series; ` +
    `ns/point by segment: ${Object.values(perPoint).join(' / ')}; robust-z alone ${Math.round(rzRate).toLocaleString()} points/s; ` +
    `${nSeries.toLocaleString()} series x ${nPoints} points: ${Math.round(manyRate).toLocaleString()} points/s, ${heapMb.toFixed(1)} MB of state`,
);
console.log(JSON.stringify({ bench: 'anomaly-detector', pointsPerSec: Math.round(rate), ...perPoint, robustZPointsPerSec: Math.round(rzRate), series: nSeries, pointsPerSeries: nPoints, manyPointsPerSec: Math.round(manyRate), manyHeapMb: +heapMb.toFixed(1) }));
