import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFormat, newItems, notificationBodies, notifyPlan, parseSeverity, slackMessage } from './notify.js';
import { REPORT_SCHEMA_VERSION, type FeedbackItem, type FeedbackReport } from '../report.js';
import type { Severity } from '../../fleet/contracts.js';

const item = (rank: number, severity: Severity, isNew: boolean, title = `item ${rank}`): FeedbackItem => ({
  id: `f${rank}`,
  rank,
  kind: 'root-cause',
  title,
  severity,
  confidence: 0.8,
  score: 1,
  basis: 'measured',
  subject: { service: 'payment' },
  agents: ['qe-root-cause-analyzer'],
  findingIds: [`f${rank}`],
  evidence: { chain: ['errors rose 40× at 10:02', 'card is undefined at defects.ts:38', 'third', 'fourth'] },
  rationale: '',
  recommendations: ['Add a regression test reproducing the failure path'],
  isNew,
});

const report = (items: FeedbackItem[]): FeedbackReport => ({
  schemaVersion: REPORT_SCHEMA_VERSION,
  cycleId: 'c1',
  generatedAt: '2026-12-02T10:00:00Z',
  summary: { items: items.length, byCategory: { 'defect-patterns': items.length, 'performance-insights': 0, 'resilience-gaps': 0, 'learning-updates': 0 } },
  sections: { 'defect-patterns': items.filter((i) => i.rank % 2 === 1), 'performance-insights': items.filter((i) => i.rank % 2 === 0), 'resilience-gaps': [], 'learning-updates': [] },
  risk: [],
  agents: [],
});

test("only this cycle's new items at or above the severity are told, in the queen's order across sections", () => {
  const r = report([item(1, 'critical', true), item(2, 'high', true), item(3, 'high', false), item(4, 'medium', true), item(5, 'low', true)]);
  assert.deepEqual(newItems(r, 'high').map((i) => i.id), ['f1', 'f2']);
  assert.deepEqual(newItems(r, 'low').map((i) => i.id), ['f1', 'f2', 'f4', 'f5']);
  assert.deepEqual(notificationBodies({ format: 'slack', minSeverity: 'high' }, report([item(1, 'high', false), item(2, 'medium', true)])), [], 'nothing new and severe: nothing to send');
  const [json] = notificationBodies({ format: 'json', minSeverity: 'critical' }, r) as (FeedbackReport & { notified: string[] })[];
  assert.equal(json!.cycleId, 'c1');
  assert.deepEqual(json!.notified, ['f1']);
  assert.equal(parseSeverity(' High '), 'high');
  assert.throws(() => parseSeverity('urgent'), /info, low, medium, high, critical/);
});

test("a Slack message: header, one section per item with its first evidence and recommendation, escaped, within Block Kit's limits", () => {
  const items = Array.from({ length: 14 }, (_, i) => item(i + 1, 'critical', true, i === 0 ? 'payment <script> & <@here> broke' : `x${'y'.repeat(5000)}`));
  const m = slackMessage(report(items), items, 'http://127.0.0.1:4318/');
  const blocks = m.blocks as { type: string; text?: { text: string }; elements?: { text: string }[] }[];
  assert.equal(blocks[0]!.type, 'header');
  assert.equal(blocks[0]!.text!.text, '14 new findings from telemetry-swarm');
  const sections = blocks.filter((b) => b.type === 'section');
  assert.equal(sections.length, 10, 'at most 10 items; the rest are counted');
  assert.ok(blocks.length <= 50);
  assert.match(sections[0]!.text!.text, /^:rotating_light: \*payment &lt;script&gt; &amp; &lt;@here&gt; broke\*\n_critical · root-cause · confidence 0\.80 · qe-root-cause-analyzer_\n• errors rose 40× at 10:02\n• card is undefined at defects\.ts:38\n• third\n→ Add a regression test/);
  assert.ok(sections.every((s) => s.text!.text.length <= 3000));
  assert.equal(blocks.at(-1)!.elements![0]!.text, 'cycle c1 · 4 more in the report · <http://127.0.0.1:4318/|open the dashboard>');
  assert.ok(m.text.startsWith('14 new findings from telemetry-swarm: [critical] payment <script>'));
  assert.ok(m.text.length <= 3000);
});

test('PagerDuty: one Events API v2 trigger per new item, deduplicated by the item id, severity mapped onto its four', () => {
  const r = report([item(1, 'critical', true, 'payment is the likely root cause'), item(2, 'high', true, 'x'.repeat(2000)), item(3, 'high', false)]);
  const events = notificationBodies({ format: 'pagerduty', minSeverity: 'high', routingKey: 'R0UT1NGKEY', dashboardUrl: 'https://swarm.example/' }, r) as {
    routing_key: string; event_action: string; dedup_key: string; client_url: string;
    payload: { summary: string; source: string; severity: string; timestamp: string; component: string; group: string; class: string; custom_details: { evidence: string[]; cycle: string } };
    links: { href: string }[];
  }[];
  assert.equal(events.length, 2);
  const [a, b] = events;
  assert.deepEqual([a!.routing_key, a!.event_action, a!.dedup_key, a!.client_url], ['R0UT1NGKEY', 'trigger', 'telemetry-swarm:f1', 'https://swarm.example/']);
  assert.deepEqual([a!.payload.summary, a!.payload.source, a!.payload.severity, a!.payload.component, a!.payload.group, a!.payload.class], ['payment is the likely root cause', 'payment', 'critical', 'payment', 'defect-patterns', 'root-cause']);
  assert.equal(a!.payload.timestamp, '2026-12-02T10:00:00Z');
  assert.deepEqual(a!.payload.custom_details.evidence.slice(0, 1), ['errors rose 40× at 10:02']);
  assert.equal(b!.payload.severity, 'error', 'high is an error for PagerDuty');
  assert.equal(b!.payload.summary.length, 1024);
  assert.equal(b!.payload.group, 'performance-insights');
  assert.throws(() => notificationBodies({ format: 'pagerduty', minSeverity: 'high' }, r), /routing key/);
});

test("PagerDuty alerts stay open while their service is in the report and are resolved when it is gone", () => {
  const t = { format: 'pagerduty' as const, minSeverity: 'high' as const, routingKey: 'K' };
  const on = (svc: string, x: FeedbackItem): FeedbackItem => ({ ...x, subject: { service: svc } });
  const sent = (bodies: unknown[]): string[] => bodies.map((b) => `${(b as { event_action: string }).event_action} ${(b as { dedup_key: string }).dedup_key}`);
  // Cycle 1: payment's root cause and its new error, cart's burn: three triggers, all open.
  const c1 = notifyPlan(t, report([on('payment', item(1, 'critical', true)), on('payment', item(2, 'high', true)), on('cart', item(3, 'high', true))]));
  assert.deepEqual(sent(c1.bodies), ['trigger telemetry-swarm:f1', 'trigger telemetry-swarm:f2', 'trigger telemetry-swarm:f3']);
  // Cycle 2: payment's incident goes on (its new error is not reported twice: its alert stays open all the same);
  // cart is healthy again: resolved. Nothing new.
  const c2 = notifyPlan(t, report([on('payment', item(1, 'critical', false))]), c1.open);
  assert.deepEqual(sent(c2.bodies), ['resolve telemetry-swarm:f3']);
  assert.deepEqual(c2.bodies[0], { routing_key: 'K', event_action: 'resolve', dedup_key: 'telemetry-swarm:f3' });
  assert.deepEqual(c2.open.map((a) => a.key), ['telemetry-swarm:f1', 'telemetry-swarm:f2']);
  // Cycle 3: payment is over: both its alerts resolved, none left open.
  const c3 = notifyPlan(t, report([]), c2.open);
  assert.deepEqual(sent(c3.bodies), ['resolve telemetry-swarm:f1', 'resolve telemetry-swarm:f2']);
  assert.deepEqual(c3.open, []);
  // An alert about no service goes when its own item does; Slack keeps nothing open.
  const free = { ...item(4, 'critical', true), subject: {} };
  const c4 = notifyPlan(t, report([free]));
  assert.deepEqual(notifyPlan(t, report([{ ...free, isNew: false }]), c4.open).bodies, []);
  assert.deepEqual(sent(notifyPlan(t, report([]), c4.open).bodies), ['resolve telemetry-swarm:f4']);
  // The JSON receiver keeps its own state.
  assert.deepEqual(notifyPlan({ format: 'json', minSeverity: 'high' }, report([item(1, 'critical', true)]), [{ key: 'x' }]).open, []);
});

test('what is left of an incident does not hold its pages open: a low leftover item, or the error budget it spent', () => {
  const t = { format: 'pagerduty' as const, minSeverity: 'high' as const, routingKey: 'K' };
  const c1 = notifyPlan(t, report([item(1, 'critical', true)]));
  assert.deepEqual(c1.open.map((a) => a.key), ['telemetry-swarm:f1']);
  const leftovers = [{ ...item(2, 'low', true), kind: 'new-template' }, { ...item(4, 'medium', true), kind: 'budget-spent' }];
  const c2 = notifyPlan(t, report(leftovers), c1.open);
  assert.deepEqual(c2.bodies, [{ routing_key: 'K', event_action: 'resolve', dedup_key: 'telemetry-swarm:f1' }]);
  // A medium anomaly on the service is the incident still going, below the page's severity or not.
  const c3 = notifyPlan(t, report([{ ...item(2, 'medium', false), kind: 'anomaly' }]), c1.open);
  assert.deepEqual(c3.bodies, []);
  assert.deepEqual(c3.open, c1.open);
  // Alerting on low items too: a low item is then what an incident is made of.
  const low = { ...t, minSeverity: 'low' as const };
  const c4 = notifyPlan(low, report([{ ...item(2, 'low', true), kind: 'new-template' }]));
  assert.deepEqual(notifyPlan(low, report([{ ...item(2, 'low', false), kind: 'new-template' }]), c4.open).bodies, []);
});

test('Slack is told once when a service it was told about is out of the report', () => {
  const t = { format: 'slack' as const, minSeverity: 'high' as const, dashboardUrl: 'http://127.0.0.1:4318/' };
  const c1 = notifyPlan(t, report([item(1, 'critical', true, 'payment is the likely root cause')]));
  assert.equal(c1.bodies.length, 1);
  assert.deepEqual(c1.open, [{ key: 'telemetry-swarm:f1', title: 'payment is the likely root cause', service: 'payment' }]);
  assert.deepEqual(notifyPlan(t, report([item(1, 'critical', false)]), c1.open).bodies, [], 'still going: nothing to say');
  const c3 = notifyPlan(t, report([]), c1.open);
  assert.deepEqual(c3.open, []);
  const msg = c3.bodies[0] as { text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] };
  assert.equal(msg.text, 'resolved: payment (telemetry-swarm)');
  assert.equal(msg.blocks[0]!.text!.text, ":white_check_mark: *payment*: nothing of its incident in this cycle's report; it had payment is the likely root cause");
  assert.equal(msg.blocks[1]!.elements![0]!.text, 'cycle c1 · <http://127.0.0.1:4318/|open the dashboard>');
});

test("Slack's and PagerDuty's hosts get their formats by default; any other receiver gets the JSON report", () => {
  assert.equal(defaultFormat('https://events.pagerduty.com/v2/enqueue'), 'pagerduty');
  assert.equal(defaultFormat('https://hooks.slack.com/services/T000/B000/XXXX'), 'slack');
  assert.equal(defaultFormat('https://alerts.example/hook'), 'json');
  assert.equal(defaultFormat('not a url'), 'json');
});
