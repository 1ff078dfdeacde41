/**
 * `jaeger://host:16686?service=checkout&range=1h&limit=200` → spans, through Jaeger's query API (`/api/services`,
 * `/api/traces`). Without `service`, every service Jaeger knows is read. Jaeger's JSON (traceID/spanID hex,
 * µs times, CHILD_OF references, typed tags, per-trace process table) maps onto the span model.
 */
import type { MemoryStore } from '../../store/store.js';
import type { Attributes, Span } from '../model.js';
import { makeErrorEvent } from '../errors.js';
import { getJson, rangeOf, sourceTarget, SourceError } from './http.js';

interface JTag {
  key: string;
  type?: string;
  value: unknown;
}
interface JSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: JTag[];
  logs?: { timestamp: number; fields: JTag[] }[];
  processID: string;
}
interface JTrace {
  traceID: string;
  spans: JSpan[];
  processes: Record<string, { serviceName: string; tags?: JTag[] }>;
}

const attrs = (tags: JTag[] | undefined): Attributes => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value as string | number | boolean]));
const pad = (id: string, n: number): string => id.toLowerCase().padStart(n, '0').slice(-n);

export function jaegerTraceToSpans(t: JTrace): Span[] {
  return t.spans.map((s) => {
    const p = t.processes[s.processID] ?? { serviceName: 'unknown_service' };
    const tags = attrs(s.tags);
    const kindTag = String(tags['span.kind'] ?? '');
    const kind = ({ server: 2, client: 3, producer: 4, consumer: 5, internal: 1 } as Record<string, Span['kind']>)[kindTag] ?? 0;
    const parent = s.references?.find((r) => r.refType === 'CHILD_OF');
    const error = tags.error === true || tags.error === 'true' || tags['otel.status_code'] === 'ERROR';
    const span: Span = {
      traceId: pad(s.traceID, 32),
      spanId: pad(s.spanID, 16),
      name: s.operationName,
      kind,
      startUs: s.startTime,
      endUs: s.startTime + s.duration,
      service: p.serviceName,
      attributes: tags,
      events: (s.logs ?? []).map((l) => {
        const f = attrs(l.fields);
        return { timeUs: l.timestamp, name: String(f.event ?? (f['exception.type'] || f['error.kind'] ? 'exception' : 'log')), attributes: f };
      }),
      links: (s.references ?? []).filter((r) => r.refType === 'FOLLOWS_FROM').map((r) => ({ traceId: pad(r.traceID, 32), spanId: pad(r.spanID, 16), attributes: {} })),
      status: { code: error ? 2 : 0 },
      resource: { attributes: { 'service.name': p.serviceName, ...attrs(p.tags) } },
    };
    if (parent) span.parentSpanId = pad(parent.spanID, 16);
    return span;
  });
}

export async function pull(u: URL, store: MemoryStore): Promise<string> {
  const t = sourceTarget(u, 16686);
  const { fromS, toS } = rangeOf(t.params);
  let services = t.params.getAll('service');
  if (!services.length) {
    const r = (await getJson(t, '/api/services', {})) as { data?: string[] };
    if (!Array.isArray(r.data)) throw new SourceError(`${t.display}: /api/services did not answer a list`);
    services = r.data.filter((s) => s !== 'jaeger-query');
  }
  let spans = 0;
  let errors = 0;
  for (const service of services) {
    const r = (await getJson(t, '/api/traces', { service, start: String(Math.floor(fromS * 1e6)), end: String(Math.floor(toS * 1e6)), limit: t.params.get('limit') ?? '100' })) as { data?: JTrace[] };
    if (!Array.isArray(r.data)) throw new SourceError(`${t.display}: /api/traces did not answer a list for ${service}`);
    const batch = r.data.flatMap(jaegerTraceToSpans);
    const errs = batch.flatMap((s) =>
      s.events
        .filter((e) => e.name === 'exception' || e.attributes['error.kind'])
        .map((e) => makeErrorEvent({ timeUs: e.timeUs, service: s.service, type: String(e.attributes['exception.type'] ?? e.attributes['error.kind'] ?? 'Error'), message: String(e.attributes['exception.message'] ?? e.attributes.message ?? ''), rawStack: typeof e.attributes['exception.stacktrace'] === 'string' ? e.attributes['exception.stacktrace'] : typeof e.attributes.stack === 'string' ? e.attributes.stack : undefined, traceId: s.traceId, spanId: s.spanId, source: 'span', attributes: {}, resource: s.resource })),
    );
    const res = await store.telemetry.ingest({ spans: batch, logs: [], metrics: [], errors: errs });
    spans += res.spans;
    errors += res.errors;
  }
  return `${spans} spans and ${errors} errors from ${services.length} service(s) (${t.display})`;
}
