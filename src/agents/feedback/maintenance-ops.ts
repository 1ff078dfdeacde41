/** Declaring, listing and ending maintenance windows: what the HTTP API and the CLI share. */
import type { MemoryStore } from '../../store/store.js';
import { describeMaintenance, MaintenanceInputError, parseMaintenance, type MaintenanceWindow } from '../../signals/maintenance-window.js';
import { endMaintenance, maintenanceIn, recordMaintenance } from '../maintenance-windows.js';
import { SwarmInputError, type ToolAnswer } from './swarm-api.js';

const iso = (us: number): string => new Date(us / 1000).toISOString().replace(/\.000Z$/, 'Z');

/** "maintenance of db (index rebuild) 2026-12-03T10:00:00Z – 2026-12-03T12:00:00Z by alice". */
export function maintenanceLine(w: MaintenanceWindow): string {
  return `${w.id} ${describeMaintenance(w)} ${iso(w.fromUs)} – ${iso(w.toUs)}${w.endedUs !== undefined ? ' (ended early)' : ''}${w.by ? ` by ${w.by}` : ''}`;
}

export async function maintenanceRecord(store: MemoryStore, input: unknown, nowUs = Date.now() * 1000): Promise<ToolAnswer<{ window: MaintenanceWindow }>> {
  let w: MaintenanceWindow;
  try {
    w = parseMaintenance(input, nowUs);
  } catch (e) {
    if (e instanceof MaintenanceInputError) throw new SwarmInputError(e.message);
    throw e;
  }
  await recordMaintenance(store, w);
  return { summary: `declared ${maintenanceLine(w)}: the analysis leaves this stretch out, as it does the swarm's own experiments`, data: { window: w } };
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
