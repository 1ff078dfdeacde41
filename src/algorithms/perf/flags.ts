/**
 * Feature flags as the telemetry reports them, under OpenTelemetry's semantic conventions: a span event
 * `feature_flag.evaluation` (earlier `feature_flag`) with `feature_flag.key` and `feature_flag.result.variant`
 * (earlier `feature_flag.variant`) or `feature_flag.result.value`, which OpenFeature's telemetry hooks emit; the
 * same as an Event (a log record named `feature_flag.evaluation`, the current convention), joined to its span by
 * trace and span id (withLogEvaluations); and Sentry's `flag.evaluation.<key>` span attributes. Two uses:
 *   - a flag change seen on spans: a variant that appears where the evaluations before it make its absence
 *     improbable (a rollout from 0 to 10% of requests), dated by its first evaluation;
 *   - attribution: when the slow or failing requests carry one variant of a flag far more often than the rest
 *     (one-sided Fisher exact test), the variant is named — the A/B comparison a person would make by hand.
 */
import { fisherUpper } from './exact-tests.js';
import type { Span, AttrValue, Attributes, LogRecord } from '../../signals/model.js';

export interface FlagEvaluation {
  key: string;
  variant: string;
}

const EVENT_NAMES = new Set(['feature_flag.evaluation', 'feature_flag']);
const SENTRY_PREFIX = 'flag.evaluation.';

function scalar(v: AttrValue | undefined): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function evaluationOf(attributes: Attributes): FlagEvaluation | undefined {
  const key = scalar(attributes['feature_flag.key']);
  const variant = scalar(attributes['feature_flag.result.variant']) ?? scalar(attributes['feature_flag.variant']) ?? scalar(attributes['feature_flag.result.value']) ?? scalar(attributes['feature_flag.value']);
  return key && variant !== undefined ? { key, variant } : undefined;
}

/** Evaluations logged as Events, attached to their spans by withLogEvaluations (attached, not copied into them). */
const logged = new WeakMap<Span, FlagEvaluation[]>();
const NONE: readonly FlagEvaluation[] = Object.freeze([]);

/** The flag evaluations recorded on one span (its events and Sentry-style attributes, and Events logged on it). */
export function flagEvaluations(span: Span): FlagEvaluation[] {
  let out: FlagEvaluation[] | undefined;
  for (const e of span.events) {
    if (!EVENT_NAMES.has(e.name)) continue;
    const f = evaluationOf(e.attributes);
    if (f) (out ??= []).push(f);
  }
  // for…in, not Object.entries: this runs on every span of a read, and nearly none has such an attribute.
  for (const k in span.attributes) {
    if (k.length <= SENTRY_PREFIX.length || !k.startsWith(SENTRY_PREFIX)) continue;
    const variant = scalar(span.attributes[k]);
    if (variant !== undefined) (out ??= []).push({ key: k.slice(SENTRY_PREFIX.length), variant });
  }
  const extra = logged.get(span);
  if (extra) (out ??= []).push(...extra);
  return out ?? (NONE as FlagEvaluation[]);
}

/** A flag evaluation recorded as an Event (a log record named `feature_flag.evaluation`), if this log is one. */
export function logFlagEvaluation(log: LogRecord): FlagEvaluation | undefined {
  const name = log.eventName ?? scalar(log.attributes['event.name']);
  return name !== undefined && EVENT_NAMES.has(name) ? evaluationOf(log.attributes) : undefined;
}

/**
 * The spans with the flag evaluations their services logged as Events attached (by trace and span id), so one
 * reading of flags serves both conventions. The span objects are returned as they are (flagEvaluations sees what
 * was attached; a later join on the same spans replaces it). An evaluation logged outside any of the spans (no
 * ids, or its span not among them) becomes a bare internal span of its own: it still counts for when a variant
 * started being served, not for which requests carried it.
 */
export function withLogEvaluations(spans: readonly Span[], logs: readonly LogRecord[]): Span[] {
  const found: { log: LogRecord; f: FlagEvaluation }[] = [];
  for (const l of logs) {
    const f = logFlagEvaluation(l);
    if (f) found.push({ log: l, f });
  }
  if (!found.length) return spans as Span[];
  const byId = new Map<string, Span>();
  for (const sp of spans) byId.set(`${sp.traceId}/${sp.spanId}`, sp);
  const attached = new Map<Span, FlagEvaluation[]>();
  const loose: Span[] = [];
  for (const { log: l, f } of found) {
    const sp = l.traceId && l.spanId ? byId.get(`${l.traceId}/${l.spanId}`) : undefined;
    if (sp) {
      const xs = attached.get(sp);
      if (xs) xs.push(f);
      else attached.set(sp, [f]);
    } else {
      loose.push({ traceId: l.traceId ?? '', spanId: `log-${loose.length}`, name: 'feature_flag.evaluation', kind: 1, startUs: l.timeUs, endUs: l.timeUs, service: l.service, attributes: {}, events: [{ name: 'feature_flag.evaluation', timeUs: l.timeUs, attributes: { 'feature_flag.key': f.key, 'feature_flag.result.variant': f.variant } }], links: [], status: { code: 0 }, resource: l.resource });
    }
  }
  for (const [sp, xs] of attached) logged.set(sp, xs);
  return loose.length ? [...spans, ...loose] : (spans as Span[]);
}

export interface FlagChange {
  service: string;
  key: string;
  /** The new variant. */
  value: string;
  /** The commonest variant before it. */
  previous: string;
  atUs: number;
  /** Evaluations before its first one, and its share of the evaluations from then on. */
  before: number;
  share: number;
}

/**
 * Variants that start being served: for a variant first seen after n evaluations of its flag, with share q of the
 * evaluations from then on, its absence before has probability (1 − q)^n; under `alpha` it was not being served.
 * A 50/50 split from the start is no change; a variant that goes to 10% after 200 evaluations without it is.
 */
export function flagChanges(spans: readonly Span[], alpha = 1e-3): FlagChange[] {
  const byFlag = new Map<string, { t: number; variant: string }[]>();
  for (const sp of spans) {
    for (const f of flagEvaluations(sp)) {
      const id = `${sp.service}\u0000${f.key}`;
      let xs = byFlag.get(id);
      if (!xs) byFlag.set(id, (xs = []));
      xs.push({ t: sp.startUs, variant: f.variant });
    }
  }
  const out: FlagChange[] = [];
  for (const [id, xs] of byFlag) {
    xs.sort((a, b) => a.t - b.t);
    const first = new Map<string, number>();
    xs.forEach((x, i) => first.has(x.variant) || first.set(x.variant, i));
    if (first.size < 2) continue;
    const [service, key] = id.split('\u0000') as [string, string];
    for (const [variant, i] of first) {
      if (i === 0) continue;
      let hits = 0;
      for (let j = i; j < xs.length; j++) if (xs[j]!.variant === variant) hits++;
      const share = hits / (xs.length - i);
      if (i * Math.log1p(-Math.min(share, 1 - 1e-12)) >= Math.log(alpha)) continue;
      const counts = new Map<string, number>();
      for (let j = 0; j < i; j++) counts.set(xs[j]!.variant, (counts.get(xs[j]!.variant) ?? 0) + 1);
      const previous = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
      out.push({ service, key, value: variant, previous, atUs: xs[i]!.t, before: i, share });
    }
  }
  return out.sort((a, b) => a.atUs - b.atUs);
}

/** A request as the attribution counts it: a server or consumer span. */
export const isRequest = (sp: Span): boolean => sp.kind === 2 || sp.kind === 5;

export interface FlagAttribution {
  key: string;
  variant: string;
  /** Requests with the variant, and how many of them were bad. */
  total: number;
  bad: number;
  /** Requests with another variant of the same flag. */
  otherTotal: number;
  otherBad: number;
  p: number;
}

export interface AttributionOptions {
  alpha?: number;
  /** Fewest requests on each side. */
  minRequests?: number;
  /** The variant's bad share must be at least this many times the others'… */
  minRatio?: number;
  /** …and this much higher in absolute terms. */
  minDiff?: number;
}

/**
 * The flag variant that the bad requests of `service` carry far more than its other requests do. A request is a
 * server (or consumer) span of the service; it carries the flags evaluated on it or on its spans below it in the
 * service (the evaluation is often on a child span). Among flags evaluated on both sides, the smallest p under
 * `alpha` wins.
 */
export function flagAttribution(spans: readonly Span[], service: string, isBad: (sp: Span) => boolean, opts: AttributionOptions = {}): FlagAttribution | undefined {
  const { alpha = 1e-3, minRequests = 5, minRatio = 2, minDiff = 0.2 } = opts;
  // Each evaluation belongs to the request it happened in: its own span when that is the server span, else the
  // nearest server span above it in the same service. (Per trace would mix a service's several requests of one
  // trace: a page that calls the catalog five times carries five evaluations.)
  const own = spans.filter((sp) => sp.service === service);
  // Built only when an evaluation sits below its request (the ids of every span are strings to make).
  let byId: Map<string, Span> | undefined;
  const parentOf = (sp: Span): Span | undefined => {
    if (!sp.parentSpanId) return undefined;
    byId ??= new Map(own.map((x) => [`${x.traceId}/${x.spanId}`, x]));
    return byId.get(`${sp.traceId}/${sp.parentSpanId}`);
  };
  const flagsOf = new Map<Span, Map<string, string>>();
  for (const sp of own) {
    const evs = flagEvaluations(sp);
    if (!evs.length) continue;
    let req: Span | undefined = sp;
    for (let hops = 0; req && !isRequest(req) && hops < 64; hops++) req = parentOf(req);
    if (!req || !isRequest(req)) continue;
    let m = flagsOf.get(req);
    if (!m) flagsOf.set(req, (m = new Map()));
    for (const f of evs) if (!m.has(f.key)) m.set(f.key, f.variant);
  }
  if (!flagsOf.size) return undefined;
  // Per flag and variant: requests and bad requests.
  const tally = new Map<string, Map<string, { n: number; bad: number }>>();
  for (const [sp, flags] of flagsOf) {
    const b = isBad(sp);
    for (const [key, variant] of flags) {
      let byVariant = tally.get(key);
      if (!byVariant) tally.set(key, (byVariant = new Map()));
      const c = byVariant.get(variant) ?? { n: 0, bad: 0 };
      c.n++;
      if (b) c.bad++;
      byVariant.set(variant, c);
    }
  }
  let best: FlagAttribution | undefined;
  for (const [key, byVariant] of [...tally].sort((a, b) => a[0].localeCompare(b[0]))) {
    let total = 0;
    let bad = 0;
    for (const c of byVariant.values()) {
      total += c.n;
      bad += c.bad;
    }
    for (const [variant, c] of [...byVariant].sort((a, b) => a[0].localeCompare(b[0]))) {
      const on = c.n;
      const off = total - on;
      if (on < minRequests || off < minRequests) continue;
      const shareOn = c.bad / on;
      const shareOff = (bad - c.bad) / off;
      if (shareOn < minRatio * shareOff || shareOn - shareOff < minDiff) continue;
      const p = fisherUpper(c.bad, on, bad, total);
      if (p < alpha && (!best || p < best.p)) best = { key, variant, total: on, bad: c.bad, otherTotal: off, otherBad: bad - c.bad, p };
    }
  }
  return best;
}

/**
 * "41 of the 45 requests with flag new-pricing=on were over 120 ms, against 3 of the 410 with other variants
 * (Fisher p = 2e-40)". `bad`: what the bad requests did ("were over 120 ms", "failed").
 */
export function attributionPhrase(f: FlagAttribution, bad: string): string {
  return `${f.bad} of the ${f.total} requests with flag ${f.key}=${f.variant} ${bad}, against ${f.otherBad} of the ${f.otherTotal} with other variants (Fisher p = ${f.p.toExponential(1)})`;
}
