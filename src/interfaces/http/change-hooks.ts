/**
 * `POST /hooks/github`, `/hooks/gitlab` and `/hooks/launchdarkly`: a repository's webhook reports its deploys (and
 * GitLab's flag flips), a flag service its flag changes, as declared changes, with no pipeline step. The payloads
 * are read by signals/change-hooks.ts.
 *
 * Auth. These senders cannot send a bearer token: GitHub and LaunchDarkly sign the body with the webhook's secret
 * (X-Hub-Signature-256, X-LD-Signature), GitLab sends the secret itself (X-Gitlab-Token). With
 * `--change-hook-secret` set, a hook must carry it that way (or the server's bearer token, for senders that can set
 * headers). A server with a token and
 * no webhook secret accepts only the bearer token, so turning auth on never leaves the hooks open.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MemoryStore } from '../../store/store.js';
import type { EventHub } from './event-hub.js';
import { authorised, headerOf, safeEqual } from './auth.js';
import { githubChanges, gitlabChanges, launchDarklyChanges, type HookOptions, type HookResult } from '../../signals/change-hooks.js';
import { ChangeInputError } from '../../signals/change-event.js';
import { changeRecord } from '../../agents/feedback/memory-ops.js';
import { SwarmInputError } from '../../agents/feedback/swarm-api.js';

export interface ChangeHookOptions {
  store: MemoryStore;
  token?: string;
  /** The webhook secret both providers are configured with. */
  secret?: string;
  hub?: EventHub;
}

/** GitHub's signature of the raw body: `sha256=<hex HMAC-SHA256 with the secret>`, compared in constant time. */
export function verifyGitHubSignature(secret: string, raw: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  return safeEqual(header.trim(), `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
}

/** LaunchDarkly's signature of the raw body: `X-LD-Signature: <hex HMAC-SHA256 with the secret>`. */
export function verifyLaunchDarklySignature(secret: string, raw: Buffer, header: string | undefined): boolean {
  return header !== undefined && safeEqual(header.trim().toLowerCase(), createHmac('sha256', secret).update(raw).digest('hex'));
}

const header = (req: FastifyRequest, name: string): string | undefined => headerOf(req.raw, name);

/**
 * The JSON payload from the raw body: GitHub's "application/json" content type or its
 * "application/x-www-form-urlencoded" one (`payload=<url-encoded JSON>`).
 */
function payloadOf(req: FastifyRequest, raw: Buffer): unknown {
  let text = raw.toString('utf8');
  if (/x-www-form-urlencoded/i.test(header(req, 'content-type') ?? '')) {
    const p = new URLSearchParams(text).get('payload');
    if (p === null) throw new ChangeInputError('a form-encoded webhook body needs a "payload" field holding the JSON');
    text = p;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ChangeInputError(`the webhook body is not valid JSON: ${(e as Error).message}`);
  }
}

function hookOptions(req: FastifyRequest): HookOptions | string {
  const q = req.query as { service?: unknown; environment?: unknown };
  if (q.service !== undefined && (typeof q.service !== 'string' || !q.service.trim())) return 'service must be one non-empty name (?service=checkout)';
  if (q.environment !== undefined && typeof q.environment !== 'string') return 'environment must be one comma-separated list (?environment=production,prod)';
  const environments = typeof q.environment === 'string' ? q.environment.split(',').map((e) => e.trim()).filter(Boolean) : [];
  return { ...(typeof q.service === 'string' ? { service: q.service.trim() } : {}), ...(environments.length ? { environments } : {}) };
}

export async function registerChangeHooks(app: FastifyInstance, opts: ChangeHookOptions): Promise<void> {
  const providers = [
    {
      path: '/hooks/github',
      eventHeader: 'x-github-event',
      name: 'GitHub',
      // The signature covers the exact bytes received, so it is checked before anything parses them.
      signed: (req: FastifyRequest, raw: Buffer, secret: string) => verifyGitHubSignature(secret, raw, header(req, 'x-hub-signature-256')),
      how: 'X-Hub-Signature-256 (the webhook secret)',
      read: githubChanges,
    },
    {
      path: '/hooks/gitlab',
      eventHeader: 'x-gitlab-event',
      name: 'GitLab',
      signed: (req: FastifyRequest, _raw: Buffer, secret: string) => {
        const t = header(req, 'x-gitlab-token');
        return t !== undefined && safeEqual(t, secret);
      },
      how: 'X-Gitlab-Token (the webhook secret token)',
      read: gitlabChanges,
    },
    {
      path: '/hooks/launchdarkly',
      // No event header: the audit-log entry's `kind` says what changed.
      eventHeader: undefined,
      name: 'LaunchDarkly',
      signed: (req: FastifyRequest, raw: Buffer, secret: string) => verifyLaunchDarklySignature(secret, raw, header(req, 'x-ld-signature')),
      how: 'X-LD-Signature (the webhook secret)',
      read: (_event: string, body: unknown, o: HookOptions) => launchDarklyChanges(body, o),
    },
  ];
  for (const p of providers) {
    app.post(p.path, async (req: FastifyRequest, reply: FastifyReply) => {
      const raw = req.body;
      if (!Buffer.isBuffer(raw) || raw.length === 0) return reply.code(400).send({ error: `empty body: a ${p.name} webhook posts its event as JSON` });
      const bearerOk = Boolean(opts.token) && authorised(req.raw, opts.token);
      if (opts.secret) {
        if (!bearerOk && !p.signed(req, raw, opts.secret)) return reply.code(401).send({ error: `${p.how} missing or wrong` });
      } else if (opts.token && !bearerOk) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: `this server needs a token: set the same secret on the ${p.name} webhook and start tswarm serve with --change-hook-secret (or send the bearer token)` });
      }
      const event = p.eventHeader ? header(req, p.eventHeader) : 'change';
      if (!event) return reply.code(400).send({ error: `not a ${p.name} webhook: no ${p.eventHeader} header` });
      const o = hookOptions(req);
      if (typeof o === 'string') return reply.code(400).send({ error: o });
      let result: HookResult;
      try {
        result = p.read(event, payloadOf(req, raw), o);
      } catch (e) {
        if (e instanceof ChangeInputError) return reply.code(400).send({ error: e.message });
        throw e;
      }
      // Accepted and read, nothing to record: 202, so the sender does not mark the webhook as failing.
      if ('ignored' in result) return reply.code(202).send({ ok: true, recorded: 0, ignored: result.ignored });
      try {
        const r = await changeRecord(opts.store, result.changes, p.name);
        for (const c of r.data.changes) opts.hub?.publish('change', c);
        return reply.code(201).send({ ok: true, recorded: r.data.changes.length, changes: r.data.changes });
      } catch (e) {
        if (e instanceof SwarmInputError) return reply.code(400).send({ error: `${p.name} ${event}: ${e.message}` });
        throw e;
      }
    });
  }
}
