/**
 * The load generator's fast path: HTTP/1.1 over plain TCP with requests serialised once and a response parser
 * that reads only what a load test needs (status, framing: content-length, chunked, close-delimited; keep-alive).
 *
 * Written by hand because it is the hot path of a load generator and measured: against nginx on this machine,
 * undici's dispatch() tops out near 67k req/s on one core while a raw socket with a pre-built request reaches
 * ~130k (bench/load-generator.bench.ts prints ours next to autocannon and wrk). Anything this path does not
 * cover — TLS, scripts that read bodies — goes through undici.
 */
import net from 'node:net';

export interface RawResult {
  status: number;
  /** Set when no complete response arrived (connection refused/reset, timeout, malformed response). */
  error?: string;
}

type Done = (r: RawResult) => void;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** A request as bytes, ready to write again and again. */
export function serializeRequest(method: string, url: URL, headers: Record<string, string>, body?: string): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  let hasUa = false;
  for (const [k, v] of Object.entries(headers)) {
    if (/^(host|content-length|connection|transfer-encoding)$/i.test(k)) continue;
    if (/^user-agent$/i.test(k)) hasUa = true;
    lines.push(`${k}: ${v}`);
  }
  if (!hasUa) lines.push('user-agent: tswarm-load');
  const b = body === undefined ? undefined : Buffer.from(body);
  if (b) lines.push(`content-length: ${b.length}`);
  else if (method !== 'GET' && method !== 'HEAD' && method !== 'DELETE' && method !== 'OPTIONS') lines.push('content-length: 0');
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return b ? Buffer.concat([head, b]) : head;
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkTrailer,
  UntilClose,
}

/** One keep-alive connection: one request at a time (no pipelining, like a browser or k6). */
class RawConnection {
  private socket?: net.Socket;
  private buf: Buffer | null = null;
  private state = State.Head;
  private remaining = 0;
  private status = 0;
  private closeAfter = false;
  private head = false;
  private done: Done | null = null;
  sentAt = 0;
  busy = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly onIdle: (c: RawConnection) => void,
  ) {}

  send(req: Buffer, isHead: boolean, done: Done): void {
    this.busy = true;
    this.done = done;
    this.head = isHead;
    this.state = State.Head;
    this.buf = null;
    this.sentAt = performance.now();
    if (!this.socket || this.socket.destroyed) this.connect();
    this.socket!.write(req);
  }

  /** Ends the request in flight with an error and drops the socket (timeouts, shutdown). */
  fail(error: string): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    this.finish({ status: 0, error });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): void {
    const s = net.connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    this.socket = s;
    // Events of a socket this connection has already given up on (closed after a response, timed out) are
    // ignored: a new request may be in flight on a new socket.
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.finish({ status: 0, error: e.code ?? e.message });
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      if (this.state === State.UntilClose && this.done) this.finish({ status: this.status });
      else if (this.done) this.finish({ status: 0, error: 'ECONNRESET' });
    });
  }

  private finish(r: RawResult): void {
    const d = this.done;
    if (!d) return;
    this.done = null;
    this.busy = false;
    this.buf = null;
    if (this.closeAfter || r.error) {
      this.socket?.destroy();
      this.socket = undefined;
    }
    this.closeAfter = false;
    d(r);
    if (!this.busy) this.onIdle(this);
  }

  private onData(chunk: Buffer): void {
    if (!this.done) return; // nothing asked: stray bytes from a server that misbehaves
    let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      switch (this.state) {
        case State.Head: {
          const end = b.indexOf(CRLFCRLF);
          if (end < 0) {
            if (b.length > 64 * 1024) return this.fail('response head over 64 KiB');
            this.buf = b;
            return;
          }
          const head = b.toString('latin1', 0, end);
          b = b.subarray(end + 4);
          const status = Number(head.slice(9, 12));
          if (!head.startsWith('HTTP/1.') || !(status >= 100 && status < 600)) return this.fail('malformed response');
          if (status < 200) continue; // 1xx: the real response follows
          this.status = status;
          const lower = head.toLowerCase();
          this.closeAfter = lower.includes('\nconnection: close') || head.startsWith('HTTP/1.0');
          if (this.head || status === 204 || status === 304) {
            this.remaining = 0;
            this.state = State.Length;
          } else if (lower.includes('\ntransfer-encoding: chunked')) this.state = State.ChunkSize;
          else {
            const i = lower.indexOf('\ncontent-length:');
            if (i >= 0) {
              const e = lower.indexOf('\r', i + 16);
              this.remaining = parseInt(lower.slice(i + 16, e < 0 ? undefined : e), 10) || 0;
              this.state = State.Length;
            } else this.state = State.UntilClose;
          }
          break;
        }
        case State.Length: {
          if (b.length < this.remaining) {
            this.remaining -= b.length;
            this.buf = null;
            return;
          }
          b = b.subarray(this.remaining);
          this.buf = b.length ? b : null;
          return this.finish({ status: this.status });
        }
        case State.ChunkSize: {
          const eol = b.indexOf(CRLF);
          if (eol < 0) {
            this.buf = b;
            return;
          }
          const size = parseInt(b.toString('latin1', 0, eol), 16);
          if (!Number.isFinite(size)) return this.fail('malformed chunked body');
          b = b.subarray(eol + 2);
          if (size === 0) this.state = State.ChunkTrailer;
          else {
            this.remaining = size + 2; // data + CRLF
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          if (b.length < this.remaining) {
            this.remaining -= b.length;
            this.buf = null;
            return;
          }
          b = b.subarray(this.remaining);
          this.state = State.ChunkSize;
          break;
        }
        case State.ChunkTrailer: {
          // Trailers end with an empty line; without trailers that is the CRLF right here.
          const eol = b.indexOf(CRLF);
          if (eol < 0) {
            this.buf = b;
            return;
          }
          b = b.subarray(eol + 2);
          if (eol === 0) {
            this.buf = null;
            return this.finish({ status: this.status });
          }
          break;
        }
        case State.UntilClose:
          this.buf = null;
          return;
      }
    }
  }
}

/**
 * Up to `connections` connections to one origin; requests wait in a FIFO when all are busy (the open model's
 * queue — its wait counts in the coordinated-omission-corrected latency). A coarse sweep enforces timeouts, so
 * the hot path sets no timer per request.
 */
export class RawPool {
  private readonly idle: RawConnection[] = [];
  private readonly all: RawConnection[] = [];
  // A FIFO with a moving head: Array#shift on a queue tens of thousands long (an overloaded open model) copies.
  private queue: { req: Buffer; isHead: boolean; done: Done }[] = [];
  private qHead = 0;
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connections: number,
    private readonly timeoutMs: number,
  ) {
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.all) if (c.busy && now - c.sentAt > this.timeoutMs) c.fail('UND_ERR_HEADERS_TIMEOUT');
    }, Math.min(250, Math.max(10, timeoutMs / 4)));
    this.sweep.unref();
  }

  request(req: Buffer, isHead: boolean, done: Done): void {
    if (this.closed) return done({ status: 0, error: 'pool closed' });
    let c = this.idle.pop();
    if (!c && this.all.length < this.connections) {
      c = new RawConnection(this.host, this.port, (x) => this.release(x));
      this.all.push(c);
    }
    if (c) c.send(req, isHead, done);
    else this.queue.push({ req, isHead, done });
  }

  private release(c: RawConnection): void {
    let next: (typeof this.queue)[number] | undefined;
    if (this.qHead < this.queue.length) {
      next = this.queue[this.qHead]!;
      this.queue[this.qHead++] = undefined as never;
      if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.qHead);
        this.qHead = 0;
      }
    }
    if (next && !this.closed) c.send(next.req, next.isHead, next.done);
    else this.idle.push(c);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    for (const q of this.queue.splice(this.qHead)) q.done({ status: 0, error: 'pool closed' });
    this.qHead = 0;
    for (const c of this.all) c.close();
  }
}
