/** Declaring, listing and ending maintenance windows: what the HTTP API and the CLI share. */
import type { MemoryStore } from '../../store/store.js';
import { describeMaintenance, MaintenanceInputError, parseMaintenance, type MaintenanceWindow } from '../../signals/maintenance-window.js';
import { endMaintenance, maintenanceIn, recordMaintenance } from '../maintenance-windows.js';
import { SwarmInputError, type ToolAnswer } from './swarm-api.js';
import { affectedBy } from '../own-disturbances.js';

const iso = (us: number): string => new Date(us / 1000).toISOString().replace(/\.000Z$/, 'Z');

/** "maintenance of db (index rebuild) 2026-12-03T10:00:00Z – 2026-12-03T12:00:00Z by alice". */
export function maintenanceLine(w: MaintenanceWindow): string {
  return `${w.id} ${describeMaintenance(w)} ${iso(w.fromUs)} – ${iso(w.toUs)}${w.endedUs !== undefined ? ' (ended early)' : ''}${w.by ? ` by ${w.by}` : ''}`;
}

export async function maintenanceRecord(store: MemoryStore, input: unknown, nowUs = Date.now() * 1000): Promise<ToolAnswer<{ window: MaintenanceWindow; covers: string[] | 'all' }>> {
  let w: MaintenanceWindow;
  try {
    w = parseMaintenance(input, nowUs);
  } catch (e) {
    if (e instanceof MaintenanceInputError) throw new SwarmInputError(e.message);
    throw e;
  }
  await recordMaintenance(store, w);
  const covers = await maintenanceCovers(store, w);
  return { summary: `declared ${maintenanceLine(w)}: the analysis leaves ${coversPhrase(w.service, covers)} out of this stretch, as it does the swarm's own experiments`, data: { window: w, covers } };
}

/** "db and its callers (api, frontend)", or "every service's telemetry (…why)". */
export function coversPhrase(service: string | undefined, covers: string[] | 'all'): string {
  if (covers === 'all') return `every service's telemetry${service ? ` (no call edge names ${service}: who depends on it is not known)` : ''}`;
  const callers = covers.filter((x) => x !== service);
  return callers.length ? `${service} and its callers (${callers.join(', ')})` : `${service} (nothing calls it)`;
}

/**
 * The services a window covers now: the one worked on and its callers by the knowledge graph's `calls` edges (as
 * the detectors will read it, own-disturbances.ts), or 'all'. Pass the edges when asking for several windows.
 */
export async function maintenanceCovers(store: MemoryStore, w: Pick<MaintenanceWindow, 'service'>, calls?: readonly { source: string; target: string }[]): Promise<string[] | 'all'> {
  if (!w.service) return 'all';
  return affectedBy(w.service, calls ?? (await store.graph.edges({ kind: 'calls' }))) ?? 'all';
}

/** Windows that end within the last `days` or later (current and planned ones included), newest start first. */
export async function maintenanceList(store: MemoryStore, args: { days?: number } = {}, nowUs = Date.now() * 1000): Promise<ToolAnswer<{ windows: MaintenanceWindow[] }>> {
  const days = args.days ?? 7;
  if (!(days > 0)) throw new SwarmInputError(`days must be positive (got ${days})`);
  const windows = (await maintenanceIn(store, { fromUs: nowUs - days * 86_400e6, toUs: Number.MAX_SAFE_INTEGER })).reverse();
  return { summary: maintenanceSummary(windows, days), data: { windows } };
}

/** The list as lines, or that there is none. */
export function maintenanceSummary(windows: readonly MaintenanceWindow[], days: number): string {
  return windows.length ? windows.map(maintenanceLine).join('\n') : `no maintenance windows in the last ${days} days or ahead`;
}

export async function maintenanceEnd(store: MemoryStore, id: string, nowUs = Date.now() * 1000): Promise<ToolAnswer<{ window: MaintenanceWindow }>> {
  const w = await endMaintenance(store, id, nowUs);
  if (!w) throw new SwarmInputError(`no maintenance window ${id} (see \`tswarm maintenance list\`)`);
  return { summary: `${w.endedUs === nowUs ? 'ended' : 'already over:'} ${maintenanceLine(w)}`, data: { window: w } };
}
