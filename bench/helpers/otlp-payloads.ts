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


/**
 * Fresh copies of an encoded request for request number `r`: every trace, span and parent id gets a
 * per-request pseudo-random 32-bit prefix (ids are unique across the whole run and land at random places in
 * any index, as real W3C trace ids do), and every timestamp moves forward by r × stepNs (time advances, so
 * retention has something to prune). Replaying identical payloads would measure a store that sees the same
 * ids and times over and over, which no production one does.
 *
 * The fields are located once per template by their known values (with their protobuf tag or JSON key in
 * front, so a span id is never found inside a trace id); patching a copy is then a few thousand byte writes.
 */
export interface Patcher {
  (r: number): Buffer;
}

export function patcher(kind: 'traces' | 'logs', json: boolean, batch: number, stepNs: bigint): Patcher {
  const template = encode(kind, json, batch);
  const ids: [number, number][] = []; // [offset, byte length of the prefix to overwrite] (hex chars in JSON)
  const times: number[] = [];
  const base = BigInt(1_700_000_000_000_000_000n) + BigInt(batch) * 1_000_000_000n;
  let from = 0;
  const find = (needle: Buffer, skip: number, isId: boolean): void => {
    const at = template.indexOf(needle, from);
    if (at < 0) throw new Error(`bench payload: field not found (batch ${batch})`);
    from = at + needle.length;
    if (isId) ids.push([at + skip, json ? 8 : 4]);
    else times.push(at + skip);
  };
  const idField = (tag: number, key: string, n: number, w: number): void => {
    const h = hex(n, w);
    if (json) find(Buffer.from(`"${key}":"${h}"`), key.length + 4, true);
    else find(Buffer.concat([Buffer.from([tag, w / 2]), Buffer.from(h, 'hex')]), 2, true);
  };
  const timeField = (tag: number, key: string, t: bigint): void => {
    if (json) return find(Buffer.from(`"${key}":"${t}"`), key.length + 4, false);
    const b = Buffer.alloc(9);
    b[0] = tag;
    b.writeBigUInt64LE(t, 1);
    find(b, 1, false);
  };
  const per = PER_REQ / services.length;
  for (let si = 0; si < services.length; si++) {
    for (let i = 0; i < per; i++) {
      const start = base + BigInt(i) * (kind === 'traces' ? 100_000n : 1000n);
      if (kind === 'logs') {
        timeField(0x09, 'timeUnixNano', start);
        continue;
      }
      // Field order as protobufjs writes it (by field number) and as traceRequest builds the JSON.
      const k = batch * PER_REQ + si * 1000 + i;
      idField(0x0a, 'traceId', k + 1, 32);
      idField(0x12, 'spanId', k + 1, 16);
      if (i % 3) idField(0x22, 'parentSpanId', k, 16);
      timeField(0x39, 'startTimeUnixNano', start);
      timeField(0x41, 'endTimeUnixNano', start + BigInt(1_000_000 + (i % 500) * 37_000));
    }
  }
  return (r: number): Buffer => {
    const out = Buffer.from(template);
    const prefix = (Math.imul(r + 1, 2654435761) >>> 0).toString(16).padStart(8, '0');
    for (const [at, n] of ids) {
      if (json) out.write(prefix, at, n, 'latin1');
      else out.writeUInt32BE(parseInt(prefix, 16), at);
    }
    const add = BigInt(r) * stepNs;
    for (const at of times) {
      if (json) {
        const end = out.indexOf(0x22, at);
        const v = (BigInt(out.toString('latin1', at, end)) + add).toString();
        if (v.length !== end - at) throw new Error('bench payload: timestamp changed width');
        out.write(v, at, 'latin1');
      } else out.writeBigUInt64LE(out.readBigUInt64LE(at) + add, at);
    }
    return out;
  };
}
