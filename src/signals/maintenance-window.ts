/**
 * Declared maintenance windows: planned work whose effects are expected (a database migration, a failover drill, a
 * load test by another team), as Alertmanager silences, PagerDuty maintenance windows or Datadog downtimes declare
 * them. The analysis treats one like the swarm's own chaos experiments and load tests (agents/own-disturbances.ts):
 * its stretch is neither baseline nor anomaly, regression, log burst or incident onset, and the report shades it.
 * Error budgets still count it: users saw those errors.
 *
 * Bounded on purpose: a window lasts at most MAX_MAINTENANCE_US and starts at most that far ahead, so a silence
 * cannot be set to hide a service for good; one can be ended early.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseDurationMs } from '../algorithms/time/duration.js';
import { instantUs } from './change-event.js';

export interface MaintenanceWindow {
  id: string;
  /** The service being worked on: it and its callers (by the call graph) are left out; absent, or unknown to the graph: all. */
  service?: string;
  reason: string;
  fromUs: number;
  toUs: number;
  by?: string;
  url?: string;
  /** When it was declared, and when it was ended early (toUs moved to then). */
  declaredUs: number;
  endedUs?: number;
}

/** A week: the longest planned work a silence should cover, and how far ahead it may be declared. */
export const MAX_MAINTENANCE_US = 7 * 86_400e6;

const text = (max: number) => z.string().trim().min(1).max(max);
const time = z.union([z.string().trim().min(1), z.number()]);

export const maintenanceInputSchema = z
  .strictObject({
    service: text(200).optional(),
    reason: text(500),
    from: time.optional(),
    to: time.optional(),
    duration: text(20).optional(),
    by: text(200).optional(),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000).optional(),
  })
  .describe('planned work: {reason, service?, from? (ISO time, epoch ms or "now"; default now), to or duration ("2h"), by?, url?}');

export class MaintenanceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaintenanceInputError';
  }
}

const fail = (m: string): Error => new MaintenanceInputError(m);

/** A maintenance window from what a caller sent, or a MaintenanceInputError naming the field. */
export function parseMaintenance(input: unknown, nowUs = Date.now() * 1000): MaintenanceWindow {
  const r = maintenanceInputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.');
    throw fail(`${path ? `${path}: ` : ''}${issue.message}`);
  }
  const m = r.data;
  if ((m.to === undefined) === (m.duration === undefined)) throw fail('give exactly one of to (an end time) or duration (e.g. "2h")');
  const fromUs = instantUs(m.from, undefined, nowUs, { where: '', field: 'from', aheadUs: MAX_MAINTENANCE_US, ahead: 'a week', fail });
  let toUs: number;
  if (m.duration !== undefined) {
    let ms: number;
    try {
      ms = parseDurationMs(m.duration);
    } catch (e) {
      throw fail(`duration: ${(e as Error).message}`);
    }
    toUs = fromUs + Math.round(ms * 1000);
  } else toUs = instantUs(m.to, undefined, nowUs, { where: '', field: 'to', aheadUs: 2 * MAX_MAINTENANCE_US, ahead: 'two weeks', fail });
  if (toUs <= fromUs) throw fail(`the window ends (${new Date(toUs / 1000).toISOString()}) before it starts (${new Date(fromUs / 1000).toISOString()})`);
  if (toUs - fromUs > MAX_MAINTENANCE_US) throw fail(`a maintenance window lasts at most a week (got ${+((toUs - fromUs) / 3600e6).toFixed(1)} h): declare the next one when it comes`);
  const id = `mw-${createHash('sha256').update([m.service ?? '', fromUs, m.reason].join('\u0000')).digest('hex').slice(0, 12)}`;
  return {
    id,
    ...(m.service !== undefined ? { service: m.service } : {}),
    reason: m.reason,
    fromUs,
    toUs,
    ...(m.by !== undefined ? { by: m.by } : {}),
    ...(m.url !== undefined ? { url: new URL(m.url).href } : {}),
    declaredUs: nowUs,
  };
}

/** "maintenance of db (index rebuild)", "maintenance (network upgrade)". */
export function describeMaintenance(w: Pick<MaintenanceWindow, 'service' | 'reason'>): string {
  return `maintenance${w.service ? ` of ${w.service}` : ''} (${w.reason})`;
}

/** The window ended at `nowUs` if it was still going (one not begun yet ends at its start: cancelled). */
export function endedEarly(w: MaintenanceWindow, nowUs: number): MaintenanceWindow {
  if (nowUs >= w.toUs) return w;
  return { ...w, toUs: Math.max(w.fromUs, nowUs), endedUs: nowUs };
}
