/**
 * Builds the report's figures from a cycle's findings and the memory store: the incident timeline, the RCA
 * evidence chain and the service map with the culprit highlighted, latency/error series with baselines and
 * anomaly markers, log-pattern bursts, chaos journals, load curves with the USL fit, and the defect-risk table.
 */
import { spanLabel } from '../algorithms/time/duration.js';
import type { Finding } from '../fleet/contracts.js';
import type { MemoryStore } from '../store/store.js';
import { buildDependencyMap } from '../algorithms/graph/dependency-map.js';
import { uslThroughput, type UslFit } from '../algorithms/load/analysis.js';
import type { Figure, FigureSection, MarkerSpec, ShadeSpec } from './figures.js';
import { perfSeries } from '../agents/analysis/performance-tester.js';
import { describeDisturbances, knownDisturbances, touches } from '../agents/own-disturbances.js';
import { declaredChanges } from '../agents/declared-changes.js';
import { DEPLOY_KEY, describeChange } from '../signals/change-event.js';
import { sloOverview } from '../agents/feedback/memory-ops.js';
import { uniformRollups } from '../store/rollup.js';

export async function collectFigures(store: MemoryStore, cycle: { findings: Finding[]; window: { fromUs: number; toUs: number } }): Promise<FigureSection[]> {
  const { findings, window } = cycle;
  const sections: FigureSection[] = [];
  const rca = findings.filter((f) => f.kind === 'root-cause').sort((a, b) => b.confidence - a.confidence)[0];
  const anomalies = findings.filter((f) => f.kind === 'anomaly' || f.kind === 'regression');
  const events: (Extract<Figure, { type: 'timeline' }>['events'][number] & { rank?: number })[] = [];
  for (const f of findings) {
    if (f.kind === 'anomaly') events.push({ atUs: Number(f.data?.firstDetectionUs ?? f.window?.fromUs ?? window.fromUs), label: f.title, kind: 'anomaly' });
    if (f.kind === 'regression') events.push({ atUs: Number(f.data?.changePointUs ?? window.fromUs), label: f.title, kind: 'change-point' });
    if (f.kind === 'root-cause') events.push({ atUs: Number(f.data?.onsetUs ?? window.fromUs), label: `onset: ${f.title}`, kind: 'fault' });
    for (const d of f.evidence.deploys ?? []) events.push({ atUs: d.atUs, label: describeChange({ kind: 'deploy', service: d.service, key: DEPLOY_KEY, value: d.version }), kind: 'deploy' });
    for (const c of f.evidence.configChanges ?? []) events.push({ atUs: c.atUs, label: changeLabel({ kind: c.kind ?? 'config', ...c, ...(c.declared?.source ? { source: c.declared.source } : {}) }), kind: 'deploy' });
    // At the first line in the window (before, the window's start: log findings led a timeline they came late in).
    if (f.kind === 'log-burst' || f.kind === 'new-template' || f.kind === 'new-error') events.push({ atUs: Number(f.data?.firstUs ?? f.window?.fromUs ?? window.fromUs), label: f.title, kind: 'info', rank: logEventRank(f) });
  }
  // The swarm's own chaos experiments and load tests, and declared maintenance: on the timeline and shaded on the
  // series, so a reader sees what the analysis left out and why the curves jump there.
  const own = await knownDisturbances({ store }, window);
  for (const k of own) events.push({ atUs: k.fromS * 1e6, label: `${describeDisturbances([k])} (${spanLabel(k.toS - k.fromS)})`, kind: 'experiment' });
  // Every declared change in the window, whether or not a finding cites it: "what changed?" is the first question.
  const changes = await declaredChanges(store, window);
  for (const c of changes) events.push({ atUs: c.atUs, label: changeLabel(c), kind: 'deploy' });
  // A service's plot is shaded where the analysis left its data out: disturbances that touch it.
  const shadeOf = (fromUs: number, toUs: number, service?: string): ShadeSpec[] =>
    own.filter((k) => k.toS * 1e6 >= fromUs && k.fromS * 1e6 <= toUs && touches(k, service)).map((k) => ({ fromX: k.fromS * 1e6, toX: k.toS * 1e6, label: k.declared ? 'maintenance' : k.what.startsWith('chaos') ? 'chaos' : 'load test' }));
  const incident: Figure[] = [];
  // Five log events at most: new errors first, then new templates and bursts, drops last (five drops of the
  // success lines pushed the new error itself off the timeline).
  const infos = events.filter((e) => e.kind === 'info').sort((a, b) => (a.rank ?? 9) - (b.rank ?? 9)).slice(0, 5);
  const timeline = dedupeEvents([...events.filter((e) => e.kind !== 'info'), ...infos]);
  if (timeline.length) incident.push({ type: 'timeline', id: 'timeline', title: 'Incident timeline', events: timeline.slice(0, 30).map(({ atUs, label, kind }) => ({ atUs, label, kind })) });
  const spans = await store.telemetry.querySpans({ window, limit: 300_000 });
  const map = buildDependencyMap(spans);
  if (map.edges.length) {
    incident.push({
      type: 'graph',
      id: 'service-map',
      title: rca ? `Service dependency map — culprit: ${rca.subject.service}` : 'Service dependency map',
      edges: map.edges.map((e) => ({ source: e.source, target: e.target, label: `${e.calls} calls, ${(e.calls ? e.durationSumUs / e.calls / 1000 : 0).toFixed(1)} ms`, errorShare: e.calls ? e.errors / e.calls : 0 })),
      highlight: rca?.subject.service ? [rca.subject.service] : [],
    });
  }
  if (rca) {
    incident.push({ type: 'chain', id: 'rca-chain', title: `Root-cause evidence chain (${rca.subject.service})`, steps: rca.evidence.chain ?? [] });
    const cands = (rca.data?.candidates as { service: string; score: number; faultType: string }[] | undefined) ?? [];
    if (cands.length) incident.push({ type: 'table', id: 'rca-candidates', title: 'Root-cause candidates', columns: ['rank', 'service', 'score', 'looks like'], rows: cands.map((c, i) => [i + 1, c.service, c.score, c.faultType]) });
  }
  // Latency and error series per service from rollups (or spans for short windows), with anomaly markers.
  const rollups = uniformRollups(await store.telemetry.rollups({ window }));
  const series = perfSeries(rollups);
  const perf: Figure[] = [];
  const focus = new Set<string>([...(rca?.subject.service ? [rca.subject.service] : []), ...anomalies.map((a) => a.subject.service).filter((s): s is string => Boolean(s))]);
  const onsetUs = Number(rca?.data?.onsetUs ?? NaN);
  const markers = (svc: string): MarkerSpec[] => [
    ...anomalies.filter((a) => a.subject.service === svc).map((a) => ({ x: Number(a.data?.firstDetectionUs ?? a.window?.fromUs), label: a.kind, kind: (a.kind === 'regression' ? 'change-point' : 'anomaly') as MarkerSpec['kind'] })),
    ...(Number.isFinite(onsetUs) && rca?.subject.service === svc ? [{ x: onsetUs, label: 'onset', kind: 'fault' as const }] : []),
    ...changes.filter((c) => c.service === svc).map((c) => ({ x: c.atUs, label: c.kind === 'deploy' ? c.value : c.key, kind: 'deploy' as const })),
  ].filter((m) => Number.isFinite(m.x));
  const shown = series.filter((s) => focus.has(s.service)).slice(0, 4);
  const baselineOf = async (svc: string): Promise<number | undefined> => (await store.patterns.get<{ medianMs: number }>('performance-baseline', `${svc}|p95`))?.value.medianMs;
  for (const s of shown.length ? shown : series.slice(0, 3)) {
    const base = await baselineOf(s.service);
    // A bucket is drawn at its middle: at its start the curve rose seconds before the anomaly or experiment it shows.
    const mid = (rollups[0]?.bucketUs ?? 0) / 2;
    const pts = s.t.map((t, i) => [t + mid, s.p95Ms[i] ?? NaN] as [number, number]).filter(([, v]) => Number.isFinite(v));
    perf.push({
      type: 'timeseries',
      id: `p95-${s.service}`,
      title: `${s.service}: latency p95 and error rate`,
      unit: 'ms',
      series: [{ label: 'p95 ms', points: pts }, ...(base !== undefined && Number.isFinite(base) && pts.length ? [{ label: 'baseline p95', points: [pts[0]!, pts[pts.length - 1]!].map(([t]) => [t, base] as [number, number]), dashed: true, color: '#78909c' }] : []), { label: 'errors %', points: s.t.map((t, i) => [t + mid, 100 * s.errorRate[i]!] as [number, number]), color: '#c62828' }],
      markers: markers(s.service),
      ...(pts.length ? { shaded: shadeOf(pts[0]![0], pts[pts.length - 1]![0], s.service) } : {}),
    });
  }
  // Metric-series anomalies (the streaming detector on stored gauges, counters and histograms): the points before
  // each alarm with the baseline it was compared with.
  for (const a of anomalies.filter((f) => f.id.startsWith('perf-') && f.data?.view !== undefined && Array.isArray(f.data?.series)).slice(0, 4)) {
    const pts = (a.data!.series as [number, number][]).filter(([, v]) => Number.isFinite(v));
    const base = Number(a.data!.baseline);
    const unit = a.evidence.metrics?.[0]?.unit;
    if (pts.length < 2) continue;
    perf.push({
      type: 'timeseries',
      id: `metric-${a.id}`,
      title: `${a.subject.service}: ${a.evidence.metrics?.[0]?.series ?? a.subject.metric} (anomaly score ${Number(a.data!.score).toFixed(2)})`,
      ...(unit ? { unit } : {}),
      series: [{ label: a.subject.metric ?? 'value', points: pts }, ...(Number.isFinite(base) ? [{ label: 'baseline (median before)', points: [pts[0]!, pts[pts.length - 1]!].map(([t]) => [t, base] as [number, number]), dashed: true, color: '#78909c' }] : [])],
      markers: [{ x: Number(a.data!.firstDetectionUs), label: 'anomaly', kind: 'anomaly' }],
      shaded: shadeOf(pts[0]![0], pts[pts.length - 1]![0], a.subject.service),
    });
  }
  // Every service's SLOs at the window's end, firing ones first: budgets that hold are news too.
  const slos = (await sloOverview(store, undefined, window.toUs)).services.flatMap((s) => s.slos.map((x) => ({ service: s.service, ...x })));
  if (slos.length) {
    slos.sort((a, b) => b.alerting.length - a.alerting.length || b.burn['1h'] - a.burn['1h'] || a.service.localeCompare(b.service));
    const burn = (x: number): string => `${x.toFixed(x >= 10 ? 0 : 1)}×`;
    perf.push({
      type: 'table',
      id: 'slos',
      title: 'SLOs: error-budget burn at the end of the window (1× spends the budget exactly)',
      columns: ['service', 'SLO', '5 min', '1 h', '6 h', 'firing', 'error budget'],
      rows: slos.slice(0, 20).map((x) => [x.service, x.text, burn(x.burn['5m']), burn(x.burn['1h']), burn(x.burn['6h']), x.alerting.join(', ') || '–', x.budgetCell]),
    });
    // Burn-down of the budgets that are firing or most spent (an untouched one is a flat line at 100%): when it
    // went, against the straight line of spending it exactly over the window.
    const drawn = slos.filter((x) => x.burndown.length > 1 && (x.alerting.length || x.budget.remaining < 0.999)).sort((a, b) => b.alerting.length - a.alerting.length || a.budget.remaining - b.budget.remaining).slice(0, 4);
    drawn.forEach((x, i) => {
      const first = x.burndown[0]![0];
      const end = x.burndown[x.burndown.length - 1]![0];
      perf.push({
        type: 'timeseries',
        id: `budget-${i}-${x.service}`,
        title: `${x.service}: error budget burn-down (${x.text}): ${x.budgetText}`,
        unit: '% of budget left',
        series: [
          { label: 'budget left %', points: x.burndown.map(([t, r]) => [t, +(100 * r).toFixed(2)] as [number, number]), color: '#2e7d32' },
          { label: 'spent exactly over the window (1×)', points: [first, end].map((t) => [t, +(100 * (1 - (t - first) / x.budget.windowUs)).toFixed(2)] as [number, number]), dashed: true, color: '#78909c' },
        ],
        markers: x.alerting.length ? [{ x: end, label: `firing: ${x.alerting.join(', ')}`, kind: 'anomaly' }] : [],
      });
    });
  }
  if (perf.length) sections.push({ section: 'performance-insights', figures: perf });
  // Log-pattern bursts.
  const bursts = findings.filter((f) => f.agentId === 'qe-pattern-learner' && (f.kind === 'log-burst' || f.kind === 'new-template' || f.kind === 'new-error'));
  if (bursts.length) sections.push({ section: 'defect-patterns', figures: [{ type: 'table', id: 'log-patterns', title: 'Log patterns and error groups', columns: ['kind', 'service', 'pattern', 'count'], rows: bursts.slice(0, 15).map((b) => [b.kind, b.subject.service ?? '', (b.evidence.logTemplates?.[0]?.template ?? b.title).slice(0, 120), b.evidence.logTemplates?.[0]?.count ?? '']) }] });
  const risks = findings.filter((f) => f.kind === 'defect-risk').slice(0, 15);
  if (risks.length) sections.push({ section: 'defect-patterns', figures: [{ type: 'table', id: 'defect-risk', title: 'Defect risk per file', columns: ['file', 'risk', 'reasons'], rows: risks.map((r) => [r.subject.file ?? '', `${(100 * Number(r.data?.probability ?? 0)).toFixed(0)}%`, (r.evidence.chain ?? []).join('; ').slice(0, 200)]) }] });
  // Chaos journals and load curves.
  const chaos = findings.filter((f) => f.agentId === 'qe-chaos-engineer' && (f.kind === 'resilience-gap' || f.kind === 'resilience-confirmed'));
  const res: Figure[] = [];
  if (chaos.length) {
    res.push({
      type: 'table',
      id: 'chaos-journals',
      title: 'Chaos experiments',
      columns: ['experiment', 'verdict', 'mechanism', 'before', 'during fault'],
      rows: chaos.map((c) => [String(c.data?.experiment ?? ''), c.kind === 'resilience-gap' ? 'hypothesis broken' : 'held', String(c.data?.mechanism ?? ''), fmtProbe(c.data?.before), fmtProbe(c.data?.during)]),
    });
  }
  const cap = findings.find((f) => f.kind === 'capacity');
  if (cap?.data?.usl) {
    const u = cap.data.usl as UslFit;
    const steps = (cap.data.steps as { n: number; x: number }[]) ?? [];
    const maxN = Math.max(...steps.map((s) => s.n), 1) * 1.5;
    const fit: [number, number][] = Array.from({ length: 40 }, (_, i) => {
      const n = 1 + (i * (maxN - 1)) / 39;
      return [n, uslThroughput(u, n)];
    });
    res.push({ type: 'xy', id: 'usl', title: `Capacity: throughput vs concurrency with the USL fit (σ ${u.sigma.toFixed(3)}, κ ${u.kappa.toFixed(4)})`, xLabel: 'concurrency', yLabel: 'req/s', series: [{ label: 'measured', points: steps.map((s) => [s.n, s.x]) }, { label: 'USL fit', points: fit, dashed: true }] });
  }
  if (res.length) sections.push({ section: 'resilience-gaps', figures: res });
  if (incident.length) sections.unshift({ section: 'incident', figures: incident });
  return sections;
}

function fmtProbe(o: unknown): string {
  if (!o || typeof o !== 'object') return '';
  const x = o as Record<string, number>;
  const parts: string[] = [];
  if (x.p95_ms !== undefined) parts.push(`p95 ${x.p95_ms.toFixed(0)} ms`);
  if (x.error_rate !== undefined) parts.push(`${(100 * x.error_rate).toFixed(0)}% errors`);
  return parts.join(', ');
}

const logEventRank = (f: Finding): number => (f.kind === 'new-error' ? 0 : f.kind === 'new-template' ? 1 : f.data?.change === 'drop' ? 3 : 2);

/** One label for a change, cited or listed, so the timeline draws it once (events are deduplicated by label). */
function changeLabel(c: Parameters<typeof describeChange>[0] & { source?: 'log' }): string {
  return `${describeChange(c)}${c.source === 'log' ? ' (announced in its log)' : ''}`;
}

function dedupeEvents<T extends { atUs: number; label: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => Number.isFinite(x.atUs) && !seen.has(x.label) && seen.add(x.label)).sort((a, b) => a.atUs - b.atUs);
}
