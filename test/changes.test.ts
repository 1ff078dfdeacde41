/**
 * Declared changes through every interface of a running `tswarm serve`: the HTTP API a CD pipeline posts to,
 * `tswarm change add --server` (what a deploy step runs), the MCP tool `change_record`, and the local
 * `tswarm change add|list --db`. Bad input is a 4xx or exit 2 with the field named, and stores nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, runCli, tempDir } from './helpers/env.js';

type ChangeRow = { kind: string; service: string; key: string; value: string; previous?: string; atUs: number; by?: string; url?: string };

test('a running server takes declared changes over HTTP, from `tswarm change add --server` and over MCP; bad ones are refused and store nothing', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const { runServer } = await import('../src/interfaces/http/serve.js');
  const server = await runServer({ db: join(dir.path, 'm.db'), host: '127.0.0.1', port: await freePort(), token: 'tok' });
  const auth = { authorization: 'Bearer tok', 'content-type': 'application/json' };
  const post = (body: string, headers: Record<string, string> = auth): Promise<Response> => fetch(`${server.url}/api/changes`, { method: 'POST', headers, body });
  const list = async (): Promise<ChangeRow[]> => ((await (await fetch(`${server.url}/api/changes`, { headers: auth })).json()) as { changes: ChangeRow[] }).changes;
  try {
    assert.equal((await post(JSON.stringify({ service: 'checkout', version: 'v1' }), { 'content-type': 'application/json' })).status, 401);

    const ok = await post(JSON.stringify({ service: 'checkout', version: 'v2.4.1', at: '2026-12-01T10:00:00Z', by: 'github-actions', url: 'https://ci.example/runs/7' }));
    assert.equal(ok.status, 201);
    assert.equal(((await ok.json()) as { recorded: number }).recorded, 1);

    const refused: [string, Record<string, string> | undefined, number, RegExp][] = [
      ['{"service": "checkout", "version": ', undefined, 400, /JSON/i],
      ['service=checkout&version=v3', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 415, /content-type|media type/i],
      [JSON.stringify({ service: 'checkout' }), undefined, 400, /a deploy needs the version/],
      [JSON.stringify({ service: 'checkout', version: 'v3', at: 1_796_000_000 }), undefined, 400, /seconds given\?/],
      // All or nothing: the good first change of a list with a bad second one is not stored either.
      [JSON.stringify([{ service: 'cart', version: 'v9' }, { service: 'cart', kind: 'flag', key: 'x' }]), undefined, 400, /\[1\] a flag change needs key and value/],
      ['"v3"', undefined, 400, /body must be JSON: a change/],
    ];
    for (const [body, headers, status, msg] of refused) {
      const r = await post(body, headers);
      const text = await r.text();
      assert.equal(r.status, status, `${body}: ${text}`);
      // The API's own refusals say {error}; the server's body parser says {message}.
      const error = JSON.parse(text) as { error?: string; message?: string };
      assert.match([error.error, error.message].filter(Boolean).join(': '), msg, text);
    }

    // The deploy step of a pipeline.
    const cli = await runCli(['change', 'add', '--server', server.url, '--token', 'tok', '--service', 'pricing', '--flag', 'new-pricing=on', '--previous', 'off', '--by', 'flagd']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^recorded flag pricing new-pricing: off → on at \S+ \(recorded on http:\/\/127\.0\.0\.1:\d+\)\n$/);
    const wrongToken = await runCli(['change', 'add', '--server', server.url, '--token', 'nope', '--service', 'pricing', '--deploy', 'v2']);
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.stderr, /refused the token/);
    const badAtServer = await runCli(['change', 'add', '--server', server.url, '--token', 'tok', '--service', 'pricing', '--deploy', 'v2', '--url', 'ftp://x']);
    assert.equal(badAtServer.code, 2);
    assert.match(badAtServer.stderr, /answered 400: url: must be an http\(s\) URL/);

    const backfill = join(dir.path, 'backfill.json');
    writeFileSync(backfill, JSON.stringify([{ service: 'search', version: '2.0.0', at: '2026-11-29T08:00:00Z' }, { service: 'search', version: '2.0.1', at: '2026-11-29T09:00:00Z' }]));
    const imp = await runCli(['change', 'import', backfill, '--server', server.url, '--token', 'tok']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(imp.stdout, `recorded 2 changes from ${backfill}\n`);

    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: 'Bearer tok' } } }));
    try {
      const r = (await client.callTool({ name: 'change_record', arguments: { service: 'cart', kind: 'config', key: 'cache.ttl', value: 5, previous: 30 } })) as { isError?: boolean; content: { text?: string }[] };
      assert.ok(!r.isError, JSON.stringify(r));
      assert.match(r.content[0]!.text!, /^recorded config cart cache\.ttl: 30 → 5 at /);
      const bad = (await client.callTool({ name: 'change_record', arguments: { service: 'cart', kind: 'flag' } })) as { isError?: boolean; content: { text?: string }[] };
      assert.equal(bad.isError, true);
      assert.match(bad.content[0]!.text!, /a flag change needs key and value/);
      const q = (await client.callTool({ name: 'knowledge_query', arguments: { query: 'changes', node: 'cart' } })) as { content: { text?: string }[] };
      assert.match(q.content[0]!.text!, /config cart cache\.ttl: 30 → 5 by mcp/);
    } finally {
      await client.close();
    }

    const rows = await list();
    // Newest first; the refused ones are nowhere, the MCP one says who sent it.
    assert.deepEqual(rows.map((c) => [c.kind, c.service, c.key, c.value, c.by]), [
      ['config', 'cart', 'cache.ttl', '5', 'mcp'],
      ['flag', 'pricing', 'new-pricing', 'on', 'flagd'],
      ['deploy', 'checkout', 'service.version', 'v2.4.1', 'github-actions'],
      ['deploy', 'search', 'service.version', '2.0.1', undefined],
      ['deploy', 'search', 'service.version', '2.0.0', undefined],
    ]);
    assert.equal(rows[2]!.atUs, Date.UTC(2026, 11, 1, 10) * 1000);
    assert.equal(rows[2]!.url, 'https://ci.example/runs/7');
    // A retried report is the same change, not a second one.
    assert.equal((await post(JSON.stringify({ service: 'checkout', version: 'v2.4.1', at: '2026-12-01T10:00:00Z', by: 'github-actions' }))).status, 201);
    assert.equal((await list()).length, 5);
  } finally {
    await server.close();
    dir.cleanup();
  }
  const down = await runCli(['change', 'add', '--server', server.url, '--service', 'pricing', '--deploy', 'v2']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+/);
});

test('`tswarm change add|import|list --db` keep declared changes in the local memory store; a bad import file stores none of its changes', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, 'm.db');
    const add = await runCli(['change', 'add', '--db', db, '--service', 'search', '--deploy', '2.1.0', '--at', '2026-12-01T09:00:00Z', '--by', 'ci']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'recorded deploy search 2.1.0 at 2026-12-01T09:00:00.000Z\n');
    const two = await runCli(['change', 'add', '--db', db, '--service', 'search', '--deploy', '2.1.0', '--flag', 'a=b']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /exactly one of --deploy/);
    const noValue = await runCli(['change', 'add', '--db', db, '--service', 'search', '--config', 'cache.ttl']);
    assert.equal(noValue.code, 2);
    assert.match(noValue.stderr, /--config takes key=value/);
    const ls = await runCli(['change', 'list', '--db', db, '--days', '3650', '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual((JSON.parse(ls.stdout) as ChangeRow[]).map((c) => [c.service, c.value, c.by]), [['search', '2.1.0', 'ci']]);
    // A backfill: JSON lines (or a JSON array), all checked before any is stored.
    const lines = join(dir.path, 'changes.jsonl');
    writeFileSync(lines, [JSON.stringify({ service: 'cart', version: '1.2.0', at: '2026-11-30T08:00:00Z' }), '', JSON.stringify({ service: 'cart', kind: 'flag', key: 'fast-cart', value: 'on', at: '2026-11-30T09:00:00Z' })].join('\n'));
    const imported = await runCli(['change', 'import', lines, '--db', db]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, `recorded 2 changes from ${lines}\n`);
    const count = async (): Promise<number> => (JSON.parse((await runCli(['change', 'list', '--db', db, '--days', '3650', '--json'])).stdout) as unknown[]).length;
    assert.equal(await count(), 3);
    const broken = join(dir.path, 'broken.jsonl');
    writeFileSync(broken, [JSON.stringify({ service: 'cart', version: '1.3.0' }), '{"service": "cart", "vers'].join('\n'));
    const b1 = await runCli(['change', 'import', broken, '--db', db]);
    assert.equal(b1.code, 2);
    assert.match(b1.stderr, /broken\.jsonl line 2: not valid JSON .*nothing was recorded/);
    writeFileSync(broken, JSON.stringify([{ service: 'cart', version: '1.3.0' }, { service: 'cart', kind: 'config', key: 'ttl' }]));
    const b2 = await runCli(['change', 'import', broken, '--db', db]);
    assert.equal(b2.code, 2);
    assert.match(b2.stderr, /broken\.jsonl item 2: a config change needs key and value \(nothing was recorded\)/);
    assert.equal(await count(), 3, 'nothing of a bad file was stored');
    const missing = await runCli(['change', 'import', join(dir.path, 'none.jsonl'), '--db', db]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*none\.jsonl: no such file/);
    const none = await runCli(['change', 'list', '--db', join(dir.path, 'nope.db')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no memory store at/);
  } finally {
    dir.cleanup();
  }
});
