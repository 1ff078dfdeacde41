/**
 * Production-looking logs: each service writes either structured JSON lines or classic plain text lines
 * (both styles exist side by side in real fleets), with request ids and trace ids, and full stack traces of real
 * exceptions. Every line goes to stdout (the service's log file) and out as an OTel LogRecord, which carries the
 * active span's trace/span id.
 */
import { trace } from '@opentelemetry/api';
import { SeverityNumber, type Logger as OtelLogger } from '@opentelemetry/api-logs';

export type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogStyle = 'json' | 'plain';

const SEVERITY: Record<Level, SeverityNumber> = {
  DEBUG: SeverityNumber.DEBUG,
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
};

export type Fields = Record<string, string | number | boolean | undefined>;

export class AppLogger {
  constructor(
    private readonly service: string,
    private readonly style: LogStyle,
    private readonly otel: OtelLogger,
    private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  ) {}

  info(msg: string, fields: Fields = {}): void {
    this.emit('INFO', msg, fields);
  }
  warn(msg: string, fields: Fields = {}): void {
    this.emit('WARN', msg, fields);
  }
  error(msg: string, err?: unknown, fields: Fields = {}): void {
    this.emit('ERROR', msg, fields, err);
  }

  private emit(level: Level, msg: string, fields: Fields, err?: unknown): void {
    const ctx = trace.getActiveSpan()?.spanContext();
    const traceId = ctx && ctx.traceId !== '00000000000000000000000000000000' ? ctx.traceId : undefined;
    const spanId = traceId ? ctx?.spanId : undefined;
    const e = err instanceof Error ? err : err === undefined ? undefined : new Error(String(err));
    const clean: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) clean[k] = v;
    const now = new Date();
    let body: string;
    if (this.style === 'json') {
      const rec: Record<string, unknown> = { ts: now.toISOString(), level: level.toLowerCase(), service: this.service, msg, ...clean };
      if (traceId) rec.trace_id = traceId;
      if (spanId) rec.span_id = spanId;
      if (e) {
        rec.error = { type: e.name, message: e.message, stack: e.stack };
      }
      body = JSON.stringify(rec);
    } else {
      const kv = Object.entries(clean)
        .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      const tid = traceId ? ` trace_id=${traceId}` : '';
      body = `${now.toISOString()} ${level.padEnd(5)} [${this.service}] ${msg}${kv ? ' ' + kv : ''}${tid}`;
      if (e?.stack) body += '\n' + e.stack;
    }
    this.out(body);
    const attributes: Record<string, string | number | boolean> = { ...clean, 'log.style': this.style };
    if (e) {
      attributes['exception.type'] = e.name;
      attributes['exception.message'] = e.message;
      if (e.stack) attributes['exception.stacktrace'] = e.stack;
    }
    this.otel.emit({ severityNumber: SEVERITY[level], severityText: level, body, attributes, timestamp: now });
  }
}
