/** Step test (closed model, rising virtual users) + USL fit + knee: the capacity of one request path. */
import { runLoad, type RequestSpec, type LoadSummary, type ScenarioFn } from './generator.js';
import { findKnee, fitUsl, type UslFit } from '../algorithms/load/analysis.js';

export interface CapacityResult {
  steps: { n: number; x: number; p95Ms: number; errorRate: number }[];
  usl?: UslFit;
  knee?: ReturnType<typeof findKnee>;
  error?: string;
}

export async function capacityTest(requests: RequestSpec[], opts: { levels?: number[]; stepS?: number; allow?: string[]; signal?: AbortSignal; script?: ScenarioFn; data?: unknown[]; onStep?: (n: number, s: LoadSummary) => void } = {}): Promise<CapacityResult> {
  const levels = opts.levels ?? [1, 2, 4, 8, 16, 32];
  const steps: CapacityResult['steps'] = [];
  for (const n of levels) {
    if (opts.signal?.aborted) break;
    const s = await runLoad({ requests, ...(opts.script ? { script: opts.script } : {}), ...(opts.data ? { data: opts.data } : {}), model: { type: 'closed', vus: n }, duration: opts.stepS ?? 5, connections: Math.max(n, 4), allow: opts.allow, signal: opts.signal });
    steps.push({ n, x: s.requests / Math.max(1e-9, s.durationS), p95Ms: s.latency.p95, errorRate: s.errorRate });
    opts.onStep?.(n, s);
  }
  const out: CapacityResult = { steps };
  try {
    out.usl = fitUsl(steps.map((s) => ({ n: s.n, x: s.x })));
  } catch (e) {
    out.error = (e as Error).message;
  }
  out.knee = findKnee(steps);
  return out;
}
