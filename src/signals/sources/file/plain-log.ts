/**
 * Plain-text and structured (JSON) log lines → LogRecords. Timestamp, severity and service are detected where
 * the line carries them (ISO 8601, `YYYY-MM-DD HH:MM:SS,mmm`, syslog `Mon dd HH:MM:SS`, epoch seconds/ms;
 * `ERROR`/`WARN`/`level=`…; pino/bunyan/winston JSON fields). Continuation lines (stack frames, `Caused by:`,
 * Python traceback lines, indented lines after an error) are joined to the record they belong to.
 */
import type { LogRecord, Resource } from '../../model.js';

const SEVERITY: Record<string, number> = {
  trace: 1, debug: 5, dbg: 5, fine: 5, finer: 3, finest: 1, info: 9, information: 9, notice: 10, inf: 9,
  warn: 13, warning: 13, wrn: 13, error: 17, err: 17, severe: 17, crit: 21, critical: 21, fatal: 21, alert: 22, emerg: 23, panic: 23,
};
// Single-letter glog-style levels only count at the start of a line (`E1125 10:00:00.123 ...`).
const GLOG = /^([IWEF])(\d{4} \d{2}:\d{2}:\d{2}\.\d+)/;
const LEVEL_WORD = /(?:^|[\s[(|:=])(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|SEVERE|CRIT(?:ICAL)?|FATAL|ALERT|EMERG|PANIC)(?=$|[\s\])|:,])/i;
const ISO = /(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2})?/;
const SYSLOG = /^([A-Z][a-z]{2})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2})/;
const EPOCH = /^(\d{10})(?:\.(\d{1,6}))?\b|^(\d{13})\b/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export function severityOf(text: string): { number: number; text?: string } | undefined {
  const g = GLOG.exec(text);
  if (g) return { number: { I: 9, W: 13, E: 17, F: 21 }[g[1] as 'I' | 'W' | 'E' | 'F'], text: g[1] };
  const m = LEVEL_WORD.exec(text.slice(0, 200));
  if (!m) return undefined;
  const w = m[1]!.toLowerCase();
  return { number: SEVERITY[w] ?? 9, text: m[1]!.toUpperCase() };
}

export function timestampOf(text: string, yearHint: number): number | undefined {
  const head = text.slice(0, 80);
  const iso = ISO.exec(head);
  if (iso) {
    const frac = (iso[3] ?? '').padEnd(6, '0').slice(0, 6);
    const tz = iso[4] ? (iso[4] === 'Z' ? 'Z' : iso[4].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z';
    const ms = Date.parse(`${iso[1]}T${iso[2]}${tz}`);
    if (Number.isFinite(ms)) return ms * 1000 + Number(frac);
  }
  const sys = SYSLOG.exec(head);
  if (sys) {
    const mon = MONTHS.indexOf(sys[1]!.toLowerCase());
    if (mon >= 0) return Date.UTC(yearHint, mon, Number(sys[2]), Number(sys[3]), Number(sys[4]), Number(sys[5])) * 1000;
  }
  const ep = EPOCH.exec(head);
  if (ep) {
    if (ep[3]) return Number(ep[3]) * 1000;
    return Number(ep[1]) * 1e6 + Number((ep[2] ?? '').padEnd(6, '0'));
  }
  return undefined;
}

/** Is this line a continuation of the previous record (stack frame, cause, traceback body)? */
export function isContinuation(line: string): boolean {
  if (!line.trim()) return false;
  return /^\s+at\s/.test(line) || /^\s*Caused by:/.test(line) || /^\s+File ".+", line \d+/.test(line) || /^\s+\.\.\. \d+ more/.test(line) || /^\s{2,}\S/.test(line) || /^Traceback \(most recent call last\)/.test(line) || /^\s*[A-Za-z_.]*(Error|Exception):/.test(line);
}

function pick(o: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

/** A structured (JSON) log line: pino, bunyan, winston, logfmt-as-JSON, ECS. */
export function fromJsonLine(o: Record<string, unknown>, fallbackService: string, resource: (service: string) => Resource, nowUs: number): LogRecord {
  const msg = pick(o, 'msg', 'message', 'body', 'log', 'text');
  const body = typeof msg === 'string' ? msg : msg === undefined ? JSON.stringify(o) : JSON.stringify(msg);
  const lv = pick(o, 'level', 'severity', 'log.level', 'levelname', 'lvl');
  let severityNumber = 9;
  let severityText: string | undefined;
  if (typeof lv === 'number') {
    // pino/bunyan numeric levels: 10 trace … 60 fatal.
    severityNumber = lv >= 60 ? 21 : lv >= 50 ? 17 : lv >= 40 ? 13 : lv >= 30 ? 9 : lv >= 20 ? 5 : 1;
    severityText = String(lv);
  } else if (typeof lv === 'string') {
    severityNumber = SEVERITY[lv.toLowerCase()] ?? 9;
    severityText = lv.toUpperCase();
  }
  const t = pick(o, 'time', 'timestamp', '@timestamp', 'ts', 'datetime');
  let timeUs = nowUs;
  if (typeof t === 'number') timeUs = t > 1e15 ? Math.floor(t / 1000) : t > 1e12 ? t * 1000 : Math.round(t * 1e6);
  else if (typeof t === 'string') timeUs = timestampOf(t, new Date().getUTCFullYear()) ?? nowUs;
  const svc = pick(o, 'service', 'service.name', 'serviceName', 'app', 'name');
  const service = typeof svc === 'string' && svc ? svc : fallbackService;
  const attributes: LogRecord['attributes'] = {};
  for (const [k, v] of Object.entries(o)) {
    if (['msg', 'message', 'level', 'time', 'timestamp', '@timestamp', 'ts'].includes(k)) continue;
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) attributes[k] = v as string | number | boolean | null;
    else attributes[k] = JSON.stringify(v);
  }
  const err = o.err ?? o.error;
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    if (typeof e.stack === 'string') attributes['exception.stacktrace'] = e.stack;
    if (typeof e.type === 'string' || typeof e.name === 'string') attributes['exception.type'] = String(e.type ?? e.name);
    if (typeof e.message === 'string') attributes['exception.message'] = e.message;
  }
  const rec: LogRecord = { timeUs, service, severityNumber, body, attributes, resource: resource(service) };
  if (severityText) rec.severityText = severityText;
  const trace = pick(o, 'trace_id', 'traceId', 'trace.id', 'traceID');
  if (typeof trace === 'string' && /^[0-9a-f]{32}$/i.test(trace)) rec.traceId = trace.toLowerCase();
  const span = pick(o, 'span_id', 'spanId', 'span.id', 'spanID');
  if (typeof span === 'string' && /^[0-9a-f]{16}$/i.test(span)) rec.spanId = span.toLowerCase();
  return rec;
}

export function fromPlainLine(line: string, service: string, resource: Resource, lastUs: number, yearHint: number): LogRecord {
  const timeUs = timestampOf(line, yearHint) ?? lastUs;
  const sev = severityOf(line);
  const rec: LogRecord = { timeUs, service, severityNumber: sev?.number ?? 9, body: line, attributes: {}, resource };
  if (sev?.text) rec.severityText = sev.text;
  const trace = /\btrace[_-]?id[=:]\s*"?([0-9a-f]{32})\b/i.exec(line);
  if (trace) rec.traceId = trace[1]!.toLowerCase();
  return rec;
}
