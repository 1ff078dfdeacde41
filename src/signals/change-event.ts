/**
 * Declared changes: deploys, config changes and feature-flag flips reported by the pipeline, flag service or person
 * that made them (`POST /api/changes`, `tswarm change add`, the MCP tool `change_record`), the way Grafana
 * annotations, Sentry releases or Datadog change events record them.
 *
 * Without them the swarm learns of a change only from a new resource attribute on the spans (service.version, a
 * config attribute: resource-config.ts). That misses a flag flipped at run time, a config reloaded without a
 * restart and a deploy of a service that sets no version. It is also late: the change shows only when the first
 * span with the new value arrives, and a rollout's first minute may send none.
 */
import { z } from 'zod';

export type ChangeKind = 'deploy' | 'config' | 'flag';

export interface ChangeEvent {
  kind: ChangeKind;
  service: string;
  /** `service.version` for a deploy; the config key or flag name otherwise. */
  key: string;
  value: string;
  previous?: string;
  atUs: number;
  /** Who or what made the change (a pipeline, a person). */
  by?: string;
  /** A link to the pipeline run, pull request or flag audit entry. */
  url?: string;
  description?: string;
  /**
   * `log`: not declared by anyone but announced by the service in its own log, recorded by the agent that read it
   * (agents/declared-changes.ts `recordAnnouncedChanges`); the description is the line's message.
   */
  source?: 'log';
}

export const DEPLOY_KEY = 'service.version';

const text = (max: number) => z.string().trim().min(1).max(max);
const scalar = z.union([z.string().trim().min(1).max(500), z.number(), z.boolean()]).transform(String);

/**
 * What the interfaces accept. Strict, so a misspelt field (`servcie`) is an error and not a change silently filed
 * under no service. `at` is an ISO 8601 time or epoch milliseconds (as Grafana's annotations take it); `atUs` is
 * epoch microseconds (the swarm's own unit); neither means now.
 */
export const changeInputSchema = z
  .strictObject({
    kind: z.enum(['deploy', 'config', 'flag']).optional(),
    service: text(200),
    version: scalar.optional(),
    key: text(200).optional(),
    value: scalar.optional(),
    previous: scalar.optional(),
    at: z.union([z.string().trim().min(1), z.number()]).optional(),
    atUs: z.number().optional(),
    by: text(200).optional(),
    // http(s) only: the link is rendered in the report and the dashboard.
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000).optional(),
    description: text(2000).optional(),
    // What `change list --json` prints for a change a service announced in its log, so a list re-imports as it was.
    source: z.literal('log').optional(),
  })
  .describe('a deploy ({service, version}), a config change or a flag flip ({service, kind: "config"|"flag", key, value, previous?}); at: ISO time or epoch ms, default now');

export type ChangeInput = z.input<typeof changeInputSchema>;

/** A change the caller got wrong: the message names the field and what it needs. */
export class ChangeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangeInputError';
  }
}

/** Earliest and latest plausible times: a change before 2000 or over a day ahead is a unit mistake (s vs ms). */
const MIN_US = Date.UTC(2000, 0, 1) * 1000;
const AHEAD_US = 86_400e6;

/**
 * A time as the interfaces take it: an ISO 8601 time, epoch milliseconds (number) or "now"; `atUs` (epoch µs) as
 * the alternative field. Shared by declared changes and maintenance windows (maintenance-window.ts), which differ
 * only in how far ahead a time may be and in the error they throw.
 */
export function instantUs(
  at: string | number | undefined,
  atUs: number | undefined,
  nowUs: number,
  o: { where: string; field: string; aheadUs: number; ahead: string; fail: (message: string) => Error },
): number {
  const { where, field, fail } = o;
  if (at !== undefined && atUs !== undefined) throw fail(`${where}give either ${field} or ${field}Us, not both`);
  let us: number;
  if (atUs !== undefined) us = atUs;
  else if (typeof at === 'number') us = at * 1000;
  else if (typeof at === 'string') {
    if (at === 'now') us = nowUs;
    else {
      // Date.parse accepts loose forms ("3/4"); a change time should be unambiguous.
      if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(at)) throw fail(`${where}${field} must be an ISO 8601 time (2026-12-02T10:15:00Z), epoch milliseconds or "now" (got "${at}")`);
      us = Date.parse(at) * 1000;
      if (!Number.isFinite(us)) throw fail(`${where}${field} "${at}" is not a valid time`);
    }
  } else us = nowUs;
  if (!Number.isFinite(us) || us < MIN_US) throw fail(`${where}${atUs !== undefined ? `${field}Us (epoch microseconds)` : `${field} (epoch milliseconds)`} ${atUs ?? at} is before 2000: ${atUs !== undefined ? 'milliseconds' : 'seconds'} given?`);
  if (us > nowUs + o.aheadUs) throw fail(`${where}the ${field === 'at' ? 'change' : field} time ${new Date(us / 1000).toISOString()} is more than ${o.ahead} ahead of now`);
  return Math.round(us);
}

function timeUs(at: string | number | undefined, atUs: number | undefined, nowUs: number, where: string): number {
  return instantUs(at, atUs, nowUs, { where, field: 'at', aheadUs: AHEAD_US, ahead: 'a day', fail: (m) => new ChangeInputError(m) });
}

/** One declared change from what a caller sent, or a ChangeInputError saying what is wrong. */
export function parseChange(input: unknown, nowUs = Date.now() * 1000, where = ''): ChangeEvent {
  const r = changeInputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.');
    throw new ChangeInputError(`${where}${path ? `${path}: ` : ''}${issue.message}`);
  }
  const c = r.data;
  const kind: ChangeKind = c.kind ?? (c.version !== undefined || c.key === undefined ? 'deploy' : 'config');
  let key: string;
  let value: string | undefined;
  if (kind === 'deploy') {
    if (c.key !== undefined && c.key !== DEPLOY_KEY) throw new ChangeInputError(`${where}a deploy is a new ${DEPLOY_KEY}: give version, not key "${c.key}" (or kind "config")`);
    if (c.version !== undefined && c.value !== undefined && c.version !== c.value) throw new ChangeInputError(`${where}version and value differ: give one`);
    key = DEPLOY_KEY;
    value = c.version ?? c.value;
    if (value === undefined) throw new ChangeInputError(`${where}a deploy needs the version it rolled out (version)`);
  } else {
    if (c.version !== undefined) throw new ChangeInputError(`${where}version is for deploys; a ${kind} change takes key and value`);
    if (c.key === undefined || c.value === undefined) throw new ChangeInputError(`${where}a ${kind} change needs key and value`);
    key = c.key;
    value = c.value;
  }
  if (c.previous !== undefined && c.previous === value) throw new ChangeInputError(`${where}previous equals the new value "${value}": nothing changed`);
  return {
    kind,
    service: c.service,
    key,
    value,
    ...(c.previous !== undefined ? { previous: c.previous } : {}),
    atUs: timeUs(c.at, c.atUs, nowUs, where),
    ...(c.by !== undefined ? { by: c.by } : {}),
    // Normalised (spaces, quotes and angle brackets percent-encoded): it goes into Markdown and HTML links.
    ...(c.url !== undefined ? { url: new URL(c.url).href } : {}),
    ...(c.description !== undefined ? { description: c.description } : {}),
    ...(c.source !== undefined ? { source: c.source } : {}),
  };
}

/** At most this many changes per request: a pipeline reports one, a backfill a few hundred. */
export const MAX_CHANGES_PER_REQUEST = 1000;

/** One change or an array of them; the first bad one fails the lot (none is stored), named by its index. */
export function parseChanges(input: unknown, nowUs = Date.now() * 1000): ChangeEvent[] {
  if (!Array.isArray(input)) return [parseChange(input, nowUs)];
  if (!input.length) throw new ChangeInputError('an empty list of changes');
  if (input.length > MAX_CHANGES_PER_REQUEST) throw new ChangeInputError(`${input.length} changes in one request: at most ${MAX_CHANGES_PER_REQUEST}`);
  return input.map((x, i) => parseChange(x, nowUs, `[${i}] `));
}

/** Store key: a pipeline that retries its report files the same change once. */
export const changeKey = (c: ChangeEvent): string => `${c.service}|${c.kind}|${c.key}|${c.atUs}`;

const SHA = /^[0-9a-f]{7,40}$/i;
const bare = (v: string): string => (/^v\d/i.test(v) ? v.slice(1) : v);

/**
 * Whether two values of one key are the same version: equal, "v2.4.1" and "2.4.1", or two commit hashes of which
 * one abbreviates the other (GitLab's webhook sends the short sha, GitHub's the full one, and services report
 * either as service.version). Other keys' values compare exactly.
 */
export function sameValue(key: string, a: string, b: string): boolean {
  if (a === b) return true;
  if (key !== DEPLOY_KEY) return false;
  const x = bare(a);
  const y = bare(b);
  if (x === y) return true;
  if (!SHA.test(x) || !SHA.test(y)) return false;
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  return long.toLowerCase().startsWith(short.toLowerCase());
}

/** "deploy checkout v2.4.1", "flag checkout new-pricing: off → on", "config cart cache.ttl=30". */
export function describeChange(c: Pick<ChangeEvent, 'kind' | 'service' | 'key' | 'value' | 'previous'>): string {
  if (c.kind === 'deploy') return `deploy ${c.service} ${c.value}`;
  return `${c.kind} ${c.service} ${settingPhrase(c.key, c.value, c.previous)}`;
}

/**
 * "cache.ttl: 30 → 5", "cache.ttl=5", or "cache.ttl" alone when the new value is not known (a service that
 * announces a change in its log without the value: announced-changes.ts).
 */
export function settingPhrase(key: string, value: string, previous?: string): string {
  if (value === '') return previous !== undefined ? `${key} (was ${previous})` : key;
  return previous !== undefined ? `${key}: ${previous} → ${value}` : `${key}=${value}`;
}

/** Who declared a change, with the link and what it was: the evidence's `declared` (absent fields left out). */
export function declaredBy(c: Pick<ChangeEvent, 'by' | 'url' | 'description' | 'source'>): { by?: string; url?: string; description?: string; source?: 'log' } {
  return { ...(c.by !== undefined ? { by: c.by } : {}), ...(c.url !== undefined ? { url: c.url } : {}), ...(c.description !== undefined ? { description: c.description } : {}), ...(c.source !== undefined ? { source: c.source } : {}) };
}

type Provenance = { by?: string; url?: string; description?: string; source?: 'log' };

/** "declared by ci: canary 10%", or for a change a service announced in its log 'announced in its log: "…"'. */
export function provenancePhrase(d: Provenance): string {
  if (d.source === 'log') return `announced in its log${d.by ? ` by ${d.by}` : ''}${d.description ? `: "${d.description}"` : ''}`;
  return `declared${d.by ? ` by ${d.by}` : ''}${d.description ? `: ${d.description}` : ''}`;
}

/** " (declared by ci: canary 10%, https://…)" after a change's description; "" for one seen on spans. */
export function declaredSuffix(d: Provenance | undefined): string {
  if (!d) return '';
  return ` (${provenancePhrase(d)}${d.url ? `, ${d.url}` : ''})`;
}
