/**
 * `tswarm maintenance add|list|end`: planned work the analysis should expect (signals/maintenance-window.ts). `--server`
 * posts to a running `tswarm serve`; otherwise the window goes into the local memory store.
 */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, getFromTswarm, postToTswarm, printJson } from '../util.js';
import { openExistingStore, openOrCreateStore } from '../store-access.js';
import type { MaintenanceWindow } from '../../../signals/maintenance-window.js';

interface AddOptions {
  db: string;
  reason: string;
  service?: string;
  from: string;
  for?: string;
  to?: string;
  by?: string;
  url?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

/** Digits only: epoch milliseconds, as the API takes them. */
const timeArg = (t: string | undefined): string | number | undefined => (t === undefined ? undefined : /^\d+$/.test(t) ? Number(t) : t);

async function local<T>(db: string, create: boolean, run: (store: import('../../../store/store.js').MemoryStore) => Promise<T>): Promise<T> {
  const { SwarmInputError } = await import('../../../agents/feedback/swarm-api.js');
  const store = create ? await openOrCreateStore(db) : await openExistingStore(db);
  try {
    return await run(store).catch((e: unknown) => {
      if (e instanceof SwarmInputError) throw new CliError(e.message, 2);
      throw e;
    });
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  const m = commandGroup(program, 'maintenance', 'planned work (a migration, a failover drill): its stretch is left out of the analysis, like the swarm\'s own experiments');
  addDbOption(m.command('add').description('declare a maintenance window: --reason, and --for 2h or --to <time>'))
    .requiredOption('--reason <text>', 'what the work is')
    .option('--service <name>', 'the service worked on (the whole stretch is left out: its callers feel it too)')
    .option('--from <time>', 'start: ISO 8601 time, epoch milliseconds or "now"', 'now')
    .option('--for <duration>', 'how long, e.g. 30m, 2h (at most a week)')
    .option('--to <time>', 'end: ISO 8601 time or epoch milliseconds')
    .option('--by <who>', 'who declares it (default: env USER)')
    .option('--url <url>', 'link to the change ticket or runbook')
    .option('--server <url>', 'post to a running `tswarm serve` (e.g. http://127.0.0.1:4318) instead of the local store')
    .option('--token <token>', 'bearer token for --server (default: env TSWARM_TOKEN)')
    .option('--json', 'print JSON')
    .action(async (opts: AddOptions) => {
      if ((opts.for === undefined) === (opts.to === undefined)) throw new CliError('give how long: --for <duration> (e.g. 2h) or --to <time>', 2);
      const input = {
        reason: opts.reason,
        ...(opts.service !== undefined ? { service: opts.service } : {}),
        from: timeArg(opts.from),
        ...(opts.for !== undefined ? { duration: opts.for } : {}),
        ...(opts.to !== undefined ? { to: timeArg(opts.to) } : {}),
        ...((opts.by ?? process.env.USER) ? { by: opts.by ?? process.env.USER } : {}),
        ...(opts.url !== undefined ? { url: opts.url } : {}),
      };
      const { coversPhrase, maintenanceLine, maintenanceRecord } = await import('../../../agents/feedback/maintenance-ops.js');
      const { window: w, covers } = opts.server
        ? ((await postToTswarm(opts.server, '/api/maintenance', opts.token ?? process.env.TSWARM_TOKEN, input)) as { window: MaintenanceWindow; covers: string[] | 'all' })
        : await local(opts.db, true, async (store) => (await maintenanceRecord(store, input)).data);
      if (opts.json) return printJson(w);
      process.stdout.write(`declared ${maintenanceLine(w)}${opts.server ? ` on ${new URL(opts.server).origin}` : ''}; left out: ${coversPhrase(w.service, covers)}\n`);
    });
  addDbOption(m.command('list').description('maintenance windows of the last days, current and planned ones, newest first'))
    .option('--days <n>', 'how far back', '7')
    .option('--server <url>', 'ask a running `tswarm serve` instead of the local store')
    .option('--token <token>', 'bearer token for --server (default: env TSWARM_TOKEN)')
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; days: string; server?: string; token?: string; json?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days <= 0) throw new CliError(`--days must be a positive number (got "${opts.days}")`, 2);
      const { maintenanceList, maintenanceSummary } = await import('../../../agents/feedback/maintenance-ops.js');
      const windows = opts.server
        ? ((await getFromTswarm(opts.server, `/api/maintenance?days=${days}`, opts.token ?? process.env.TSWARM_TOKEN)) as { windows: MaintenanceWindow[] }).windows
        : (await local(opts.db, false, (store) => maintenanceList(store, { days }))).data.windows;
      if (opts.json) return printJson(windows);
      process.stdout.write(`${maintenanceSummary(windows, days)}\n`);
    });
  addDbOption(m.command('end <id>').description('end a maintenance window now (one not begun yet is cancelled)'))
    .option('--server <url>', 'end it on a running `tswarm serve` instead of the local store')
    .option('--token <token>', 'bearer token for --server (default: env TSWARM_TOKEN)')
    .action(async (id: string, opts: { db: string; server?: string; token?: string }) => {
      const { maintenanceEnd, maintenanceLine } = await import('../../../agents/feedback/maintenance-ops.js');
      if (opts.server) {
        const w = ((await postToTswarm(opts.server, `/api/maintenance/${encodeURIComponent(id)}/end`, opts.token ?? process.env.TSWARM_TOKEN, undefined)) as { window: MaintenanceWindow }).window;
        process.stdout.write(`${maintenanceLine(w)}\n`);
        return;
      }
      process.stdout.write(`${(await local(opts.db, false, (store) => maintenanceEnd(store, id))).summary}\n`);
    });
}
