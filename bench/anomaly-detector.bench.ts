/**
 * The streaming anomaly detector (the one `eval nab` scores, detector.ts: CAD OSE + robust-z + ART), in CPU time
 * so a loaded machine skews it less (process.cpuUsage: user + system of this process, i.e. per core for this
 * single-threaded loop; GC threads count too, which is fair):
 *   - points/s for the whole shipped detector and for CAD alone (4-bit codes as detector.ts uses it, on a fixed
 *     quantisation: no replays) on one long series, and for robust-z alone (the O(1) part);
 *   - the whole detector's parts as it runs them, on the same series: the ART part (both time scales) and the
 *     replayed CAD + robust-z part (the detector with `art: false`), so the share of each is measured, not guessed;
 *   - cost per point at 10^3, 10^4, 10^5, 10^6 points into a series (mean over the second half of each decade:
 *     [N/2, N)), median over BENCH_SEEDS series, to show whether it stays flat as the context store grows;
 *   - BENCH_SERIES (default 10,000) concurrent series × BENCH_POINTS (default 1,000) points, updated round-robin:
 *     points/s and the memory they hold (V8 heap + typed-array buffers, and the RSS delta).
 * Run with --expose-gc (npm run bench does) for the memory figures.
 */
import { ContextualDetector } from '../src/algorithms/anomaly/cad.js';
import { StreamingDetector } from '../src/algorithms/anomaly/detector.js';
import { RobustZDetector } from '../src/algorithms/anomaly/robust-z.js';
import { ArtDetector } from '../src/algorithms/anomaly/art.js';

/**
 * A cycle, noise and a rare spike: CAD keeps learning on it (noise keeps making new contexts). The first spike
 * comes after the detector's 750-point warm-up: a spike inside it (the earlier bench had one at point 0) widens
 * the frozen range so far that the whole series falls into two bins, which makes CAD's job ~10x lighter than on
 * a real metric.
 */
const spike = (i: number): number => (i % 9973 === 9972 ? 80 : 0);
const series = (n: number, seed0: number): Float64Array => {
  const x = new Float64Array(n);
  let seed = seed0;
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    x[i] = 100 + 10 * Math.sin(i / 50) + (seed / 2147483647) * 5 + spike(i);
  }
  return x;
};

/** detector.ts's bins (8 over the range at codes 4..11, spare codes outside; 4-bit), on the first 750 points' range. */
const CAD_BITS = 4;
const quantise = (xs: Float64Array): Int32Array => {
  let lo = Infinity;
  let hi = -Infinity;
  const out = new Int32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (i < 750 || !(hi > lo)) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const w = hi > lo ? (hi - lo) / 7 : 1;
    const b = 4 + Math.floor((x - lo) / w);
    out[i] = b < 0 ? 0 : b > 15 ? 15 : b;
  }
  return out;
};

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

let sink = 0;
const N = Number(process.env.BENCH_LONG ?? 1_000_000);
const seeds = Math.max(1, Number(process.env.BENCH_SEEDS ?? 3));
const marks = [1e3, 1e4, 1e5, 1e6].filter((m) => m <= N);

// Warm-up (JIT) on a separate series, so the first mark does not measure compilation.
{
  const w = series(20_000, 99);
  const d = new StreamingDetector();
  for (let i = 0; i < w.length; i++) sink += d.update(w[i]!);
}

/** ns/point over [m/2, m) for every mark, plus the whole run's points/s. */
function run(step: (i: number) => number, n: number): { perMark: number[]; rate: number } {
  const perMark: number[] = [];
  let i = 0;
  const t0 = cpuNs();
  for (const m of marks) {
    for (; i < m / 2; i++) sink += step(i);
    const t = cpuNs();
    for (; i < m; i++) sink += step(i);
    perMark.push((cpuNs() - t) / (m - m / 2));
  }
  for (; i < n; i++) sink += step(i);
  return { perMark, rate: n / ((cpuNs() - t0) / 1e9) };
}

const median = (a: number[]): number => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const whole: { perMark: number[]; rate: number }[] = [];
const cadOnly: { perMark: number[]; rate: number }[] = [];
const rzRates: number[] = [];
const artRates: number[] = [];
const cadPartRates: number[] = [];
let contextsAtEnd = 0;
for (let s = 0; s < seeds; s++) {
  const xs = series(N, 1 + s * 7919);
  const bins = quantise(xs);
  const d = new StreamingDetector();
  whole.push(run((i) => d.update(xs[i]!), N));
  const cad = new ContextualDetector({ bits: CAD_BITS, maxContexts: 20_000 });
  cadOnly.push(run((i) => cad.step(bins[i]!), N));
  contextsAtEnd = Math.max(contextsAtEnd, cad.contexts);
  const rz = new RobustZDetector();
  rzRates.push(run((i) => rz.update(xs[i]!), N).rate);
  // The detector's own ART scales (detector.ts: blocks of 3 and 6 points).
  const arts = [new ArtDetector({ step: 3, warmup: 300 }), new ArtDetector({ step: 6, warmup: 600 })];
  artRates.push(run((i) => arts[0]!.update(xs[i]!) + arts[1]!.update(xs[i]!), N).rate);
  const noArt = new StreamingDetector({ art: false });
  cadPartRates.push(run((i) => noArt.update(xs[i]!), N).rate);
}
const wholeRate = median(whole.map((r) => r.rate));
const cadRate = median(cadOnly.map((r) => r.rate));
const rzRate = median(rzRates);
const artRate = median(artRates);
const cadPartRate = median(cadPartRates);
/** CPU share of a part in the whole detector, from its own rate (ns/point of the part over ns/point of the whole). */
const share = (rate: number): string => `${Math.round((100 * wholeRate) / rate)}%`;
const wholeNs = marks.map((_, k) => median(whole.map((r) => r.perMark[k]!)));
const cadNs = marks.map((_, k) => median(cadOnly.map((r) => r.perMark[k]!)));
const spread = (rs: { rate: number }[]): string => {
  const v = rs.map((r) => r.rate);
  return `${Math.round(Math.min(...v)).toLocaleString()}–${Math.round(Math.max(...v)).toLocaleString()}`;
};

// Many concurrent series, round-robin (every series one point, then the next point).
const nSeries = Number(process.env.BENCH_SERIES ?? 10_000);
const nPoints = Number(process.env.BENCH_POINTS ?? 1_000);
/**
 * Live memory: GC, then let V8 finish freeing the backing stores of dead typed arrays (that runs concurrently
 * after a GC; measured right away, arrays replaced while growing still count: ~8 KB per series here), GC again.
 */
const mem = async (): Promise<{ heap: number; buffers: number; rss: number }> => {
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
};
const m0 = await mem();
const dets = Array.from({ length: nSeries }, () => new StreamingDetector());
// Each series its own noise and phase (generated on the fly: ~2% of the loop's time).
const lcg = Float64Array.from({ length: nSeries }, (_, k) => 1 + k * 7919);
const t2 = cpuNs();
for (let i = 0; i < nPoints; i++) {
  for (let k = 0; k < nSeries; k++) {
    const seed = (lcg[k]! * 16807) % 2147483647;
    lcg[k] = seed;
    sink += dets[k]!.update(100 + 10 * Math.sin((i + 13 * k) / 50) + (seed / 2147483647) * 5 + spike(i));
  }
}
const manyRate = (nSeries * nPoints) / ((cpuNs() - t2) / 1e9);
const m1 = await mem();
const heapMb = (m1.heap - m0.heap) / 1e6;
const bufMb = (m1.buffers - m0.buffers) / 1e6;
const rssMb = (m1.rss - m0.rss) / 1e6;
if (sink < 0 || dets.length !== nSeries) console.log(sink); // keeps the detectors alive past the measurement
dets.length = 0;

/**
 * Untimed diagnostics, after every timed loop (they patch CAD's prototype and walk private fields):
 *   - CAD steps per point at each mark (1 + the replays' share: why early points cost more), on the first series;
 *   - the most memory one detector holds (typed-array bytes, peak over a long series, sampled every 1,000
 *     points) on series that fill CAD's context store and ART's category stores: the per-series cap in practice.
 */
const typedBytes = (o: unknown, seen = new Set<unknown>()): number => {
  if (o === null || typeof o !== 'object' || seen.has(o)) return 0;
  seen.add(o);
  if (ArrayBuffer.isView(o)) return o.buffer.byteLength;
  let b = 0;
  for (const v of Array.isArray(o) ? o : Object.values(o as object)) b += typedBytes(v, seen);
  return b;
};
let cadSteps = 0;
const cadStep = ContextualDetector.prototype.step;
ContextualDetector.prototype.step = function (this: ContextualDetector, bin: number): number {
  cadSteps++;
  return cadStep.call(this, bin);
};
const stepsPerPoint: number[] = [];
{
  const xs = series(N, 1);
  const d = new StreamingDetector();
  let i = 0;
  for (const m of marks) {
    for (; i < m / 2; i++) d.update(xs[i]!);
    const c0 = cadSteps;
    for (; i < m; i++) d.update(xs[i]!);
    stepsPerPoint.push((cadSteps - c0) / (m - m / 2));
  }
}
ContextualDetector.prototype.step = cadStep;
const capPoints = Number(process.env.BENCH_CAP_POINTS ?? 200_000);
const capFamilies: Record<string, (i: number, r: () => number) => number> = {
  'noisy cycle': (i, r) => 100 + 10 * Math.sin(i / 50) + 5 * r() + spike(i),
  noise: (_i, r) => r(),
  counts: (i, r) => Math.floor(20 * r() * (1 + Math.sin(i / 144))),
};
const caps: string[] = [];
let capMax = 0;
for (const [name, f] of Object.entries(capFamilies)) {
  let seed = 7;
  const r = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const d = new StreamingDetector();
  let peak = 0;
  for (let i = 0; i < capPoints; i++) {
    sink += d.update(f(i, r));
    if (i % 1000 === 999) peak = Math.max(peak, typedBytes(d));
  }
  capMax = Math.max(capMax, peak);
  caps.push(`${name} ${(peak / 1e3).toFixed(0)} KB`);
}

const fmt = (v: number): string => Math.round(v).toLocaleString();
console.log(
  `anomaly detector, CPU time, median of ${seeds} series of ${N.toLocaleString()} points: ` +
    `whole detector ${fmt(wholeRate)} points/s per core (${spread(whole)}), CAD alone ${fmt(cadRate)} (${spread(cadOnly)}), robust-z alone ${fmt(rzRate)}; ` +
    `the detector's parts: ART at both scales ${fmt(artRate)} (${share(artRate)} of the whole's CPU), replayed CAD + robust-z ${fmt(cadPartRate)} (${share(cadPartRate)}); ` +
    `ns/point at ${marks.map((m) => m.toExponential(0)).join(' / ')} points: whole detector ${wholeNs.map(fmt).join(' / ')}, CAD alone ${cadNs.map(fmt).join(' / ')} ` +
    `(context store at the end: ${contextsAtEnd.toLocaleString()}); ` +
    `${nSeries.toLocaleString()} concurrent series x ${nPoints.toLocaleString()} points: ${fmt(manyRate)} points/s, ` +
    `${(heapMb + bufMb).toFixed(1)} MB of state (heap ${heapMb.toFixed(1)} + typed arrays ${bufMb.toFixed(1)}; ${((heapMb + bufMb) * 1e3 / nSeries).toFixed(1)} KB per series), RSS +${rssMb.toFixed(0)} MB; ` +
    `CAD steps per point at the marks ${stepsPerPoint.map((v) => v.toFixed(2)).join(' / ')} (1 + replays); ` +
    `one detector's peak typed-array memory over ${capPoints.toLocaleString()} points: ${caps.join(', ')}` +
    (global.gc ? '' : ' (no --expose-gc: memory figures include garbage)'),
);
console.log(
  JSON.stringify({
    bench: 'anomaly-detector',
    pointsPerSec: Math.round(wholeRate),
    cadPointsPerSec: Math.round(cadRate),
    robustZPointsPerSec: Math.round(rzRate),
    artPartPointsPerSec: Math.round(artRate),
    cadPartPointsPerSec: Math.round(cadPartRate),
    ...Object.fromEntries(marks.map((m, k) => [`nsPerPoint_at${m}`, Math.round(wholeNs[k]!)])),
    ...Object.fromEntries(marks.map((m, k) => [`cadNsPerPoint_at${m}`, Math.round(cadNs[k]!)])),
    series: nSeries,
    pointsPerSeries: nPoints,
    manyPointsPerSec: Math.round(manyRate),
    manyHeapMb: +heapMb.toFixed(1),
    manyTypedArrayMb: +bufMb.toFixed(1),
    manyRssMb: +rssMb.toFixed(0),
    ...Object.fromEntries(marks.map((m, k) => [`cadStepsPerPoint_at${m}`, +stepsPerPoint[k]!.toFixed(2)])),
    peakKbPerSeries: Math.round(capMax / 1e3),
  }),
);
