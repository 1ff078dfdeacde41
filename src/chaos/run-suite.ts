/**
 * Runs the testbed chaos suite end to end: a chaos proxy API, proxies in front of the targeted services, the
 * shop wired through them, light background traffic, then each experiment; returns the journals. Used by
 * `tswarm chaos suite`, the demo and the tests.
 */
import { startChaosApi, type ChaosApi } from './api.js';
import { runExperiment, type Journal } from './experiment.js';
import { testbedSuite, SUITE_SERVICES } from './testbed-suite.js';
import type { MemoryStore } from '../store/store.js';

export interface SuiteRun {
  journals: Journal[];
}

export interface ShopWithProxies {
  api: ChaosApi;
  frontendUrl: string;
  stop(): Promise<void>;
  testbed: import('../../testbed/index.js').Testbed;
}

/** Starts the chaos API and a testbed whose calls to the suite's services go through proxies. */
export async function startShopWithProxies(opts: { otlpEndpoint?: string; seed?: number } = {}): Promise<ShopWithProxies> {
  const api = await startChaosApi({ port: 0, maxToxicMs: 120_000 });
  const { startTestbed } = await import('../../testbed/index.js');
  let tb: Awaited<ReturnType<typeof startTestbed>> | undefined;
  try {
    // The proxies listen first, on ports the kernel gives them, so nothing can take a port between choosing it
    // and binding it (a port picked free and bound later was once taken by a parallel test: EADDRINUSE). Their
    // upstream is set once the services run; until then it is the discard port, and nothing calls them.
    const ports: Record<string, number> = {};
    for (const s of SUITE_SERVICES) {
      const r = await fetch(`${api.url}/proxies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: s, listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }) });
      if (r.status !== 201) throw new Error(`could not create the proxy for ${s}: ${await r.text()}`);
      ports[s] = Number(new URL(`tcp://${((await r.json()) as { listen: string }).listen}`).port);
    }
    tb = await startTestbed({
      otlpEndpoint: opts.otlpEndpoint,
      seed: opts.seed ?? 1,
      peerOverrides: Object.fromEntries(SUITE_SERVICES.map((s) => [s, `http://127.0.0.1:${ports[s]}`])),
    });
    for (const s of SUITE_SERVICES) {
      const svc = tb.services.find((x) => x.name === s)!;
      const upstream = new URL(svc.url);
      const r = await fetch(`${api.url}/proxies/${encodeURIComponent(s)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ upstream: `${upstream.hostname}:${upstream.port}` }) });
      if (r.status !== 200) throw new Error(`could not point the proxy for ${s} at ${svc.url}: ${await r.text()}`);
    }
  } catch (e) {
    // A shop that fails to start must not leave the chaos API (or started services) holding the process open.
    await tb?.stop().catch(() => undefined);
    await api.close().catch(() => undefined);
    throw e;
  }
  const frontendUrl = tb.services.find((x) => x.name === 'frontend')!.url;
  return {
    api,
    frontendUrl,
    testbed: tb,
    stop: async () => {
      await tb.stop();
      await api.close();
    },
  };
}

export async function runSuite(shop: ShopWithProxies, opts: { store?: MemoryStore; only?: string[]; onEvent?: (m: string) => void; signal?: AbortSignal } = {}): Promise<SuiteRun> {
  const suite = testbedSuite({ frontendUrl: shop.frontendUrl, api: shop.api.url }).filter((e) => !opts.only?.length || opts.only.some((o) => e.title.includes(o)));
  const journals: Journal[] = [];
  for (const e of suite) {
    if (opts.signal?.aborted) break;
    opts.onEvent?.(`experiment: ${e.title}`);
    journals.push(await runExperiment(e, { store: opts.store, signal: opts.signal, onEvent: (m) => opts.onEvent?.(`  ${m}`) }));
  }
  return { journals };
}
