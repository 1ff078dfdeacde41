/**
 * Journals → resilience gaps. Compares the steady-state probes before and during the fault and names the
 * mechanism that is most likely missing, from what was injected and how the symptom relates to it:
 *  - injected latency L and the user-facing latency grew by about L or more → the caller waits it out: no timeout;
 *    grew by several L → retries without a timeout budget (or a retry storm);
 *  - blackhole/timeout and calls hang to the probe's own timeout → no timeout;
 *  - injected errors/resets and the user-facing error rate rose → no retry with backoff / no fallback; rising at
 *    least as much as the injected rate → failures pass straight through (no circuit breaker, no fallback);
 *  - the hypothesis held → the dependency is handled (a resilience learning, not a gap).
 */
import type { Journal } from '../../chaos/experiment.js';

export interface ResilienceGap {
  experiment: string;
  held: boolean;
  caller?: string;
  dependency?: string;
  fault: string;
  mechanism: 'no-timeout' | 'retry-storm' | 'no-retry-or-fallback' | 'no-fallback' | 'cascading-failure' | 'none';
  statement: string;
  before: Record<string, number>;
  during: Record<string, number>;
  evidence: string[];
  severity: 'low' | 'medium' | 'high';
}

function numbers(o: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/** A probe's numbers as a person reads them: "4 requests, p50 26 ms, p95 58 ms, 0% errors" (other keys as k=v). */
export function describeProbe(o: Record<string, number>): string {
  const ms = (x: number): string => `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ms`;
  const parts: string[] = [];
  const known = new Set(['requests', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'latency_ms', 'error_rate', 'status']);
  if (o.requests !== undefined) parts.push(`${o.requests} request${o.requests === 1 ? '' : 's'}`);
  if (o.status !== undefined) parts.push(`HTTP ${o.status}`);
  for (const k of ['latency_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms'] as const) if (o[k] !== undefined) parts.push(`${k === 'latency_ms' ? 'latency' : k.slice(0, -3)} ${ms(o[k])}`);
  if (o.error_rate !== undefined) parts.push(`${+(100 * o.error_rate).toFixed(1)}% errors`);
  for (const [k, v] of Object.entries(o)) if (!known.has(k)) parts.push(`${k}=${+v.toPrecision(4)}`);
  return parts.join(', ') || 'no numbers';
}

export function gapsFromJournal(j: Journal): ResilienceGap[] {
  if (j.dry_run || !j.steady_states.before?.steady_state_met || !j.steady_states.after) return [];
  const target = j.experiment.configuration?.target ?? {};
  const toxics = j.run.filter((r) => r.activity.type === 'action' && r.activity.provider.type === 'toxic' && r.status === 'succeeded').map((r) => r.activity.provider.toxic!);
  const httpFaults = j.run.filter((r) => r.activity.type === 'action' && r.activity.provider.type === 'http' && r.status === 'succeeded').map((r) => r.activity.provider.body as { fault?: string; params?: Record<string, number> } | undefined);
  const injectedLatency = Math.max(0, ...toxics.filter((t) => t.type === 'latency').map((t) => t.attributes?.latency ?? 0), ...httpFaults.filter((f) => f?.fault === 'delay').map((f) => Number(f?.params?.ms ?? 0)));
  const blackhole = toxics.some((t) => t.type === 'timeout') || httpFaults.some((f) => f?.fault === 'hang');
  const errorFault = toxics.some((t) => ['http_error', 'reset_peer', 'http_abort', 'limit_data'].includes(t.type)) || httpFaults.some((f) => ['error', 'loss', 'outage', 'exception'].includes(String(f?.fault)));
  const args = (o: Record<string, unknown> | undefined): string => {
    const kv = Object.entries(o ?? {}).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    return kv.length ? ` (${kv.join(', ')})` : '';
  };
  const fault = [...toxics.map((t) => `${t.type}${args(t.attributes)}`), ...httpFaults.filter(Boolean).map((f) => `${f!.fault}${args(f!.params)}`)].join(', ') || 'fault';
  const out: ResilienceGap[] = [];
  const before = j.steady_states.before.probes;
  const after = j.steady_states.after.probes;
  after.forEach((a, i) => {
    const b = before[i];
    const bn = numbers(b?.output);
    const an = numbers(a.output);
    const evidence = [`probe ${a.activity.name}: before ${describeProbe(bn)}; during the fault ${describeProbe(an)}`, `injected: ${fault}`];
    const held = a.tolerance_met === true;
    const latB = bn.p95_ms ?? bn.latency_ms ?? 0;
    const latA = an.p95_ms ?? an.latency_ms ?? (a.status === 'failed' ? Infinity : 0);
    const errB = bn.error_rate ?? (bn.status !== undefined && bn.status >= 500 ? 1 : 0);
    const errA = an.error_rate ?? (a.status === 'failed' ? 1 : an.status !== undefined && an.status >= 500 ? 1 : 0);
    let mechanism: ResilienceGap['mechanism'] = 'none';
    let statement: string;
    const who = target.caller && target.dependency ? `${target.caller} → ${target.dependency}` : target.dependency ?? 'the dependency';
    if (held) statement = `${who} tolerates ${fault}: ${a.activity.name} stayed within its tolerance`;
    else if (blackhole && latA >= 0.9 * ((a.activity.provider.timeout ?? 10) * 1000)) {
      mechanism = 'no-timeout';
      statement = `${who}: calls hang while the dependency does not answer — no client timeout`;
    } else if (injectedLatency > 0 && latA - latB >= 2.5 * injectedLatency) {
      mechanism = 'retry-storm';
      statement = `${who}: ${injectedLatency} ms of injected latency became +${(latA - latB).toFixed(0)} ms for users — retries without a timeout budget`;
    } else if (injectedLatency > 0 && latA - latB >= 0.7 * injectedLatency) {
      mechanism = 'no-timeout';
      statement = `${who}: users wait out the full ${injectedLatency} ms of injected latency (+${(latA - latB).toFixed(0)} ms p95) — no timeout or fallback on this call`;
    } else if (errorFault && errA - errB > 0) {
      mechanism = errA >= 0.5 ? 'no-fallback' : 'no-retry-or-fallback';
      statement = `${who}: injected failures reach users (error rate ${(100 * errB).toFixed(0)}% → ${(100 * errA).toFixed(0)}%) — ${mechanism === 'no-fallback' ? 'no fallback or circuit breaker' : 'no retry with backoff or fallback'}`;
    } else {
      mechanism = 'cascading-failure';
      statement = `${who}: ${a.activity.name} broke its tolerance under ${fault}`;
    }
    out.push({ experiment: j.experiment.title, held, ...(target.caller ? { caller: target.caller } : {}), ...(target.dependency ? { dependency: target.dependency } : {}), fault, mechanism, statement, before: bn, during: an, evidence, severity: held ? 'low' : errA >= 0.5 || mechanism === 'no-timeout' ? 'high' : 'medium' });
  });
  return out;
}
