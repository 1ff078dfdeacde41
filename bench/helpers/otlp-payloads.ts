/** OTLP export requests for the ingest bench: 1,000 spans or log records each, from five services. */
import { OTLP } from '../../src/signals/otlp/proto.js';

export const PER_REQ = 1000;
const services = ['frontend', 'checkout', 'cart', 'payment', 'shipping'];
const kv = (key: string, v: string | number): object => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } });
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

export function traceRequest(batch: number, json: boolean): object {
  const base = BigInt(1_700_000_000_000_000_000n) + BigInt(batch) * 1_000_000_000n;
  const id = (n: number, w: number): string | Buffer => (json ? hex(n, w) : Buffer.from(hex(n, w), 'hex'));
  const t = (x: bigint): string | { low: number; high: number } => (json ? x.toString() : { low: Number(x & 0xffffffffn) | 0, high: Number(x >> 32n) | 0 });
  return {
    resourceSpans: services.map((svc, si) => ({
      resource: { attributes: [kv('service.name', svc), kv('service.version', '1.4.2'), kv('host.name', `h-${svc}`), kv('telemetry.sdk.language', 'nodejs')] },
      scopeSpans: [
        {
          scope: { name: '@opentelemetry/instrumentation-http', version: '0.223.0' },
          spans: Array.from({ length: PER_REQ / services.length }, (_, i) => {
            const k = batch * PER_REQ + si * 1000 + i;
            const start = base + BigInt(i) * 100_000n;
            return {
              traceId: id(k + 1, 32),
              spanId: id(k + 1, 16),
              ...(i % 3 ? { parentSpanId: id(k, 16) } : {}),
              name: i % 2 ? 'GET /api/products/{id}' : 'POST /api/checkout',
              kind: i % 3 ? 3 : 2,
              startTimeUnixNano: t(start),
              endTimeUnixNano: t(start + BigInt(1_000_000 + (i % 500) * 37_000)),
              attributes: [kv('http.request.method', 'GET'), kv('http.route', '/api/products/{id}'), kv('http.response.status_code', 200), kv('url.path', `/api/products/${i}`), kv('server.address', 'catalog'), kv('server.port', 8080), kv('app.request_id', `r-${k}`)],
              status: { code: i % 50 === 0 ? 2 : 0 },
            };
          }),
        },
      ],
    })),
  };
}

export function logRequest(batch: number, json: boolean): object {
  const base = BigInt(1_700_000_000_000_000_000n) + BigInt(batch) * 1_000_000_000n;
  return {
    resourceLogs: services.map((svc) => ({
      resource: { attributes: [kv('service.name', svc)] },
      scopeLogs: [
        {
          logRecords: Array.from({ length: PER_REQ / services.length }, (_, i) => ({
            timeUnixNano: json ? (base + BigInt(i) * 1000n).toString() : { low: Number((base + BigInt(i) * 1000n) & 0xffffffffn) | 0, high: Number((base + BigInt(i) * 1000n) >> 32n) | 0 },
            severityNumber: i % 20 ? 9 : 17,
            severityText: i % 20 ? 'INFO' : 'ERROR',
            body: { stringValue: `order ${batch}-${i} charged ${i % 100}.99 USD in ${i % 300} ms` },
            attributes: [kv('app.request_id', `r-${batch}-${i}`)],
          })),
        },
      ],
    })),
  };
}

export function encode(kind: 'traces' | 'logs', json: boolean, batch: number): Buffer {
  const obj = kind === 'traces' ? traceRequest(batch, json) : logRequest(batch, json);
  if (json) return Buffer.from(JSON.stringify(obj));
  const type = kind === 'traces' ? OTLP.traceRequest : OTLP.logsRequest;
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

