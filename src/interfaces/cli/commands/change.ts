/**
 * `tswarm change add|list`: declared deploys, config changes and feature-flag flips (signals/change-event.ts), from
 * a CD pipeline's deploy step or a person. `--server` posts to a running `tswarm serve` (the memory is on that
 * host); otherwise the change goes into the local memory store.
 */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, printJson } from '../util.js';
import { openExistingStore, openOrCreateStore } from '../store-access.js';

interface AddOptions {
  db: string;
  service: string;
  deploy?: string;
  config?: string;
  flag?: string;
  previous?: string;
  at?: string;
  by?: string;
  url?: string;
  description?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

/** `key=value` of --config / --flag. */
function keyValue(option: string, text: string): { key: string; value: string } {
  const i = text.indexOf('=');
  if (i <= 0 || i === text.length - 1) throw new CliError(`${option} takes key=value (got "${text}")`, 2);
  return { key: text.slice(0, i), value: text.slice(i + 1) };
}

/** The change as the interfaces take it: kind and fields from the options, the time as given. */
function changeOf(opts: AddOptions): Record<string, unknown> {
  const given = [opts.deploy !== undefined, opts.config !== undefined, opts.flag !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CliError('give exactly one of --deploy <version>, --config key=value or --flag name=value', 2);
  const what = opts.deploy !== undefined ? { kind: 'deploy', version: opts.deploy } : opts.config !== undefined ? { kind: 'config', ...keyValue('--config', opts.config) } : { kind: 'flag', ...keyValue('--flag', opts.flag!) };
  // Digits only: epoch milliseconds, as the API takes them.
  const at = opts.at === undefined ? undefined : /^\d+$/.test(opts.at) ? Number(opts.at) : opts.at;
  return {
    service: opts.service,
    ...what,
    ...(opts.previous !== undefined ? { previous: opts.previous } : {}),
    ...(at !== undefined ? { at } : {}),
    ...(opts.by !== undefined ? { by: opts.by } : {}),
    ...(opts.url !== undefined ? { url: opts.url } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  };
}

async function postToServer(server: string, token: string | undefined, change: Record<string, unknown>): Promise<unknown[]> {
  let url: URL;
  try {
    url = new URL('/api/changes', server);
  } catch {
    throw new CliError(`--server must be a URL such as http://127.0.0.1:4318 (got "${server}")`, 2);
  }
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(change), signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new CliError(`cannot reach ${url.origin}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, 1);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; changes?: unknown[] };
  if (res.status === 401) throw new CliError(`${url.origin} refused the token (pass --token or set TSWARM_TOKEN)`, 1);
  if (!res.ok) throw new CliError(`${url.origin} answered ${res.status}: ${body.error ?? 'no reason given'}`, res.status === 400 ? 2 : 1);
  return body.changes ?? [];
}

export function register(program: Command): void {
  const change = commandGroup(program, 'change', 'declared deploys, config changes and feature-flag flips: what regressions and incidents are tied to');
  addDbOption(change.command('add').description('declare a deploy (--deploy <version>), a config change (--config key=value) or a flag flip (--flag name=value)'))
    .requiredOption('--service <name>', 'the service that changed')
    // Not --version: that is the program's own option.
    .option('--deploy <version>', 'a deploy: the version rolled out')
    .option('--config <key=value>', 'a config change')
    .option('--flag <name=value>', 'a feature-flag flip')
    .option('--previous <value>', 'the value it replaced')
    .option('--at <time>', 'when: ISO 8601 time, epoch milliseconds or "now"', 'now')
    .option('--by <who>', 'who or what made it (default: env USER or CI job)')
    .option('--url <url>', 'link to the pipeline run, pull request or flag audit entry')
    .option('--description <text>', 'what it was')
    .option('--server <url>', 'post to a running `tswarm serve` (e.g. http://127.0.0.1:4318) instead of the local store')
    .option('--token <token>', 'bearer token for --server (default: env TSWARM_TOKEN)')
    .option('--json', 'print JSON')
    .action(async (opts: AddOptions) => {
      const input = changeOf({ ...opts, by: opts.by ?? process.env.GITHUB_ACTOR ?? process.env.GITLAB_USER_LOGIN ?? process.env.USER });
      let recorded: unknown[];
      let summary: string;
      if (opts.server) {
        recorded = await postToServer(opts.server, opts.token ?? process.env.TSWARM_TOKEN, input);
        summary = `recorded on ${new URL(opts.server).origin}`;
      } else {
        const { changeRecord } = await import('../../../agents/feedback/memory-ops.js');
        const { SwarmInputError } = await import('../../../agents/feedback/swarm-api.js');
        const store = await openOrCreateStore(opts.db);
        try {
          const r = await changeRecord(store, input).catch((e: unknown) => {
            if (e instanceof SwarmInputError) throw new CliError(e.message, 2);
            throw e;
          });
          recorded = r.data.changes;
          summary = r.summary;
        } finally {
          await store.close();
        }
      }
      if (opts.json) return printJson(recorded);
      if (opts.server) {
        const { describeChange } = await import('../../../signals/change-event.js');
        const c = recorded[0] as Parameters<typeof describeChange>[0] & { atUs: number };
        summary = `${c ? `recorded ${describeChange(c)} at ${new Date(c.atUs / 1000).toISOString()}` : 'recorded'} (${summary})`;
      }
      process.stdout.write(`${summary}\n`);
    });
  addDbOption(change.command('list').description('declared changes, newest first'))
    .option('--service <name>', 'one service')
    .option('--days <n>', 'how far back', '7')
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; service?: string; days: string; json?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days <= 0) throw new CliError(`--days must be a positive number (got "${opts.days}")`, 2);
      const { changeList } = await import('../../../agents/feedback/memory-ops.js');
      const store = await openExistingStore(opts.db);
      try {
        const r = await changeList(store, { ...(opts.service ? { service: opts.service } : {}), days });
        if (opts.json) return printJson(r.data.changes);
        process.stdout.write(`${r.summary}\n`);
      } finally {
        await store.close();
      }
    });
}
