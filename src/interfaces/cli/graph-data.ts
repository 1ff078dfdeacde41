/** Loads stored spans and builds the dependency map; shared by the graph commands. */
import { buildDependencyMap, type DependencyMap } from '../../algorithms/graph/dependency-map.js';
import type { Span } from '../../signals/model.js';
import { openExistingStore } from './store-access.js';

export async function loadDependencyMap(db: string, windowMs?: number): Promise<{ map: DependencyMap; spans: Span[] }> {
  const store = await openExistingStore(db);
  try {
    const stats = await store.telemetry.stats();
    const last = Math.max(0, ...stats.map((s) => s.lastUs ?? 0));
    const window = windowMs && last ? { fromUs: last - windowMs * 1000, toUs: last + 1 } : undefined;
    const spans = await store.telemetry.querySpans({ window, limit: 2_000_000 });
    return { map: buildDependencyMap(spans), spans };
  } finally {
    await store.close();
  }
}
