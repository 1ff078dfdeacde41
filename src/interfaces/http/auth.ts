/**
 * Bearer-token auth shared by the HTTP API, the dashboard and MCP over HTTP. Browsers cannot attach an
 * Authorization header to a page load, so the dashboard also accepts the token once as `?token=` — it is then
 * kept in an HttpOnly, SameSite=Strict cookie and the URL is cleaned by a redirect.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'tswarm_token';

/** A request header as one string (the first, when it came several times), or undefined. */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** True when no token is configured, or the request carries it as a bearer header or the dashboard cookie. */
export function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ') && safeEqual(h.slice(7).trim(), token)) return true;
  const c = cookie(req, TOKEN_COOKIE);
  return c !== undefined && safeEqual(c, token);
}
