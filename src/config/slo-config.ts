/**
 * SLOs declared in the config file (`tswarm.config.yaml`, `slos:`), what the performance tester's burn-rate alerts
 * judge against:
 *
 *   slos:
 *     - service: checkout
 *       availability: 99.9          # % of requests that do not fail
 *     - service: checkout
 *       latency: 300ms              # a request slower than this is bad…
 *       objective: 99               # …and 99% of them must not be
 *     - service: "*"                # every service without its own
 *       availability: 99.5
 *       window: 28d                 # the error budget's rolling window (default 30d)
 *
 * Objectives are percentages, as people say them. A number under 50 is refused rather than read as a fraction
 * (0.999 would be a 0.999% objective: an error budget of 99%).
 */
import { z } from 'zod';
import type { Slo } from '../algorithms/perf/slo.js';
import { parseDurationMs } from '../algorithms/time/duration.js';

/** Where the declared SLOs are kept in memory (`tswarm analyze` / `serve` store the file's; every cycle reads them). */
export const SLO_CONFIG_KIND = 'slo-config';

export class SloConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SloConfigError';
  }
}

const percent = z
  .number()
  .refine((x) => x >= 50 && x < 100, { error: 'a percentage: at least 50 and under 100 (99.9 means 99.9%; 0.999 would be 0.999%)' });

const entry = z
  .strictObject({
    service: z.string().trim().min(1).max(200),
    availability: percent.optional(),
    latency: z.union([z.string().trim().min(1), z.number().positive()]).optional(),
    objective: percent.optional(),
    window: z.string().trim().regex(/^\d+(\.\d+)?\s*(h|d)$/, { error: 'a duration in hours or days, such as 30d or 28d' }).optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.availability === undefined) === (e.latency === undefined)) ctx.addIssue({ code: 'custom', message: 'give availability (a percentage) or latency (a threshold such as 300ms) with objective' });
    else if (e.latency !== undefined && e.objective === undefined) ctx.addIssue({ code: 'custom', path: ['objective'], message: 'a latency SLO needs objective: the percentage of requests under the threshold' });
    else if (e.availability !== undefined && e.objective !== undefined) ctx.addIssue({ code: 'custom', path: ['objective'], message: 'objective is for latency SLOs; availability is itself the objective' });
  });

/** 99.9 → 0.999 exactly as written (99.9 / 100 is 0.9990000000000001 in binary floating point). */
const fraction = (pct: number): number => +(pct / 100).toPrecision(12);

/** The `slos:` list of a config file, or an SloConfigError naming the entry and the field. */
export function parseSlos(input: unknown, where = 'slos'): Slo[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new SloConfigError(`${where}: a list of SLOs ({service, availability} or {service, latency, objective})`);
  return input.map((raw, i) => {
    const r = entry.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new SloConfigError(`${where}[${i}]${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
    }
    const e = r.data;
    const windowMs = e.window === undefined ? undefined : parseDurationMs(e.window);
    // An hour is the budget digest's resolution (agents/analysis/sli-history.ts); a year is past any retention.
    if (windowMs !== undefined && !(windowMs >= 3_600_000 && windowMs <= 366 * 86_400_000)) throw new SloConfigError(`${where}[${i}].window: between 1h and 366d (got ${e.window})`);
    const win = windowMs === undefined ? {} : { windowUs: windowMs * 1000 };
    if (e.availability !== undefined) return { service: e.service, kind: 'availability', objective: fraction(e.availability), ...win };
    let ms: number;
    try {
      // A bare number is milliseconds here (a latency threshold), not seconds as for durations elsewhere.
      ms = typeof e.latency === 'number' ? e.latency : /^\s*\d+(\.\d+)?\s*$/.test(e.latency!) ? Number(e.latency) : parseDurationMs(e.latency!);
    } catch {
      throw new SloConfigError(`${where}[${i}].latency: "${String(e.latency)}" is not a threshold (use e.g. 300ms, 1.5s)`);
    }
    if (!(ms > 0)) throw new SloConfigError(`${where}[${i}].latency: must be above 0`);
    return { service: e.service, kind: 'latency', objective: fraction(e.objective!), latencyMs: ms, ...win };
  });
}
