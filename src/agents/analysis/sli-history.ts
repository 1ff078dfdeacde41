/**
 * Hourly request totals per service over an SLO window (30 days by default), for error budgets. The burn-rate
 * status reads the last 6 h of rollups; a budget needs the whole window, which is too much to read again on every
 * dashboard refresh (at full resolution and after compaction, ~29,000 rollup rows per operation over 30 days).
 * So the closed hours are read once, merged per service into one hourly rollup (histogram included: latency SLOs
 * count off it), and kept per store; each later call reads only the hours closed since.
 *
 * An hour counts as closed 15 minutes after it ends. Data can still arrive into a closed hour (a Collector that
 * was cut off sends its backlog, a file is ingested late), and the budget must not stay short of it:
 *   - a caller's own recent read (the burn-rate status's last 6 h) is compared with the digest hour by hour and a
 *     service-hour with more requests in it replaces the digest's (more only: a caller's re-aggregation of a
 *     short window may hold fewer spans than the store, never more);
 *   - data older than that is counted when the digest is rebuilt, a day of data time after it was first read
 *     (one read of the window, ~1 s on SQLite for 30 days × 8 operations).
 * A call going back in time (a report on an older window) reads its window afresh and starts the cache over from it.
 */
import type { MemoryStore, Rollup } from '../../store/store.js';
import { mergeRollups } from '../../store/rollup.js';

const H = 3600e6;
const LATE_US = 15 * 60e6;
/** Data time after which the digest is read again in full: what arrived late beyond the callers' recent reads. */
export const REBUILD_US = 24 * H;

interface Digest {
  fromUs: number;
  closedToUs: number;
  /** Where the last full read stopped: a day after it, the digest is rebuilt. */
  builtToUs: number;
  /** Hourly rollups, one per service and hour (operation ''). */
  hours: Rollup[];
}

const cache = new WeakMap<MemoryStore, Digest>();
/** Per store, the last update: updates run one after the other, so two concurrent calls never add the same hours twice. */
const updates = new WeakMap<MemoryStore, Promise<unknown>>();

/**
 * One rollup per service and hour, dated by its first bucket with data rather than the hour's start: a budget's
 * coverage is counted from the first request, and a service that began at 06:58 has 20 minutes of data at 07:18,
 * not the 1.3 hours an hour-aligned 06:00 would give it.
 */
function perService(rs: readonly Rollup[]): Rollup[] {
  const first = new Map<string, number>();
  for (const r of rs) {
    const k = hourKey(r);
    const f = first.get(k);
    if (f === undefined || r.bucketStartUs < f) first.set(k, r.bucketStartUs);
  }
  return mergeRollups(rs.map((r) => ({ ...r, operation: '' })), H).map((r) => ({ ...r, bucketStartUs: first.get(hourKey(r)) ?? r.bucketStartUs }));
}

/** A service's hour, whatever bucket of it a rollup starts at. */
function hourKey(r: Rollup): string {
  return `${r.service}\u0000${Math.floor(r.bucketStartUs / H)}`;
}

/** The digest's hours in [from, closedToUs). */
function hoursIn(d: Digest, from: number, closedToUs: number): Rollup[] {
  return d.hours.filter((r) => r.bucketStartUs >= from && r.bucketStartUs < closedToUs);
}

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
  if (!d || from < d.fromUs || closedToUs < d.closedToUs || closedToUs - d.builtToUs >= REBUILD_US) {
    d = { fromUs: from, closedToUs: from, builtToUs: closedToUs, hours: [] };
    cache.set(store, d);
  }
  if (closedToUs > d.closedToUs) {
    const fresh = await store.telemetry.rollups({ window: { fromUs: d.closedToUs, toUs: closedToUs } });
    d.hours = [...d.hours.filter((r) => r.bucketStartUs >= from), ...perService(fresh)];
    d.fromUs = from;
    d.closedToUs = closedToUs;
  }
  return { hours: hoursIn(d, from, closedToUs), closedToUs };
}

/**
 * Late data the caller's recent rollups show: each whole closed hour they cover where a service has more
 * requests than the digest holds replaces the digest's hour (in the digest too, so it stays counted). Buckets
 * that do not tile the hour are left out (a fine re-aggregation at an odd step).
 */
function correctLate(store: MemoryStore, recent: readonly Rollup[], closedToUs: number): boolean {
  const d = cache.get(store);
  if (!d || d.closedToUs !== closedToUs || !recent.length) return false;
  let first = Infinity;
  for (const r of recent) if (r.bucketStartUs < first) first = r.bucketStartUs;
  const fromHour = Math.ceil(first / H) * H;
  if (fromHour >= closedToUs) return false;
  const seen = perService(recent.filter((r) => r.bucketStartUs >= fromHour && r.bucketStartUs < closedToUs && H % r.bucketUs === 0));
  let changed = false;
  const at = new Map(d.hours.map((r, i) => [hourKey(r), i]));
  for (const r of seen) {
    const i = at.get(hourKey(r));
    if (i === undefined) d.hours.push(r);
    else if (r.requests > d.hours[i]!.requests) d.hours[i] = r;
    else continue;
    changed = true;
  }
  return changed;
}

/**
 * Every request of [fromUs, nowUs) as rollups: the closed hours from the digest, the open ones from `recent` (the
 * caller's own read) when it reaches back to where the digest stops, else read here.
 */
export async function windowRollups(store: MemoryStore, fromUs: number, nowUs: number, recent: readonly Rollup[] = [], services?: string[]): Promise<Rollup[]> {
  const read = await closedHours(store, fromUs, nowUs);
  const closedToUs = read.closedToUs;
  const hours = correctLate(store, recent, closedToUs) ? hoursIn(cache.get(store)!, Math.floor(fromUs / H) * H, closedToUs) : read.hours;
  let first = Infinity;
  for (const r of recent) if (r.bucketStartUs < first) first = r.bucketStartUs;
  const reaches = first <= closedToUs;
  const open = reaches ? recent.filter((r) => r.bucketStartUs >= closedToUs && r.bucketStartUs < nowUs) : await store.telemetry.rollups({ window: { fromUs: closedToUs, toUs: nowUs }, ...(services ? { services } : {}) });
  const keep = services ? new Set(services) : undefined;
  return [...hours.filter((r) => !keep || keep.has(r.service)), ...open.filter((r) => !keep || keep.has(r.service))];
}

/** Per service, the start of its first bucket among `rs` (finer than the series an hourly digest makes of them). */
export function firstStarts(rs: readonly Rollup[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rs) {
    const f = out.get(r.service);
    if (f === undefined || r.bucketStartUs < f) out.set(r.service, r.bucketStartUs);
  }
  return out;
}
