/** Items grouped by a key, in first-seen order of the keys and input order within each group (Node 20 has no Map.groupBy). */
export function groupBy<T, K>(xs: Iterable<T>, key: (x: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = out.get(k);
    if (g) g.push(x);
    else out.set(k, [x]);
  }
  return out;
}
