/** Declared maintenance windows (signals/maintenance-window.ts) in memory: recorded by the interfaces, read as known disturbances. */
import type { MemoryStore } from '../store/store.js';
import { endedEarly, MAX_MAINTENANCE_US, type MaintenanceWindow } from '../signals/maintenance-window.js';

export const MAINTENANCE_KIND = 'maintenance-window';

/** A window is declared at most a week ahead and lasts at most a week: older records cannot reach a window. */
const REACH_US = 2 * MAX_MAINTENANCE_US + 3600e6;

export async function recordMaintenance(store: Pick<MemoryStore, 'patterns'>, w: MaintenanceWindow): Promise<void> {
  await store.patterns.put(MAINTENANCE_KIND, w.id, w, w.service ? { service: w.service } : {});
}

/** The windows overlapping [fromUs, toUs], oldest first (ended-before-they-began ones left out). */
export async function maintenanceIn(store: Pick<MemoryStore, 'patterns'>, window: { fromUs: number; toUs: number }): Promise<MaintenanceWindow[]> {
  const rows = await store.patterns.list<MaintenanceWindow>(MAINTENANCE_KIND, { updatedSinceUs: window.fromUs - REACH_US });
  return rows
    .map((r) => r.value)
    .filter((w) => w.toUs > w.fromUs && w.toUs >= window.fromUs && w.fromUs <= window.toUs)
    .sort((a, b) => a.fromUs - b.fromUs || a.id.localeCompare(b.id));
}

/** Ends a window now (or cancels one not begun); undefined when there is no such window. */
export async function endMaintenance(store: Pick<MemoryStore, 'patterns'>, id: string, nowUs: number): Promise<MaintenanceWindow | undefined> {
  const r = await store.patterns.get<MaintenanceWindow>(MAINTENANCE_KIND, id);
  if (!r) return undefined;
  const ended = endedEarly(r.value, nowUs);
  if (ended !== r.value) await recordMaintenance(store, ended);
  return ended;
}
