/**
 * `tswarm testbed ...`: run the instrumented microservice shop by hand (up / down / fault), and record labelled
 * incident cases from it (record / record-set). Heavy modules load inside the actions.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, commandGroup, parseDurationMs, printJson } from '../util.js';

const DEFAULT_STATE = './.tswarm/testbed.json';

interface UpState {
  pid: number;
  startedAt: string;
  frontendUrl: string;
  services: { name: string; url: string; adminUrl: string; metricsUrl: string }[];
}

function intOpt(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name} must be an integer in [${min}, ${max}], got "${v}"`, 2);
    return n;
  };
}

function readState(path: string): UpState {
  if (!existsSync(path)) throw new CliError(`no running testbed found (state file ${path} does not exist); start one with: tswarm testbed up`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as UpState;
  } catch (e) {
    throw new CliError(`state file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parseParams(pairs: string[]): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(p);
    if (!m) throw new CliError(`--param must look like key=value, got "${p}"`, 2);
    const v = m[2];
    out[m[1]] = v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

function waitForSignal(): Promise<string> {
  return new Promise((ok) => {
    const on = (sig: string) => () => ok(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

export function register(program: Command): void {
  const tb = commandGroup(program, 'testbed', 'the instrumented microservice shop: run it, inject faults, record labelled incident cases');

  tb.command('list')
    .description('list the services, the call graph and the fault catalogue')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const c = await import('../../../../testbed/catalog.js');
      const data = {
        services: c.SERVICE_NAMES,
        edges: c.EDGES,
        faults: c.FAULT_TYPES.map((f) => ({ fault: f, description: c.FAULT_DESCRIPTIONS[f], services: c.servicesFor(f) })),
      };
      if (o.json) return printJson(data);
      process.stdout.write(`services: ${data.services.join(', ')}\n\ncall graph (caller -> callee: client timeout, retries):\n`);
      for (const e of c.EDGES) process.stdout.write(`  ${e.source} -> ${e.target}: ${e.timeoutMs === undefined ? 'NO timeout' : `${e.timeoutMs} ms`}, ${e.retries} retries${e.fallback ? ', degrades gracefully' : ''}\n`);
      process.stdout.write('\nfaults:\n');
      for (const f of data.faults) process.stdout.write(`  ${f.fault.padEnd(10)} ${f.description}\n             services: ${f.services.join(', ')}\n`);
    });

  tb.command('up')
    .description('start the shop in the foreground (Ctrl-C or `tswarm testbed down` stops it)')
    .option('--otlp <url>', 'OTLP/HTTP endpoint to export to, e.g. http://127.0.0.1:4318')
    .option('--seed <n>', 'seed of the traffic and the services', intOpt('seed', 0, 2 ** 31), 1)
    .option('--no-redis', 'use SQLite for the cart instead of redis-server')
    .option('--traffic <users>', 'also drive traffic with this many virtual users', intOpt('traffic', 0, 500), 0)
    .option('--max-lifetime <duration>', 'stop by itself after this long', '2h')
    .option('--state <file>', 'where to write the state file used by down / fault', DEFAULT_STATE)
    .action(async (o: { otlp?: string; seed: number; redis: boolean; traffic: number; maxLifetime: string; state: string }) => {
      const lifetime = parseDurationMs(o.maxLifetime);
      const statePath = resolve(o.state);
      if (existsSync(statePath)) {
        const st = readState(statePath);
        if (alive(st.pid)) throw new CliError(`a testbed is already running (pid ${st.pid}); stop it with: tswarm testbed down`);
      }
      if (o.otlp) {
        try {
          new URL(o.otlp);
        } catch {
          throw new CliError(`--otlp is not a URL: "${o.otlp}"`, 2);
        }
      }
      const { startTestbed } = await import('../../../../testbed/index.js');
      const t = await startTestbed({ otlpEndpoint: o.otlp, seed: o.seed, redis: o.redis ? undefined : false, maxLifetimeMs: lifetime });
      const state: UpState = { pid: process.pid, startedAt: new Date().toISOString(), frontendUrl: t.frontendUrl, services: t.services.map(({ name, url, adminUrl, metricsUrl }) => ({ name, url, adminUrl, metricsUrl })) };
      mkdirSync(dirname(statePath), { recursive: true });
      writeFileSync(statePath, JSON.stringify(state, null, 2));
      process.stdout.write(`testbed up (pid ${process.pid}, cart store: ${t.redis ? 'redis' : 'sqlite'}, logs: ${t.workDir}/logs)\n`);
      for (const s of t.services) process.stdout.write(`  ${s.name.padEnd(15)} ${s.url}  admin ${s.adminUrl}/faults  metrics ${s.metricsUrl}\n`);
      process.stdout.write(`OTLP export: ${o.otlp ?? 'off (pass --otlp)'}\n`);
      if (o.traffic > 0) {
        t.traffic.start({ users: o.traffic, seed: o.seed });
        process.stdout.write(`traffic: ${o.traffic} virtual users\n`);
      }
      const timer = setTimeout(() => process.kill(process.pid, 'SIGTERM'), lifetime);
      const sig = await waitForSignal();
      clearTimeout(timer);
      process.stdout.write(`${sig}: stopping the testbed\n`);
      await t.stop();
      rmSync(statePath, { force: true });
    });

  tb.command('down')
    .description('stop a testbed started with `tswarm testbed up`')
    .option('--state <file>', 'state file written by up', DEFAULT_STATE)
    .action(async (o: { state: string }) => {
      const statePath = resolve(o.state);
      const st = readState(statePath);
      if (!alive(st.pid)) {
        rmSync(statePath, { force: true });
        process.stdout.write(`testbed (pid ${st.pid}) was not running; removed the stale state file\n`);
        return;
      }
      process.kill(st.pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      while (alive(st.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (alive(st.pid)) throw new CliError(`testbed (pid ${st.pid}) did not stop within 20 s`);
      rmSync(statePath, { force: true });
      process.stdout.write(`testbed (pid ${st.pid}) stopped\n`);
    });

  tb.command('fault')
    .description('switch a fault on (or --off) in a running testbed')
    .argument('<service>', 'service name, e.g. payment')
    .argument('<fault>', 'fault name, e.g. delay (see `tswarm testbed list`)')
    .option('--off', 'switch the fault off')
    .option('-p, --param <key=value...>', 'fault parameters, e.g. -p ms=500 -p jitterMs=50', [])
    .option('--state <file>', 'state file written by up', DEFAULT_STATE)
    .action(async (service: string, fault: string, o: { off?: boolean; param: string[]; state: string }) => {
      const { checkFault } = await import('../../../../testbed/index.js');
      try {
        checkFault(service, fault);
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      const st = readState(resolve(o.state));
      const svc = st.services.find((s) => s.name === service);
      if (!svc) throw new CliError(`service ${service} is not in the running testbed`);
      const params = parseParams(o.param);
      const url = o.off ? `${svc.adminUrl}/faults/${fault}` : `${svc.adminUrl}/faults`;
      let res: Response;
      try {
        res = await fetch(url, {
          method: o.off ? 'DELETE' : 'POST',
          headers: { 'content-type': 'application/json' },
          body: o.off ? undefined : JSON.stringify({ fault, params }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        throw new CliError(`cannot reach ${service} at ${svc.adminUrl}: ${(e as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      if (!res.ok) throw new CliError(`${service}: ${body.error ?? `HTTP ${res.status}`}`);
      process.stdout.write(o.off ? `fault ${fault} switched off for ${service}\n` : `fault ${fault} switched on for ${service} ${JSON.stringify(params)}${fault === 'deploy' ? ' (redeploying)' : ''}\n`);
    });

  tb.command('record')
    .description('record one labelled incident case (RCAEval layout) into <out>/<service>_<fault>/<rep>/')
    .requiredOption('--scenario <name>', '"random" or <service>_<fault>, e.g. payment_delay')
    .option('--seed <n>', 'seed of every random choice', intOpt('seed', 0, 2 ** 31), 1)
    .option('--out <dir>', 'output directory', './cases')
    .option('--normal <duration>', 'normal period before the injection', '60s')
    .option('--after <duration>', 'period after the injection', '60s')
    .option('--no-redis', 'use SQLite for the cart instead of redis-server')
    .option('--dry-run', 'print the plan (service, fault, time, load, noise) as JSON and exit')
    .action(async (o: { scenario: string; seed: number; out: string; normal: string; after: string; redis: boolean; dryRun?: boolean }) => {
      const { planScenario } = await import('../../../../testbed/scenario.js');
      let plan;
      try {
        plan = planScenario(o.scenario, o.seed, { normalMs: parseDurationMs(o.normal), afterMs: parseDurationMs(o.after) });
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      if (o.dryRun) return printJson(plan);
      const cases = await record([plan], o.out, o.redis);
      process.stdout.write(`${cases[0]?.dir ?? 'no case recorded'}\n`);
    });

  tb.command('record-set')
    .description('record a set of labelled cases covering every fault type on one running shop')
    .option('--count <n>', 'number of cases', intOpt('count', 1, 1000), 30)
    .option('--seed <n>', 'seed of the set', intOpt('seed', 0, 2 ** 31), 1)
    .option('--out <dir>', 'output directory', './cases')
    .option('--normal <duration>', 'normal period of each case', '20s')
    .option('--after <duration>', 'period after each injection', '20s')
    .option('--no-redis', 'use SQLite for the cart instead of redis-server')
    .option('--dry-run', 'print the plans as JSON and exit')
    .action(async (o: { count: number; seed: number; out: string; normal: string; after: string; redis: boolean; dryRun?: boolean }) => {
      const { planSet } = await import('../../../../testbed/scenario.js');
      const plans = planSet(o.count, o.seed, { normalMs: parseDurationMs(o.normal), afterMs: parseDurationMs(o.after) });
      if (o.dryRun) return printJson(plans);
      const t0 = Date.now();
      const cases = await record(plans, o.out, o.redis);
      const faults = new Set(cases.map((c) => c.plan.fault));
      const services = new Set(cases.map((c) => c.plan.service));
      process.stdout.write(`recorded ${cases.length} cases (${faults.size} fault types, ${services.size} services) into ${resolve(o.out)} in ${((Date.now() - t0) / 60000).toFixed(1)} min\n`);
    });
}

async function record(plans: import('../../../../testbed/scenario.js').ScenarioPlan[], out: string, redis: boolean) {
  const { recordCases } = await import('../../../../testbed/record.js');
  const { openReceiverSink } = await import('../../../../testbed/sink.js');
  const ac = new AbortController();
  const onSig = () => {
    process.stderr.write('interrupted: finishing the current case, then stopping\n');
    ac.abort();
  };
  process.once('SIGINT', onSig);
  try {
    return await recordCases(plans, {
      out: resolve(out),
      openSink: openReceiverSink,
      testbed: { redis: redis ? undefined : false },
      signal: ac.signal,
      onProgress: (m) => process.stderr.write(m + '\n'),
    });
  } finally {
    process.off('SIGINT', onSig);
  }
}
