/**
 * Hourly request totals per service over an SLO window (30 days by default), for error budgets. The burn-rate
 * status reads the last 6 h of rollups; a budget needs the whole window, which is too much to read again on every
 * dashboard refresh (at full resolution and after compaction, ~29,000 rollup rows per operation over 30 days).
 * So the closed hours are read once, merged per service into one hourly rollup (histogram included: latency SLOs
 * count off it), and kept per store; each later call reads only the hours closed since.
 *
 * An hour counts as closed 15 minutes after it ends (data arriving later than that into a closed hour is not in
 * the budget until the process restarts). A call going back in time (a report on an older window) reads its
 * window afresh and starts the cache over from it.
 */
import type { MemoryStore, Rollup } from '../../store/store.js';
import { mergeRollups } from '../../store/rollup.js';

const H = 3600e6;
const LATE_US = 15 * 60e6;

interface Digest {
  fromUs: number;
  closedToUs: number;
  /** Hourly rollups, one per service and hour (operation ''). */
  hours: Rollup[];
}

const cache = new WeakMap<MemoryStore, Digest>();
/** Per store, the last update: updates run one after the other, so two concurrent calls never add the same hours twice. */
const updates = new WeakMap<MemoryStore, Promise<unknown>>();

const perService = (rs: readonly Rollup[]): Rollup[] => mergeRollups(rs.map((r) => ({ ...r, operation: '' })), H);

/**
 * Hourly per-service rollups of the closed hours in [fromUs, the last closed hour before nowUs), and where they
 * stop: the caller adds its own recent rollups from there on.
 */
export function closedHours(store: MemoryStore, fromUs: number, nowUs: number): Promise<{ hours: Rollup[]; closedToUs: number }> {
  const run = (updates.get(store) ?? Promise.resolve()).then(() => update(store, fromUs, nowUs));
  updates.set(store, run.catch(() => undefined));
  return run;
}

async function update(store: MemoryStore, fromUs: number, nowUs: number): Promise<{ hours: Rollup[]; closedToUs: number }> {
  const from = Math.floor(fromUs / H) * H;
  const closedToUs = Math.max(from, Math.floor((nowUs - LATE_US) / H) * H);
  let d = cache.get(store);
  if (!d || from < d.fromUs || closedToUs < d.closedToUs) {
    d = { fromUs: from, closedToUs: from, hours: [] };
    cache.set(store, d);
  }
  if (closedToUs > d.closedToUs) {
    const fresh = await store.telemetry.rollups({ window: { fromUs: d.closedToUs, toUs: closedToUs } });
    d.hours = [...d.hours.filter((r) => r.bucketStartUs >= from), ...perService(fresh)];
    d.fromUs = from;
    d.closedToUs = closedToUs;
  }
  return { hours: d.hours.filter((r) => r.bucketStartUs >= from && r.bucketStartUs < closedToUs), closedToUs };
}

/**
 * Every request of [fromUs, nowUs) as rollups: the closed hours from the digest, the open ones from `recent` (the
 * caller's own read) when it reaches back to where the digest stops, else read here.
 */
export async function windowRollups(store: MemoryStore, fromUs: number, nowUs: number, recent: readonly Rollup[] = [], services?: string[]): Promise<Rollup[]> {
  const { hours, closedToUs } = await closedHours(store, fromUs, nowUs);
  let first = Infinity;
  for (const r of recent) if (r.bucketStartUs < first) first = r.bucketStartUs;
  const reaches = first <= closedToUs;
  const open = reaches ? recent.filter((r) => r.bucketStartUs >= closedToUs && r.bucketStartUs < nowUs) : await store.telemetry.rollups({ window: { fromUs: closedToUs, toUs: nowUs }, ...(services ? { services } : {}) });
  const keep = services ? new Set(services) : undefined;
  return [...hours.filter((r) => !keep || keep.has(r.service)), ...open.filter((r) => !keep || keep.has(r.service))];
}
