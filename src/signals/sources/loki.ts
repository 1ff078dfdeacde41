/**
 * `loki://host:3100?query={app="shop"}&range=1h&limit=5000` → log records, through Loki's `query_range` (LogQL).
 * The service of a stream is its `service_name`, `service`, `app` or `job` label; severity from a `level` label
 * or the line itself; multi-line stack traces in a line become ErrorEvents.
 */
import type { MemoryStore } from '../../store/store.js';
import type { ErrorEvent, LogRecord } from '../model.js';
import { looksLikeStack, makeErrorEvent, splitErrorHeader } from '../errors.js';
import { severityOf } from './file/plain-log.js';
import { getJson, rangeOf, sourceTarget, SourceError } from './http.js';

interface LokiResponse {
  status: string;
  data?: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
  error?: string;
}

export async function pull(u: URL, store: MemoryStore): Promise<string> {
  const t = sourceTarget(u, 3100);
  const query = t.params.get('query');
  if (!query) throw new SourceError(`${t.display}: give a LogQL query, e.g. loki://host:3100?query={app="shop"}`);
  const { fromS, toS } = rangeOf(t.params);
  const r = (await getJson(t, '/loki/api/v1/query_range', { query, start: String(Math.floor(fromS * 1e9)), end: String(Math.floor(toS * 1e9)), limit: t.params.get('limit') ?? '5000', direction: 'forward' })) as LokiResponse;
  if (r.status !== 'success' || !r.data) throw new SourceError(`${t.display}: ${r.error ?? 'query_range failed'}`);
  const logs: LogRecord[] = [];
  const errors: ErrorEvent[] = [];
  for (const s of r.data.result) {
    const service = s.stream.service_name ?? s.stream.service ?? s.stream.app ?? s.stream.job ?? 'unknown_service';
    const resource = { attributes: { 'service.name': service } };
    for (const [ns, line] of s.values) {
      const timeUs = Number(ns.slice(0, -3));
      const sev = s.stream.level ? severityOf(s.stream.level) : severityOf(line);
      const rec: LogRecord = { timeUs, service, severityNumber: sev?.number ?? 9, body: line, attributes: { ...s.stream }, resource };
      if (sev?.text) rec.severityText = sev.text;
      logs.push(rec);
      if (rec.severityNumber >= 17 && looksLikeStack(line)) {
        const h = splitErrorHeader(line.split('\n').find((l) => /(Error|Exception)\b/.test(l)) ?? line);
        errors.push(makeErrorEvent({ timeUs, service, type: h.type ?? 'Error', message: h.message, rawStack: line, source: 'log', attributes: {}, resource }));
      }
    }
  }
  const res = await store.telemetry.ingest({ spans: [], logs, metrics: [], errors });
  return `${res.logs} log lines and ${res.errors} errors from ${r.data.result.length} stream(s) (${t.display})`;
}
