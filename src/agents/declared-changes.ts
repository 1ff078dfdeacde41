/**
 * Declared changes (signals/change-event.ts) in memory: recorded by the interfaces, read by the agents that tie
 * effects to causes (the performance tester's regressions and anomalies, the root-cause analyzer) and by the report
 * (timeline, deploy markers on the plots).
 */
import type { MemoryStore } from '../store/store.js';
import { changeKey, declaredBy, type ChangeEvent } from '../signals/change-event.js';
import type { SystemChange } from '../algorithms/perf/regressions.js';
import type { Finding } from '../fleet/contracts.js';
import { groupBy } from '../util/group-by.js';

export const CHANGE_KIND = 'change-event';

/**
 * A change may be declared up to a day ahead of its time (change-event.ts), and the telemetry's clock may run
 * ahead of the server's: records written this long before a window starts cannot be in it.
 */
const DECLARED_AHEAD_US = 86_400e6 + 3600e6;

export async function recordChanges(store: Pick<MemoryStore, 'patterns'>, changes: readonly ChangeEvent[]): Promise<void> {
  await store.patterns.putMany(CHANGE_KIND, changes.map((c) => ({ key: changeKey(c), value: c, service: c.service })));
}

/** Declared changes made in [fromUs, toUs], oldest first; only `services`' when given. */
export async function declaredChanges(store: Pick<MemoryStore, 'patterns'>, window: { fromUs: number; toUs: number }, services?: readonly string[]): Promise<ChangeEvent[]> {
  const want = services ? new Set(services) : undefined;
  const since = window.fromUs - DECLARED_AHEAD_US;
  const rows = await store.patterns.list<ChangeEvent>(CHANGE_KIND, { ...(want?.size === 1 ? { service: [...want][0]! } : {}), updatedSinceUs: since });
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
    declared: declaredBy(c),
  };
}

/** A deploy or config change as finding evidence (nothing without one): declared, announced in a log or seen on spans. */
export function changeEvidence(change: SystemChange | undefined): Pick<Finding['evidence'], 'deploys' | 'configChanges'> {
  if (!change) return {};
  const declared = change.declared ? { declared: change.declared } : {};
  if (change.kind === 'deploy') return { deploys: [{ service: change.service, version: change.value, atUs: change.atUs, ...declared }] };
  return { configChanges: [{ service: change.service, key: change.key, value: change.value, ...(change.previous !== undefined ? { previous: change.previous } : {}), atUs: change.atUs, ...(change.kind === 'flag' ? { kind: 'flag' as const } : {}), ...declared }] };
}

/**
 * The changes findings cite that a service only announced in its log (`declared.source: 'log'`), as change
 * events: recorded by the agent that made the findings, so the change list, the dashboard, the report's timeline
 * and the next cycle's agents know of them as of a declared change (still said to be announced, never declared).
 */
export function announcedChangesCited(findings: readonly Pick<Finding, 'evidence'>[]): ChangeEvent[] {
  const out = new Map<string, ChangeEvent>();
  for (const f of findings) {
    for (const c of f.evidence.configChanges ?? []) {
      if (c.declared?.source !== 'log') continue;
      const e = announcedEvent({ ...c, kind: c.kind ?? 'config' });
      out.set(changeKey(e), e);
    }
  }
  return [...out.values()];
}

/** A change read from a log line (announced-changes.ts) as a change event of the change list. */
export function announcedEvent(c: SystemChange): ChangeEvent {
  const { by, description } = c.declared ?? {};
  return {
    kind: c.kind === 'flag' ? 'flag' : 'config',
    service: c.service,
    key: c.key,
    value: c.value,
    ...(c.previous !== undefined ? { previous: c.previous } : {}),
    atUs: c.atUs,
    ...(by !== undefined ? { by } : {}),
    ...(description !== undefined ? { description } : {}),
    source: 'log',
  };
}

/** How far back the value a setting had is looked up: a restatement of it is no change. */
const RESTATED_LOOKBACK_US = 7 * 86_400e6;

/**
 * Records announced changes: the same announcement once however many cycles see it; never over a change someone
 * declared with the same service, key and time (the declaration says more); and not when it restates the value
 * the setting already had in memory (a service that re-announces its settings on every reload, rarer than three
 * times in the lines read, changed nothing).
 */
export async function recordAnnouncedChanges(store: Pick<MemoryStore, 'patterns'>, changes: readonly ChangeEvent[]): Promise<number> {
  const fresh: ChangeEvent[] = [];
  // One read per service: what it already has (a change recorded under the same key has the same time) and the
  // values its settings had before.
  for (const [service, mine] of groupBy(changes, (c) => c.service)) {
    const times = mine.map((c) => c.atUs);
    const history = await declaredChanges(store, { fromUs: Math.min(...times) - RESTATED_LOOKBACK_US, toUs: Math.max(...times) }, [service]);
    const keys = new Set(history.map(changeKey));
    for (const c of [...mine].sort((a, b) => a.atUs - b.atUs)) {
      if (keys.has(changeKey(c))) continue;
      const last = history.filter((d) => d.kind === c.kind && d.key === c.key && d.atUs < c.atUs && d.atUs >= c.atUs - RESTATED_LOOKBACK_US).sort((a, b) => a.atUs - b.atUs).at(-1);
      if (last && last.value === c.value && c.value !== '') continue;
      fresh.push(c);
      history.push(c);
      keys.add(changeKey(c));
    }
  }
  if (fresh.length) await recordChanges(store, fresh);
  return fresh.length;
}

/** Records announcedChangesCited(findings) (recordAnnouncedChanges). */
export function recordAnnounced(store: Pick<MemoryStore, 'patterns'>, findings: readonly Pick<Finding, 'evidence'>[]): Promise<number> {
  return recordAnnouncedChanges(store, announcedChangesCited(findings));
}
