/**
 * A fault-injection TCP proxy with Toxiproxy's model: proxies (listen → upstream) carry toxics that act on one
 * direction (`upstream`: client → server, `downstream`: server → client) of each connection, with a toxicity
 * (the probability the toxic applies to a connection). Toxics: latency (+jitter), bandwidth, slicer, limit_data,
 * timeout (blackhole), reset_peer, slow_close, plus HTTP-aware http_error (answer with a status instead of the
 * upstream) and http_abort (close right after the request). Toxics change live; every toxic has a deadline so no
 * fault outlives the run that set it, even when that runner is killed. Upstreams must be on the allow-list.
 *
 * Without toxics a chunk costs one write (no timers, no copies; responses are read into a per-connection buffer),
 * with backpressure both ways; the toxics' path is taken per chunk, so toxics reach live connections too. What a
 * proxied request still costs is mostly the kernel's (two more loopback reads and writes): see
 * bench/chaos-proxy.bench.ts.
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

interface Queued {
  buf: Buffer;
  /** Not before this time (ms). */
  at: number;
  /** And at least this long (ms) after the previous chunk was actually written (slicer). */
  gap: number;
  /** limit_data reached: close gracefully after this chunk. */
  endAfter: boolean;
}

interface Link {
  client: net.Socket;
  server?: net.Socket;
  /** Per toxic name: does it apply to this connection (toxicity drawn once). */
  applies: Map<string, boolean>;
  /** Earliest time (ms) the next chunk of each direction may leave: bandwidth queues chunks behind each other. */
  nextAt: Record<Stream, number>;
  bytes: Record<Stream, number>;
  /** Chunks held back by toxics, per direction, in order; the fast path is taken only when this is empty. */
  queue: Record<Stream, Queued[]>;
  queuedBytes: Record<Stream, number>;
  /** When the head of each queue is due. */
  timer: Record<Stream, NodeJS.Timeout | undefined>;
  /** When the last queued chunk of each direction was written (slicer gaps count from there). */
  lastSent: Record<Stream, number>;
  /** Run once a direction's queue is empty: a close waits for the delayed data. */
  drained: Record<Stream, (() => void)[]>;
  /** Per toxic name: the pending reset/close of a timed reset_peer or timeout toxic on this connection. */
  toxicTimers: Map<string, NodeJS.Timeout>;
  /** A direction whose reader is paused until the writer drains (backpressure). */
  paused: Record<Stream, boolean>;
  closed: boolean;
}

/**
 * Sockets buffer up to this much before write() asks the sender to pause. Larger than the 16 KiB default so a
 * 64 KiB read from one side never stalls the other just because the kernel took it in two writes.
 */
const HIGH_WATER = 256 * 1024;
/** Per connection, for the upstream's responses (the size of libuv's own reads). */
const READ_BUFFER = 64 * 1024;
/** Bytes held back by toxics per direction before the proxy stops reading from the sender. */
const QUEUE_LIMIT = 8 * 1024 * 1024;

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
    const server = net.createServer({ noDelay: true, highWaterMark: HIGH_WATER }, (c) => this.onConnection(c));
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
    // Timed toxics start on live connections now, as on new ones at connect.
    for (const l of this.links) this.arm(l);
    return { name, type: t.type, stream, toxicity, attributes };
  }

  updateToxic(name: string, patch: Partial<Toxic>): Toxic {
    const cur = this.toxics.get(name);
    if (!cur) throw new ChaosError(`toxic ${name} not found`, 404);
    if (patch.toxicity !== undefined) cur.toxicity = Number(patch.toxicity);
    for (const [k, v] of Object.entries(patch.attributes ?? {})) if (typeof v === 'number' && v >= 0) cur.attributes[k] = v;
    for (const l of this.links) {
      l.applies.delete(name);
      ChaosProxy.disarm(l, name);
      this.arm(l);
    }
    return { name: cur.name, type: cur.type, stream: cur.stream, toxicity: cur.toxicity, attributes: cur.attributes };
  }

  removeToxic(name: string): boolean {
    const t = this.toxics.get(name);
    if (!t) return false;
    if (t.timer) clearTimeout(t.timer);
    this.toxics.delete(name);
    // Blackholed data stays dropped (as in Toxiproxy), but links waiting on this toxic resume.
    for (const l of this.links) {
      l.applies.delete(name);
      ChaosProxy.disarm(l, name);
    }
    return true;
  }

  /**
   * reset_peer and timeout with a `timeout` act on a connection after that long, counted from when the toxic
   * starts on it (at connect, or when added to a live connection), whether data flows or not (as in Toxiproxy).
   */
  private arm(link: Link): void {
    if (link.closed || this.toxics.size === 0) return;
    for (const stream of ['upstream', 'downstream'] as const) {
      for (const t of this.active(link, stream)) {
        if ((t.type === 'reset_peer' || t.type === 'timeout') && (t.attributes.timeout ?? 0) > 0 && !link.toxicTimers.has(t.name)) this.armOne(link, t);
      }
    }
  }

  private armOne(link: Link, t: Toxic): void {
    clearTimeout(link.toxicTimers.get(t.name));
    const timer = setTimeout(() => (t.type === 'reset_peer' ? this.resetLink(link) : this.closeLink(link, true)), t.attributes.timeout);
    timer.unref();
    link.toxicTimers.set(t.name, timer);
  }

  private static disarm(l: Link, name: string): void {
    clearTimeout(l.toxicTimers.get(name));
    l.toxicTimers.delete(name);
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
    ChaosProxy.stopTimers(l);
    if (hard) {
      l.client.destroy();
      l.server?.destroy();
    } else {
      l.client.end();
      l.server?.end();
    }
    this.links.delete(l);
  }

  /** Queued chunks of a closed link are never written: their timers go. */
  private static stopTimers(l: Link): void {
    clearTimeout(l.timer.upstream);
    clearTimeout(l.timer.downstream);
    for (const t of l.toxicTimers.values()) clearTimeout(t);
    l.toxicTimers.clear();
  }

  /** TCP RST to the client (ECONNRESET on its side), and the upstream side dropped. */
  private resetLink(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    ChaosProxy.stopTimers(link);
    link.client.resetAndDestroy();
    link.server?.destroy();
    this.links.delete(link);
  }

  private onConnection(client: net.Socket): void {
    const link: Link = {
      client,
      applies: new Map(),
      nextAt: { upstream: 0, downstream: 0 },
      bytes: { upstream: 0, downstream: 0 },
      queue: { upstream: [], downstream: [] },
      queuedBytes: { upstream: 0, downstream: 0 },
      timer: { upstream: undefined, downstream: undefined },
      lastSent: { upstream: 0, downstream: 0 },
      drained: { upstream: [], downstream: [] },
      toxicTimers: new Map(),
      paused: { upstream: false, downstream: false },
      closed: false,
    };
    this.links.add(link);
    client.on('error', () => this.closeLink(link, true));
    // Connection-level toxics decided up front.
    const down = this.active(link, 'downstream');
    const up = this.active(link, 'upstream');
    const httpError = [...down, ...up].find((t) => t.type === 'http_error' && Math.random() < (t.attributes.rate ?? 1));
    if (httpError) {
      client.once('data', () => this.answerError(link, httpError));
      return;
    }
    this.arm(link);
    const { host, port } = parseHostPort(this.config.upstream);
    const resume = {
      upstream: (): void => {
        link.paused.upstream = false;
        client.resume();
      },
      downstream: (): void => {
        link.paused.downstream = false;
        server.resume();
      },
    };
    // Responses are read into one buffer per connection (`onread`) instead of a fresh allocation per read:
    // measured ~1 µs less CPU per proxied request (about a quarter of the proxy's user-space time). The price is
    // that a chunk may be handed on only while that buffer is not reused: see onResponse.
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER);
    // highWaterMark is passed on to the socket's Duplex by Node, though @types/node does not list it for connect().
    const options: net.TcpNetConnectOpts & { highWaterMark: number } = {
      host,
      port,
      noDelay: true,
      highWaterMark: HIGH_WATER,
      onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array): boolean => this.onResponse(link, server, n, buf, resume.downstream) },
    };
    const server: net.Socket = net.connect(options);
    link.server = server;
    server.on('error', () => this.closeLink(link, true));
    client.on('data', (chunk: Buffer) => {
      // The fast path, taken while the proxy has no toxic and nothing delayed is still queued in this direction
      // (so order holds): one write, no allocation, no clock read. The check is per chunk, so a toxic added
      // later applies to this live connection from its next chunk on, as in Toxiproxy.
      if (this.toxics.size === 0 && link.queue.upstream.length === 0) {
        if (link.closed) return;
        link.bytes.upstream += chunk.length;
        if (!server.write(chunk) && !link.paused.upstream) this.pause(link, client, server, 'upstream', resume.upstream);
        return;
      }
      this.forward(link, client, server, 'upstream', chunk, resume.upstream);
    });
    const onEnd = (stream: Stream): void => {
      const slow = this.active(link, stream === 'upstream' ? 'downstream' : 'upstream').find((t) => t.type === 'slow_close') ?? this.active(link, stream).find((t) => t.type === 'slow_close');
      // Close only after every delayed chunk of this direction has been written.
      const close = (): void => void setTimeout(() => this.closeLink(link), slow?.attributes.delay ?? 0).unref();
      if (link.queue[stream].length === 0) close();
      else link.drained[stream].push(close);
    };
    client.on('end', () => onEnd('upstream'));
    server.on('end', () => onEnd('downstream'));
  }

  /**
   * `n` bytes of the upstream's response, in the connection's read buffer. Returns false to stop reading (Node
   * then pauses the socket) until the client has drained.
   */
  private onResponse(link: Link, server: net.Socket, n: number, buf: Uint8Array, resume: () => void): boolean {
    if (link.closed) return true;
    const view = Buffer.from(buf.buffer, buf.byteOffset, n);
    if (this.toxics.size === 0 && link.queue.downstream.length === 0) {
      link.bytes.downstream += n;
      link.client.write(view);
      // A write the kernel did not take at once keeps a reference to `view`; the next read would overwrite it,
      // so reading waits until the client has drained. (Usually the write completes synchronously.)
      if (link.client.writableLength > 0) {
        link.paused.downstream = true;
        link.client.once('drain', resume);
        return false;
      }
      return true;
    }
    // Toxics may hold a chunk back (latency, bandwidth, slicer): they get a copy of their own.
    this.forward(link, server, link.client, 'downstream', Buffer.from(view), resume);
    return true;
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

  /**
   * Backpressure: stop reading from `from` until `to` has flushed what it holds, so a fast sender behind a slow
   * reader is held back by TCP instead of growing this process's memory.
   */
  private pause(link: Link, from: net.Socket, to: net.Socket, stream: Stream, resume: () => void): void {
    link.paused[stream] = true;
    from.pause();
    to.once('drain', resume);
  }

  private forward(link: Link, from: net.Socket, to: net.Socket, stream: Stream, chunk: Buffer, resume: () => void): void {
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
        // Blackhole: drop the data; with a timeout set, the close comes that long after the last dropped chunk
        // (Toxiproxy restarts its timer on every chunk).
        if ((t.attributes.timeout ?? 0) > 0) this.armOne(link, t);
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
    if (delay === 0 && transmit === 0 && gap === 0 && link.queue[stream].length === 0) {
      let full = false;
      for (const p of pieces) full = !to.write(p) || full;
      if (endAfter) this.closeLink(link);
      else if (full && !link.paused[stream]) this.pause(link, from, to, stream, resume);
      return;
    }
    // Keep order: chunks queue per direction; each leaves no earlier than its time and after the one before it.
    const at = Math.max(now + delay, link.nextAt[stream]) + transmit;
    const q = link.queue[stream];
    pieces.forEach((p, i) => {
      q.push({ buf: p, at, gap: i > 0 ? gap : 0, endAfter: endAfter && i === pieces.length - 1 });
      link.queuedBytes[stream] += p.length;
    });
    link.nextAt[stream] = at;
    // A fast sender behind a delaying toxic must not fill this process's memory: stop reading past a bound far
    // above any bandwidth-delay product the tests and experiments use (Toxiproxy buffers 1024 chunks similarly).
    if (link.queuedBytes[stream] > QUEUE_LIMIT && !link.paused[stream]) {
      link.paused[stream] = true;
      from.pause();
    }
    if (q.length === pieces.length) this.flush(link, from, to, stream, resume);
  }

  /**
   * Writes the due chunks of a direction's queue and sets a timer for the next one. Slicer gaps count from the
   * previous slice's actual write, as Toxiproxy sleeps between slices: after a stall of the event loop the
   * slices still arrive `delay` apart instead of in one burst.
   */
  private flush(link: Link, from: net.Socket, to: net.Socket, stream: Stream, resume: () => void): void {
    link.timer[stream] = undefined;
    const q = link.queue[stream];
    while (q.length) {
      const head = q[0];
      const now = Date.now();
      const due = Math.max(head.at, head.gap > 0 ? link.lastSent[stream] + head.gap : 0);
      if (due > now) {
        link.timer[stream] = setTimeout(() => this.flush(link, from, to, stream, resume), due - now);
        return;
      }
      q.shift();
      link.queuedBytes[stream] -= head.buf.length;
      link.lastSent[stream] = now;
      if (!link.closed && !to.destroyed) to.write(head.buf);
      if (head.endAfter) this.closeLink(link);
    }
    if (link.paused[stream] && !link.closed) {
      // Resume reading once the queue is empty and the socket has taken it (or on its drain).
      if (to.writableLength > HIGH_WATER) to.once('drain', resume);
      else resume();
    }
    for (const f of link.drained[stream].splice(0)) f();
  }
}
