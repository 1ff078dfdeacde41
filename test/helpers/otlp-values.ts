/** OTLP field values as protobufjs takes them, for tests that build real protobuf payloads by hand. */

/** `n` in hex, left-padded to `w` digits (trace ids 32, span ids 16). */
export const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

/** A time in µs as the fixed64 unix nanoseconds OTLP carries, in protobufjs's Long shape. */
export const u64 = (us: number): { low: number; high: number } => {
  const ns = BigInt(us) * 1000n;
  return { low: Number(ns & 0xffffffffn) | 0, high: Number(ns >> 32n) | 0 };
};

export type Kv = { key: string; value: object };

/** An OTLP KeyValue from a JS value: strings, booleans, integer arrays, integers and doubles. */
export const kv = (key: string, v: unknown): Kv => ({
  key,
  value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Array.isArray(v) ? { arrayValue: { values: v.map((x) => ({ intValue: x as number })) } } : Number.isInteger(v) ? { intValue: v as number } : { doubleValue: v as number },
});
