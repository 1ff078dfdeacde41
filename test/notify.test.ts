/**
 * `tswarm serve --notify`: a finished cycle's new findings are posted to the channel once. The receiver is a
 * loopback HTTP server standing in for Slack's incoming webhook and PagerDuty's Events API (neither can run here);
 * the bodies are checked against the shapes they take; a receiver that is down is reported on the event stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { freePort, runCli, tempDir } from './helpers/env.js';
import { seedMemory } from './helpers/incident.js';
import type { HubEvent } from '../src/interfaces/http/event-hub.js';
import type { RunningServer, ServerOptions } from '../src/interfaces/http/serve.js';

async function receiver(): Promise<{ url: string; bodies: { headers: IncomingMessage['headers']; body: string }[]; close(): Promise<void> }> {
  const bodies: { headers: IncomingMessage['headers']; body: string }[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/services/T0/B0/x`, bodies, close: () => new Promise((ok) => srv.close(() => ok())) };
}

/** The hub event of one of `types` for `cycleId`, already published (the ring) or the next one (bounded). */
function nextEvent(hub: { subscribe(fn: (ev: HubEvent) => void): () => void; recent(): HubEvent[] }, types: string[], cycleId: string): Promise<HubEvent> {
  const match = (ev: HubEvent): boolean => types.includes(ev.type) && (ev.data as { cycleId?: string }).cycleId === cycleId;
  const done = hub.recent().find(match);
  if (done) return Promise.resolve(done);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${types.join('/')} event for ${cycleId} within 30 s`)), 30_000);
    const off = hub.subscribe((ev) => {
      if (match(ev)) {
        clearTimeout(timer);
        off();
        ok(ev);
      }
    });
  });
}

/** A server on a memory holding the incident of helpers/incident.ts, notifying `notify`; `cycle` runs one analysis. */
async function seededServer(notify: NonNullable<ServerOptions['notify']>, more: Partial<ServerOptions> = {}): Promise<{ server: RunningServer; cycle(): Promise<string>; close(): Promise<void> }> {
  const dir = tempDir();
  const db = join(dir.path, 'm.db');
  await seedMemory(db);
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const server = await runServer({ db, host: '127.0.0.1', port: await freePort(), notify, ...more });
  return {
    server,
    cycle: async () => {
      const r = await fetch(`${server.url}/api/analyze`, { method: 'POST' });
      assert.equal(r.status, 202);
      return ((await r.json()) as { cycleId: string }).cycleId;
    },
    close: async () => {
      await server.close();
      dir.cleanup();
    },
  };
}

const TOLD = ['notified', 'notify-failed', 'notify-skipped'];
const SIGNING = 'slack-signing-secret';

test("a cycle's new critical root cause is posted to the channel once as a Slack message; its Confirm button records a verdict; the next cycle, with nothing new, posts nothing", { timeout: 180_000 }, async () => {
  const sink = await receiver();
  const { server, cycle, close } = await seededServer({ url: sink.url, format: 'slack', minSeverity: 'high' }, { slackSigningSecret: SIGNING });
  try {
    const first = await cycle();
    const told = await nextEvent(server.hub, TOLD, first);
    assert.equal(told.type, 'notified', JSON.stringify(told.data));
    assert.equal(sink.bodies.length, 1);
    assert.match(String(sink.bodies[0]!.headers['content-type']), /application\/json/);
    const msg = JSON.parse(sink.bodies[0]!.body) as { text: string; blocks: { type: string; text?: { type: string; text: string } }[] };
    assert.equal(msg.blocks[0]!.type, 'header');
    assert.match(msg.blocks[0]!.text!.text, /^\d+ new findings? from telemetry-swarm$/);
    const sections = msg.blocks.filter((b) => b.type === 'section').map((b) => b.text!.text);
    assert.ok(sections.some((t) => /\*payment is the likely root cause/.test(t)), sections.join('\n---\n'));
    assert.ok(sections.every((t) => /_(critical|high) · /.test(t)), 'only high and critical items');
    assert.match(msg.text, /payment is the likely root cause/);

    // Someone in the channel clicks Confirm under the root cause: Slack posts the click, signed, to /hooks/slack.
    const rca = msg.blocks.findIndex((b) => b.type === 'section' && /\*payment is the likely root cause/.test(b.text!.text));
    const buttons = (msg.blocks[rca + 1] as unknown as { type: string; elements: { action_id: string; value: string }[] });
    assert.equal(buttons.type, 'actions');
    const confirm = buttons.elements.find((e) => e.action_id === 'tswarm-confirm')!;
    const findingId = confirm.value.split('|')[1]!;
    const click = (ts: number, secret = SIGNING): Promise<Response> => {
      const body = new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'U1', username: 'ada' }, actions: [{ action_id: confirm.action_id, value: confirm.value }], response_url: sink.url }) }).toString();
      const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
      return fetch(`${server.url}/hooks/slack`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig }, body });
    };
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await click(now, 'not the secret')).status, 401);
    assert.equal((await click(now - 600)).status, 401, 'a replayed click over 5 minutes old');
    const ok = await click(now);
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.match(((await ok.json()) as { text: string }).text, /^ada confirmed "payment is the likely root cause/);
    const verdicts = (await (await fetch(`${server.url}/api/findings/${encodeURIComponent(findingId)}`)).json()) as { verdicts: { verdict: string; by: string }[] };
    assert.deepEqual(verdicts.verdicts.map((v) => [v.verdict, v.by]), [['confirmed', 'slack:ada']]);
    // And the clicker is told, through the response_url Slack gave.
    for (let i = 0; i < 50 && sink.bodies.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(JSON.parse(sink.bodies[1]!.body).text as string, /^ada confirmed/);
    sink.bodies.length = 1;

    const second = await cycle();
    const skipped = await nextEvent(server.hub, TOLD, second);
    assert.equal(skipped.type, 'notify-skipped', JSON.stringify(skipped.data));
    assert.equal(sink.bodies.length, 1, 'the same incident is not announced again');
  } finally {
    await close();
    await sink.close();
  }
});

test('to PagerDuty: one Events v2 trigger per new high or critical item, each with its dedup key; the same incident next cycle sends nothing more', { timeout: 120_000 }, async () => {
  const sink = await receiver();
  const { server, cycle, close } = await seededServer({ url: sink.url, format: 'pagerduty', minSeverity: 'high', routingKey: 'a'.repeat(32) });
  try {
    const ev = await nextEvent(server.hub, TOLD, await cycle());
    assert.equal(ev.type, 'notified', JSON.stringify(ev.data));
    const events = sink.bodies.map((b) => JSON.parse(b.body) as { routing_key: string; event_action: string; dedup_key: string; payload: { summary: string; severity: string; source: string } });
    assert.equal((ev.data as { sent: number }).sent, events.length);
    assert.ok(events.length >= 1);
    assert.ok(events.every((e) => e.routing_key === 'a'.repeat(32) && e.event_action === 'trigger' && ['critical', 'error'].includes(e.payload.severity)), JSON.stringify(events.map((e) => e.payload)));
    assert.equal(new Set(events.map((e) => e.dedup_key)).size, events.length, 'one alert per item');
    assert.ok(events.some((e) => /^payment is the likely root cause/.test(e.payload.summary) && e.payload.source === 'payment'));
    // The same incident in the next cycle: its alerts stay open, nothing is sent (no new trigger, no resolve), even
    // for its new-error item, which the next report no longer has: payment's incident goes on.
    const again = await nextEvent(server.hub, TOLD, await cycle());
    assert.equal(again.type, 'notify-skipped', `sent: ${sink.bodies.slice(events.length).map((b) => b.body).join(' ')}`);
    assert.equal(sink.bodies.length, events.length);
  } finally {
    await close();
    await sink.close();
  }
});

test('a channel that fails is reported on the event stream and the server carries on; bad --notify options exit 2', { timeout: 120_000 }, async () => {
  // Nothing listens on this port: every attempt is refused (a real fault, made real).
  const { server, cycle, close } = await seededServer({ url: `http://127.0.0.1:${await freePort()}/hook`, format: 'json', minSeverity: 'high' });
  try {
    const ev = await nextEvent(server.hub, TOLD, await cycle());
    assert.equal(ev.type, 'notify-failed');
    assert.equal((ev.data as { attempts: number }).attempts, 5);
    assert.match((ev.data as { error: string }).error, /fetch failed|ECONNREFUSED/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  } finally {
    await close();
  }
  const dir = tempDir();
  for (const [args, msg] of [
    [['--notify', 'ftp://x'], /--notify needs an http\(s\) URL/],
    [['--notify', 'http://127.0.0.1:9/h', '--notify-format', 'teams'], /--notify-format must be one of json, slack, pagerduty/],
    [['--notify', 'https://events.pagerduty.com/v2/enqueue'], /needs the integration key in env TSWARM_PAGERDUTY_ROUTING_KEY/],
    [['--notify', 'http://127.0.0.1:9/h', '--notify-severity', 'urgent'], /--notify-severity: severity must be one of/],
  ] as const) {
    const c = await runCli(['serve', '--db', join(dir.path, 'x.db'), '--port', '0', ...args]);
    assert.equal(c.code, 2, c.stderr);
    assert.match(c.stderr, msg);
  }
  dir.cleanup();
});

test("Slack's request signature agrees with Slack's documented example and refuses stale or altered requests", async () => {
  const { verifySlackSignature } = await import('../src/interfaces/http/slack-interactions.js');
  // api.slack.com, "Verifying requests from Slack": this secret, timestamp and body give this signature.
  const body = Buffer.from('token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c');
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const sig = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  assert.ok(verifySlackSignature(secret, body, '1531420618', sig, 1531420618));
  assert.ok(!verifySlackSignature(secret, body, '1531420618', sig, 1531420618 + 301), 'over 5 minutes later');
  assert.ok(!verifySlackSignature(secret, Buffer.concat([body, Buffer.from('x')]), '1531420618', sig, 1531420618));
  assert.ok(!verifySlackSignature(secret, body, '1531420619', sig, 1531420618));
  assert.ok(!verifySlackSignature(secret, body, undefined, sig, 1531420618));
});
