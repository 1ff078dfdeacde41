/**
 * Error grouping into issues, the way Sentry does it: an issue is keyed by exception type + the message's template
 * (variables masked with the log masker, so `user 42 not found` and `user 7 not found` are one issue) + the top
 * in-app frames (function and file, never line numbers, so a deploy that shifts lines keeps the issue).
 * When a stack has no in-app frame, the top frames of any kind are used instead.
 *
 * Each group keeps first/last seen, counts per release and per service, and a bounded sample of trace ids.
 * Pure and serialisable (toJSON/fromJSON) so the agent can persist groups in the pattern store.
 */
import { createHash } from 'node:crypto';
import type { ErrorEvent, StackFrame } from '../../signals/model.js';
import { maskLine, renderTemplate } from '../logs/mask.js';

export const IN_APP_FRAMES = 3;
const MAX_TRACE_SAMPLES = 20;
const MAX_MESSAGE_CHARS = 1024;

export interface ErrorGroup {
  fingerprint: string;
  type: string;
  messageTemplate: string;
  /** `function (file)` of the frames that define the group, innermost first. */
  frames: string[];
  firstSeenUs: number;
  lastSeenUs: number;
  count: number;
  releases: Record<string, number>;
  services: Record<string, number>;
  traceIds: string[];
  sampleMessage: string;
}

export function normaliseMessage(message: string): string {
  const text = message.length > MAX_MESSAGE_CHARS ? message.slice(0, MAX_MESSAGE_CHARS) : message;
  // Only the first line: later lines of a message are often a dump (request body, SQL) that varies per event.
  const first = text.split('\n', 1)[0];
  return renderTemplate(maskLine(first));
}

function frameKey(f: StackFrame): string {
  const file = (f.file ?? f.module ?? '?').replace(/^.*[\\/]/, '').replace(/\?.*$/, '');
  return `${f.function ?? '<anonymous>'} (${file})`;
}

export function groupingFrames(frames: readonly StackFrame[], n = IN_APP_FRAMES): string[] {
  const inApp = frames.filter((f) => f.inApp);
  return (inApp.length > 0 ? inApp : frames).slice(0, n).map(frameKey);
}

export function errorFingerprint(e: Pick<ErrorEvent, 'type' | 'message' | 'frames'>): { fingerprint: string; messageTemplate: string; frames: string[] } {
  const messageTemplate = normaliseMessage(e.message ?? '');
  const frames = groupingFrames(e.frames ?? []);
  const h = createHash('sha256').update(`${e.type}\u0000${messageTemplate}\u0000${frames.join('\u0000')}`).digest('hex').slice(0, 16);
  return { fingerprint: h, messageTemplate, frames };
}

export interface GroupResult {
  group: ErrorGroup;
  created: boolean;
}

export class ErrorGrouper {
  private readonly groups = new Map<string, ErrorGroup>();

  constructor(private readonly maxGroups = 10_000) {}

  add(e: ErrorEvent): GroupResult {
    const { fingerprint, messageTemplate, frames } = errorFingerprint(e);
    let g = this.groups.get(fingerprint);
    const created = g === undefined;
    if (!g) {
      if (this.groups.size >= this.maxGroups) this.evictOldest();
      g = {
        fingerprint,
        type: e.type,
        messageTemplate,
        frames,
        firstSeenUs: e.timeUs,
        lastSeenUs: e.timeUs,
        count: 0,
        releases: {},
        services: {},
        traceIds: [],
        sampleMessage: (e.message ?? '').slice(0, 500),
      };
      this.groups.set(fingerprint, g);
    }
    g.count++;
    g.firstSeenUs = Math.min(g.firstSeenUs, e.timeUs);
    g.lastSeenUs = Math.max(g.lastSeenUs, e.timeUs);
    const rel = e.release ?? 'unknown';
    g.releases[rel] = (g.releases[rel] ?? 0) + 1;
    g.services[e.service] = (g.services[e.service] ?? 0) + 1;
    if (e.traceId && g.traceIds.length < MAX_TRACE_SAMPLES && !g.traceIds.includes(e.traceId)) g.traceIds.push(e.traceId);
    return { group: g, created };
  }

  get(fingerprint: string): ErrorGroup | undefined {
    return this.groups.get(fingerprint);
  }

  list(): ErrorGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count);
  }

  private evictOldest(): void {
    let oldest: ErrorGroup | undefined;
    for (const g of this.groups.values()) if (!oldest || g.lastSeenUs < oldest.lastSeenUs) oldest = g;
    if (oldest) this.groups.delete(oldest.fingerprint);
  }

  toJSON(): ErrorGroup[] {
    return this.list();
  }

  static fromJSON(groups: readonly ErrorGroup[], maxGroups?: number): ErrorGrouper {
    const g = new ErrorGrouper(maxGroups);
    for (const x of groups) g.groups.set(x.fingerprint, { ...x, releases: { ...x.releases }, services: { ...x.services }, traceIds: [...x.traceIds] });
    return g;
  }
}
