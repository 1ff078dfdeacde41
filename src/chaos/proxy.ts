/**
 * A fault-injection TCP proxy with Toxiproxy's model: proxies (listen → upstream) carry toxics that act on one
 * direction (`upstream`: client → server, `downstream`: server → client) of each connection, with a toxicity
 * (the probability the toxic applies to a connection). Toxics: latency (+jitter), bandwidth, slicer, limit_data,
 * timeout (blackhole), reset_peer, slow_close, plus HTTP-aware http_error (answer with a status instead of the
 * upstream) and http_abort (close right after the request). Toxics change live; every toxic has a deadline so no
 * fault outlives the run that set it, even when that runner is killed. Upstreams must be on the allow-list.
 *
 * Written by hand: Toxiproxy is a Go binary Debian does not ship, and no npm package implements it.
 */
import net from 'node:net';

export type Stream = 'upstream' | 'downstream';
export type ToxicType = 'latency' | 'bandwidth' | 'slicer' | 'limit_data' | 'timeout' | 'reset_peer' | 'slow_close' | 'http_error' | 'http_abort';

export interface Toxic {
  name: string;
  type: ToxicType;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyConfig {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

export class ChaosError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const TOXIC_DEFAULTS: Record<ToxicType, Record<string, number>> = {
  latency: { latency: 0, jitter: 0 },
  bandwidth: { rate: 0 },
  slicer: { average_size: 0, size_variation: 0, delay: 0 },
  limit_data: { bytes: 0 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  slow_close: { delay: 0 },
  http_error: { status: 503, rate: 1 },
  http_abort: {},
};

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s.trim());
  if (!m) throw new ChaosError(`"${s}" is not host:port`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

export function hostAllowed(host: string, allow: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allow.some((a) => a === h || (a === 'loopback' && (LOOPBACK.includes(h) || /^127\./.test(h))));
}

interface Link {
  client: net.Socket;
  server?: net.Socket;
  /** Per toxic name: does it apply to this connection (toxicity drawn once). */
  applies: Map<string, boolean>;
  /** Next time (ms) each direction may deliver, to keep order under latency. */
  nextAt: Record<Stream, number>;
  bytes: Record<Stream, number>;
  /** Delayed chunks not yet written, per direction; a close waits for them. */
  pending: Record<Stream, number>;
  drained: Record<Stream, (() => void)[]>;
  closed: boolean;
}

export class ChaosProxy {
  readonly toxics = new Map<string, Toxic & { expiresAt: number; timer?: NodeJS.Timeout }>();
  private server?: net.Server;
  private readonly links = new Set<Link>();
  config: ProxyConfig;

  constructor(
    config: ProxyConfig,
    private readonly opts: { allow: readonly string[]; maxToxicMs: number },
  ) {
    const up = parseHostPort(config.upstream);
    if (!hostAllowed(up.host, opts.allow)) throw new ChaosError(`upstream ${config.upstream} is not on the allow-list (${opts.allow.join(', ')})`, 403);
    this.config = { ...config };
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : parseHostPort(this.config.listen).port;
  }

  toJSON(): ProxyConfig & { toxics: Toxic[] } {
    const a = this.server?.address();
    const listen = typeof a === 'object' && a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : this.config.listen;
    return { ...this.config, listen, toxics: [...this.toxics.values()].map(({ name, type, stream, toxicity, attributes }) => ({ name, type, stream, toxicity, attributes })) };
  }

  async start(): Promise<void> {
    if (this.server || !this.config.enabled) return;
    const { host, port } = parseHostPort(this.config.listen);
    const server = net.createServer((c) => this.onConnection(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new ChaosError(`cannot listen on ${this.config.listen}: ${e.code ?? e.message}`, 409)));
      server.listen(port, host, () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const l of this.links) this.closeLink(l, true);
    this.links.clear();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async update(patch: Partial<ProxyConfig>): Promise<void> {
    if (patch.upstream !== undefined) {
      const up = parseHostPort(patch.upstream);
      if (!hostAllowed(up.host, this.opts.allow)) throw new ChaosError(`upstream ${patch.upstream} is not on the allow-list`, 403);
    }
    const restart = (patch.listen !== undefined && patch.listen !== this.config.listen) || patch.enabled === false;
    this.config = { ...this.config, ...patch };
    if (restart || !this.config.enabled) await this.stop();
    if (this.config.enabled) await this.start();
  }

  addToxic(t: Partial<Toxic> & { type: ToxicType }, ttlMs?: number): Toxic {
    if (!(t.type in TOXIC_DEFAULTS)) throw new ChaosError(`unknown toxic type "${t.type}" (known: ${Object.keys(TOXIC_DEFAULTS).join(', ')})`);
    const stream: Stream = t.stream === 'upstream' ? 'upstream' : 'downstream';
    const name = t.name || `${t.type}_${stream}`;
    if (this.toxics.has(name)) throw new ChaosError(`toxic ${name} already exists`, 409);
    const toxicity = t.toxicity === undefined ? 1 : Number(t.toxicity);
    if (!(toxicity >= 0 && toxicity <= 1)) throw new ChaosError('toxicity must be in [0, 1]');
    const attributes: Record<string, number> = { ...TOXIC_DEFAULTS[t.type] };
    for (const [k, v] of Object.entries(t.attributes ?? {})) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ChaosError(`toxic attribute ${k} must be a non-negative number`);
      attributes[k] = v;
    }
    const ttl = Math.min(ttlMs ?? this.opts.maxToxicMs, this.opts.maxToxicMs);
    const toxic = { name, type: t.type, stream, toxicity, attributes, expiresAt: Date.now() + ttl };
    this.toxics.set(name, toxic);
    // The deadline: the proxy itself removes the toxic, whatever happened to whoever added it.
    const timer = setTimeout(() => this.removeToxic(name), ttl);
    timer.unref();
    Object.assign(toxic, { timer });
    return { name, type: t.type, stream, toxicity, attributes };
  }

  updateToxic(name: string, patch: Partial<Toxic>): Toxic {
    const cur = this.toxics.get(name);
    if (!cur) throw new ChaosError(`toxic ${name} not found`, 404);
    if (patch.toxicity !== undefined) cur.toxicity = Number(patch.toxicity);
    for (const [k, v] of Object.entries(patch.attributes ?? {})) if (typeof v === 'number' && v >= 0) cur.attributes[k] = v;
    for (const l of this.links) l.applies.delete(name);
    return { name: cur.name, type: cur.type, stream: cur.stream, toxicity: cur.toxicity, attributes: cur.attributes };
  }

  removeToxic(name: string): boolean {
    const t = this.toxics.get(name);
    if (!t) return false;
    if (t.timer) clearTimeout(t.timer);
    this.toxics.delete(name);
    // Blackholed data stays dropped (as in Toxiproxy), but links waiting on this toxic resume.
    for (const l of this.links) l.applies.delete(name);
    return true;
  }

  removeAllToxics(): void {
    for (const n of [...this.toxics.keys()]) this.removeToxic(n);
  }

  private active(link: Link, stream: Stream): (Toxic & { expiresAt: number })[] {
    const out: (Toxic & { expiresAt: number })[] = [];
    for (const t of this.toxics.values()) {
      if (t.stream !== stream) continue;
      let a = link.applies.get(t.name);
      if (a === undefined) {
        a = Math.random() < t.toxicity;
        link.applies.set(t.name, a);
      }
      if (a) out.push(t);
    }
    return out;
  }

  private closeLink(l: Link, hard = false): void {
    if (l.closed) return;
    l.closed = true;
    if (hard) {
      l.client.destroy();
      l.server?.destroy();
    } else {
      l.client.end();
      l.server?.end();
    }
    this.links.delete(l);
  }

  /** TCP RST to the client (ECONNRESET on its side), and the upstream side dropped. */
  private resetLink(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    link.client.resetAndDestroy();
    link.server?.destroy();
    this.links.delete(link);
  }

  private onConnection(client: net.Socket): void {
    const link: Link = { client, applies: new Map(), nextAt: { upstream: 0, downstream: 0 }, bytes: { upstream: 0, downstream: 0 }, pending: { upstream: 0, downstream: 0 }, drained: { upstream: [], downstream: [] }, closed: false };
    this.links.add(link);
    client.setNoDelay(true);
    client.on('error', () => this.closeLink(link, true));
    // Connection-level toxics decided up front.
    const down = this.active(link, 'downstream');
    const up = this.active(link, 'upstream');
    const httpError = [...down, ...up].find((t) => t.type === 'http_error' && Math.random() < (t.attributes.rate ?? 1));
    if (httpError) {
      client.once('data', () => this.answerError(link, httpError));
      return;
    }
    const reset = [...down, ...up].find((t) => t.type === 'reset_peer');
    if (reset && (reset.attributes.timeout ?? 0) > 0) {
      const t = setTimeout(() => this.resetLink(link), reset.attributes.timeout);
      t.unref();
    }
    const { host, port } = parseHostPort(this.config.upstream);
    const server = net.connect({ host, port });
    link.server = server;
    server.setNoDelay(true);
    server.on('error', () => this.closeLink(link, true));
    const pump = (from: net.Socket, to: net.Socket, stream: Stream): void => {
      from.on('data', (chunk: Buffer) => this.forward(link, to, stream, chunk));
      from.on('end', () => {
        const slow = this.active(link, stream === 'upstream' ? 'downstream' : 'upstream').find((t) => t.type === 'slow_close') ?? this.active(link, stream).find((t) => t.type === 'slow_close');
        // Close only after every delayed chunk of this direction has been written.
        const close = (): void => void setTimeout(() => this.closeLink(link), slow?.attributes.delay ?? 0).unref();
        if (link.pending[stream] === 0) close();
        else link.drained[stream].push(close);
      });
    };
    pump(client, server, 'upstream');
    pump(server, client, 'downstream');
  }

  /** An HTTP error response instead of the upstream's, then the connection closes (the upstream never sees it). */
  private answerError(link: Link, t: Toxic): void {
    if (link.closed) return;
    link.closed = true;
    const status = Math.round(t.attributes.status ?? 503);
    const body = `fault injected by tswarm chaos proxy (${t.name})`;
    link.client.end(`HTTP/1.1 ${status} Injected Fault\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\nx-tswarm-fault: ${t.name}\r\n\r\n${body}`);
    link.server?.destroy();
    this.links.delete(link);
  }

  private forward(link: Link, to: net.Socket, stream: Stream, chunk: Buffer): void {
    if (link.closed) return;
    if (stream === 'upstream' && this.toxics.size) {
      // Also on kept-alive connections opened before the toxic was added (as in Toxiproxy): the next request
      // on them gets the error.
      const httpError = [...this.active(link, 'downstream'), ...this.active(link, 'upstream')].find((t) => t.type === 'http_error' && Math.random() < (t.attributes.rate ?? 1));
      if (httpError) return this.answerError(link, httpError);
    }
    const toxics = this.active(link, stream);
    const now = Date.now();
    for (const t of toxics) {
      if (t.type === 'reset_peer' && (t.attributes.timeout ?? 0) === 0) {
        this.resetLink(link);
        return;
      }
      if (t.type === 'timeout') {
        // Blackhole: drop the data; close after the timeout when one is set.
        if ((t.attributes.timeout ?? 0) > 0) setTimeout(() => this.closeLink(link, true), t.attributes.timeout).unref();
        return;
      }
      if (t.type === 'http_abort' && stream === 'upstream') {
        this.closeLink(link, true);
        return;
      }
    }
    let delay = 0;
    let transmit = 0;
    let pieces: Buffer[] = [chunk];
    let gap = 0;
    let endAfter = false;
    for (const t of toxics) {
      if (t.type === 'latency') delay += Math.max(0, (t.attributes.latency ?? 0) + (Math.random() * 2 - 1) * (t.attributes.jitter ?? 0));
      // Bandwidth is a transmission time that queues behind the previous chunk (latency does not).
      if (t.type === 'bandwidth' && (t.attributes.rate ?? 0) > 0) transmit += (chunk.length / ((t.attributes.rate ?? 1) * 1024)) * 1000;
      if (t.type === 'slicer' && (t.attributes.average_size ?? 0) > 0) {
        const out: Buffer[] = [];
        let i = 0;
        while (i < chunk.length) {
          const size = Math.max(1, Math.round((t.attributes.average_size ?? 1) + (Math.random() * 2 - 1) * (t.attributes.size_variation ?? 0)));
          out.push(chunk.subarray(i, i + size));
          i += size;
        }
        pieces = out;
        gap = (t.attributes.delay ?? 0) / 1000;
      }
      if (t.type === 'limit_data' && (t.attributes.bytes ?? 0) > 0) {
        const room = (t.attributes.bytes ?? 0) - link.bytes[stream];
        if (room <= 0) {
          this.closeLink(link);
          return;
        }
        if (chunk.length >= room) {
          // Exactly `bytes` go through, then the connection closes (gracefully, so those bytes are not lost).
          pieces = [Buffer.concat(pieces).subarray(0, room)];
          endAfter = true;
        }
      }
    }
    link.bytes[stream] += chunk.length;
    if (delay === 0 && transmit === 0 && gap === 0 && link.nextAt[stream] <= now) {
      for (const p of pieces) to.write(p);
      if (endAfter) this.closeLink(link);
      return;
    }
    // Keep order: each chunk leaves no earlier than the previous one of the same direction.
    let at = Math.max(now + delay, link.nextAt[stream]) + transmit;
    pieces.forEach((p, i) => {
      const wait = at - Date.now();
      link.pending[stream]++;
      const last = i === pieces.length - 1;
      const send = (): void => {
        if (!link.closed && !to.destroyed) to.write(p);
        if (last && endAfter) this.closeLink(link);
        if (--link.pending[stream] === 0) for (const f of link.drained[stream].splice(0)) f();
      };
      if (wait <= 0) send();
      else setTimeout(send, wait);
      at += gap;
    });
    link.nextAt[stream] = at;
  }
}
