/**
 * Feature-flag reading (algorithms/perf/flags.ts), the per-finding work of the performance tester and the RCA:
 * 50,000 spans of one service (its read limit there) with one flag evaluation each — half of them as span events,
 * half logged as Events and joined by span id — through withLogEvaluations, flagChanges and flagAttribution.
 * Spans per CPU second, and the cost per span as the span count grows (10^3 … 10^5: linear, no quadratic join).
 * No peer: no other tool computes these; the peer figure is the span read itself (bench/rca.bench.ts).
 */
import { flagAttribution, flagChanges, withLogEvaluations } from '../src/algorithms/perf/flags.js';
import type { LogRecord, Span } from '../src/signals/model.js';

const T = 1_700_000_000_000_000;

function data(n: number, flags = true): { spans: Span[]; logs: LogRecord[] } {
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  for (let i = 0; i < n; i++) {
    const t = T + i * 10_000;
    const on = i >= n / 2 && i % 3 === 0;
    const id = (i + 1).toString(16);
    const attrs = { 'feature_flag.key': 'new-pricing', 'feature_flag.result.variant': on ? 'on' : 'off' };
    const sp: Span = { traceId: id.padStart(32, '0'), spanId: id.padStart(16, '0'), name: 'GET /price', kind: 2, startUs: t, endUs: t + (on ? 300_000 : 20_000), service: 'pricing', attributes: { 'http.route': '/price' }, events: flags && i % 2 ? [{ name: 'feature_flag.evaluation', timeUs: t, attributes: attrs }] : [], links: [], status: { code: 0 }, resource: { attributes: {} } };
    spans.push(sp);
    if (i % 2 === 0) logs.push({ timeUs: t, service: 'pricing', severityNumber: 9, body: flags ? '' : 'GET /price 200', ...(flags ? { eventName: 'feature_flag.evaluation' } : {}), attributes: flags ? attrs : { 'http.route': '/price' }, traceId: sp.traceId, spanId: sp.spanId, resource: { attributes: {} } });
  }
  return { spans, logs };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function once(n: number, rounds: number, flags = true): { perSpanUs: number; found: boolean } {
  const { spans, logs } = data(n, flags);
  let found = false;
  let best = Infinity;
  // A warm-up round, then the timed ones; the best is the figure (the machine is shared).
  for (let r = 0; r <= rounds; r++) {
    const c0 = cpuMs();
    const joined = withLogEvaluations(spans, logs);
    const changes = flagChanges(joined);
    const a = flagAttribution(joined, 'pricing', (sp) => sp.endUs - sp.startUs >= 100_000);
    found = flags ? changes.length === 1 && a?.variant === 'on' : changes.length === 0 && a === undefined;
    if (r > 0) best = Math.min(best, cpuMs() - c0);
  }
  return { perSpanUs: (best * 1000) / n, found };
}

const rows = [1_000, 10_000, 50_000, 100_000].map((n) => ({ n, ...once(n, 5) }));
const at50k = rows.find((r) => r.n === 50_000)!;
// The common case: a service that records no flags (every span and log line still looked at).
const plain = once(50_000, 5, false);
console.log(`flags: ${(1e6 / at50k.perSpanUs / 1000).toFixed(0)}k spans/s CPU at 50,000 spans with a flag on each (join + rollout + attribution, best of 5); µs per span ${rows.map((r) => `${r.perSpanUs.toFixed(2)} at ${r.n}`).join(', ')}; without flags ${plain.perSpanUs.toFixed(2)} µs per span; found the rollout and its slow variant (and nothing without flags): ${rows.every((r) => r.found) && plain.found}`);
console.log(JSON.stringify({ bench: 'flags', spansPerSecCpu: Math.round(1e6 / at50k.perSpanUs), perSpanUs: Object.fromEntries(rows.map((r) => [r.n, +r.perSpanUs.toFixed(3)])), withoutFlagsPerSpanUs: +plain.perSpanUs.toFixed(3), found: rows.every((r) => r.found) && plain.found }));
