/** `tswarm load run` (open/closed model, thresholds, exit 99 on failure) and `tswarm load capacity` (step test + USL). */
import type { Command } from 'commander';
import { CliError, commandGroup, parseDurationMs, printJson } from '../util.js';
import { recordLoadRun, type RecordOpts } from '../record-load-run.js';

const DB_HELP = 'memory to record the run in, so the swarm knows the load was its own (default: the default memory, when it exists)';
const NO_RECORD_HELP = 'do not record the run in memory';

interface RunOpts {
  url?: string[];
  method: string;
  body?: string;
  rate?: string;
  vus?: string;
  duration: string;
  threshold?: string[];
  connections: string;
  maxRequests?: string;
  allow: string;
  json?: boolean;
  out?: string;
  html?: string;
  durationGiven?: boolean;
  db?: string;
  record?: boolean;
}

export function register(program: Command): void {
  const load = commandGroup(program, 'load', 'load testing with honest (coordinated-omission corrected) latency');
  load
    .command('run [scenario]')
    .description('generate load: --rate N (open model) or --vus N (closed); scenario (YAML/JSON requests, or a k6-like .js/.ts module) or --url')
    .option('--url <url...>', 'target URL(s), round-robin (wrk-like one-URL form)')
    .option('--method <m>', 'HTTP method for --url', 'GET')
    .option('--body <json>', 'request body for --url')
    .option('--rate <n>', 'arrival rate per second (open model)')
    .option('--vus <n>', 'virtual users (closed model)')
    .option('--duration <d>', 'how long (default: the scenario\'s, else 10s)', '10s')
    .option('--threshold <expr...>', 'k6-style thresholds, e.g. "p(95)<300" "error_rate<0.01"')
    .option('--connections <n>', 'connections per origin', '64')
    .option('--max-requests <n>', 'stop after this many requests')
    .option('--allow <hosts>', 'comma-separated target hosts allowed (default: loopback)', 'loopback')
    .option('--out <file>', 'write the JSON summary here')
    .option('--html <file>', 'write an HTML report (throughput and latency over time, endpoints, thresholds)')
    .option('--json', 'print the JSON summary')
    .option('--db <path>', DB_HELP)
    .option('--no-record', NO_RECORD_HELP)
    .action(async (scenario: string | undefined, o: RunOpts, cmd: Command) => {
      o.durationGiven = cmd.getOptionValueSource('duration') === 'cli';
      const { runLoad, LoadError } = await import('../../../load/generator.js');
      const { loadScenario } = await import('../../../load/scenario.js');
      const { ThresholdError } = await import('../../../algorithms/load/analysis.js');
      let spec: Awaited<ReturnType<typeof loadScenario>> = { requests: [], thresholds: [] };
      if (scenario) {
        try {
          spec = await loadScenario(scenario);
        } catch (e) {
          if (e instanceof LoadError) throw new CliError(e.message, 2);
          throw e;
        }
      }
      const requests = [...(spec.requests ?? [])];
      for (const u of o.url ?? []) requests.push({ url: u, method: o.method, ...(o.body ? { body: o.body } : {}) });
      if (!requests.length && !spec.script) throw new CliError('give a scenario file (YAML/JSON requests or a .js/.ts module) or --url', 2);
      const model = o.vus ? { type: 'closed' as const, vus: Number(o.vus) } : o.rate ? { type: 'open' as const, rate: Number(o.rate) } : (spec.model ?? { type: 'open' as const, rate: 100 });
      const durationS = o.durationGiven || spec.duration === undefined ? parseDurationMs(o.duration) / 1000 : spec.duration;
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      const startUs = Date.now() * 1000;
      try {
        const s = await runLoad({
          requests,
          ...(spec.script ? { script: spec.script } : {}),
          ...(spec.data ? { data: spec.data } : {}),
          model,
          duration: durationS,
          thresholds: [...spec.thresholds, ...(o.threshold ?? [])],
          connections: Number(o.connections),
          ...(o.maxRequests ? { maxRequests: Number(o.maxRequests) } : {}),
          allow: o.allow.split(','),
          signal: ac.signal,
          onProgress: process.stderr.isTTY && !o.json ? (p) => process.stderr.write(`\r${p.elapsedS.toFixed(0)}s  ${p.ratePerS.toFixed(0)}/s  p95 ${p.p95Ms.toFixed(1)} ms  errors ${p.errors}   `) : undefined,
        });
        if (process.stderr.isTTY && !o.json) process.stderr.write('\n');
        await recordLoadRun(o, { target: requests[0]?.url ?? scenario ?? '', startUs, endUs: Date.now() * 1000, summary: s });
        if (o.out) (await import('node:fs')).writeFileSync(o.out, JSON.stringify(s, null, 2));
        if (o.html) (await import('node:fs')).writeFileSync(o.html, (await import('../../../load/report.js')).loadHtml(s));
        if (o.json) printJson(s);
        else {
          const lines = [
            `${s.model} model: ${s.requests} requests in ${s.durationS.toFixed(1)} s — ${s.achievedRate.toFixed(1)}/s${s.targetRate ? ` (asked ${s.targetRate}/s)` : ''}${s.dropped ? `, ${s.dropped} dropped` : ''}`,
            `latency (ms${s.model === 'open' ? ', from intended send time' : ''}): p50 ${s.latency.p50.toFixed(2)}  p90 ${s.latency.p90.toFixed(2)}  p95 ${s.latency.p95.toFixed(2)}  p99 ${s.latency.p99.toFixed(2)}  max ${s.latency.max.toFixed(2)}`,
            `errors: ${s.errors} (${(100 * s.errorRate).toFixed(2)}%) ${Object.entries(s.errorsByKind).map(([k, v]) => `${k}: ${v}`).join(', ')}`,
            ...s.endpoints.map((e) => `  ${e.name}: ${e.requests} req, p95 ${e.p95.toFixed(2)} ms, ${e.errors} errors`),
            ...Object.entries(s.checks).map(([n, c]) => `${c.fails ? '✗' : '✓'} check "${n}": ${c.passes}/${c.passes + c.fails}`),
            ...s.thresholds.map((t) => `${t.passed ? '✓' : '✗'} ${t.expr} (observed ${Number.isFinite(t.observed) ? t.observed.toFixed(3) : 'n/a'})`),
          ];
          process.stdout.write(lines.join('\n') + '\n');
        }
        if (!s.passed) process.exitCode = 99;
      } catch (e) {
        if (e instanceof LoadError || e instanceof ThresholdError) throw new CliError(e.message, 2);
        throw e;
      }
    });
  load
    .command('under-fault')
    .description('steady load before, during and after a fault added through a Toxiproxy-compatible API; SLO and error-budget verdict')
    .requiredOption('--url <url>', 'target URL (the user-facing endpoint)')
    .requiredOption('--proxy <name>', 'proxy (in front of the dependency) to add the toxic to')
    .option('--toxiproxy <url>', 'Toxiproxy-compatible control API (tswarm chaos proxy)', 'http://127.0.0.1:8474')
    .option('--toxic <json>', 'the toxic, Toxiproxy JSON', '{"type":"latency","attributes":{"latency":500}}')
    .option('--rate <n>', 'arrival rate per second', '50')
    .option('--baseline <d>', 'load before the fault', '5s')
    .option('--fault <d>', 'how long the fault stays', '10s')
    .option('--recovery <d>', 'load after the fault', '5s')
    .option('--slo-p95 <ms>', 'p95 latency objective', '300')
    .option('--slo-errors <rate>', 'error-rate objective', '0.01')
    .option('--allow <hosts>', 'comma-separated hosts allowed', 'loopback')
    .option('--json', 'print JSON')
    .option('--db <path>', DB_HELP)
    .option('--no-record', NO_RECORD_HELP)
    .action(async (o: { url: string; proxy: string; toxiproxy: string; toxic: string; rate: string; baseline: string; fault: string; recovery: string; sloP95: string; sloErrors: string; allow: string; json?: boolean } & RecordOpts) => {
      const { loadUnderFault, toxiproxyHooks } = await import('../../../load/under-fault.js');
      const { LoadError } = await import('../../../load/generator.js');
      let toxic: { type: string; attributes?: Record<string, number> };
      try {
        toxic = JSON.parse(o.toxic) as typeof toxic;
      } catch (e) {
        throw new CliError(`--toxic: not JSON (${(e as Error).message})`, 2);
      }
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      try {
        const allow = o.allow.split(',');
        const startUs = Date.now() * 1000;
        const r = await loadUnderFault({
          requests: [{ url: o.url }],
          rate: Number(o.rate),
          baselineS: parseDurationMs(o.baseline) / 1000,
          faultS: parseDurationMs(o.fault) / 1000,
          recoveryS: parseDurationMs(o.recovery) / 1000,
          slo: { p95Ms: Number(o.sloP95), errorRate: Number(o.sloErrors) },
          hooks: toxiproxyHooks(o.toxiproxy, o.proxy, toxic, allow),
          allow,
          signal: ac.signal,
          onEvent: (e) => process.stderr.write(`${e}\n`),
        });
        await recordLoadRun(o, { target: o.url, startUs, endUs: Date.now() * 1000, underFault: { verdict: r.verdict, fault: r.fault, injected: r.injected, phases: r.summary.phases! } });
        if (o.json) return printJson({ fault: r.fault, injected: r.injected, verdict: r.verdict, phases: r.summary.phases });
        process.stdout.write([...r.verdict.chain, r.verdict.gap ? `GAP (${r.verdict.severity}): ${r.verdict.mechanism ?? 'SLO broken'}` : 'SLO held under the fault'].join('\n') + '\n');
        if (r.verdict.gap) process.exitCode = 99;
      } catch (e) {
        if (e instanceof LoadError) throw new CliError(e.message, 2);
        throw e;
      }
    });
  load
    .command('capacity [scenario]')
    .description('step test with rising concurrency, Universal Scalability Law fit and saturation knee (scenario file or --url)')
    .option('--url <url>', 'target URL')
    .option('--levels <list>', 'concurrency levels', '1,2,4,8,16,32')
    .option('--step <d>', 'duration of each level', '5s')
    .option('--allow <hosts>', 'comma-separated target hosts allowed', 'loopback')
    .option('--json', 'print JSON')
    .option('--db <path>', DB_HELP)
    .option('--no-record', NO_RECORD_HELP)
    .action(async (scenario: string | undefined, o: { url?: string; levels: string; step: string; allow: string; json?: boolean } & RecordOpts) => {
      const { capacityTest } = await import('../../../load/capacity.js');
      const { loadScenario } = await import('../../../load/scenario.js');
      const { LoadError } = await import('../../../load/generator.js');
      let spec: Awaited<ReturnType<typeof loadScenario>> = { requests: [], thresholds: [] };
      try {
        if (scenario) spec = await loadScenario(scenario);
      } catch (e) {
        if (e instanceof LoadError) throw new CliError(e.message, 2);
        throw e;
      }
      const requests = [...(spec.requests ?? []), ...(o.url ? [{ url: o.url }] : [])];
      if (!requests.length && !spec.script) throw new CliError('give a scenario file or --url', 2);
      const startUs = Date.now() * 1000;
      const r = await capacityTest(requests, {
        ...(spec.script ? { script: spec.script } : {}),
        ...(spec.data ? { data: spec.data } : {}), levels: o.levels.split(',').map(Number), stepS: parseDurationMs(o.step) / 1000, allow: o.allow.split(','), onStep: (n, s) => process.stderr.write(`${n} concurrent: ${(s.requests / s.durationS).toFixed(0)}/s, p95 ${s.latency.p95.toFixed(1)} ms\n`) });
      await recordLoadRun(o, { target: requests[0]?.url ?? scenario ?? '', startUs, endUs: Date.now() * 1000, capacity: r });
      if (o.json) return printJson(r);
      if (r.usl) process.stdout.write(`USL: σ ${r.usl.sigma.toFixed(4)} (contention), κ ${r.usl.kappa.toFixed(5)} (coherency), λ ${r.usl.lambda.toFixed(1)}/s; ${Number.isFinite(r.usl.peakConcurrency) ? `peak ${r.usl.peakThroughput.toFixed(0)}/s at ${r.usl.peakConcurrency.toFixed(1)} concurrent` : `no peak (κ = 0): throughput approaches ${r.usl.peakThroughput.toFixed(0)}/s`} (R² ${r.usl.r2.toFixed(3)})\n`);
      process.stdout.write(r.knee ? `knee at ${r.knee.n} concurrent: ${r.knee.reason}\n` : 'no knee within the tested levels\n');
    });
}
