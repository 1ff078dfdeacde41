/**
 * `tswarm verdict <finding-id> confirmed|rejected [--cause <service>]`: a person's outcome verdict on a finding, and
 * `tswarm learn accuracy|learnings|transfers`: what the learning store knows from them.
 */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, printJson } from '../util.js';
import { openExistingStore } from '../store-access.js';

export function register(program: Command): void {
  addDbOption(program.command('verdict <finding-id> <verdict>').description('confirm or reject a finding (feeds the learning store, agent accuracy and the RCA ranking)'))
    .option('--cause <service>', 'root-cause findings: the service that really was the cause (with "rejected" when the top candidate was wrong)')
    .option('--reason <text>', 'why')
    .option('--by <who>', 'who decided', process.env.USER ?? 'cli')
    .action(async (findingId: string, verdict: string, opts: { db: string; cause?: string; reason?: string; by: string }) => {
      if (verdict !== 'confirmed' && verdict !== 'rejected') throw new CliError(`verdict must be "confirmed" or "rejected", not "${verdict}"`, 2);
      const { recordHumanVerdict } = await import('../../../agents/feedback/memory-ops.js');
      const { SwarmInputError } = await import('../../../agents/feedback/swarm-api.js');
      const store = await openExistingStore(opts.db);
      try {
        const r = await recordHumanVerdict(store, { findingId, verdict, ...(opts.cause !== undefined ? { cause: opts.cause } : {}), ...(opts.reason !== undefined ? { reason: opts.reason } : {}), by: opts.by }, 'cli').catch((e: unknown) => {
          if (e instanceof SwarmInputError) throw new CliError(e.message.startsWith('no finding') ? `${e.message} in ${opts.db} (see \`tswarm findings\` or the report for ids)` : e.message, 2);
          throw e;
        });
        process.stdout.write(`${verdict}: ${r.finding.title} (${r.finding.agentId})${opts.cause ? `; cause: ${opts.cause}` : ''}${r.learned ? '; the RCA ranking learned from it' : ''}\n`);
      } finally {
        await store.close();
      }
    });

  const learn = commandGroup(program, 'learn', 'the learning store: agent accuracy from verdicts, durable learnings, transfers');
  addDbOption(learn.command('accuracy').description('measured precision per agent and finding kind, from outcome verdicts'))
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; json?: boolean }) => {
      const { agentAccuracy } = await import('../../../agents/learning/accuracy-report.js');
      const store = await openExistingStore(opts.db);
      try {
        const rows = await agentAccuracy(store);
        if (opts.json) return printJson(rows);
        if (!rows.length) return void process.stdout.write('no verdicts yet (tswarm verdict <finding-id> confirmed|rejected)\n');
        for (const r of rows) {
          process.stdout.write(`${r.agentId.padEnd(26)} ${r.kind.padEnd(22)} ${String(r.confirmed).padStart(4)} ✓ ${String(r.rejected).padStart(4)} ✗  precision ${(100 * r.precision).toFixed(0)}% [${(100 * r.low).toFixed(0)}–${(100 * r.high).toFixed(0)}%]\n`);
        }
      } finally {
        await store.close();
      }
    });
  addDbOption(learn.command('learnings').description('durable learnings synthesised from findings, strongest first'))
    .option('--all', 'include retired learnings')
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; json?: boolean; all?: boolean }) => {
      const { LEARNING_KIND } = await import('../../../agents/learning/learning-coordinator.js');
      const store = await openExistingStore(opts.db);
      try {
        const rows = (await store.patterns.list<import('../../../algorithms/learning/synthesis.js').Learning>(LEARNING_KIND, { limit: 10_000 }))
          .map((r) => r.value)
          .filter((l) => opts.all || !l.retired)
          .sort((a, b) => b.strength - a.strength);
        if (opts.json) return printJson(rows);
        for (const l of rows) process.stdout.write(`${l.strength.toFixed(2)}  ${l.retired ? '(retired) ' : ''}${l.statement}\n`);
        if (!rows.length) process.stdout.write('no learnings yet (run `tswarm analyze`)\n');
      } finally {
        await store.close();
      }
    });
  addDbOption(learn.command('transfers').description('knowledge transferred between services, and which transfers proved right'))
    .option('--json', 'print JSON')
    .action(async (opts: { db: string; json?: boolean }) => {
      const store = await openExistingStore(opts.db);
      try {
        const rows = await store.learning.transfers();
        if (opts.json) return printJson(rows);
        for (const t of rows) process.stdout.write(`${t.kind.padEnd(20)} ${t.fromSubject} → ${t.toSubject}  ${t.outcome ?? 'pending'}\n`);
        if (!rows.length) process.stdout.write('no transfers yet\n');
      } finally {
        await store.close();
      }
    });
}
