/**
 * Maps as entry arrays and objects as plain objects, recursively: deepStrictEqual on the result also checks the
 * order of map entries, which the differential tests of the RCA reads need (same answer, same order).
 */
export function ordered(x: unknown): unknown {
  if (x instanceof Map) return [...x].map(([k, v]) => [k, ordered(v)]);
  if (Array.isArray(x)) return x.map(ordered);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, ordered(v)]));
  return x;
}
