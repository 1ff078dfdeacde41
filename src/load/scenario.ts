/**
 * Scenario files for `tswarm load run|capacity`: a YAML/JSON request list, or a JavaScript/TypeScript module with
 * a small k6-like shape —
 *
 *   export const options = { vus: 10, duration: '30s', thresholds: { http_req_duration: ['p(95)<300'] } };
 *   export default async function (vu) {
 *     const r = await vu.http.get('http://127.0.0.1:8080/cart');
 *     vu.check(r, { 'status is 200': (x) => x.status === 200 });
 *     await vu.sleep(0.5);
 *   }
 *
 * TypeScript modules are loaded through tsx (esbuild), so a scenario needs no build step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { LoadError, type LoadModel, type RequestSpec, type ScenarioFn, type Stage } from './generator.js';
import { parseDurationMs } from '../algorithms/time/duration.js';

export interface Scenario {
  requests?: RequestSpec[];
  script?: ScenarioFn;
  data?: unknown[];
  model?: LoadModel;
  thresholds: string[];
  /** Seconds. */
  duration?: number;
}

/** k6 metric names → ours, so k6-style `thresholds` objects read unchanged. */
const K6_METRICS: Record<string, string> = { http_req_duration: '', http_req_failed: 'error_rate', checks: 'checks', http_reqs: 'rate', iterations: 'rate' };

export function thresholdsFrom(t: unknown): string[] {
  if (t === undefined) return [];
  if (Array.isArray(t)) return t.map(String);
  if (typeof t !== 'object' || t === null) throw new LoadError('thresholds must be a list of expressions or a k6-style object');
  const out: string[] = [];
  for (const [metric, exprs] of Object.entries(t as Record<string, unknown>)) {
    const m = /^([a-z_]+)(\{.*\})?$/.exec(metric);
    const ours = m ? K6_METRICS[m[1]!] : undefined;
    if (ours === undefined) throw new LoadError(`threshold metric "${metric}" is not supported (use ${Object.keys(K6_METRICS).join(', ')})`);
    const tag = m![2] ? m![2].replace(/^\{(?:name:)?/, '{') : '';
    for (const e of Array.isArray(exprs) ? exprs : [exprs]) {
      const expr = String(e).trim();
      // `rate<0.01` on http_req_failed means error_rate<0.01; `p(95)<300` on http_req_duration stays as it is.
      if (ours === '') out.push(expr.replace(/^(p\([\d.]+\)|avg|min|max|med)/, `$1${tag}`));
      else out.push(expr.replace(/^rate/, `${ours}${tag}`).replace(/^count/, ours));
    }
  }
  return out;
}

function seconds(d: unknown, what: string): number {
  if (typeof d === 'number') return d;
  try {
    return parseDurationMs(String(d)) / 1000;
  } catch {
    throw new LoadError(`${what}: "${String(d)}" is not a duration (e.g. 30s, 2m)`);
  }
}

interface K6Options {
  vus?: number;
  rate?: number;
  executor?: string;
  duration?: string | number;
  stages?: { duration: string | number; target: number }[];
  thresholds?: unknown;
  data?: unknown[];
  thinkMs?: number;
}

/** Model from a module's `options` (k6 executors: constant-vus, ramping-vus, constant-arrival-rate, ramping-arrival-rate). */
export function modelFromOptions(o: K6Options): LoadModel | undefined {
  const stages: Stage[] | undefined = o.stages?.map((s, i) => ({ duration: seconds(s.duration, `stages[${i}].duration`), target: Number(s.target) }));
  const open = o.rate !== undefined || /arrival-rate/.test(o.executor ?? '');
  if (open) return { type: 'open', ...(o.rate !== undefined ? { rate: Number(o.rate) } : {}), ...(stages ? { stages } : {}) };
  if (o.vus !== undefined || stages) return { type: 'closed', ...(o.vus !== undefined ? { vus: Number(o.vus) } : {}), ...(stages ? { stages } : {}), ...(o.thinkMs ? { thinkMs: o.thinkMs } : {}) };
  return undefined;
}

export async function loadScenario(file: string): Promise<Scenario> {
  if (!existsSync(file)) throw new LoadError(`${file}: no such file`);
  const ext = extname(file).toLowerCase();
  if (['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'].includes(ext)) {
    let mod: { default?: unknown; options?: K6Options };
    try {
      if (ext.endsWith('ts')) {
        const { tsImport } = await import('tsx/esm/api');
        mod = (await tsImport(pathToFileURL(resolve(file)).href, import.meta.url)) as typeof mod;
      } else mod = (await import(pathToFileURL(resolve(file)).href)) as typeof mod;
    } catch (e) {
      throw new LoadError(`${file}: cannot load the scenario module (${(e as Error).message.split('\n')[0]})`);
    }
    // A .ts file outside an ESM package loads as CommonJS: its exports arrive wrapped in `default`.
    const inner = mod.default as { default?: unknown; options?: K6Options } | undefined;
    if (typeof mod.default !== 'function' && inner && typeof inner === 'object' && typeof inner.default === 'function') mod = inner;
    if (typeof mod.default !== 'function') throw new LoadError(`${file}: a scenario module needs a default export function (the iteration)`);
    const o = mod.options ?? {};
    const model = modelFromOptions(o);
    return {
      script: mod.default as ScenarioFn,
      thresholds: thresholdsFrom(o.thresholds),
      ...(o.data ? { data: o.data } : {}),
      ...(model ? { model } : {}),
      ...(o.duration !== undefined ? { duration: seconds(o.duration, 'options.duration') } : {}),
    };
  }
  let spec: { requests?: RequestSpec[]; model?: LoadModel; thresholds?: unknown; duration?: string | number };
  try {
    spec = YAML.parse(readFileSync(file, 'utf8')) as typeof spec;
  } catch (e) {
    throw new LoadError(`${file}: not valid YAML/JSON (${(e as Error).message})`);
  }
  if (!spec || !Array.isArray(spec.requests)) throw new LoadError(`${file}: needs a "requests" list (or use a .js/.ts scenario module)`);
  return {
    requests: spec.requests,
    thresholds: thresholdsFrom(spec.thresholds),
    ...(spec.model ? { model: spec.model } : {}),
    ...(spec.duration !== undefined ? { duration: seconds(spec.duration, 'duration') } : {}),
  };
}
