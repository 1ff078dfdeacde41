/**
 * Webhook sink: POSTs the JSON report, signed with HMAC-SHA256 over the raw body (header
 * `X-Tswarm-Signature: sha256=<hex>`, the same scheme GitHub webhooks use, so receivers have ready verifiers),
 * with a timestamp header against replays. Retries with exponential backoff and jitter on network errors,
 * 429 and 5xx; never retries other 4xx. Bounded: `maxAttempts` and a per-attempt timeout.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface WebhookOptions {
  url: string;
  secret?: string;
  maxAttempts?: number;
  timeoutMs?: number;
  baseDelayMs?: number;
  headers?: Record<string, string>;
}

export interface WebhookResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export function signBody(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signBody(secret, timestamp, body));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function deliverWebhook(payload: unknown, opts: WebhookOptions): Promise<WebhookResult> {
  const body = JSON.stringify(payload);
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
  const base = opts.baseDelayMs ?? 250;
  let last: WebhookResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tswarm-timestamp': timestamp, ...opts.headers };
    if (opts.secret) headers['x-tswarm-signature'] = signBody(opts.secret, timestamp, body);
    try {
      const res = await fetch(opts.url, { method: 'POST', body, headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, attempts: attempt, status: res.status };
      last = { ok: false, attempts: attempt, status: res.status, error: `HTTP ${res.status}` };
      if (res.status < 500 && res.status !== 429) return last;
    } catch (err) {
      last = { ok: false, attempts: attempt, error: err instanceof Error ? err.message : String(err) };
    }
    if (attempt < maxAttempts) await sleep(base * 2 ** (attempt - 1) * (0.5 + Math.random()));
  }
  return last;
}
