/** Durations like `500ms`, `10s`, `5m`, `2h`, `3d` (bare numbers are seconds) → milliseconds. */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 500ms, 10s, 5m, 2h, 3d)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * factor;
}

/** A length in seconds as people say it: "40 s", "25 min", "2.5 h". */
export function spanLabel(s: number): string {
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${+(s / 3600).toFixed(1)} h`;
}
