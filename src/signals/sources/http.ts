/**
 * HTTP plumbing shared by the pull sources: source URLs (`scheme://[user:pass@]host:port?query`, `tls=1` for
 * HTTPS, `token=` for a bearer token), timeouts, retries with backoff on 5xx and network errors, and errors that
 * name the source without its secrets.
 */
import { request } from 'undici';

export class SourceError extends Error {}

export interface SourceTarget {
  /** Display form without credentials. */
  display: string;
  /** Minimum ms between requests (`rps=` in the URL): be gentle with shared backends. */
  minIntervalMs: number;
  lastRequestMs: number;
  base: string;
  headers: Record<string, string>;
  params: URLSearchParams;
}

export function sourceTarget(u: URL, defaultPort: number): SourceTarget {
  const tls = u.searchParams.get('tls') === '1' || u.searchParams.get('tls') === 'true';
  const host = u.hostname || '127.0.0.1';
  const port = u.port || String(defaultPort);
  const headers: Record<string, string> = {};
  if (u.username) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  const token = u.searchParams.get('token');
  if (token) headers.authorization = `Bearer ${token}`;
  const params = new URLSearchParams(u.searchParams);
  params.delete('token');
  params.delete('tls');
  const display = `${u.protocol}//${host}:${port}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  const rps = Number(params.get('rps') ?? 20);
  params.delete('rps');
  return { display, base: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`, headers, params, minIntervalMs: rps > 0 ? 1000 / rps : 0, lastRequestMs: 0 };
}

/** GET JSON with a timeout and up to 3 attempts (backoff 250 ms, 500 ms) on network errors and 5xx. */
export async function getJson(t: SourceTarget, path: string, query: Record<string, string | string[]>, timeoutMs = 15_000): Promise<unknown> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
  const url = `${t.base}${path}?${qs}`;
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const wait = t.lastRequestMs + t.minIntervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    t.lastRequestMs = Date.now();
    try {
      const r = await request(url, { headers: t.headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const text = await r.body.text();
      if (r.statusCode === 401 || r.statusCode === 403) throw new SourceError(`${t.display}: authentication failed (HTTP ${r.statusCode})`);
      if (r.statusCode >= 400 && r.statusCode < 500) throw new SourceError(`${t.display}: bad query (HTTP ${r.statusCode}: ${text.slice(0, 200)})`);
      if (r.statusCode >= 500) {
        last = `HTTP ${r.statusCode}`;
      } else {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new SourceError(`${t.display}: the answer is not JSON`);
        }
      }
    } catch (e) {
      if (e instanceof SourceError) throw e;
      last = (e as { code?: string }).code ?? (e as Error).message;
    }
    if (attempt < 3) await new Promise((r) => setTimeout(r, 250 * attempt));
  }
  throw new SourceError(`${t.display}: unreachable (${last})`);
}

/** `range=15m` style look-back → [fromS, toS]; `start`/`end` (unix seconds or ISO) win when given. */
export function rangeOf(params: URLSearchParams, nowS = Date.now() / 1000): { fromS: number; toS: number } {
  const toS = params.get('end') ? parseTime(params.get('end')!) : nowS;
  if (params.get('start')) return { fromS: parseTime(params.get('start')!), toS };
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(params.get('range') ?? '15m');
  if (!m) throw new SourceError(`range must look like 15m, 1h or 2d`);
  const mult = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return { fromS: toS - Number(m[1]) * mult, toS };
}

function parseTime(s: string): number {
  const n = Number(s);
  if (Number.isFinite(n)) return n > 1e12 ? n / 1000 : n;
  const d = Date.parse(s);
  if (!Number.isFinite(d)) throw new SourceError(`not a time: ${s}`);
  return d / 1000;
}
