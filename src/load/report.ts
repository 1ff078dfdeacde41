/** A load run as figures (latency and throughput over time, endpoints, thresholds, checks) and an HTML page. */
import type { Figure } from '../feedback/figures.js';
import { esc, renderFiguresPage } from '../feedback/html.js';
import type { LoadSummary } from './generator.js';

export function loadFigures(s: LoadSummary): Figure[] {
  const figs: Figure[] = [
    { type: 'xy', id: 'load-throughput', title: 'Throughput (requests/s, by intended send second)', xLabel: 's', yLabel: 'req/s', series: [{ label: 'requests/s', points: s.timeline.map((t) => [t.t, t.requests]) }, { label: 'errors/s', points: s.timeline.map((t) => [t.t, t.errors]), color: '#c0392b' }, ...(s.targetRate ? [{ label: 'asked', points: s.timeline.map((t): [number, number] => [t.t, s.targetRate!]), dashed: true }] : [])] },
    { type: 'xy', id: 'load-latency', title: `Latency p95 over time (ms${s.model === 'open' ? ', from intended send time' : ''})`, xLabel: 's', yLabel: 'ms', series: [{ label: 'p95', points: s.timeline.map((t) => [t.t, t.p95]) }] },
    { type: 'table', id: 'load-endpoints', title: 'Per endpoint', columns: ['endpoint', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], rows: s.endpoints.map((e) => [e.name, e.requests, e.errors, e.p50, e.p95, e.p99, e.max]) },
  ];
  if (s.thresholds.length) figs.push({ type: 'table', id: 'load-thresholds', title: 'Thresholds', columns: ['threshold', 'observed', 'result'], rows: s.thresholds.map((t) => [t.expr, Number.isFinite(t.observed) ? t.observed : 'n/a', t.passed ? 'pass' : 'FAIL']) });
  const checks = Object.entries(s.checks ?? {});
  if (checks.length) figs.push({ type: 'table', id: 'load-checks', title: 'Checks', columns: ['check', 'passes', 'fails'], rows: checks.map(([n, c]) => [n, c.passes, c.fails]) });
  return figs;
}

export function loadHtml(s: LoadSummary, title = 'tswarm load run'): string {
  const intro = `<p><b>${esc(s.model)} model</b>: ${s.requests} requests in ${s.durationS.toFixed(1)} s — ${s.achievedRate.toFixed(1)}/s${s.targetRate ? ` (asked ${s.targetRate}/s)` : ''}; p50 ${s.latency.p50.toFixed(2)} ms, p95 ${s.latency.p95.toFixed(2)} ms, p99 ${s.latency.p99.toFixed(2)} ms; errors ${s.errors} (${(100 * s.errorRate).toFixed(2)}%)${s.passed ? '' : ' — <b>thresholds failed</b>'}</p>`;
  return renderFiguresPage(title, intro, loadFigures(s));
}
