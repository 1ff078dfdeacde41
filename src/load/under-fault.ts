/**
 * Runs steady open-model load across three phases — baseline, fault, recovery — injecting the fault at the first
 * boundary and rolling it back at the second (always: also on error or abort), then assesses the phases
 * against the SLO. Faults come from any Toxiproxy-compatible API (ours: `tswarm chaos proxy`) or from hooks.
 */
import { request } from 'undici';
import { runLoad, LoadError, type LoadSummary, type RequestSpec } from './generator.js';
import { assessLoadUnderFault, type InjectedFault, type Slo, type UnderFaultVerdict } from '../algorithms/load/under-fault.js';
import { hostAllowed } from '../chaos/proxy.js';

export interface FaultHooks {
  fault: InjectedFault;
  inject(): Promise<void>;
  rollback(): Promise<void>;
}

export interface UnderFaultOptions {
  requests: RequestSpec[];
  rate: number;
  baselineS: number;
  faultS: number;
  recoveryS: number;
  slo: Slo;
  hooks: FaultHooks;
  allow?: string[];
  connections?: number;
  signal?: AbortSignal;
  onEvent?: (e: string) => void;
}

export interface UnderFaultResult {
  summary: LoadSummary;
  verdict: UnderFaultVerdict;
  fault: InjectedFault;
  injected: boolean;
}

/** A toxic added through a Toxiproxy-compatible control API and removed afterwards. */
export function toxiproxyHooks(apiUrl: string, proxy: string, toxic: { type: string; stream?: string; toxicity?: number; attributes?: Record<string, number>; name?: string }, allow: string[] = ['loopback']): FaultHooks {
  const api = new URL(apiUrl);
  if (!hostAllowed(api.hostname.replace(/^\[|\]$/g, ''), allow)) throw new LoadError(`${api.host} is not on the allow-list (${allow.join(', ')})`);
  const name = toxic.name ?? `tswarm_load_${toxic.type}`;
  const base = `${api.origin}/proxies/${encodeURIComponent(proxy)}/toxics`;
  const attrs = toxic.attributes ?? {};
  return {
    fault: { label: `${toxic.type} on ${proxy}${Object.keys(attrs).length ? ` (${Object.entries(attrs).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`, ...(toxic.type === 'latency' && attrs.latency !== undefined ? { latencyMs: attrs.latency } : {}) },
    async inject() {
      const r = await request(base, { method: 'POST', body: JSON.stringify({ ...toxic, name }), headers: { 'content-type': 'application/json' } });
      const text = await r.body.text();
      if (r.statusCode >= 300) throw new LoadError(`cannot add the toxic on ${proxy}: ${r.statusCode} ${text}`);
    },
    async rollback() {
      const r = await request(`${base}/${encodeURIComponent(name)}`, { method: 'DELETE' });
      await r.body.dump();
    },
  };
}

export async function loadUnderFault(o: UnderFaultOptions): Promise<UnderFaultResult> {
  const total = o.baselineS + o.faultS + o.recoveryS;
  let injected = false;
  let injectError: Error | undefined;
  const ac = new AbortController();
  o.signal?.addEventListener('abort', () => ac.abort(), { once: true });
  const on = setTimeout(() => {
    o.hooks
      .inject()
      .then(() => {
        injected = true;
        o.onEvent?.(`fault on: ${o.hooks.fault.label}`);
      })
      .catch((e: Error) => {
        injectError = e;
        ac.abort();
      });
  }, o.baselineS * 1000);
  const off = setTimeout(() => {
    void o.hooks.rollback().then(() => o.onEvent?.('fault off'), () => undefined);
  }, (o.baselineS + o.faultS) * 1000);
  let summary: LoadSummary;
  try {
    summary = await runLoad({ requests: o.requests, model: { type: 'open', rate: o.rate }, duration: total, phaseBoundsS: [o.baselineS, o.baselineS + o.faultS], thresholds: [], ...(o.allow ? { allow: o.allow } : {}), ...(o.connections ? { connections: o.connections } : {}), signal: ac.signal, maxDurationS: total + 5 });
  } finally {
    clearTimeout(on);
    clearTimeout(off);
    // Whatever happened, the fault does not outlive the run.
    await o.hooks.rollback().catch(() => undefined);
  }
  if (injectError) throw new LoadError(`fault injection failed, nothing measured: ${injectError.message}`);
  const [b, d, a] = summary.phases!;
  const verdict = assessLoadUnderFault(o.hooks.fault, b!, d!, a!, o.slo);
  return { summary, verdict, fault: o.hooks.fault, injected };
}
