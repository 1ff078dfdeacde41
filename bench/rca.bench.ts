/**
 * Root-cause analysis at scale: a 1-hour window holding 1,000,000 spans, 100,000 log lines and 1,000 metric
 * series (BENCH_SPANS to change), analysed in memory the way the agent does after its queries. Target ≤ 5 s.
 */
import type { ErrorEvent, LogRecord, MetricPoint, Span } from '../src/signals/model.js';
import { runRca } from '../src/agents/detection/rca-run.js';

const N = Number(process.env.BENCH_SPANS ?? 1_000_000);
const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
const t0Us = 1_700_000_000_000_000;
const hourUs = 3600e6;
const onsetUs = t0Us + 0.7 * hourUs;
const spans: Span[] = [];
const res = services.map((s) => ({ attributes: { 'service.name': s, 'service.version': '1.0.0' } }));
let id = 1;
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
for (let t = 0; spans.length < N; t++) {
  const start = t0Us + Math.floor((t * hourUs) / (N / 4));
  const traceId = hex(t + 1, 32);
  // a chain of 4 services per trace; svc-7 goes slow after the onset
  let parent: string | undefined;
  for (let k = 0; k < 4; k++) {
    const si = (t + k * 5) % services.length;
    const slow = si === 7 && start > onsetUs ? 200_000 : 0;
    const spanId = hex(id++, 16);
    spans.push({ traceId, spanId, ...(parent ? { parentSpanId: parent } : {}), name: `op-${si}`, kind: 2, startUs: start + k * 100, endUs: start + k * 100 + 5000 + ((t * 7) % 3000) + slow, service: services[si]!, attributes: {}, events: [], links: [], status: { code: 0 }, resource: res[si]! });
    parent = spanId;
  }
}
const logs: LogRecord[] = Array.from({ length: 100_000 }, (_, i) => ({ timeUs: t0Us + Math.floor((i * hourUs) / 100_000), service: services[i % 20]!, severityNumber: i % 50 ? 9 : 17, body: `line ${i}`, attributes: {}, resource: res[i % 20]! }));
const metricPoints: MetricPoint[] = [];
for (let s = 0; s < 1000; s++) for (let k = 0; k < 60; k++) metricPoints.push({ type: 'gauge', name: `m${s % 50}`, service: services[s % 20]!, value: 1 + (k % 7) + (s % 20 === 7 && k > 42 ? 50 : 0), attributes: { series: s }, timeUs: t0Us + k * 60e6, resource: res[s % 20]! });
const errors: ErrorEvent[] = [];
console.error(`generated ${spans.length.toLocaleString()} spans, ${logs.length.toLocaleString()} logs, ${metricPoints.length.toLocaleString()} metric points`);
const t0 = performance.now();
const r = runRca({ metrics: new Map(), edges: [], resolutionS: 30, spans, logs, errors, metricPoints });
const ms = performance.now() - t0;
console.log(`rca: ${spans.length.toLocaleString()} spans + 100,000 logs + 1,000 series in ${(ms / 1000).toFixed(2)} s; top candidate ${r.candidates[0]?.service} (injected svc-7)`);
console.log(JSON.stringify({ bench: 'rca', spans: spans.length, seconds: +(ms / 1000).toFixed(2), top: r.candidates[0]?.service, correct: r.candidates[0]?.service === 'svc-7' }));
