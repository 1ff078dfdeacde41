/** Sentry's event shape (exception.values[].stacktrace.frames[]) → ErrorEvent. */
import type { ErrorEvent, StackFrame } from '../../model.js';
import { makeErrorEvent } from '../../errors.js';

type Obj = Record<string, unknown>;

export function isSentryEvent(o: Obj): boolean {
  const ex = o.exception as Obj | undefined;
  return Boolean(ex && Array.isArray(ex.values)) || (typeof o.event_id === 'string' && ('message' in o || 'logentry' in o));
}

function timeUsOf(t: unknown): number {
  if (typeof t === 'number') return Math.round(t * 1e6);
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms * 1000;
    const n = Number(t);
    if (Number.isFinite(n)) return Math.round(n * 1e6);
  }
  return Date.now() * 1000;
}

export function sentryToErrorEvent(o: Obj, fallbackService: string): ErrorEvent {
  const values = ((o.exception as Obj | undefined)?.values ?? []) as Obj[];
  // Sentry lists chained exceptions oldest first; the last is the one raised.
  const ex = values[values.length - 1] ?? {};
  const st = (ex.stacktrace ?? {}) as Obj;
  const rawFrames = (Array.isArray(st.frames) ? st.frames : []) as Obj[];
  // Sentry orders frames outermost first; the model wants the innermost (throwing) frame first.
  const frames: StackFrame[] = rawFrames
    .slice()
    .reverse()
    .map((f) => {
      const file = (f.abs_path ?? f.filename) as string | undefined;
      const frame: StackFrame = { inApp: f.in_app === undefined ? !/node_modules|site-packages/.test(String(file ?? '')) : Boolean(f.in_app) };
      if (file) frame.file = String(file);
      if (typeof f.lineno === 'number') frame.line = f.lineno;
      if (typeof f.colno === 'number') frame.column = f.colno;
      if (f.function) frame.function = String(f.function);
      if (f.module) frame.module = String(f.module);
      return frame;
    });
  const tags = (o.tags ?? {}) as Obj | [string, string][];
  const tagObj: Record<string, string> = Array.isArray(tags) ? Object.fromEntries(tags.map(([k, v]) => [k, String(v)])) : Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  const contexts = (o.contexts ?? {}) as Obj;
  const trace = (contexts.trace ?? {}) as Obj;
  const service = String(tagObj['service'] ?? tagObj['service.name'] ?? o.server_name ?? (o.sdk as Obj | undefined)?.name ?? fallbackService);
  const logentry = o.logentry as Obj | undefined;
  const message = String(ex.value ?? logentry?.formatted ?? logentry?.message ?? o.message ?? '');
  const e = makeErrorEvent({
    timeUs: timeUsOf(o.timestamp),
    service,
    type: String(ex.type ?? 'Error'),
    message,
    frames,
    source: 'sentry',
    attributes: { ...tagObj, ...(o.event_id ? { 'sentry.event_id': String(o.event_id) } : {}) },
    resource: { attributes: { 'service.name': service, ...(o.release ? { 'service.version': String(o.release) } : {}), ...(o.environment ? { 'deployment.environment.name': String(o.environment) } : {}) } },
    ...(o.release ? { release: String(o.release) } : {}),
    ...(o.environment ? { environment: String(o.environment) } : {}),
  });
  if (typeof trace.trace_id === 'string') e.traceId = trace.trace_id.toLowerCase();
  if (typeof trace.span_id === 'string') e.spanId = trace.span_id.toLowerCase();
  return e;
}
