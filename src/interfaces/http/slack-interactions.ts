/**
 * `POST /hooks/slack`: the Confirm / Reject buttons of the Slack notifications (feedback/sinks/notify.ts) become
 * verdicts, what the learning layer learns from, without leaving the channel the incident was discussed in. Slack
 * posts the interaction as a form (`payload=<JSON>`) signed with the app's signing secret: `X-Slack-Signature:
 * v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">`, the timestamp in `X-Slack-Request-Timestamp`; a request
 * over 5 minutes old is refused (a replayed click).
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MemoryStore } from '../../store/store.js';
import type { EventHub } from './event-hub.js';
import { headerOf, safeEqual } from './auth.js';
import { recordHumanVerdict } from '../../agents/feedback/memory-ops.js';
import { SwarmInputError } from '../../agents/feedback/swarm-api.js';

export interface SlackInteractionOptions {
  store: MemoryStore;
  signingSecret?: string;
  hub?: EventHub;
}

const MAX_AGE_S = 300;

/** Slack's request signature: valid for this body at this timestamp, and the timestamp within 5 minutes of now. */
export function verifySlackSignature(secret: string, raw: Buffer, timestamp: string | undefined, signature: string | undefined, nowS = Date.now() / 1000): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > MAX_AGE_S) return false;
  const want = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(raw).digest('hex')}`;
  return safeEqual(signature, want);
}

interface BlockActions {
  type?: string;
  user?: { id?: string; username?: string; name?: string };
  actions?: { action_id?: string; value?: string }[];
  response_url?: string;
}

const header = (req: FastifyRequest, name: string): string | undefined => headerOf(req.raw, name);

export async function registerSlackInteractions(app: FastifyInstance, opts: SlackInteractionOptions): Promise<void> {
  app.post('/hooks/slack', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!opts.signingSecret) return reply.code(404).send({ error: 'Slack interactions are off: start tswarm serve with --slack-signing-secret (the Slack app\'s signing secret)' });
    const raw = req.body;
    if (!Buffer.isBuffer(raw) || !raw.length) return reply.code(400).send({ error: 'empty body: Slack posts its interaction as payload=<JSON>' });
    if (!verifySlackSignature(opts.signingSecret, raw, header(req, 'x-slack-request-timestamp'), header(req, 'x-slack-signature'))) {
      return reply.code(401).send({ error: 'X-Slack-Signature missing or wrong, or X-Slack-Request-Timestamp over 5 minutes off' });
    }
    let p: BlockActions;
    try {
      p = JSON.parse(new URLSearchParams(raw.toString('utf8')).get('payload') ?? '') as BlockActions;
    } catch {
      return reply.code(400).send({ error: 'the body has no payload field holding JSON' });
    }
    // Other interactions (a shortcut, a modal) carry no verdict: acknowledged, as Slack requires within 3 s.
    const action = p.type === 'block_actions' ? p.actions?.find((a) => a.action_id === 'tswarm-confirm' || a.action_id === 'tswarm-reject') : undefined;
    if (!action?.value) return reply.code(200).send({ ok: true, ignored: `interaction "${p.type ?? '?'}" carries no verdict` });
    const bar = action.value.indexOf('|');
    const verdict = action.value.slice(0, bar);
    const findingId = action.value.slice(bar + 1);
    if (bar < 0 || (verdict !== 'confirmed' && verdict !== 'rejected') || !findingId) return reply.code(400).send({ error: `a verdict button's value is "confirmed|<finding id>" or "rejected|<finding id>" (got "${action.value}")` });
    const who = p.user?.username ?? p.user?.name ?? p.user?.id ?? 'someone';
    try {
      const r = await recordHumanVerdict(opts.store, { findingId, verdict, by: `slack:${who}` }, 'slack');
      opts.hub?.publish('verdict', r.verdict);
      const text = `${who} ${verdict} "${r.finding.title}"${r.learned ? ` (the root-cause ranking learned from ${r.learned} verdict${r.learned === 1 ? '' : 's'})` : ''}`;
      // Tell the channel, as a reply only the clicker sees; best effort: the verdict is stored either way.
      if (p.response_url && /^https?:\/\//.test(p.response_url)) {
        void fetch(p.response_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }), signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      }
      return reply.code(200).send({ ok: true, text });
    } catch (e) {
      if (e instanceof SwarmInputError) return reply.code(400).send({ error: e.message });
      throw e;
    }
  });
}
