/**
 * Config changes and flag flips a service announces in its own log: "configuration changed key=cache.ttl value=5",
 * Spring Cloud's "Refresh keys changed: [pool.size]", `{"msg":"feature flag updated","flag":"new-pricing",
 * "value":"on"}`. Many changes never reach a resource attribute, a flag evaluation on a span or a declared change
 * (an operator's admin call, a config-server push, a SIGHUP reload), yet the service says so in its log, and
 * that line is the nearest thing to a cause a person would look for. Read here so the performance tester ties a
 * regression to it and the root-cause analyzer counts it as it counts a declared change.
 *
 * Written by hand: no library reads change announcements out of free-form logs. What counts, and why:
 *   - the message (the `msg`/`message` field of a structured line, else the body) names configuration or a flag
 *     and a change verb next to it ("config … changed", "reloaded configuration", "flag … toggled"); a word
 *     boundary keeps process names out (macOS's `configd … network changed` in Loghub is not one);
 *   - a failed or empty attempt is not a change: "failed to reload configuration", "config unchanged";
 *   - what changed is read from the fields (`key`, `setting`, `flag`, `feature_flag.key`; `value`/`new`/`to`;
 *     `previous`/`old`/`from`; `by`/`user`), from logfmt pairs in the message, or from "X changed from A to B";
 *     a line that names nothing is a change of "configuration";
 *   - routine restatements are not changes: the same announcement (service, key, value) three times or more in
 *     the lines read is a poller or a periodic reload, and a line whose new value equals its previous one
 *     changed nothing.
 */
import type { AttrValue, LogRecord } from '../../signals/model.js';
import type { SystemChange } from './regressions.js';

/** The `source` of a change read from a log line (DeclaredBy): the renderers say "announced in its log". */
export const ANNOUNCED_IN_LOG = 'log';

const NOUN = String.raw`(?:config|configs|configuration|configurations|settings?|propert(?:y|ies)|parameters?|runtime options?)`;
const VERB = String.raw`(?:changed|updated|reloaded|modified|applied|refreshed|overridden|set)`;
const LEAD_VERB = String.raw`(?:reload(?:ed|ing)?|appl(?:ied|ying)|updat(?:ed|ing)|chang(?:ed|ing)|refresh(?:ed|ing)|loaded new|loading new)`;
const FLAG = String.raw`(?:feature[ _-]?flags?|flags?|toggles?)`;
const FLAG_VERB = String.raw`(?:changed|updated|flipped|toggled|enabled|disabled|turned (?:on|off)|switched (?:on|off)|set)`;
/** Between the noun and its verb: a name, a path, a quoted key, but not a second clause. */
const GAP = String.raw`[\w\s./:'"\[\]=-]{0,48}?`;

/** Spring Cloud's refresh ("Refresh keys changed: [...]"); nginx's "reconfiguring" on SIGHUP. */
const CONFIG_CHANGE = [new RegExp(String.raw`\b${NOUN}\b${GAP}\b${VERB}\b`, 'i'), new RegExp(String.raw`\b${LEAD_VERB}\b${GAP}\b${NOUN}\b`, 'i'), /\brefresh keys changed\b/i, /\breconfigur(?:ed|ing)\b/i];
const FLAG_CHANGE = [new RegExp(String.raw`\b${FLAG}\b${GAP}\b${FLAG_VERB}\b`, 'i'), new RegExp(String.raw`\b(?:enabled|disabled|flipped|toggled)\b${GAP}\b${FLAG}\b`, 'i')];
const MAY_ANNOUNCE = /config|setting|propert|parameter|option|flag|toggle|refresh keys/i;
const NOT_A_CHANGE = /\b(?:fail(?:ed|s|ure)?|errors?|unable|could not|couldn't|cannot|can't|invalid|rejected|denied|unchanged|no changes?|not changed|nothing changed|will be)\b/i;

const KEY_FIELDS = ['key', 'config.key', 'config_key', 'configKey', 'setting', 'property', 'param', 'parameter', 'option'];
const FLAG_FIELDS = ['feature_flag.key', 'flag', 'flag.key', 'flagKey', 'flag_key', 'feature', 'toggle'];
const VALUE_FIELDS = ['value', 'new', 'new_value', 'newValue', 'to', 'variant', 'feature_flag.result.variant', 'feature_flag.result.value', 'enabled'];
const PREVIOUS_FIELDS = ['previous', 'old', 'old_value', 'oldValue', 'from', 'was'];
const BY_FIELDS = ['by', 'user', 'actor', 'changed_by', 'changedBy', 'author'];
const MESSAGE_FIELDS = ['msg', 'message', 'body', 'text', 'event'];
/** logfmt pairs that describe the line, not the change. */
const META_FIELDS = new Set(['ts', 'time', 'level', 'lvl', 'severity', 'service', 'logger', 'caller', 'msg', 'message', 'trace_id', 'span_id', 'traceid', 'spanid', 'request_id', 'pid', 'thread', 'host']);

/** Longest body parsed as JSON for its fields (a structured line; longer ones are read as text). */
const MAX_JSON_BODY = 16_384;
/** How much of a message is matched: announcements are short, a stack trace is not one. */
const MAX_MESSAGE = 400;
/** The same announcement this often in the lines read is a poller or a periodic reload, not a change. */
export const ROUTINE_REPEATS = 3;

type Fields = Record<string, unknown>;

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function first(fields: Fields, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = text(fields[n]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The line's fields (its attributes, plus a JSON body's) and its message. */
function fieldsOf(log: LogRecord): { fields: Fields; message: string } {
  const fields: Fields = { ...(log.attributes as Record<string, AttrValue>) };
  let message = log.body;
  const body = log.body.trimStart();
  if (body.startsWith('{') && body.length <= MAX_JSON_BODY) {
    try {
      const o: unknown = JSON.parse(body);
      if (o && typeof o === 'object' && !Array.isArray(o)) {
        Object.assign(fields, o);
        message = first(o as Fields, MESSAGE_FIELDS) ?? '';
      }
    } catch {
      // Not JSON after all: the body is the message.
    }
  }
  return { fields, message: message.slice(0, MAX_MESSAGE) };
}

/** `k=v` and `k="v w"` pairs of a logfmt-style message, meta fields left out. */
function logfmtPairs(message: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of message.matchAll(/(?:^|\s)([A-Za-z_][\w.-]*)=("([^"]*)"|[^\s,;]+)/g)) {
    const k = m[1]!;
    if (!META_FIELDS.has(k.toLowerCase())) out.push([k, m[3] ?? m[2]!]);
  }
  return out;
}

/** The change a log line announces, if it announces one (one line, no history: see announcedChanges for the rest). */
export function announcedChange(log: LogRecord): SystemChange | undefined {
  // The message is part of the body, so a body naming none of the nouns announces nothing: most lines stop here,
  // before any JSON is parsed (the agents run this over thousands of lines per finding).
  if (!MAY_ANNOUNCE.test(log.body)) return undefined;
  const { fields, message } = fieldsOf(log);
  if (!message || NOT_A_CHANGE.test(message)) return undefined;
  const flag = FLAG_CHANGE.some((r) => r.test(message));
  if (!flag && !CONFIG_CHANGE.some((r) => r.test(message))) return undefined;
  const pairs = logfmtPairs(message);
  const pair = (names: readonly string[]): string | undefined => pairs.find(([k]) => names.includes(k))?.[1];
  let key = first(fields, flag ? [...FLAG_FIELDS, ...KEY_FIELDS] : KEY_FIELDS) ?? pair(flag ? [...FLAG_FIELDS, ...KEY_FIELDS] : KEY_FIELDS);
  let value = first(fields, VALUE_FIELDS) ?? pair(VALUE_FIELDS);
  let previous = first(fields, PREVIOUS_FIELDS) ?? pair(PREVIOUS_FIELDS);
  const by = first(fields, BY_FIELDS) ?? pair(BY_FIELDS);
  // "cache.ttl changed from 30 to 5", "set pool.size to 20".
  const fromTo = /\b([A-Za-z_][\w.-]*)['"]?\s+(?:changed|updated|set|switched|went)\s+from\s+['"]?([^\s'",;]+)['"]?\s+to\s+['"]?([^\s'",;]+)/i.exec(message);
  const setTo = /\bset\s+['"]?([A-Za-z_][\w.-]*)['"]?\s+to\s+['"]?([^\s'",;]+)/i.exec(message);
  if (fromTo && !NOUN_ONLY.test(fromTo[1]!)) {
    key ??= fromTo[1]!;
    previous ??= fromTo[2]!;
    value ??= fromTo[3]!;
  } else if (setTo) {
    key ??= setTo[1]!;
    value ??= setTo[2]!;
  }
  const refresh = /\brefresh keys changed:?\s*\[([^\]]*)\]/i.exec(message);
  if (refresh && !key) key = refresh[1]!.split(',').map((s) => s.trim()).filter(Boolean).join(', ') || undefined;
  // One unnamed key=value in the message is the change: "configuration changed cache.ttl=5".
  if (!key) {
    const known = new Set([...VALUE_FIELDS, ...PREVIOUS_FIELDS, ...BY_FIELDS]);
    const rest = pairs.filter(([k]) => !known.has(k));
    if (rest.length === 1) [key, value] = [rest[0]![0], value ?? rest[0]![1]];
  }
  if (value !== undefined && previous !== undefined && value === previous) return undefined;
  return {
    kind: flag ? 'flag' : 'config',
    service: log.service,
    key: key ?? (flag ? 'flag' : 'configuration'),
    value: value ?? '',
    ...(previous !== undefined ? { previous } : {}),
    atUs: log.timeUs,
    declared: { ...(by !== undefined ? { by } : {}), description: message.length > 120 ? `${message.slice(0, 119)}…` : message, source: ANNOUNCED_IN_LOG },
  };
}

/**
 * An announcement that names the setting and its new value ("cache.ttl changed from 300 to 0"), not a bare
 * "configuration reloaded" or "Refresh keys changed: [a]": one whose restatement can be told from a change by its
 * value, which an agent may list without a finding that cites it.
 */
export function namesSetting(c: Pick<SystemChange, 'key' | 'value'>): boolean {
  return c.value !== '' && c.key !== 'configuration' && c.key !== 'flag';
}

/** A word that names configuration itself, not a key ("configuration changed from A to B" names no key). */
const NOUN_ONLY = new RegExp(String.raw`^${NOUN}$`, 'i');

/**
 * The changes the lines announce, oldest first, without routine restatements: an announcement made
 * ROUTINE_REPEATS times or more (same service, kind, key and value) among the lines is a poller's.
 */
export function announcedChanges(logs: readonly LogRecord[]): SystemChange[] {
  const found: SystemChange[] = [];
  for (const l of logs) {
    const c = announcedChange(l);
    if (c) found.push(c);
  }
  const id = (c: SystemChange): string => `${c.service}\u0000${c.kind}\u0000${c.key}\u0000${c.value}`;
  const times = new Map<string, number>();
  for (const c of found) times.set(id(c), (times.get(id(c)) ?? 0) + 1);
  return found.filter((c) => times.get(id(c))! < ROUTINE_REPEATS).sort((a, b) => a.atUs - b.atUs);
}

/**
 * The changes the lines announce that no declared change already reports (same service, kind, key and value
 * within `withinUs`): an operator who declares a change the service also logs made one change.
 */
export function announcedBeyond(declared: readonly Pick<SystemChange, 'service' | 'kind' | 'key' | 'value' | 'atUs'>[], logs: readonly LogRecord[], withinUs = 300e6): SystemChange[] {
  return announcedChanges(logs).filter((a) => !declared.some((d) => d.service === a.service && d.kind === a.kind && d.key === a.key && d.value === a.value && Math.abs(d.atUs - a.atUs) <= withinUs));
}

/** The declared changes and, after them, the ones only the lines announce. */
export function withAnnounced(declared: readonly SystemChange[], logs: readonly LogRecord[], withinUs = 300e6): SystemChange[] {
  return [...declared, ...announcedBeyond(declared, logs, withinUs)];
}
