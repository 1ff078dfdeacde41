/**
 * `tswarm worker`: runs agent tasks from the BullMQ queue on Redis against a shared memory (PostgreSQL when
 * several processes share it). `--plugin` loads extra agents (a module exporting Agent instances or classes).
 */
import type { Command } from 'commander';
import { addDbOption, CliError } from '../util.js';

export function register(program: Command): void {
  addDbOption(program.command('worker').description('run agent tasks from the Redis queue (scale-out with PostgreSQL memory)'))
    .option('--redis <url>', 'Redis URL', process.env.TSWARM_REDIS ?? 'redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'tasks at once', '1')
    .option('--plugin <module...>', 'extra agent modules')
    .action(async (o: { db: string; redis: string; concurrency: string; plugin?: string[] }) => {
      const { startWorker } = await import('../../../fleet/distributed.js');
      const { loadAgent, agentFromModule } = await import('../../../agents/feedback/agent-registry.js');
      const { openStore } = await import('../../../store/open.js');
      const { pathToFileURL } = await import('node:url');
      const { resolve } = await import('node:path');
      const store = await openStore(o.db);
      const plugins: Record<string, unknown>[] = [];
      for (const p of o.plugin ?? []) {
        try {
          plugins.push((await import(pathToFileURL(resolve(p)).href)) as Record<string, unknown>);
        } catch (e) {
          throw new CliError(`cannot load plugin ${p}: ${(e as Error).message}`, 2);
        }
      }
      const w = startWorker({
        redisUrl: o.redis,
        store,
        concurrency: Number(o.concurrency),
        resolve: async (id) => {
          for (const m of plugins) {
            const a = agentFromModule(m, id);
            if (a) return a;
          }
          return (await loadAgent(id as never)).agent;
        },
        onJob: (e) => process.stderr.write(`${e.status} ${e.agentId} job ${e.id}${e.error ? `: ${e.error}` : ''}\n`),
      });
      await w.waitUntilReady();
      process.stderr.write(`worker ready (queue on ${o.redis}, memory ${o.db.replace(/\/\/[^@/]*@/, '//***@')})\n`);
      const stop = (): void => void w.close().then(() => store.close()).then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      await new Promise(() => undefined);
    });
}
