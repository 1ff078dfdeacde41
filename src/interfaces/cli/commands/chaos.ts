/** `tswarm chaos proxy` (the fault-injection proxy + Toxiproxy-compatible API) and `tswarm chaos run <experiment>`. */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, parseDurationMs, printJson } from '../util.js';

export function register(program: Command): void {
  const chaos = commandGroup(program, 'chaos', 'chaos engineering: fault-injection proxy and experiments');
  registerSuite(program);
  chaos
    .command('proxy')
    .description('serve the fault-injection proxy with a Toxiproxy-compatible API')
    .option('--api-port <port>', 'control API port', '8474')
    .option('--host <host>', 'control API address', '127.0.0.1')
    .option('--allow <hosts>', 'comma-separated upstream hosts allowed (default: loopback)', 'loopback')
    .option('--max-toxic <duration>', 'no toxic lives longer than this', '10m')
    .action(async (o: { apiPort: string; host: string; allow: string; maxToxic: string }) => {
      const { startChaosApi } = await import('../../../chaos/api.js');
      const api = await startChaosApi({ port: Number(o.apiPort), host: o.host, allow: o.allow.split(','), maxToxicMs: parseDurationMs(o.maxToxic) });
      process.stderr.write(`chaos proxy API on ${api.url} (Toxiproxy-compatible); upstreams allowed: ${o.allow}; toxics expire after ${o.maxToxic}\n`);
      const stop = (): void => void api.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      await new Promise(() => undefined);
    });
  addDbOption(chaos.command('run <experiment>').description('run a chaos experiment file (Chaos Toolkit JSON/YAML); --dry-run prints the plan'))
    .option('--dry-run', 'validate and print the plan and blast radius; inject nothing')
    .option('--journal <file>', 'write the journal here (default: journal.json)', 'journal.json')
    .option('--allow <hosts>', 'comma-separated hosts the experiment may touch (default: loopback)', 'loopback')
    .option('--json', 'print the journal as JSON')
    .action(async (file: string, o: { db: string; dryRun?: boolean; journal: string; allow: string; json?: boolean }) => {
      const { readFileSync, writeFileSync, existsSync } = await import('node:fs');
      const YAML = await import('yaml');
      const { runExperiment, ExperimentError } = await import('../../../chaos/experiment.js');
      if (!existsSync(file)) throw new CliError(`${file}: no such file`, 2);
      let exp: unknown;
      try {
        const text = readFileSync(file, 'utf8');
        exp = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
      } catch (e) {
        throw new CliError(`${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(e as Error).message})`, 2);
      }
      const { openStore } = await import('../../../store/open.js');
      const store = o.dryRun ? undefined : await openStore(o.db);
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        const journal = await runExperiment(exp, { store, dryRun: o.dryRun, signal: ac.signal, allow: o.allow.split(','), onEvent: (m) => process.stderr.write(`· ${m}\n`) });
        if (store && !o.dryRun) {
          const { JOURNAL_KIND, journalId, findingsFromJournal } = await import('../../../agents/analysis/chaos-engineer.js');
          await store.patterns.put(JOURNAL_KIND, journalId(journal), journal);
          const f = findingsFromJournal(journal, 'qe-chaos-engineer', Date.now() * 1000);
          await store.findings.upsert(f, `chaos-${journalId(journal)}`);
          for (const x of f) process.stderr.write(`${x.kind === 'resilience-gap' ? 'GAP' : 'ok '}  ${x.title}\n`);
        }
        writeFileSync(o.journal, JSON.stringify(journal, null, 2));
        if (o.json) printJson(journal);
        else if (o.dryRun) process.stdout.write(`dry run of "${journal.experiment.title}": nothing injected\nblast radius:\n${journal.blast_radius.map((b) => `  - ${b}`).join('\n')}\n`);
        else process.stdout.write(`${journal.status}${journal.deviated ? ' (deviated: the hypothesis did not hold)' : ''}; journal in ${o.journal}\n`);
        if (journal.status === 'interrupted') process.exitCode = 130;
      } catch (e) {
        if (e instanceof ExperimentError) throw new CliError(e.message, 2);
        throw e;
      } finally {
        await store?.close();
      }
    });
}

export function registerSuite(program: Command): void {
  const chaos = commandGroup(program, 'chaos', 'chaos engineering: fault-injection proxy and experiments');
  addDbOption(chaos.command('suite').description('run the ready experiment suite against the testbed shop (latency, outage, errors, slow network) and report resilience gaps'))
    .option('--only <text>', 'run only experiments whose title contains this')
    .action(async (o: { db: string; only?: string }) => {
      const { startShopWithProxies, runSuite } = await import('../../../chaos/run-suite.js');
      const { JOURNAL_KIND, journalId, findingsFromJournal } = await import('../../../agents/analysis/chaos-engineer.js');
      const { openStore } = await import('../../../store/open.js');
      const store = await openStore(o.db);
      process.stderr.write('starting the shop with chaos proxies in front of payment, email, currency and catalog…\n');
      const shop = await startShopWithProxies();
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        const r = await runSuite(shop, { store, only: o.only ? [o.only] : undefined, signal: ac.signal, onEvent: (m) => process.stderr.write(`· ${m}\n`) });
        for (const j of r.journals) {
          await store.patterns.put(JOURNAL_KIND, journalId(j), j);
          const f = findingsFromJournal(j, 'qe-chaos-engineer', Date.now() * 1000);
          await store.findings.upsert(f, `chaos-${journalId(j)}`);
          for (const x of f) process.stdout.write(`${x.kind === 'resilience-gap' ? 'GAP' : 'ok '}  ${x.title}\n`);
        }
      } finally {
        await shop.stop();
        await store.close();
      }
    });
}
