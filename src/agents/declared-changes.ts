/**
 * Declared changes (signals/change-event.ts) in memory: recorded by the interfaces, read by the agents that tie
 * effects to causes (the performance tester's regressions and anomalies, the root-cause analyzer) and by the report
 * (timeline, deploy markers on the plots).
 */
import type { MemoryStore } from '../store/store.js';
import { changeKey, type ChangeEvent } from '../signals/change-event.js';
import type { SystemChange } from '../algorithms/perf/regressions.js';

export const CHANGE_KIND = 'change-event';

/** Newest records read per query: a busy fleet's changes over the days an analysis window spans. */
const READ_LIMIT = 20_000;

export async function recordChanges(store: Pick<MemoryStore, 'patterns'>, changes: readonly ChangeEvent[]): Promise<void> {
  await store.patterns.putMany(CHANGE_KIND, changes.map((c) => ({ key: changeKey(c), value: c, service: c.service })));
}

/** Declared changes made in [fromUs, toUs], oldest first; only `services`' when given. */
export async function declaredChanges(store: Pick<MemoryStore, 'patterns'>, window: { fromUs: number; toUs: number }, services?: readonly string[]): Promise<ChangeEvent[]> {
  const want = services ? new Set(services) : undefined;
  const rows = want?.size === 1 ? await store.patterns.list<ChangeEvent>(CHANGE_KIND, { service: [...want][0]!, limit: READ_LIMIT }) : await store.patterns.list<ChangeEvent>(CHANGE_KIND, { limit: READ_LIMIT });
  return rows
    .map((r) => r.value)
    .filter((c) => c.atUs >= window.fromUs && c.atUs <= window.toUs && (!want || want.has(c.service)))
    .sort((a, b) => a.atUs - b.atUs || a.service.localeCompare(b.service));
}

/** As the regression analysis compares them with the changes seen on spans. */
export function asSystemChange(c: ChangeEvent): SystemChange {
  return {
    kind: c.kind,
    service: c.service,
    key: c.key,
    value: c.value,
    ...(c.previous !== undefined ? { previous: c.previous } : {}),
    atUs: c.atUs,
    declared: { ...(c.by !== undefined ? { by: c.by } : {}), ...(c.url !== undefined ? { url: c.url } : {}), ...(c.description !== undefined ? { description: c.description } : {}) },
  };
}
