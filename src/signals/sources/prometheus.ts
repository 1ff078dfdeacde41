/**
 * `prometheus://host:9090?match=<selector>&range=15m&step=15s` → metric points. Series found with
 * `/api/v1/series`, values with `/api/v1/query_range` (ranges longer than Prometheus's 11,000-point limit are
 * paged); classic histograms (`*_bucket` with `le`) are turned back into p50/p95/p99 with histogram_quantile.
 * The service of a series is its `service_name`, `service` or `job` label.
 */
import type { MemoryStore } from '../../store/store.js';
import type { MetricPoint } from '../model.js';
import { getJson, rangeOf, sourceTarget, SourceError } from './http.js';

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}
type Matrix = { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] };

function serviceOf(labels: Record<string, string>): string {
  return labels.service_name ?? labels.service ?? labels.job ?? 'unknown_service';
}

export async function pull(u: URL, store: MemoryStore): Promise<string> {
  const t = sourceTarget(u, 9090);
  const match = t.params.get('match') ?? u.pathname.replace(/^\//, '');
  if (!match) throw new SourceError(`${t.display}: say which series, e.g. prometheus://host:9090?match=http_server_duration_seconds`);
  const selector = /[{=]/.test(match) || /^[a-zA-Z_:][\w:]*$/.test(match) ? match : `{__name__=~"${match}"}`;
  const { fromS, toS } = rangeOf(t.params);
  const stepS = Number((t.params.get('step') ?? '15s').replace(/s$/, ''));
  if (!(stepS > 0)) throw new SourceError(`${t.display}: step must be a number of seconds`);
  const series = (await getJson(t, '/api/v1/series', { 'match[]': selector, start: String(fromS), end: String(toS) })) as PromResponse<Record<string, string>[]>;
  if (series.status !== 'success') throw new SourceError(`${t.display}: ${series.error ?? 'series query failed'}`);
  const names = [...new Set(series.data.map((s) => s.__name__).filter((n): n is string => Boolean(n)))];
  const queries: { q: string; name: string }[] = [];
  for (const n of names) {
    if (n.endsWith('_bucket')) {
      const base = n.slice(0, -'_bucket'.length);
      for (const q of [0.5, 0.95, 0.99]) queries.push({ q: `histogram_quantile(${q}, sum by (le, job, service, service_name, instance) (rate(${n}[${Math.max(4 * stepS, 60)}s])))`, name: `${base}.p${Math.round(q * 100)}` });
    } else if (!/_(sum|count)$/.test(n) || !names.includes(n.replace(/_(sum|count)$/, '_bucket'))) {
      // One metric selected: keep the user's label matchers; several: one query per metric name.
      queries.push({ q: names.length === 1 ? selector : n, name: n });
    }
  }
  // Page long ranges: at most 10,000 steps per request.
  const pageS = stepS * 10_000;
  const points: MetricPoint[] = [];
  let partial: string | undefined;
  outer: for (const { q, name } of queries) {
    for (let start = fromS; start < toS; start += pageS) {
      const end = Math.min(toS, start + pageS);
      let r: PromResponse<Matrix>;
      try {
        r = (await getJson(t, '/api/v1/query_range', { query: q, start: String(start), end: String(end), step: String(stepS) })) as PromResponse<Matrix>;
        if (r.status !== 'success') throw new SourceError(`${t.display}: ${r.error ?? 'query_range failed'}`);
      } catch (e) {
        // What arrived before a failure is kept and the result says it is partial.
        if (!points.length) throw e;
        partial = (e as Error).message;
        break outer;
      }
      for (const s of r.data.result) {
        const service = serviceOf(s.metric);
        const attributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(s.metric)) if (k !== '__name__') attributes[k] = v;
        for (const [ts, v] of s.values) {
          const value = Number(v);
          if (!Number.isFinite(value)) continue;
          points.push({ type: 'gauge', name, service, value, attributes, timeUs: Math.round(ts * 1e6), resource: { attributes: { 'service.name': service } } });
        }
      }
    }
  }
  for (let i = 0; i < points.length; i += 5000) await store.telemetry.ingest({ spans: [], logs: [], metrics: points.slice(i, i + 5000), errors: [] });
  return `${points.length} metric points from ${queries.length} series queries (${t.display})${partial ? `; PARTIAL: ${partial}` : ''}`;
}
