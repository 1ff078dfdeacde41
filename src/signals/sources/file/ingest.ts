/**
 * `tswarm ingest`: files and folders into memory, format detected per file and per line:
 *  - OTLP/JSON files (one Export*ServiceRequest per line, as the Collector's file exporter writes them);
 *  - Sentry-style error events (one event, an array of events, or JSON lines);
 *  - structured JSON log lines (pino, bunyan, winston, ECS);
 *  - plain-text logs, multi-line stack traces joined to their record.
 * Streaming (line by line, bounded batches), so big files never sit in memory. Bad input is named precisely:
 * binary files are refused, over-long lines truncated with a warning, malformed JSON lines counted and reported
 * with their line numbers; what was ingested before a problem stays ingested.
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogRecord, Resource, SignalBatch } from '../../model.js';
import { isErrorSeverity } from '../../model.js';
import type { MemoryStore } from '../../../store/store.js';
import { decodeLogs, decodeMetrics, decodeTraces } from '../../otlp/decode.js';
import { fromJsonLine, fromPlainLine, isContinuation } from './plain-log.js';
import { isSentryEvent, sentryToErrorEvent } from './sentry.js';
import { looksLikeStack, makeErrorEvent, splitErrorHeader } from '../../errors.js';

export const MAX_LINE_CHARS = 64 * 1024;
const BATCH = 2000;

export class IngestError extends Error {}

export interface IngestTotals {
  files: number;
  spans: number;
  logs: number;
  metrics: number;
  errors: number;
  rejected: number;
  warnings: string[];
}

export interface IngestOptions {
  /** Service name for plain logs that do not name one (default: the file name without extension). */
  service?: string;
  onProgress?: (bytesDone: number, bytesTotal: number, file: string) => void;
  maxWarnings?: number;
}

function listFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    if (!existsSync(p)) throw new IngestError(`${p}: no such file or directory`);
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (!e.startsWith('.')) walk(join(p, e));
    } else if (st.isFile()) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

/** Binary if the first 8 KiB hold NUL bytes or mostly non-text bytes. */
export function looksBinary(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n === 0) return false;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[i]!;
      if (b === 0) return true;
      if (b < 9 || (b > 13 && b < 32)) bad++;
    }
    const text = buf.subarray(0, n).toString('utf8');
    const replacement = (text.match(/\uFFFD/g) ?? []).length;
    return bad / n > 0.1 || replacement / n > 0.1;
  } finally {
    closeSync(fd);
  }
}

function resourceCache(): (service: string) => Resource {
  const m = new Map<string, Resource>();
  return (service) => {
    let r = m.get(service);
    if (!r) m.set(service, (r = { attributes: { 'service.name': service } }));
    return r;
  };
}

export async function ingestPaths(paths: string[], store: MemoryStore, opts: IngestOptions = {}): Promise<IngestTotals> {
  const files = listFiles(paths);
  const totals: IngestTotals = { files: 0, spans: 0, logs: 0, metrics: 0, errors: 0, rejected: 0, warnings: [] };
  const maxWarnings = opts.maxWarnings ?? 50;
  const warn = (w: string): void => {
    if (totals.warnings.length < maxWarnings) totals.warnings.push(w);
    else if (totals.warnings.length === maxWarnings) totals.warnings.push('… more warnings suppressed');
  };
  const bytesTotal = files.reduce((a, f) => a + statSync(f).size, 0);
  let bytesBefore = 0;
  for (const file of files) {
    if (looksBinary(file)) throw new IngestError(`${file}: binary data, not a log, OTLP/JSON or error-event file (nothing ingested from it)`);
    await ingestFile(file, store, totals, warn, opts, (b) => opts.onProgress?.(bytesBefore + b, bytesTotal, file));
    bytesBefore += statSync(file).size;
    totals.files++;
  }
  return totals;
}

async function ingestFile(
  file: string,
  store: MemoryStore,
  totals: IngestTotals,
  warn: (w: string) => void,
  opts: IngestOptions,
  progress: (bytes: number) => void,
): Promise<void> {
  const service = opts.service ?? (basename(file, extname(file)).replace(/[._-]?\d{4}-?\d{2}-?\d{2}.*$/, '') || 'unknown_service');
  const resource = resourceCache();
  const year = statSync(file).mtime.getUTCFullYear();
  const batch: SignalBatch = { spans: [], logs: [], metrics: [], errors: [] };
  let pending: LogRecord | undefined;
  let lastUs = statSync(file).mtimeMs * 1000;
  let lineNo = 0;
  let bytes = 0;
  let malformed = 0;
  const flush = async (force = false): Promise<void> => {
    const n = batch.spans.length + batch.logs.length + batch.metrics.length + batch.errors.length;
    if (!n || (!force && n < BATCH)) return;
    const r = await store.telemetry.ingest(batch);
    totals.spans += r.spans;
    totals.logs += r.logs;
    totals.metrics += r.metrics;
    totals.errors += r.errors;
    batch.spans = [];
    batch.logs = [];
    batch.metrics = [];
    batch.errors = [];
  };
  const closePending = (): void => {
    if (!pending) return;
    batch.logs.push(pending);
    if (isErrorSeverity(pending.severityNumber) && looksLikeStack(pending.body)) {
      const h = splitErrorHeader(pending.body.split('\n').find((l) => /(Error|Exception)\b/.test(l)) ?? pending.body);
      batch.errors.push(makeErrorEvent({ timeUs: pending.timeUs, service: pending.service, type: h.type ?? 'Error', message: h.message, rawStack: pending.body, ...(pending.traceId ? { traceId: pending.traceId } : {}), source: 'file', attributes: { 'log.file.name': basename(file) }, resource: pending.resource }));
    }
    pending = undefined;
  };
  // A whole-file JSON document (a Sentry event or an array of them) is read at once: such files are small.
  const whole = await readWholeJson(file);
  if (whole !== undefined) {
    const items = Array.isArray(whole) ? whole : [whole];
    for (const [i, it] of items.entries()) handleJsonObject(it as Record<string, unknown>, `${file} item ${i + 1}`);
    await flush(true);
    return;
  }
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  function handleJsonObject(o: Record<string, unknown>, where: string): void {
    try {
      if ('resourceSpans' in o || 'resource_spans' in o) add(decodeTraces(o), where);
      else if ('resourceLogs' in o || 'resource_logs' in o) add(decodeLogs(o), where);
      else if ('resourceMetrics' in o || 'resource_metrics' in o) add(decodeMetrics(o), where);
      else if (isSentryEvent(o)) batch.errors.push(sentryToErrorEvent(o, service));
      else {
        const rec = fromJsonLine(o, service, resource, lastUs);
        lastUs = rec.timeUs;
        const a = rec.attributes;
        batch.logs.push(rec);
        if (isErrorSeverity(rec.severityNumber) && typeof a['exception.stacktrace'] === 'string') {
          const h = splitErrorHeader(a['exception.stacktrace']);
          batch.errors.push(makeErrorEvent({ timeUs: rec.timeUs, service: rec.service, type: String(a['exception.type'] ?? h.type ?? 'Error'), message: String(a['exception.message'] ?? h.message), rawStack: a['exception.stacktrace'], ...(rec.traceId ? { traceId: rec.traceId } : {}), source: 'file', attributes: {}, resource: rec.resource }));
        }
      }
    } catch (e) {
      malformed++;
      if (malformed <= 5) warn(`${where}: ${(e as Error).message}`);
    }
  }
  function add(d: { batch: SignalBatch; rejected: number; errors: string[] }, where: string): void {
    batch.spans.push(...d.batch.spans);
    batch.logs.push(...d.batch.logs);
    batch.metrics.push(...d.batch.metrics);
    batch.errors.push(...d.batch.errors);
    if (d.rejected) {
      totals.rejected += d.rejected;
      warn(`${where}: ${d.rejected} item(s) rejected: ${d.errors.join('; ')}`);
    }
  }
  for await (const raw of rl) {
    lineNo++;
    bytes += raw.length + 1;
    let line = raw;
    if (line.length > MAX_LINE_CHARS) {
      warn(`${file}:${lineNo}: line of ${line.length} characters truncated to ${MAX_LINE_CHARS}`);
      line = line.slice(0, MAX_LINE_CHARS);
    }
    const trimmed = line.trimStart();
    if (trimmed.startsWith('{')) {
      closePending();
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch (e) {
        malformed++;
        if (malformed <= 5) warn(`${file}:${lineNo}: invalid JSON (${(e as Error).message}); line skipped`);
        continue;
      }
      if (o && typeof o === 'object' && !Array.isArray(o)) handleJsonObject(o as Record<string, unknown>, `${file}:${lineNo}`);
    } else if (pending && isContinuation(line)) {
      if (pending.body.length < MAX_LINE_CHARS) pending.body += '\n' + line;
    } else if (line.trim()) {
      closePending();
      pending = fromPlainLine(line, service, resource(service), lastUs, year);
      lastUs = pending.timeUs;
    }
    if (lineNo % 5000 === 0) progress(bytes);
    await flush();
  }
  closePending();
  await flush(true);
  progress(bytes);
  if (malformed > 5) warn(`${file}: ${malformed} malformed lines in all`);
}

async function readWholeJson(file: string): Promise<unknown> {
  const st = statSync(file);
  if (st.size > 64 * 1024 * 1024) return undefined;
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(Math.min(st.size, 4096));
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const text = head.toString('utf8').trimStart();
  // JSON lines files start with "{" too; only a document spanning lines (or an array) is read whole.
  if (!text.startsWith('[') && !(text.startsWith('{') && !/^\{.*\}\s*$/m.test(text.split('\n')[0] ?? ''))) return undefined;
  const { readFile } = await import('node:fs/promises');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (e) {
    if (text.startsWith('[')) throw new IngestError(`${file}: invalid JSON array (${(e as Error).message})`);
    return undefined;
  }
}
