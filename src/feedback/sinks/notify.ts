/**
 * Notifications of a cycle's new feedback: what `tswarm serve --continuous --notify <url>` (and `analyze --webhook`)
 * posts, so an on-call channel hears of a new root cause or SLO burn without watching the dashboard.
 *
 * Only items new in this cycle (`isNew`: not in an earlier cycle's report) at or above a severity are sent, so a
 * lasting incident is announced once, not every five minutes. Three formats: the JSON report (what `analyze
 * --webhook` sends, for receivers of our own schema), a Slack incoming-webhook message (Block Kit), which
 * Mattermost and Rocket.Chat incoming webhooks also take (they read `text`), and PagerDuty Events API v2 triggers,
 * one per item, deduplicated by the item's id (a page that is already open is not opened twice), resolved when its
 * service's incident has left the report (notifyPlan).
 */
import { STANDING_KINDS } from '../../algorithms/feedback/prioritise.js';
import type { FeedbackItem, FeedbackReport } from '../report.js';
import type { Severity } from '../../fleet/contracts.js';

export type NotifyFormat = 'json' | 'slack' | 'pagerduty';

export const NOTIFY_FORMATS: readonly NotifyFormat[] = ['json', 'slack', 'pagerduty'];

const SEVERITY_ORDER: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function parseSeverity(s: string): Severity {
  const v = s.trim().toLowerCase() as Severity;
  if (!SEVERITY_ORDER.includes(v)) throw new RangeError(`severity must be one of ${SEVERITY_ORDER.join(', ')} (got "${s}")`);
  return v;
}

/** Slack's and PagerDuty's own hosts mean their formats; anything else gets our JSON unless told. */
export function defaultFormat(url: string): NotifyFormat {
  try {
    const host = new URL(url).hostname;
    return host === 'hooks.slack.com' ? 'slack' : host === 'events.pagerduty.com' || host === 'events.eu.pagerduty.com' ? 'pagerduty' : 'json';
  } catch {
    return 'json';
  }
}

/** The report's items that are new this cycle and at least `min` severe, in the queen's order. */
export function newItems(report: FeedbackReport, min: Severity): FeedbackItem[] {
  const floor = SEVERITY_ORDER.indexOf(min);
  return Object.values(report.sections)
    .flat()
    .filter((i) => i.isNew && SEVERITY_ORDER.indexOf(i.severity) >= floor)
    .sort((a, b) => a.rank - b.rank);
}

/** Slack mrkdwn: &, < and > are control characters (links, mentions) and must be escaped in text we did not write. */
export const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** Slack's Block Kit limits: 50 blocks a message (10 items × 2 + 2), 3,000 characters a section, 150 a header. */
const MAX_ITEMS = 10;
const SECTION_CHARS = 3000;

/** The closing line of a Slack message: the cycle, what else there is, and the dashboard link. */
function slackFooter(report: FeedbackReport, dashboardUrl: string | undefined, more: string[] = []): unknown {
  const parts = [`cycle ${report.cycleId}`, ...more, ...(dashboardUrl ? [`<${dashboardUrl}|open the dashboard>`] : [])];
  return { type: 'context', elements: [{ type: 'mrkdwn', text: parts.join(' · ') }] };
}

const ICON: Record<Severity, string> = { critical: ':rotating_light:', high: ':warning:', medium: ':large_yellow_circle:', low: ':white_circle:', info: ':information_source:' };

/**
 * A Slack message: a header, one section per item (severity, title, the first lines of its evidence, the first
 * recommendation), a line for the rest and a link to the dashboard. `text` is the fallback notifications show.
 */
export function slackMessage(report: FeedbackReport, items: readonly FeedbackItem[], dashboardUrl?: string): { text: string; blocks: unknown[] } {
  const head = `${items.length} new finding${items.length === 1 ? '' : 's'} from telemetry-swarm`;
  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: clip(head, 150), emoji: true } }];
  for (const i of items.slice(0, MAX_ITEMS)) {
    const chain = (i.evidence.chain ?? []).slice(0, 3).map((c) => `• ${slackEscape(clip(c, 300))}`);
    const lines = [`${ICON[i.severity]} *${slackEscape(i.title)}*`, `_${i.severity} · ${i.kind} · confidence ${i.confidence.toFixed(2)} · ${i.agents.join(', ')}_`, ...chain, ...(i.recommendations[0] ? [`→ ${slackEscape(i.recommendations[0])}`] : [])];
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), SECTION_CHARS) } });
    // The verdict buttons (a Slack app with interactivity posts them to /hooks/slack): what the learning layer
    // learns from, given where people already are. On the item's first finding, as the dashboard's buttons are.
    const f = i.findingIds[0];
    if (f && f.length <= 1900) {
      blocks.push({
        type: 'actions',
        block_id: clip(`verdict:${i.id}`, 255),
        elements: [
          { type: 'button', action_id: 'tswarm-confirm', text: { type: 'plain_text', text: 'Confirm' }, style: 'primary', value: `confirmed|${f}` },
          { type: 'button', action_id: 'tswarm-reject', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: `rejected|${f}` },
        ],
      });
    }
  }
  const rest = items.length - MAX_ITEMS;
  blocks.push(slackFooter(report, dashboardUrl, rest > 0 ? [`${rest} more in the report`] : []));
  const text = `${head}: ${items.slice(0, 3).map((i) => `[${i.severity}] ${i.title}`).join('; ')}${items.length > 3 ? '; …' : ''}`;
  return { text: clip(text, 3000), blocks };
}

/** An item's PagerDuty dedup key (at most 255 characters). */
const pdKey = (i: FeedbackItem): string => clip(`telemetry-swarm:${i.id}`, 255);

const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' };

/**
 * PagerDuty Events API v2 triggers, one per item. The dedup key is the item's id: the same finding in a later cycle
 * (or a retried delivery) lands on the open alert instead of paging again. Limits: summary 1,024 characters,
 * dedup key 255.
 */
export function pagerDutyEvents(report: FeedbackReport, items: readonly FeedbackItem[], routingKey: string, dashboardUrl?: string): unknown[] {
  return items.map((i) => ({
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: pdKey(i),
    client: 'telemetry-swarm',
    ...(dashboardUrl ? { client_url: dashboardUrl } : {}),
    payload: {
      summary: clip(i.title, 1024),
      source: i.subject.service ?? 'telemetry-swarm',
      severity: PD_SEVERITY[i.severity],
      timestamp: report.generatedAt,
      ...(i.subject.service ? { component: i.subject.service } : {}),
      group: Object.entries(report.sections).find(([, xs]) => xs.includes(i))?.[0] ?? 'feedback',
      class: i.kind,
      custom_details: { confidence: i.confidence, agents: i.agents, evidence: (i.evidence.chain ?? []).slice(0, 10), recommendations: i.recommendations, cycle: report.cycleId, findings: i.findingIds },
    },
    ...(dashboardUrl ? { links: [{ href: dashboardUrl, text: 'telemetry-swarm dashboard' }] } : {}),
  }));
}

/** PagerDuty resolves for alerts this swarm opened (their dedup keys). */
export function pagerDutyResolves(routingKey: string, dedupKeys: readonly string[]): unknown[] {
  return dedupKeys.map((k) => ({ routing_key: routingKey, event_action: 'resolve', dedup_key: k }));
}

/** An alert the notifier opened: its dedup key, the service it is about and what it said. */
export interface OpenAlert {
  key: string;
  service?: string;
  title?: string;
}

/** A Slack message that the incidents it announced are over: one line per service, with its alerts' titles. */
export function slackResolved(gone: readonly OpenAlert[], report: FeedbackReport, dashboardUrl?: string): { text: string; blocks: unknown[] } {
  const by = new Map<string, string[]>();
  for (const a of gone) by.set(a.service ?? 'other', [...(by.get(a.service ?? 'other') ?? []), a.title ?? a.key]);
  const lines = [...by].map(([svc, titles]) => `:white_check_mark: *${slackEscape(svc)}*: nothing of its incident in this cycle's report; it had ${titles.map((t) => slackEscape(clip(t, 200))).join('; ')}`);
  const text = `resolved: ${[...by.keys()].join(', ')} (telemetry-swarm)`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), SECTION_CHARS) } }, slackFooter(report, dashboardUrl)] };
}

/**
 * What to send after a cycle and which alerts stay open. PagerDuty and Slack: the new items (a trigger each, or one
 * message), and for the alerts opened earlier whose service has no item in this cycle's report any more — the
 * incident there is over — a resolve each (PagerDuty) or one "resolved" message (Slack). By service, not by item:
 * a "new error" item is reported once, in the cycle that first sees the error, and its alert should stay open while
 * the incident it belongs to lasts. What keeps a service's incident going is an item at medium severity or above
 * (or at the notify floor, if that is lower), and not a standing one (a spent error budget stays in the report for
 * the day): a low "new log template" left over from the incident, or the budget it spent, would otherwise hold its
 * pages open. An alert about no service is resolved when its own item is gone. `open` is what was open before. The
 * JSON receiver keeps its own state: no alerts are kept for it.
 */
export function notifyPlan(t: NotifyTarget, report: FeedbackReport, open: readonly OpenAlert[] = []): { bodies: unknown[]; open: OpenAlert[] } {
  const fresh = newItems(report, t.minSeverity);
  const bodies = bodiesFor(t, report, fresh);
  if (t.format === 'json') return { bodies, open: [] };
  const items = Object.values(report.sections).flat();
  const keys = new Set(items.map(pdKey));
  const floor = Math.min(SEVERITY_ORDER.indexOf(t.minSeverity), SEVERITY_ORDER.indexOf('medium'));
  const ongoing = items.filter((i) => SEVERITY_ORDER.indexOf(i.severity) >= floor && !STANDING_KINDS.has(i.kind));
  const services = new Set(ongoing.map((i) => i.subject.service).filter((x): x is string => Boolean(x)));
  const lasts = (a: OpenAlert): boolean => (a.service ? services.has(a.service) : keys.has(a.key));
  const opened = fresh.map((i) => ({ key: pdKey(i), title: i.title, ...(i.subject.service ? { service: i.subject.service } : {}) }));
  const kept = open.filter(lasts);
  const gone = open.filter((a) => !lasts(a));
  const next = [...kept, ...opened.filter((x) => !kept.some((k) => k.key === x.key))];
  const resolves = !gone.length ? [] : t.format === 'pagerduty' ? pagerDutyResolves(t.routingKey!, gone.map((a) => a.key)) : [slackResolved(gone, report, t.dashboardUrl)];
  return { bodies: [...bodies, ...resolves], open: next };
}

export interface NotifyTarget {
  format: NotifyFormat;
  minSeverity: Severity;
  dashboardUrl?: string;
  /** PagerDuty's integration (routing) key: required by the pagerduty format. */
  routingKey?: string;
}

/** The bodies to post for a cycle (one, or one per item for PagerDuty); none when nothing is new enough to tell. */
export function notificationBodies(t: NotifyTarget, report: FeedbackReport): unknown[] {
  return bodiesFor(t, report, newItems(report, t.minSeverity));
}

function bodiesFor(t: NotifyTarget, report: FeedbackReport, items: readonly FeedbackItem[]): unknown[] {
  if (!items.length) return [];
  if (t.format === 'slack') return [slackMessage(report, items, t.dashboardUrl)];
  if (t.format === 'pagerduty') {
    if (!t.routingKey) throw new RangeError('the pagerduty format needs a routing key (TSWARM_PAGERDUTY_ROUTING_KEY)');
    return pagerDutyEvents(report, items, t.routingKey, t.dashboardUrl);
  }
  return [{ ...report, notified: items.map((i) => i.id) }];
}
