/**
 * `tswarm demo`: the whole product in under three minutes, offline. Starts the testbed shop (with chaos proxies
 * in front of some services) exporting to our own OTLP receiver, drives traffic, runs a chaos experiment and a
 * short load test, injects a surprise fault, runs the swarm, writes the report and cleans up.
 */
import type { Command } from 'commander';
import { CliError } from '../util.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FAULTS = [
  { service: 'payment', fault: 'exception', params: { rate: 0.6 }, says: 'payment throws on some charges' },
  { service: 'catalog', fault: 'slowquery', params: { ms: 400 }, says: 'catalog queries got slow' },
  { service: 'shipping', fault: 'error', params: { rate: 0.5 }, says: 'shipping answers 500 to half the quotes' },
  { service: 'currency', fault: 'cpu', params: { duty: 0.8 }, says: 'currency burns CPU' },
  { service: 'recommendation', fault: 'flag', params: { rate: 0.4, ms: 400 }, says: 'recommendation rolled its flag out to 40% of requests, on a slow code path' },
] as const;

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole swarm against the built-in testbed shop: traffic, chaos, load, a surprise fault, analysis, report (~75 s)')
    .option('--out <dir>', 'where the memory and the report go', './tswarm-demo')
    .option('--seed <n>', 'which surprise fault (reproducible)', String(Math.floor(Date.now() / 1000) % 1000))
    .option('--normal <duration>', 'normal traffic before anything happens', '20s')
    .option('--after <duration>', 'how long the surprise fault runs before the analysis', '25s')
    .action(async (o: { out: string; seed: string; normal: string; after: string }) => {
      const { rmSync, mkdirSync } = await import('node:fs');
      const { join, resolve } = await import('node:path');
      const { parseDurationMs } = await import('../util.js');
      const { openStore } = await import('../../../store/open.js');
      const { startReceiver } = await import('../../../signals/otlp/server.js');
      const { startShopWithProxies, runSuite } = await import('../../../chaos/run-suite.js');
      const { JOURNAL_KIND, journalId } = await import('../../../agents/analysis/chaos-engineer.js');
      const { capacityTest } = await import('../../../load/capacity.js');
      const { LOAD_RUN_KIND } = await import('../../../agents/analysis/load-tester.js');
      const { createSwarm } = await import('../../../agents/feedback/fleet-commander.js');
      const { collectFigures } = await import('../../../feedback/collect-figures.js');
      const { writeReports } = await import('../../../feedback/write-reports.js');
      const t0 = Date.now();
      const step = (n: number, msg: string): void => void process.stderr.write(`[${n}/7 ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);
      const out = resolve(o.out);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const store = await openStore(join(out, 'memory.db'));
      const receiver = await startReceiver({ port: 0, store });
      let shop: Awaited<ReturnType<typeof startShopWithProxies>> | undefined;
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const sleep = (ms: number): Promise<void> => new Promise((r) => { const t = setTimeout(r, ms); ac.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); });
      try {
        step(1, `starting the testbed shop (9 services, OpenTelemetry SDK → our receiver at ${receiver.url})`);
        shop = await startShopWithProxies({ otlpEndpoint: receiver.url, seed: Number(o.seed) });
        const startUs = Date.now() * 1000;
        shop.testbed.traffic.start({ model: 'closed', users: 6, thinkMs: 200, seed: Number(o.seed) });
        step(2, `normal traffic for ${o.normal}`);
        await sleep(parseDurationMs(o.normal));
        step(3, 'chaos experiment: 2 s latency on payment (steady state: checkout p95 < 1.5 s)');
        const { journals } = await runSuite(shop, { store, only: ['payment is slow'], signal: ac.signal });
        for (const j of journals) {
          await store.patterns.put(JOURNAL_KIND, journalId(j), j);
          process.stderr.write(`      ${j.deviated ? 'hypothesis broken' : 'hypothesis held'} (${j.status})\n`);
        }
        step(4, 'load test: capacity of the home page (1→8 concurrent users)');
        const loadStartUs = Date.now() * 1000;
        const cap = await capacityTest([{ url: `${shop.frontendUrl}/api/home?currency=USD` }], { levels: [1, 2, 4, 8], stepS: 2, signal: ac.signal });
        await store.patterns.put(LOAD_RUN_KIND, `L-demo-${Date.now()}`, { id: `L-demo-${Date.now()}`, target: `${shop.frontendUrl}/api/home?currency=USD`, atUs: Date.now() * 1000, startUs: loadStartUs, endUs: Date.now() * 1000, capacity: cap });
        process.stderr.write(`      ${cap.steps.map((s) => `${s.n}: ${s.x.toFixed(0)}/s`).join(', ')}${cap.usl ? `; USL peak ${cap.usl.peakThroughput.toFixed(0)}/s` : ''}\n`);
        const surprise = FAULTS[Number(o.seed) % FAULTS.length]!;
        step(5, `surprise fault (hidden from the swarm) for ${o.after}`);
        await sleep(5000);
        await shop.testbed.setFault(surprise.service, surprise.fault, { ...surprise.params });
        await sleep(parseDurationMs(o.after));
        await sleep(2500); // one more export interval so the last spans arrive
        if (ac.signal.aborted) throw new CliError('interrupted', 130);
        step(6, 'the swarm analyses what it received (10 agents)');
        const swarm = createSwarm(store);
        const r = await swarm.runCycle({
          window: { fromUs: startUs, toUs: Date.now() * 1000 },
          params: { 'qe-defect-predictor': { repo: demoRepo(), target: 'testbed/' } },
          figures: collectFigures,
          onEvent: (e) => {
            if (e.type === 'step-finished') process.stderr.write(`      ${e.result.status === 'ok' ? '✓' : '✗'} ${e.result.agentId.padEnd(26)} ${e.result.findings.length} findings${e.result.error ? ` — ${e.result.error.split('\n')[0]}` : ''}\n`);
          },
        });
        const latest = await store.patterns.get<{ figures: import('../../../feedback/figures.js').FigureSection[] }>('feedback-report', 'latest');
        const paths = writeReports(r.report, out, ['json', 'md', 'html'], latest?.value.figures ?? []);
        step(7, 'done');
        const rca = r.findings.find((f) => f.kind === 'root-cause');
        const lines = [
          '',
          `surprise fault: ${surprise.fault} in ${surprise.service} (${surprise.says})`,
          `root cause found: ${rca ? `${rca.subject.service} — ${rca.title}` : 'none'}${rca ? (rca.subject.service === surprise.service ? '  ✓ correct' : '  ✗ not the injected service') : ''}`,
          `${r.report.summary.items} feedback items for ideation:`,
          ...Object.entries(r.report.sections).map(([k, v]) => `  ${k.padEnd(21)} ${String(v.length).padStart(3)}${v[0] ? `  top: ${v[0].title.slice(0, 100)}` : ''}`),
          '',
          `report: ${paths.html}`,
          `        ${paths.md}`,
          `memory: ${join(out, 'memory.db')}  (tswarm status --db ${join(o.out, 'memory.db')})`,
          `took ${((Date.now() - t0) / 1000).toFixed(0)} s`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await shop?.testbed.traffic.stop();
        await shop?.stop().catch(() => undefined);
        await receiver.close();
        await store.close();
      }
    });
}

/**
 * The repository whose history the defect predictor reads in the demo: the checkout this tswarm runs from (the
 * testbed's sources are in it), so the demo works from any directory; else the current directory. An installed
 * package has no history, and the report then says the predictor could not run and why.
 */
function demoRepo(): string {
  // Up from this module (src/… under tsx, dist/src/… when built) to the package's own root.
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return existsSync(join(dir, '.git')) && existsSync(join(dir, 'testbed')) ? dir : process.cwd();
  }
  return process.cwd();
}
