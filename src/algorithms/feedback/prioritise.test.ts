import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../../fleet/contracts.js';
import { prioritise } from './prioritise.js';

const base = (over: Partial<Finding>): Finding => ({
  id: 'f',
  agentId: 'qe-root-cause-analyzer',
  kind: 'root-cause',
  category: 'defect-patterns',
  title: 't',
  severity: 'medium',
  confidence: 0.5,
  subject: {},
  evidence: {},
  basis: 'measured',
  createdUs: 0,
  ...over,
});

test('duplicates collapse to one item and related findings on one subject merge with corroborated confidence', () => {
  const items = prioritise([
    base({ id: 'a', subject: { service: 'payment' }, confidence: 0.6, window: { fromUs: 0, toUs: 10 } }),
    base({ id: 'a', subject: { service: 'payment' }, confidence: 0.6, window: { fromUs: 0, toUs: 10 } }),
    base({ id: 'b', agentId: 'qe-pattern-learner', subject: { service: 'payment' }, confidence: 0.5, window: { fromUs: 5, toUs: 20 } }),
    base({ id: 'c', subject: { service: 'cart' }, confidence: 0.6 }),
  ]);
  assert.equal(items.length, 2);
  const pay = items.find((i) => i.lead.subject.service === 'payment')!;
  assert.equal(pay.members.length, 2);
  assert.ok(Math.abs(pay.confidence - 0.8) < 1e-9); // 1 - 0.4 * 0.5
  assert.deepEqual(pay.agents.sort(), ['qe-pattern-learner', 'qe-root-cause-analyzer']);
  assert.equal(items[0]!.lead.subject.service, 'payment'); // corroborated item outranks the lone one
});

test('impact from the knowledge graph and novelty from earlier cycles change the order', () => {
  const findings = [
    base({ id: 'edge', subject: { service: 'email' }, severity: 'high', confidence: 0.8 }),
    base({ id: 'core', subject: { service: 'checkout' }, severity: 'high', confidence: 0.8 }),
  ];
  const impact = (s?: string): number => (s === 'checkout' ? 1 : 0.05);
  assert.deepEqual(prioritise(findings, { impact }).map((i) => i.id), ['core', 'edge']);
  const prior = new Map([['core', { id: 'core', severity: 'high' as const, confidence: 0.8, cycles: 9 }]]);
  assert.deepEqual(prioritise(findings, { impact, prior }).map((i) => i.id), ['edge', 'core']);
});

test('an item is measured when any member is measured, inferred only when all are', () => {
  const items = prioritise([base({ id: 'x', basis: 'inferred', subject: { service: 's' } }), base({ id: 'y', basis: 'inferred', subject: { service: 't' } })]);
  assert.ok(items.every((i) => i.basis === 'inferred'));
});


test('a spent error budget stays an item of its own beside the incident of the moment on the same service', () => {
  const window = { fromUs: 0, toUs: 900e6 };
  const perf = { agentId: 'qe-performance-tester', category: 'performance-insights' as const, window };
  const items = prioritise([
    base({ ...perf, id: 'anomaly', kind: 'anomaly', severity: 'high', confidence: 0.8, subject: { service: 'cart' } }),
    base({ ...perf, id: 'burn', kind: 'slo-burn', severity: 'critical', confidence: 0.9, subject: { service: 'cart', metric: 'availability' } }),
    base({ ...perf, id: 'spent', kind: 'budget-spent', severity: 'medium', confidence: 0.9, subject: { service: 'cart', metric: 'availability' } }),
  ]);
  assert.deepEqual(items.map((i) => i.members.map((m) => m.id).sort()), [['anomaly', 'burn'], ['spent']]);
});

test("a root cause explains the symptoms of its own system at the same time, not another system's that fail with it", async () => {
  const { serviceSystems } = await import('../../agents/feedback/queen-coordinator.js');
  const edge = (a: string, b: string) => ({ source: `service:${a}`, target: `service:${b}`, kind: 'calls', weight: 10, props: {}, firstSeenUs: 0, lastSeenUs: 0 });
  // The shop (frontend → checkout → payment, checkout → shipping) and, in the same memory, a billing system.
  const related = serviceSystems([edge('frontend', 'checkout'), edge('checkout', 'payment'), edge('checkout', 'shipping'), edge('billing-api', 'ledger')]);
  assert.equal(related('shipping', 'payment'), true, 'siblings under one caller are one system');
  assert.equal(related('ledger', 'payment'), false);
  assert.equal(related('unknown', 'payment'), undefined);
  const w = { fromUs: 0, toUs: 60e6 };
  const findings = [
    base({ id: 'rc', subject: { service: 'payment' }, severity: 'high', confidence: 0.8, window: w }),
    base({ id: 'front', kind: 'anomaly', agentId: 'qe-performance-tester', category: 'performance-insights', subject: { service: 'frontend' }, severity: 'high', confidence: 0.8, window: w }),
    base({ id: 'ship', kind: 'anomaly', agentId: 'qe-performance-tester', category: 'performance-insights', subject: { service: 'shipping' }, severity: 'high', confidence: 0.8, window: w }),
    base({ id: 'ledger', kind: 'anomaly', agentId: 'qe-performance-tester', category: 'performance-insights', subject: { service: 'ledger' }, severity: 'high', confidence: 0.8, window: w }),
    base({ id: 'stray', kind: 'anomaly', agentId: 'qe-performance-tester', category: 'performance-insights', subject: { service: 'unknown' }, severity: 'high', confidence: 0.8, window: w }),
  ];
  const byId = (items: ReturnType<typeof prioritise>) => new Map(items.map((i) => [i.id, i]));
  const items = byId(prioritise(findings, { related }));
  assert.match(items.get('rc')!.rationale, /explains 3 symptom\(s\) elsewhere/);
  for (const id of ['front', 'ship', 'stray']) assert.match(items.get(id)!.rationale, /a symptom of the root cause in payment/, id);
  assert.doesNotMatch(items.get('ledger')!.rationale, /symptom of/, "billing's own failure is not payment's symptom");
  // Without the graph, time alone relates them (as before it).
  assert.match(byId(prioritise(findings)).get('ledger')!.rationale, /a symptom of the root cause in payment/);
});
