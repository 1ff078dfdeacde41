/** `tswarm ingest <path...>`: log files, OTLP/JSON files, Sentry-style error events and folders into memory. */
import type { Command } from 'commander';
import { addDbOption, CliError, progressBar } from '../util.js';
import { openOrCreateStore } from '../store-access.js';

export function register(program: Command): void {
  addDbOption(program.command('ingest <paths...>').description('read telemetry files into memory: OTLP/JSON lines, plain or JSON log files, Sentry-style error events, folders'))
    .option('--service <name>', 'service name for logs that do not carry one (default: from the file name)')
    .action(async (paths: string[], opts: { db: string; service?: string }) => {
      const { ingestPaths, IngestError } = await import('../../../signals/sources/file/ingest.js');
      const store = await openOrCreateStore(opts.db);
      const bar = progressBar();
      let started = false;
      try {
        const t = await ingestPaths(paths, store, {
          service: opts.service,
          onProgress: (done, total, file) => {
            if (!started) {
              bar.start(total, file);
              started = true;
            }
            bar.update(done, file);
          },
        });
        bar.stop();
        for (const w of t.warnings) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(`ingested ${t.files} file(s): ${t.spans} spans, ${t.metrics} metric points, ${t.logs} logs, ${t.errors} errors${t.rejected ? `; ${t.rejected} items rejected` : ''} into ${opts.db}\n`);
      } catch (e) {
        bar.stop();
        if (e instanceof IngestError) throw new CliError(`${e.message}\n(data from earlier files stays ingested)`, 1);
        throw e;
      } finally {
        await store.close();
      }
    });
}
