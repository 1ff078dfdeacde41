/**
 * The performance tester's metric pass on a store: BENCH_METRIC_SERIES (default 200) gauge series × 3,000 points
 * of a 10 s gauge, in an in-memory SQLite store:
 *   - first cycle (window = points 2,000–2,900): every series replays its block (2,900 points), against the
 *     detector alone on the same values in the same run (the peer; the pass adds the store read and the series
 *     building);
 *   - next cycle (window = points 2,810–3,000, overlapping the last one as `serve --continuous` windows do): with
 *     the detectors kept from the first cycle only the 100 new points per series are fed; against the same cycle
 *     replaying (metricDetectors 0), and the memory the kept detectors hold.
 * CPU time (process.cpuUsage), so a loaded machine skews it less.
 */
import { openStore } from '../src/store/open.js';
import type { MetricPoint } from '../src/signals/model.js';
import { PerformanceTester } from '../src/agents/analysis/performance-tester.js';
import { scoreSeries } from '../src/algorithms/anomaly/detector.js';
import { silentLogger } from '../src/fleet/logger.js';
import { mulberry32 } from '../src/util/random.js';

const SERIES = Number(process.env.BENCH_METRIC_SERIES ?? 200);
const POINTS = 3000;
const STEP = 10e6;
const block = 16_384e6; // replayBlockUs(10 s)
const t0 = Math.ceil(1_700_000_000_000_000 / block) * block;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const rnd = mulberry32(7);
const values: number[][] = [];
const points: MetricPoint[] = [];
for (let s = 0; s < SERIES; s++) {
  const v: number[] = [];
  for (let i = 0; i < POINTS; i++) {
    const x = 50 + 10 * Math.sin(i / 40 + s) + 3 * rnd() + (i === 2500 ? 60 : 0);
    v.push(x);
    points.push({ name: 'process.cpu.utilization', service: `svc-${s % 20}`, attributes: { 'host.name': `h${s}` }, timeUs: t0 + i * STEP, type: 'gauge', value: x, resource: { attributes: { 'service.name': `svc-${s % 20}` } } });
  }
  values.push(v);
}
const store = await openStore(':memory:');
await store.telemetry.ingest({ spans: [], logs: [], metrics: points, errors: [] });
const tester = new PerformanceTester();
const analyse = (fromI: number, toI: number, params: Record<string, unknown> = {}) => {
  const window = { fromUs: t0 + fromI * STEP, toUs: t0 + toI * STEP };
  return tester.run({ id: 'b', kind: 'analyze-window', params, window }, { store, log: silentLogger, clock: { nowUs: () => window.toUs }, signal: new AbortController().signal, upstream: [], progress() {} });
};
const heap = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
};
// Warm-up (JIT) on a few series, then measure.
for (let s = 0; s < 3; s++) scoreSeries(values[s]!);
const c0 = cpu();
let peerAlarms = 0;
for (const v of values) peerAlarms += [...scoreSeries(v.slice(0, 2900))].filter((x, i) => i >= 2000 && x >= 0.814).length;
const peer = cpu() - c0;
const h0 = heap();
const c1 = cpu();
const first = await analyse(2000, 2900);
const pass = cpu() - c1;
const kept = heap() - h0;
const alarms = first.filter((f) => f.kind === 'anomaly').length;
const c2 = cpu();
const next = await analyse(2810, 3000);
const cont = cpu() - c2;
const c3 = cpu();
const nextReplay = await analyse(2810, 3000, { metricDetectors: 0 });
const replay = cpu() - c3;
const same = JSON.stringify(next.filter((f) => f.kind === 'anomaly').map((f) => f.id).sort()) === JSON.stringify(nextReplay.filter((f) => f.kind === 'anomaly').map((f) => f.id).sort());
const n = SERIES * 2900;
console.log(
  `metric anomalies, ${SERIES} series of a 10 s gauge: first cycle (replays of 2,900 points) ${(n / pass / 1e3).toFixed(0)}k points/s CPU (${pass.toFixed(2)} s) vs the detector alone ${(n / peer / 1e3).toFixed(0)}k (${peer.toFixed(2)} s): ${(pass / peer).toFixed(2)} × its cost, alarms ${alarms} (detector alone ${peerAlarms}); ` +
    `next cycle with kept detectors ${(cont * 1e3).toFixed(0)} ms vs replaying ${(replay * 1e3).toFixed(0)} ms (${(replay / cont).toFixed(1)} ×, same findings: ${same}); kept detectors ${(kept / 1e6).toFixed(0)} MB (${(kept / SERIES / 1e3).toFixed(0)} KB per series)`,
);
console.log(JSON.stringify({ bench: 'metric-anomalies', series: SERIES, firstCyclePointsPerSec: Math.round(n / pass), detectorPointsPerSec: Math.round(n / peer), ratio: +(pass / peer).toFixed(3), alarms, peerAlarms, nextCycleMs: Math.round(cont * 1e3), nextCycleReplayMs: Math.round(replay * 1e3), sameFindings: same, keptKbPerSeries: Math.round(kept / SERIES / 1e3) }));
await store.close();
