/**
 * Chaos experiments in the Chaos Toolkit format (the parts that apply): title, steady-state-hypothesis with
 * probes and tolerances, a method of actions and probes with pauses, rollbacks, and a journal with every probe
 * value and timing. Providers: `http` (probe or action; `repeat` measures a latency distribution), `toxic`
 * (adds a toxic through a Toxiproxy-compatible API, with a deadline, and rolls it back by itself), `metric`
 * (reads the memory store), `process` (a local command).
 *
 * Safety: every URL must be on the allow-list (loopback by default), the run is bounded by `max_duration_s`
 * (always enforced; toxics carry the remaining time as their deadline so even a SIGKILLed runner leaves nothing
 * behind), guards are checked during the method and abort it, and rollbacks always run (on success, failure,
 * abort, timeout, Ctrl-C/SIGTERM).
 */
import { execFile } from 'node:child_process';
import { request } from 'undici';
import { hostAllowed } from './proxy.js';
import type { MemoryStore } from '../store/store.js';

export type Tolerance = number | boolean | { type: 'range'; target?: string; range: [number, number] } | { type: 'regex'; target?: string; pattern: string } | { type: 'status'; values: number[] };

export interface Provider {
  type: 'http' | 'toxic' | 'metric' | 'process';
  url?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Seconds. */
  timeout?: number;
  /** http: repeat the call n times and report latency percentiles and the error share. */
  repeat?: number;
  /** http: untimed requests made before each (timed) call, e.g. filling a cart before a checkout. */
  setup?: { method?: string; url: string; body?: unknown }[];
  /** toxic: the control API (default http://127.0.0.1:8474), the proxy name and the toxic. */
  api?: string;
  proxy?: string;
  toxic?: { name?: string; type: string; stream?: string; toxicity?: number; attributes?: Record<string, number> };
  /** metric: service and indicator over the last window_s seconds of stored telemetry. */
  service?: string;
  indicator?: 'p95_ms' | 'p50_ms' | 'error_rate' | 'rps';
  window_s?: number;
  /** process. */
  path?: string;
  arguments?: string[];
}

export interface Activity {
  type: 'probe' | 'action';
  name: string;
  provider: Provider;
  tolerance?: Tolerance;
  pauses?: { before?: number; after?: number };
  /** Probe during the method: abort the experiment when its tolerance is not met. */
  guard?: boolean;
}

export interface Experiment {
  version?: string;
  title: string;
  description?: string;
  tags?: string[];
  configuration?: { max_duration_s?: number; allow?: string[]; blast_radius?: string; target?: { caller?: string; dependency?: string } };
  'steady-state-hypothesis'?: { title: string; probes: Activity[] };
  method: Activity[];
  rollbacks?: Activity[];
}

export interface ActivityRun {
  activity: Activity;
  status: 'succeeded' | 'failed' | 'skipped';
  output?: unknown;
  error?: string;
  start: string;
  end: string;
  duration: number;
  tolerance_met?: boolean;
}

export interface Journal {
  'chaoslib-version': string;
  experiment: Experiment;
  start: string;
  end: string;
  duration: number;
  status: 'completed' | 'failed' | 'aborted' | 'interrupted';
  deviated: boolean;
  dry_run: boolean;
  blast_radius: string[];
  steady_states: { before: { steady_state_met: boolean; probes: ActivityRun[] } | null; after: { steady_state_met: boolean; probes: ActivityRun[] } | null };
  run: ActivityRun[];
  rollbacks: ActivityRun[];
  abort_reason?: string;
}

export class ExperimentError extends Error {}

export function validateExperiment(e: unknown, allowDefault: string[] = ['loopback']): Experiment {
  if (!e || typeof e !== 'object') throw new ExperimentError('an experiment must be an object');
  const x = e as Experiment;
  if (!x.title || typeof x.title !== 'string') throw new ExperimentError('experiment.title is required');
  if (!Array.isArray(x.method) || !x.method.length) throw new ExperimentError('experiment.method must list at least one activity');
  const allow = x.configuration?.allow ?? allowDefault;
  const all = [...(x['steady-state-hypothesis']?.probes ?? []), ...x.method, ...(x.rollbacks ?? [])];
  for (const a of all) {
    if (!a || (a.type !== 'probe' && a.type !== 'action')) throw new ExperimentError(`activity ${JSON.stringify(a?.name ?? a)} must have type probe or action`);
    if (!a.name) throw new ExperimentError('every activity needs a name');
    const p = a.provider;
    if (!p || !['http', 'toxic', 'metric', 'process'].includes(p.type)) throw new ExperimentError(`activity ${a.name}: provider.type must be http, toxic, metric or process`);
    for (const u of [p.url, p.api, ...(p.setup ?? []).map((x) => x.url)].filter((v): v is string => typeof v === 'string')) {
      let host: string;
      try {
        host = new URL(u).hostname.replace(/^\[|\]$/g, '');
      } catch {
        throw new ExperimentError(`activity ${a.name}: "${u}" is not a URL`);
      }
      if (!hostAllowed(host, allow)) throw new ExperimentError(`activity ${a.name}: ${u} is not on the allow-list (${allow.join(', ')}); chaos only targets allowed hosts`);
    }
    if (p.type === 'http' && !p.url) throw new ExperimentError(`activity ${a.name}: http provider needs a url`);
    if (p.type === 'toxic' && (!p.proxy || !p.toxic?.type)) throw new ExperimentError(`activity ${a.name}: toxic provider needs proxy and toxic.type`);
  }
  const max = x.configuration?.max_duration_s ?? 120;
  if (!(max > 0 && max <= 3600)) throw new ExperimentError('configuration.max_duration_s must be in (0, 3600]');
  return x;
}

function pick(output: unknown, target?: string): unknown {
  if (!target) return output;
  let v: unknown = output;
  for (const k of target.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

export function toleranceMet(t: Tolerance | undefined, output: unknown): boolean {
  if (t === undefined) return true;
  const o = output as Record<string, unknown> | undefined;
  if (typeof t === 'number') return (o?.status ?? output) === t;
  if (typeof t === 'boolean') return Boolean(output) === t;
  if (t.type === 'status') return t.values.includes(Number(o?.status));
  if (t.type === 'range') {
    const v = Number(pick(output, t.target));
    return Number.isFinite(v) && v >= t.range[0] && v <= t.range[1];
  }
  if (t.type === 'regex') return new RegExp(t.pattern).test(String(pick(output, t.target)));
  return false;
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
}

export interface RunContext {
  store?: MemoryStore;
  signal: AbortSignal;
  /** ms left before the experiment's deadline (toxics get it as their time to live). */
  remainingMs: () => number;
  /** Toxics added by this run, removed at the end whatever happens. */
  addedToxics: { api: string; proxy: string; name: string }[];
}

async function httpCall(p: Provider, signal: AbortSignal): Promise<{ status: number; latency_ms: number; body: string }> {
  const t0 = performance.now();
  const r = await request(p.url!, {
    method: (p.method ?? 'GET') as 'GET',
    headers: { ...(p.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(p.headers ?? {}) },
    ...(p.body !== undefined ? { body: typeof p.body === 'string' ? p.body : JSON.stringify(p.body) } : {}),
    headersTimeout: (p.timeout ?? 10) * 1000,
    bodyTimeout: (p.timeout ?? 10) * 1000,
    signal,
  });
  const body = await r.body.text();
  return { status: r.statusCode, latency_ms: performance.now() - t0, body: body.slice(0, 500) };
}

async function runProvider(a: Activity, ctx: RunContext): Promise<unknown> {
  const p = a.provider;
  if (p.type === 'http') {
    const n = Math.max(1, Math.min(1000, p.repeat ?? 1));
    if (n === 1) {
      for (const st of p.setup ?? []) await httpCall({ ...p, ...st, repeat: 1 }, ctx.signal).catch(() => undefined);
      return httpCall(p, ctx.signal);
    }
    const lat: number[] = [];
    let errors = 0;
    const statuses: Record<string, number> = {};
    for (let i = 0; i < n && !ctx.signal.aborted; i++) {
      try {
        for (const st of p.setup ?? []) await httpCall({ ...p, ...st, repeat: 1 }, ctx.signal).catch(() => undefined);
        const r = await httpCall(p, ctx.signal);
        lat.push(r.latency_ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status >= 500) errors++;
      } catch (e) {
        if (ctx.signal.aborted) break;
        errors++;
        lat.push((p.timeout ?? 10) * 1000);
        statuses[(e as Error).name] = (statuses[(e as Error).name] ?? 0) + 1;
      }
    }
    return { requests: lat.length, p50_ms: pct(lat, 0.5), p95_ms: pct(lat, 0.95), max_ms: Math.max(...lat), error_rate: lat.length ? errors / lat.length : 1, statuses };
  }
  if (p.type === 'toxic') {
    const api = p.api ?? 'http://127.0.0.1:8474';
    const ttl = Math.max(1000, ctx.remainingMs());
    const r = await request(`${api}/proxies/${encodeURIComponent(p.proxy!)}/toxics`, { method: 'POST', body: JSON.stringify({ ...p.toxic, ttl_ms: ttl }), headers: { 'content-type': 'application/json' }, signal: ctx.signal });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`toxic API ${r.statusCode}: ${text}`);
    const t = JSON.parse(text) as { name: string };
    ctx.addedToxics.push({ api, proxy: p.proxy!, name: t.name });
    return { ...t, ttl_ms: ttl };
  }
  if (p.type === 'metric') {
    if (!ctx.store) throw new Error('metric probes need the memory store (run through tswarm with --db)');
    const to = Date.now() * 1000;
    const from = to - (p.window_s ?? 30) * 1e6;
    const spans = await ctx.store.telemetry.querySpans({ window: { fromUs: from, toUs: to }, services: p.service ? [p.service] : undefined, limit: 200_000 });
    const server = spans.filter((s) => s.kind === 2);
    const d = server.map((s) => (s.endUs - s.startUs) / 1000);
    return { spans: server.length, p95_ms: pct(d, 0.95), p50_ms: pct(d, 0.5), error_rate: server.length ? server.filter((s) => s.status.code === 2).length / server.length : 0, rps: server.length / (p.window_s ?? 30) };
  }
  // process
  return new Promise((resolve, reject) => {
    execFile(p.path!, p.arguments ?? [], { timeout: (p.timeout ?? 30) * 1000, signal: ctx.signal }, (err, stdout, stderr) => {
      if (err && !('code' in err)) return reject(err);
      resolve({ status: err ? (err as { code?: number }).code ?? 1 : 0, stdout: stdout.slice(0, 2000), stderr: stderr.slice(0, 2000) });
    });
  });
}

async function runActivity(a: Activity, ctx: RunContext): Promise<ActivityRun> {
  const start = new Date();
  if (a.pauses?.before) await sleep(a.pauses.before * 1000, ctx.signal);
  let run: ActivityRun;
  try {
    if (ctx.signal.aborted) throw new Error('aborted');
    const output = await runProvider(a, ctx);
    const met = a.type === 'probe' ? toleranceMet(a.tolerance, output) : undefined;
    run = { activity: a, status: 'succeeded', output, start: start.toISOString(), end: new Date().toISOString(), duration: (Date.now() - start.getTime()) / 1000, ...(met !== undefined ? { tolerance_met: met } : {}) };
  } catch (e) {
    run = { activity: a, status: 'failed', error: (e as Error).message, start: start.toISOString(), end: new Date().toISOString(), duration: (Date.now() - start.getTime()) / 1000, ...(a.type === 'probe' ? { tolerance_met: false } : {}) };
  }
  if (a.pauses?.after && !ctx.signal.aborted) await sleep(a.pauses.after * 1000, ctx.signal);
  return run;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export function blastRadius(x: Experiment): string[] {
  const out = new Set<string>();
  for (const a of [...x.method, ...(x.rollbacks ?? [])]) {
    if (a.type !== 'action') continue;
    const p = a.provider;
    if (p.type === 'toxic') out.add(`proxy ${p.proxy}: ${p.toxic?.type} ${JSON.stringify(p.toxic?.attributes ?? {})} (${p.toxic?.stream ?? 'downstream'}, toxicity ${p.toxic?.toxicity ?? 1})`);
    else if (p.type === 'http') out.add(`${p.method ?? 'GET'} ${p.url}`);
    else if (p.type === 'process') out.add(`process ${p.path}`);
  }
  if (x.configuration?.blast_radius) out.add(x.configuration.blast_radius);
  return [...out];
}

export async function runExperiment(x0: unknown, opts: { store?: MemoryStore; dryRun?: boolean; signal?: AbortSignal; allow?: string[]; onEvent?: (e: string) => void } = {}): Promise<Journal> {
  const x = validateExperiment(x0, opts.allow);
  const started = new Date();
  const maxMs = (x.configuration?.max_duration_s ?? 120) * 1000;
  const deadline = Date.now() + maxMs;
  const journal: Journal = {
    'chaoslib-version': 'tswarm-1',
    experiment: x,
    start: started.toISOString(),
    end: started.toISOString(),
    duration: 0,
    status: 'completed',
    deviated: false,
    dry_run: Boolean(opts.dryRun),
    blast_radius: blastRadius(x),
    steady_states: { before: null, after: null },
    run: [],
    rollbacks: [],
  };
  if (opts.dryRun) {
    journal.status = 'completed';
    return journal;
  }
  const ac = new AbortController();
  const onOuterAbort = (): void => ac.abort(new Error('interrupted'));
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => ac.abort(new Error(`max duration ${maxMs / 1000} s reached`)), maxMs);
  timer.unref();
  const ctx: RunContext = { store: opts.store, signal: ac.signal, remainingMs: () => deadline - Date.now(), addedToxics: [] };
  const say = (m: string): void => opts.onEvent?.(m);
  const hypothesis = x['steady-state-hypothesis'];
  try {
    if (hypothesis) {
      say(`steady state before: ${hypothesis.title}`);
      const probes: ActivityRun[] = [];
      for (const p of hypothesis.probes) probes.push(await runActivity(p, ctx));
      const met = probes.every((p) => p.tolerance_met);
      journal.steady_states.before = { steady_state_met: met, probes };
      if (!met) {
        journal.status = 'failed';
        journal.abort_reason = 'the steady state did not hold before the experiment: nothing was injected';
        return journal;
      }
    }
    for (const a of x.method) {
      if (ac.signal.aborted) break;
      say(`${a.type} ${a.name}`);
      const r = await runActivity(a, ctx);
      journal.run.push(r);
      if (a.type === 'action' && r.status === 'failed') {
        journal.status = 'failed';
        journal.abort_reason = `action ${a.name} failed: ${r.error}`;
        break;
      }
      if (a.guard && r.tolerance_met === false) {
        journal.status = 'aborted';
        journal.abort_reason = `guard ${a.name} breached`;
        ac.abort(new Error(journal.abort_reason));
        break;
      }
    }
    if (hypothesis && !ac.signal.aborted && journal.status === 'completed') {
      say('steady state after (faults still active)');
      const probes: ActivityRun[] = [];
      for (const p of hypothesis.probes) probes.push(await runActivity(p, ctx));
      const met = probes.every((p) => p.tolerance_met);
      journal.steady_states.after = { steady_state_met: met, probes };
      journal.deviated = !met;
    }
    if (ac.signal.aborted && journal.status === 'completed') {
      journal.status = opts.signal?.aborted ? 'interrupted' : 'aborted';
      journal.abort_reason = String((ac.signal.reason as Error | undefined)?.message ?? 'aborted');
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    // Rollbacks run whatever happened, with a fresh signal (the run's may be aborted).
    const rb: RunContext = { ...ctx, signal: new AbortController().signal, remainingMs: () => 10_000 };
    for (const a of x.rollbacks ?? []) {
      say(`rollback ${a.name}`);
      journal.rollbacks.push(await runActivity(a, rb));
    }
    for (const t of ctx.addedToxics) {
      try {
        const r = await request(`${t.api}/proxies/${encodeURIComponent(t.proxy)}/toxics/${encodeURIComponent(t.name)}`, { method: 'DELETE' });
        await r.body.text();
      } catch {
        // The toxic's deadline removes it anyway.
      }
    }
    const end = new Date();
    journal.end = end.toISOString();
    journal.duration = (end.getTime() - started.getTime()) / 1000;
  }
  return journal;
}
