/**
 * The OTLP/HTTP receiver (spec: opentelemetry-proto's OTLP/HTTP): POST /v1/traces, /v1/metrics, /v1/logs with
 * `application/x-protobuf` or `application/json` bodies, optionally gzip-compressed; 200 with an
 * Export*ServiceResponse in the request's encoding (with partial_success when items were rejected), 400 with a
 * google.rpc.Status for malformed payloads, 413 over the body limit (compressed or decompressed), 415 for other
 * content types, 401 when a bearer token is set and missing, 503 when the store cannot take the batch (the
 * exporter retries). A 2xx is sent only after the batch is committed to the store.
 *
 * Fastify carries the routing, limits and error mapping so the dashboard, HTTP API and MCP mount on the same
 * port (`setup`); the decoding is ours (decode.ts).
 */
import { createGunzip, createInflate } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SignalBatch } from '../model.js';
import type { IngestResult, MemoryStore } from '../../store/store.js';
import { OTLP } from './proto.js';
import { decodeLogs, decodeMetrics, decodeTraces, type DecodeResult } from './decode.js';
import { decodeLogsWire, decodeTracesRows, decodeTracesWire, ROW_NUMS, WireError, type TraceRows } from './wire.js';
import { authorised } from '../../interfaces/http/auth.js';

export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

export interface ReceiverOptions {
  host?: string;
  port?: number;
  store: MemoryStore;
  token?: string;
  bodyLimitBytes?: number;
  /**
   * Called after each batch is stored (live analysis, dashboards). Errors are logged, never fail the request.
   * `batch` is decoded on first access (protobuf traces are stored as rows without it); `errorSpans` (spans with
   * status ERROR) is known without it.
   */
  onBatch?: (batch: SignalBatch, result: IngestResult, counts: { errorSpans: number }) => void;
  /** Mount more routes (API, dashboard, MCP) before the server starts listening. */
  setup?: (app: FastifyInstance) => Promise<void>;
  logger?: boolean;
}

export interface Receiver {
  port: number;
  url: string;
  app: FastifyInstance;
  counters: { requests: number; rejectedRequests: number; spans: number; logs: number; metrics: number; errors: number; rejectedItems: number };
  close(): Promise<void>;
}

type Signal = 'traces' | 'metrics' | 'logs';

const DECODERS: Record<Signal, { type: typeof OTLP.traceRequest; response: typeof OTLP.traceResponse; decode: (o: Record<string, unknown>) => DecodeResult; wire?: (b: Buffer) => DecodeResult; rejectedField: string }> = {
  traces: { type: OTLP.traceRequest, response: OTLP.traceResponse, decode: decodeTraces, wire: decodeTracesWire, rejectedField: 'rejectedSpans' },
  metrics: { type: OTLP.metricsRequest, response: OTLP.metricsResponse, decode: decodeMetrics, rejectedField: 'rejectedDataPoints' },
  logs: { type: OTLP.logsRequest, response: OTLP.logsResponse, decode: (o) => decodeLogs(o), wire: (b) => decodeLogsWire(b), rejectedField: 'rejectedLogRecords' },
};

class PayloadError extends Error {}

/** A store that takes protobuf spans as rows (the SQLite store), skipping the Span objects on the hot path. */
interface RowIngest {
  ingestTraceRows(rows: TraceRows): Promise<IngestResult>;
}

function rowIngest(store: MemoryStore): RowIngest | undefined {
  const t = store.telemetry as Partial<RowIngest>;
  return typeof t.ingestTraceRows === 'function' ? (t as RowIngest) : undefined;
}

/**
 * Protobuf traces as rows, with the DecodeResult an onBatch listener sees built only if one asks for its batch
 * (decoding the body again then: the listeners of `tswarm serve` mostly need the counts).
 */
function decodeTraceRows(body: Buffer): { rows: TraceRows; decoded: DecodeResult } {
  let rows: TraceRows;
  try {
    rows = decodeTracesRows(body);
  } catch (e) {
    if (e instanceof WireError) throw new PayloadError(`malformed protobuf ${OTLP.traceRequest.name}: ${e.message}`);
    throw e;
  }
  let batch: SignalBatch | undefined;
  const decoded = {
    get batch(): SignalBatch {
      return (batch ??= decodeTracesWire(body).batch);
    },
    rejected: rows.rejected,
    errors: rows.messages,
  };
  return { rows, decoded };
}

/** Spans with status ERROR (code 2) among the rows, from the status column of `nums`. */
function errorSpansOfRows(rows: TraceRows): number {
  let n = 0;
  for (let i = 0; i < rows.count; i++) if (rows.nums[i * ROW_NUMS + 3] === 2) n++;
  return n;
}

function isProtobuf(req: FastifyRequest): boolean {
  return /^application\/(x-)?protobuf/i.test(req.headers['content-type'] ?? '');
}

/** Protobuf traces and logs straight off the wire (wire.ts); metrics through protobufjs; JSON through JSON.parse. */
function decodeBody(d: (typeof DECODERS)[Signal], signal: Signal, body: Buffer, proto: boolean): DecodeResult {
  if (proto) {
    try {
      if (d.wire) return d.wire(body);
      return d.decode(d.type.decode(body) as unknown as Record<string, unknown>);
    } catch (e) {
      if (e instanceof WireError || !d.wire) throw new PayloadError(`malformed protobuf ${d.type.name}: ${(e as Error).message}`);
      throw e;
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new PayloadError(`invalid JSON: ${(e as Error).message}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new PayloadError(`invalid OTLP/JSON: expected an Export${signal === 'traces' ? 'Trace' : signal === 'metrics' ? 'Metrics' : 'Logs'}ServiceRequest object`);
  return d.decode(obj as Record<string, unknown>);
}

/** google.rpc.Status in the request's encoding, as the OTLP/HTTP spec asks for failures. */
function sendStatus(req: FastifyRequest, reply: FastifyReply, http: number, grpcCode: number, message: string): FastifyReply {
  if (isProtobuf(req)) {
    return reply.code(http).type('application/x-protobuf').send(Buffer.from(OTLP.status.encode(OTLP.status.create({ code: grpcCode, message })).finish()));
  }
  return reply.code(http).type('application/json').send({ code: grpcCode, message });
}

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({ bodyLimit, logger: opts.logger ?? false, forceCloseConnections: true });
  const counters = { requests: 0, rejectedRequests: 0, spans: 0, logs: 0, metrics: 0, errors: 0, rejectedItems: 0 };

  // Bodies arrive as buffers; we decode them ourselves (protobuf or JSON), after gunzip when compressed.
  // OTLP routes decode their own bodies (after gunzip); the API and MCP routes mounted here get parsed JSON; the
  // change webhooks (/hooks/) get the raw bytes, which GitHub signs, as JSON or as a form (GitHub's other option).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/x-protobuf', 'application/protobuf', 'application/x-www-form-urlencoded'], { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    if (req.url.startsWith('/hooks/')) return done(null, body);
    if (/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
      return done(Object.assign(new Error('unsupported Content-Type "application/x-www-form-urlencoded" here: send application/json'), { statusCode: 415 }), undefined);
    }
    if (req.url.startsWith('/v1/') || !/json/i.test(req.headers['content-type'] ?? '')) return done(null, body);
    try {
      done(null, body.length ? (JSON.parse(body.toString('utf8')) as unknown) : undefined);
    } catch (e) {
      done(Object.assign(new Error(`invalid JSON body: ${(e as Error).message}`), { statusCode: 400 }), undefined);
    }
  });

  app.addHook('preParsing', async (req, _reply, payload) => {
    const enc = (req.headers['content-encoding'] ?? '').toLowerCase();
    // Snappy (Prometheus remote-write) is a block format: the route decompresses the whole body.
    if (!enc || enc === 'identity' || enc === 'snappy') return payload;
    if (enc === 'gzip' || enc === 'deflate') {
      const out = enc === 'gzip' ? createGunzip() : createInflate();
      // Fastify checks Content-Length against the bytes received on the wire, which it reads from here.
      const counted = out as typeof out & { receivedEncodedLength: number };
      counted.receivedEncodedLength = 0;
      payload.on('data', (chunk: Buffer) => {
        counted.receivedEncodedLength += chunk.length;
      });
      return payload.pipe(out);
    }
    throw Object.assign(new Error(`unsupported Content-Encoding "${enc}" (use gzip or none)`), { statusCode: 415 });
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    if (!authorised(req.raw, opts.token)) {
      counters.rejectedRequests++;
      return sendStatus(req, reply.header('www-authenticate', 'Bearer'), 401, 16, 'missing or wrong bearer token');
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    counters.rejectedRequests++;
    let status = err.statusCode ?? 500;
    let message = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      status = 413;
      message = `request body exceeds the ${bodyLimit}-byte limit (after decompression)`;
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
      status = 415;
      message = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? `unsupported Content-Type "${req.headers['content-type'] ?? ''}": use application/x-protobuf or application/json` : message;
    } else if (/incorrect header check|unexpected end of file|invalid (block|distance|stored)/i.test(err.message)) {
      status = 400;
      message = `Content-Encoding says gzip but the body is not valid gzip: ${err.message}`;
    }
    const grpc = status === 413 ? 8 : status === 415 || status === 400 ? 3 : status === 401 ? 16 : 13;
    if (status >= 500) req.log.error(err);
    return sendStatus(req, reply, status, grpc, message);
  });

  // Still 'ok' when housekeeping failed (ingest and reads work); the count and last error say it needs a look.
  app.get('/healthz', async () => {
    const m = opts.store.telemetry.housekeeping();
    return { status: 'ok', store: opts.store.backend, ...(m.failures ? { housekeeping: m } : {}) };
  });

  for (const signal of ['traces', 'metrics', 'logs'] as Signal[]) {
    const d = DECODERS[signal];
    app.post(`/v1/${signal}`, async (req, reply) => {
      counters.requests++;
      const body = req.body as Buffer | undefined;
      if (!Buffer.isBuffer(body)) return sendStatus(req, reply, 400, 3, 'empty body');
      const proto = isProtobuf(req);
      const rowStore = proto && signal === 'traces' ? rowIngest(opts.store) : undefined;
      let decoded: DecodeResult;
      let rows: TraceRows | undefined;
      try {
        if (rowStore) ({ rows, decoded } = decodeTraceRows(body));
        else decoded = decodeBody(d, signal, body, proto);
      } catch (e) {
        counters.rejectedRequests++;
        const msg = e instanceof PayloadError ? e.message : `invalid OTLP ${signal} payload: ${(e as Error).message}`;
        return sendStatus(req, reply, 400, 3, msg);
      }
      // Counted before the store takes the rows: their arrays are transferred to the writer thread.
      const errorSpans = opts.onBatch ? (rows ? errorSpansOfRows(rows) : decoded.batch.spans.reduce((n, sp) => n + (sp.status.code === 2 ? 1 : 0), 0)) : 0;
      let result: IngestResult;
      try {
        result = rowStore && rows ? await rowStore.ingestTraceRows(rows) : await opts.store.telemetry.ingest(decoded.batch);
      } catch (e) {
        req.log.error(e);
        return sendStatus(req, reply.header('retry-after', '1'), 503, 14, `could not store the batch: ${(e as Error).message}`);
      }
      counters.spans += result.spans;
      counters.logs += result.logs;
      counters.metrics += result.metrics;
      counters.errors += result.errors;
      counters.rejectedItems += decoded.rejected;
      if (opts.onBatch) {
        try {
          opts.onBatch(decoded.batch, result, { errorSpans });
        } catch (e) {
          req.log.error(e);
        }
      }
      const partial = decoded.rejected ? { partialSuccess: { [d.rejectedField]: decoded.rejected, errorMessage: decoded.errors.join('; ') } } : {};
      if (proto) return reply.code(200).type('application/x-protobuf').send(Buffer.from(d.response.encode(d.response.create(partial)).finish()));
      return reply.code(200).type('application/json').send(partial);
    });
  }

  // Prometheus remote-write: snappy-compressed protobuf WriteRequest → gauge points (service from job).
  app.post('/api/v1/write', async (req, reply) => {
    counters.requests++;
    if (!authorised(req.raw, opts.token)) return reply.code(401).send({ error: 'missing or wrong bearer token' });
    const body = req.body as Buffer | undefined;
    if (!Buffer.isBuffer(body)) return reply.code(400).send({ error: 'empty body' });
    let points: import('../model.js').MetricPoint[];
    try {
      const { uncompress } = await import('snappyjs');
      const raw = /snappy/i.test(String(req.headers['content-encoding'] ?? '')) ? Buffer.from(uncompress(body)) : body;
      const wr = OTLP.promWrite.decode(raw) as unknown as { timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: { low: number; high: number } | number }[] }[] };
      points = [];
      for (const ts of wr.timeseries ?? []) {
        const labels = Object.fromEntries((ts.labels ?? []).map((l) => [l.name, l.value]));
        const name = labels.__name__ ?? 'unnamed';
        delete labels.__name__;
        const service = labels.service_name ?? labels.service ?? labels.job ?? 'unknown_service';
        for (const s of ts.samples ?? []) {
          const ms = typeof s.timestamp === 'number' ? s.timestamp : (s.timestamp.high >>> 0) * 4294967296 + (s.timestamp.low >>> 0);
          if (!Number.isFinite(s.value)) continue;
          points.push({ type: 'gauge', name, service, value: s.value, attributes: labels, timeUs: ms * 1000, resource: { attributes: { 'service.name': service } } });
        }
      }
    } catch (e) {
      counters.rejectedRequests++;
      return reply.code(400).send({ error: `malformed remote-write request: ${(e as Error).message}` });
    }
    try {
      const r = await opts.store.telemetry.ingest({ spans: [], logs: [], metrics: points, errors: [] });
      counters.metrics += r.metrics;
    } catch (e) {
      return reply.code(503).header('retry-after', '1').send({ error: `could not store the batch: ${(e as Error).message}` });
    }
    return reply.code(204).send();
  });

  if (opts.setup) await opts.setup(app);
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 4318 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 4318);
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { port, url: `http://${urlHost}:${port}`, app, counters, close: () => app.close() };
}
