/**
 * "Load under fault": the same steady load before, during and after a fault, read as an SLO and error-budget
 * question — did users feel the fault, how much budget did it burn, did the system come back — and, when users
 * felt it, which resilience mechanism is most likely missing. Pure: phase statistics in, verdict out.
 */

export interface PhaseNumbers {
  requests: number;
  errors: number;
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface InjectedFault {
  label: string;
  /** Added latency in ms when the fault is a slow dependency. */
  latencyMs?: number;
}

export interface Slo {
  /** p95 latency objective, ms. */
  p95Ms: number;
  /** Error-rate objective (e.g. 0.01). */
  errorRate: number;
}

export interface UnderFaultVerdict {
  gap: boolean;
  severity: 'high' | 'medium' | 'low' | 'info';
  /** The likely missing mechanism, when there is a gap. */
  mechanism?: string;
  /** Error budget the fault phase spent, in multiples of its own share (1 = exactly the allowed errors). */
  budgetBurn: number;
  p95Inflation: number;
  recovered: boolean;
  chain: string[];
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export function assessLoadUnderFault(fault: InjectedFault, baseline: PhaseNumbers, during: PhaseNumbers, after: PhaseNumbers, slo: Slo): UnderFaultVerdict {
  const budgetBurn = during.errors / Math.max(1e-9, slo.errorRate * Math.max(1, during.requests));
  const p95Inflation = during.p95 / Math.max(0.001, baseline.p95);
  const latencyBreach = during.p95 > slo.p95Ms;
  const errorBreach = during.errorRate > slo.errorRate;
  const recovered = after.p95 <= Math.max(slo.p95Ms, 1.5 * baseline.p95) && after.errorRate <= Math.max(slo.errorRate, 2 * baseline.errorRate);
  const chain = [
    `baseline: p95 ${baseline.p95.toFixed(1)} ms, errors ${pct(baseline.errorRate)} (${baseline.requests} requests)`,
    `during ${fault.label}: p95 ${during.p95.toFixed(1)} ms (×${p95Inflation.toFixed(1)}), errors ${pct(during.errorRate)} (${during.requests} requests)`,
    `after: p95 ${after.p95.toFixed(1)} ms, errors ${pct(after.errorRate)}`,
    `SLO p95 < ${slo.p95Ms} ms, errors < ${pct(slo.errorRate)}: error budget burned ${budgetBurn.toFixed(1)}× its share during the fault`,
  ];
  let mechanism: string | undefined;
  if (latencyBreach && !errorBreach && fault.latencyMs !== undefined && during.p95 >= baseline.p95 + 0.8 * fault.latencyMs) {
    mechanism = `no timeout: the dependency's ${fault.latencyMs} ms passes straight through to users`;
  } else if (errorBreach && during.p50 <= Math.max(2 * baseline.p50, baseline.p50 + 20)) {
    mechanism = 'no fallback: the dependency fails fast and its failure becomes the user-facing error';
  } else if (errorBreach && latencyBreach) {
    mechanism = 'timeouts fire but nothing degrades gracefully (no fallback or circuit breaker): users wait, then fail';
  } else if (latencyBreach) {
    mechanism = 'latency amplification: the slow dependency is called more than once per request, or queues build behind it';
  } else if (errorBreach) {
    mechanism = 'errors leak to users: no retry with backoff or fallback on the failing dependency';
  }
  if (!recovered) {
    chain.push('did not recover within the observation window after the fault ended (queues or retries still draining)');
    mechanism = mechanism ? `${mechanism}; slow recovery after the fault` : 'slow recovery after the fault: queues or retries still draining';
  }
  const gap = latencyBreach || errorBreach || !recovered;
  const severity = !gap ? 'info' : budgetBurn >= 10 || p95Inflation >= 10 ? 'high' : budgetBurn >= 1 || p95Inflation >= 3 ? 'medium' : 'low';
  return { gap, severity, ...(mechanism ? { mechanism } : {}), budgetBurn, p95Inflation, recovered, chain };
}
