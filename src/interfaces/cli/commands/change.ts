/**
 * `tswarm change add|import|list`: declared deploys, config changes and feature-flag flips (signals/change-event.ts), from
 * a CD pipeline's deploy step or a person. `--server` posts to a running `tswarm serve` (the memory is on that
 * host); otherwise the change goes into the local memory store.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { addDbOption, CliError, commandGroup, postToTswarm, printJson } from '../util.js';
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

/** A JSON array, or JSON lines (blank lines skipped), each item named by its place for error messages. */
function readChangesFile(file: string): { value: unknown; where: string }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 2);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      throw new CliError(`${file}: not valid JSON (${(e as Error).message}); nothing was recorded`, 2);
    }
    if (!Array.isArray(arr)) throw new CliError(`${file}: expected a JSON array of changes`, 2);
    return arr.map((value, i) => ({ value, where: `item ${i + 1}` }));
  }
  const out: { value: unknown; where: string }[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push({ value: JSON.parse(line), where: `line ${i + 1}` });
    } catch {
      throw new CliError(`${file} line ${i + 1}: not valid JSON${line.length > 80 ? '' : ` (${line.trim()})`}; nothing was recorded`, 2);
    }
  });
  if (!out.length) throw new CliError(`${file}: no changes in it`, 2);
  return out;
}

async function postToServer(server: string, token: string | undefined, change: Record<string, unknown> | unknown[]): Promise<unknown[]> {
  return ((await postToTswarm(server, '/api/changes', token, change)) as { changes?: unknown[] }).changes ?? [];
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
      const { describeChange } = await import('../../../signals/change-event.js');
      let recorded: import('../../../signals/change-event.js').ChangeEvent[];
      if (opts.server) {
        recorded = (await postToServer(opts.server, opts.token ?? process.env.TSWARM_TOKEN, input)) as typeof recorded;
      } else {
        const { changeRecord } = await import('../../../agents/feedback/memory-ops.js');
        const { SwarmInputError } = await import('../../../agents/feedback/swarm-api.js');
        const store = await openOrCreateStore(opts.db);
        try {
          recorded = (
            await changeRecord(store, input).catch((e: unknown) => {
              if (e instanceof SwarmInputError) throw new CliError(e.message, 2);
              throw e;
            })
          ).data.changes;
        } finally {
          await store.close();
        }
      }
      if (opts.json) return printJson(recorded);
      const c = recorded[0];
      process.stdout.write(`${c ? `recorded ${describeChange(c)} at ${new Date(c.atUs / 1000).toISOString()}` : 'recorded'}${opts.server ? ` (recorded on ${new URL(opts.server).origin})` : ''}\n`);
    });
  addDbOption(change.command('import <file>').description('declare many changes at once (a backfill): a JSON array or JSON lines of changes as POST /api/changes takes them'))
    .option('--server <url>', 'post to a running `tswarm serve` instead of the local store')
    .option('--token <token>', 'bearer token for --server (default: env TSWARM_TOKEN)')
    .action(async (file: string, opts: { db: string; server?: string; token?: string }) => {
      const items = readChangesFile(file);
      const { MAX_CHANGES_PER_REQUEST } = await import('../../../signals/change-event.js');
      let n = 0;
      if (opts.server) {
        // In requests of at most the API's limit; each is all or nothing, and a refusal says which ones landed.
        for (let i = 0; i < items.length; i += MAX_CHANGES_PER_REQUEST) {
          const part = items.slice(i, i + MAX_CHANGES_PER_REQUEST).map((x) => x.value);
          try {
            n += (await postToServer(opts.server, opts.token ?? process.env.TSWARM_TOKEN, part)).length;
          } catch (e) {
            throw new CliError(`${(e as Error).message}${i ? ` (the first ${i} changes were recorded)` : ''}`, e instanceof CliError ? e.exitCode : 1);
          }
        }
      } else {
        const { parseChange, ChangeInputError } = await import('../../../signals/change-event.js');
        const { recordChanges } = await import('../../../agents/declared-changes.js');
        // All checked before any is stored: a bad line leaves the store as it was.
        const nowUs = Date.now() * 1000;
        const changes = items.map(({ value, where }) => {
          try {
            return parseChange(value, nowUs, `${where}: `);
          } catch (e) {
            if (e instanceof ChangeInputError) throw new CliError(`${file} ${e.message} (nothing was recorded)`, 2);
            throw e;
          }
        });
        const store = await openOrCreateStore(opts.db);
        try {
          await recordChanges(store, changes);
        } finally {
          await store.close();
        }
        n = changes.length;
      }
      process.stdout.write(`recorded ${n} changes from ${file}\n`);
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
