/**
 * GitHub and GitLab webhooks posting to a running `tswarm serve`: GitHub's published example events signed the way
 * GitHub signs them (@octokit/webhooks-methods, Octokit's own signer), GitLab's with its secret-token header. A
 * bad signature, a missing secret, malformed JSON or an oversized body is refused and stores nothing; events
 * without a change are acknowledged (202) so the sender does not disable the hook.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { freePort, tempDir } from './helpers/env.js';
import { gitlabDeployment, gitlabFlag, ldFlagChange } from './helpers/change-hooks.js';

type Example = Record<string, unknown>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Example[] }[];
const githubExample = (name: string, state?: string): Example =>
  structuredClone(examples.find((e) => e.name === name)!.examples.find((e) => !state || (e.deployment_status as { state?: string }).state === state)!);

type ChangeRow = { kind: string; service: string; key: string; value: string; by?: string; url?: string; atUs: number };

test('GitHub, GitLab and LaunchDarkly webhooks record deploys and flag flips on a running server; unsigned, wrong or malformed hooks store nothing', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const secret = "It's a Secret to Everybody";
  const server = await runServer({ db: join(dir.path, 'm.db'), host: '127.0.0.1', port: await freePort(), token: 'tok', changeHookSecret: secret, bodyLimitBytes: 256 * 1024 });
  const list = async (): Promise<ChangeRow[]> => ((await (await fetch(`${server.url}/api/changes?days=36500`, { headers: { authorization: 'Bearer tok' } })).json()) as { changes: ChangeRow[] }).changes;
  const github = async (event: string, body: string, headers: Record<string, string> = {}, query = ''): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(`${server.url}/hooks/github${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-hub-signature-256': await sign(secret, body), ...headers },
      body,
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  try {
    const success = JSON.stringify(githubExample('deployment_status', 'success'));
    // Signed with another secret, or not at all: refused, nothing stored.
    assert.equal((await github('deployment_status', success, { 'x-hub-signature-256': await sign('guess', success) })).status, 401);
    const unsigned = await github('deployment_status', success, { 'x-hub-signature-256': '' });
    assert.equal(unsigned.status, 401);
    assert.match(String(unsigned.json.error), /X-Hub-Signature-256/);
    // The body GitHub signed, altered on the way: refused.
    assert.equal((await github('deployment_status', success.replace('Hello-World', 'Hello-Wurld'), { 'x-hub-signature-256': await sign(secret, success) })).status, 401);
    assert.deepEqual(await list(), []);

    const ok = await github('deployment_status', success, {}, '?environment=production');
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.equal(ok.json.recorded, 1);

    // GitHub's other content type: the JSON in a form's payload field, signed as sent.
    const e = githubExample('deployment_status', 'success');
    (e.deployment as Record<string, unknown>).payload = { service: 'checkout', version: 'v2.4.1' };
    (e.deployment_status as Record<string, unknown>).updated_at = '2026-12-01T09:00:00Z';
    const form = new URLSearchParams({ payload: JSON.stringify(e) }).toString();
    const formed = await github('deployment_status', form, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(formed.status, 201, JSON.stringify(formed.json));

    // Acknowledged, nothing recorded.
    const ignored: [string, string, string][] = [
      ['ping', JSON.stringify(githubExample('ping')), 'ping'],
      ['deployment_status', JSON.stringify(githubExample('deployment_status', 'in_progress')), 'in_progress'],
      ['push', '{}', 'carries no deploy'],
    ];
    for (const [event, body, why] of ignored) {
      const r = await github(event, body);
      assert.equal(r.status, 202, `${event}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.recorded, 0);
      assert.match(String(r.json.ignored), new RegExp(why));
    }
    assert.equal((await github('deployment_status', success, {}, '?environment=staging')).status, 202);

    // Refused with the reason.
    const refused: [string, Record<string, string>, number, RegExp][] = [
      ['{"deployment_status": ', {}, 400, /not valid JSON/],
      [JSON.stringify({ deployment_status: { state: 'success' } }), {}, 400, /deployment is missing/],
      ['payload=', { 'content-type': 'application/x-www-form-urlencoded' }, 400, /not valid JSON/],
      ['a=b', { 'content-type': 'application/x-www-form-urlencoded' }, 400, /"payload" field/],
      [JSON.stringify({ x: 'y'.repeat(300 * 1024) }), {}, 413, /limit/],
    ];
    for (const [body, headers, status, msg] of refused) {
      const r = await github('deployment_status', body, headers);
      assert.equal(r.status, status, JSON.stringify(r.json).slice(0, 300));
      assert.match(String(r.json.error ?? r.json.message), msg);
    }
    const noEvent = await fetch(`${server.url}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': await sign(secret, '{}') }, body: '{}' });
    assert.equal(noEvent.status, 400);
    assert.match(((await noEvent.json()) as { error: string }).error, /no x-github-event header/);

    // GitLab: the secret token as a header.
    const gitlab = async (event: string, body: unknown, token = secret): Promise<{ status: number; json: Record<string, unknown> }> => {
      const r = await fetch(`${server.url}/hooks/gitlab`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-token': token }, body: JSON.stringify(body) });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    };
    assert.equal((await gitlab('Deployment Hook', gitlabDeployment(), 'wrong')).status, 401);
    assert.equal((await gitlab('Deployment Hook', gitlabDeployment())).status, 201);
    assert.equal((await gitlab('Feature Flag Hook', gitlabFlag(true))).status, 201);
    assert.equal((await gitlab('Deployment Hook', gitlabDeployment({ status: 'failed' }))).status, 202);
    // A sender that can set headers may use the server's bearer token instead (Argo CD notifications, scripts).
    const bearer = await fetch(`${server.url}/hooks/gitlab?service=cart`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Deployment Hook', authorization: 'Bearer tok' }, body: JSON.stringify(gitlabDeployment({ short_sha: 'abcdef12' })) });
    assert.equal(bearer.status, 201);

    // LaunchDarkly: the body signed with the secret, hex, in X-LD-Signature.
    const ld = JSON.stringify(ldFlagChange('updateOn', true, 12));
    const ldPost = (sig: string): Promise<Response> => fetch(`${server.url}/hooks/launchdarkly`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-ld-signature': sig }, body: ld });
    assert.equal((await ldPost(createHmac('sha256', 'guess').update(ld).digest('hex'))).status, 401);
    const ldOk = await ldPost(createHmac('sha256', secret).update(ld).digest('hex'));
    assert.equal(ldOk.status, 201, await ldOk.clone().text());
    assert.equal(((await ldOk.json()) as { recorded: number }).recorded, 2);

    const rows = await list();
    const seen = rows.map((c) => `${c.kind} ${c.service} ${c.key}=${c.value} by ${c.by}`).sort();
    assert.deepEqual(seen, [
      'deploy Hello-World service.version=f95f852bd8fca8fcc58a9a2d6c842781e32a215e by Codertocat',
      'deploy cart service.version=abcdef12 by ada',
      'deploy checkout service.version=279484c0 by ada',
      'deploy checkout service.version=v2.4.1 by Codertocat',
      'flag checkout new-pricing=on by ada',
      'flag checkout new-pricing=on by ada@example.com',
      'flag pricing new-pricing=on by ada@example.com',
    ]);
    // Redelivery (GitHub's "Redeliver" button) files the same change once.
    assert.equal((await github('deployment_status', success)).status, 201);
    assert.equal((await list()).length, rows.length);
    // The receiver is still up.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  } finally {
    await server.close();
    dir.cleanup();
  }
});

test("the signature check agrees with GitHub's documented test vector", async () => {
  const { verifyGitHubSignature } = await import('../src/interfaces/http/change-hooks.js');
  // docs.github.com, "Validating webhook deliveries": this secret and payload give this signature.
  const vector = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  assert.ok(verifyGitHubSignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), vector));
  assert.ok(!verifyGitHubSignature("It's a Secret to Everybody", Buffer.from('Hello, World?'), vector));
  assert.ok(!verifyGitHubSignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), vector.replace('sha256=', 'sha1=')));
  assert.ok(!verifyGitHubSignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), undefined));
});

test('a server with a bearer token and no webhook secret keeps the hooks closed to unsigned senders, and says how to open them', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const server = await runServer({ db: join(dir.path, 'm.db'), host: '127.0.0.1', port: await freePort(), token: 'tok' });
  try {
    const body = JSON.stringify(githubExample('deployment_status', 'success'));
    const r = await fetch(`${server.url}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'deployment_status', 'x-hub-signature-256': await sign('any', body) }, body });
    assert.equal(r.status, 401);
    assert.match(((await r.json()) as { error: string }).error, /--change-hook-secret/);
    const withToken = await fetch(`${server.url}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'deployment_status', authorization: 'Bearer tok' }, body });
    assert.equal(withToken.status, 201);
  } finally {
    await server.close();
    dir.cleanup();
  }
});
