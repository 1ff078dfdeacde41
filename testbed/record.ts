/**
 * The scenario runner: starts the shop and a swarm OTLP receiver, drives traffic for a normal period, injects the
 * planned fault at a recorded time, keeps going, and writes a labelled incident case from the stored telemetry.
 * A set of cases reuses one running shop (reset between cases) and gives each case its own memory db (the raw
 * OTLP it received), with the receiver restarted on the same port so the services keep exporting to it.
 */
import { join } from 'node:path';
import type { MemoryStore } from '../src/store/store.js';
import { startTestbed, type Testbed, type TestbedOptions } from './index.js';
import { freeLoopbackPort } from './supervisor.js';
import { nextCaseDir, writeCase, type CaseCounts, type CaseWindow } from './case-writer.js';
import { SERVICE_NAMES } from './catalog.js';
import type { ScenarioPlan } from './scenario.js';

export interface TelemetrySink {
  url: string;
  store: MemoryStore;
  close(): Promise<void>;
}
/** Opens a receiver on 127.0.0.1:`port` that stores into a fresh memory db at `dbPath`. */
export type OpenSink = (dbPath: string, port: number) => Promise<TelemetrySink>;

export interface RecordOptions {
  out: string;
  openSink: OpenSink;
  testbed?: Omit<TestbedOptions, 'otlpEndpoint'>;
  /** Wait after the window for the last OTLP exports to land (ms). */
  flushMs?: number;
  onProgress?: (msg: string) => void;
  /** Abort between cases (Ctrl-C). */
  signal?: AbortSignal;
}

export interface RecordedCase {
  dir: string;
  plan: ScenarioPlan;
  window: CaseWindow;
  counts: CaseCounts;
  traffic: ReturnType<Testbed['traffic']['stats']>;
  seconds: number;
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, Math.max(0, ms)));

/** Runs one planned case on a running shop. Returns the time window of the case. */
export async function runCase(tb: Testbed, plan: ScenarioPlan, log: (m: string) => void = () => {}): Promise<{ window: CaseWindow; traffic: ReturnType<Testbed['traffic']['stats']> }> {
  await tb.clearFaults();
  const startMs = Date.now();
  tb.traffic.start({ model: plan.load.model, users: plan.load.users, rate: plan.load.rate, seed: plan.load.seed, timeoutMs: 8000 });
  const timers: NodeJS.Timeout[] = [];
  let over = false;
  for (const n of plan.noise) {
    timers.push(
      setTimeout(() => {
        if (over) return;
        tb.setFault(n.service, n.fault, n.params).then(
          () => {
            if (!over) timers.push(setTimeout(() => void tb.clearFault(n.service, n.fault).catch(() => undefined), n.durationMs));
          },
          (e: Error) => log(`noise ${n.service}/${n.fault} failed: ${e.message}`),
        );
      }, n.atMs),
    );
  }
  try {
    await sleep(startMs + plan.injectAtMs - Date.now());
    const injectMs = Date.now();
    log(`inject ${plan.fault} into ${plan.service} ${JSON.stringify(plan.params)}`);
    await tb.setFault(plan.service, plan.fault, plan.params);
    await sleep(injectMs + plan.afterMs - Date.now());
    const endMs = Date.now();
    return { window: { startMs, injectMs, endMs }, traffic: tb.traffic.stats() };
  } finally {
    over = true;
    for (const t of timers) clearTimeout(t);
    await tb.traffic.stop();
    await tb.clearFaults().catch((e: Error) => log(`reset failed: ${e.message}`));
  }
}

/** Records the planned cases in order on one shop. */
export async function recordCases(plans: ScenarioPlan[], opts: RecordOptions): Promise<RecordedCase[]> {
  const log = opts.onProgress ?? (() => {});
  const port = await freeLoopbackPort();
  const flushMs = opts.flushMs ?? 2500;
  const done: RecordedCase[] = [];
  let sink: TelemetrySink | undefined;
  let tb: Testbed | undefined;
  try {
    for (const [i, plan] of plans.entries()) {
      if (opts.signal?.aborted) break;
      const t0 = Date.now();
      const { dir, rep } = nextCaseDir(opts.out, plan.service, plan.fault);
      if (sink) await sink.close();
      sink = undefined;
      sink = await opts.openSink(join(dir, 'telemetry.db'), port);
      if (!tb) {
        log(`starting the shop (exporting to ${sink.url})`);
        tb = await startTestbed({ ...opts.testbed, seed: opts.testbed?.seed ?? plan.seed, otlpEndpoint: `http://127.0.0.1:${port}` });
      }
      log(`[${i + 1}/${plans.length}] ${plan.service}_${plan.fault} rep ${rep} (seed ${plan.seed}, ${plan.load.model} ${plan.load.level})`);
      const { window, traffic } = await runCase(tb, plan, log);
      await sleep(flushMs);
      const counts = await writeCase({ store: sink.store, dir, plan, rep, window, services: [...SERVICE_NAMES], topology: tb.topology, extra: { traffic } });
      if (counts.spans === 0) throw new Error(`no spans reached the receiver for ${dir}: is the OTLP receiver storing traces?`);
      done.push({ dir, plan, window, counts, traffic, seconds: (Date.now() - t0) / 1000 });
      log(`  wrote ${dir}: ${counts.spans} spans, ${counts.logs} logs, ${counts.metrics} metric points, ${counts.errors} errors (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await tb?.stop();
    await sink?.close();
  }
  return done;
}
