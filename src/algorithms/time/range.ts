/**
 * Time ranges as people write them: "last 4 hours", "last 15m", "past 2 days", an ISO interval
 * "2026-11-24T10:00:00Z/2026-11-24T12:00:00Z", or "since 2026-11-24T10:00Z". Relative ranges end at `nowUs`
 * (the newest stored telemetry when analysing recorded data, so "last hour" means the last hour of the data).
 */
import type { TimeWindow } from '../../fleet/contracts.js';

const UNIT_US: Record<string, number> = {
  ms: 1e3, millisecond: 1e3, milliseconds: 1e3,
  s: 1e6, sec: 1e6, secs: 1e6, second: 1e6, seconds: 1e6,
  m: 60e6, min: 60e6, mins: 60e6, minute: 60e6, minutes: 60e6,
  h: 3600e6, hr: 3600e6, hrs: 3600e6, hour: 3600e6, hours: 3600e6,
  d: 86400e6, day: 86400e6, days: 86400e6,
  w: 604800e6, week: 604800e6, weeks: 604800e6,
};

function isoUs(text: string): number {
  const ms = Date.parse(text.trim());
  if (!Number.isFinite(ms)) throw new Error(`not a date/time: "${text}"`);
  return ms * 1000;
}

export function parseTimeRange(text: string, nowUs: number): TimeWindow {
  const t = text.trim().toLowerCase();
  const rel = /^(?:last|past|previous)\s+(?:(\d+(?:\.\d+)?)\s*)?([a-z]+)$/.exec(t) ?? /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(t);
  if (rel) {
    const n = rel[1] === undefined ? 1 : Number(rel[1]);
    const unit = UNIT_US[rel[2]!];
    if (!unit || !(n > 0)) throw new Error(`cannot read the time range "${text}": use e.g. "last 4 hours", "last 15m" or an ISO interval start/end`);
    return { fromUs: Math.round(nowUs - n * unit), toUs: nowUs };
  }
  const since = /^since\s+(.+)$/.exec(text.trim());
  if (since) return { fromUs: isoUs(since[1]!), toUs: nowUs };
  const parts = text.split('/');
  if (parts.length === 2) {
    const w = { fromUs: isoUs(parts[0]!), toUs: isoUs(parts[1]!) };
    if (w.toUs <= w.fromUs) throw new Error(`time range "${text}" ends before it starts`);
    return w;
  }
  throw new Error(`cannot read the time range "${text}": use e.g. "last 4 hours", "last 15m", "since <ISO time>" or an ISO interval start/end`);
}
