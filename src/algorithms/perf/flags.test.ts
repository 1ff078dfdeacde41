import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagAttribution, flagChanges, flagEvaluations, withLogEvaluations } from './flags.js';
import type { Span } from '../../signals/model.js';

const T = 1_700_000_000_000_000;
let n = 0;
function span(over: Partial<Span> & { startUs: number }): Span {
  const id = (++n).toString(16);
  return { traceId: id.padStart(32, '0'), spanId: id.padStart(16, '0'), name: 'GET /', kind: 2, endUs: over.startUs + 20_000, service: 'pricing', attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: {} }, ...over };
}
const evaluated = (key: string, variant: string, atUs: number): Span['events'][number] => ({ name: 'feature_flag.evaluation', timeUs: atUs, attributes: { 'feature_flag.key': key, 'feature_flag.result.variant': variant, 'feature_flag.provider.name': 'flagd' } });

test('flag evaluations are read from the semantic-convention span events (current and earlier names) and Sentry attributes', () => {
  const sp = span({
    startUs: T,
    events: [
      evaluated('new-pricing', 'on', T),
      { name: 'feature_flag', timeUs: T, attributes: { 'feature_flag.key': 'old-style', 'feature_flag.variant': 'blue' } },
      { name: 'feature_flag.evaluation', timeUs: T, attributes: { 'feature_flag.key': 'by-value', 'feature_flag.result.value': 3 } },
      { name: 'feature_flag.evaluation', timeUs: T, attributes: { 'feature_flag.result.variant': 'no key' } },
      { name: 'exception', timeUs: T, attributes: { 'feature_flag.key': 'not a flag event', 'feature_flag.variant': 'x' } },
    ],
    attributes: { 'flag.evaluation.is_new_ui': true, 'flag.evaluation.': 'empty key', 'http.route': '/' },
  });
  assert.deepEqual(flagEvaluations(sp), [
    { key: 'new-pricing', variant: 'on' },
    { key: 'old-style', variant: 'blue' },
    { key: 'by-value', variant: '3' },
    { key: 'is_new_ui', variant: 'true' },
  ]);
});

test('a variant that starts being served is a flag change; a split served from the start and a rare variant are not', () => {
  const spans: Span[] = [];
  for (let i = 0; i < 600; i++) {
    const t = T + i * 1e6;
    // new-pricing: off for 300 s, then on for one request in five (a canary).
    spans.push(span({ startUs: t, events: [evaluated('new-pricing', i >= 300 && i % 5 === 0 ? 'on' : 'off', t), evaluated('layout', i % 2 ? 'a' : 'b', t), evaluated('beta', i === 400 || i === 550 ? 'yes' : 'no', t)] }));
  }
  assert.deepEqual(flagChanges(spans), [{ service: 'pricing', key: 'new-pricing', value: 'on', previous: 'off', atUs: T + 300e6, before: 300, share: 0.2 }]);
  // Too few evaluations before it to tell a rollout from chance.
  assert.deepEqual(flagChanges(spans.slice(295, 400)), []);
});

test('attribution: the slow requests carry one variant (evaluated on a child span) far more than the rest do; an even spread names none', () => {
  const spans: Span[] = [];
  for (let i = 0; i < 400; i++) {
    const t = T + i * 100_000;
    const on = i % 4 === 0;
    const server = span({ startUs: t, endUs: t + (on ? 300_000 : 20_000 + (i % 7 === 0 ? 300_000 : 0)) });
    spans.push(server, span({ traceId: server.traceId, parentSpanId: server.spanId, kind: 1, startUs: t + 1000, events: [evaluated('new-pricing', on ? 'on' : 'off', t + 1000)] }));
    // Another service's requests in the same traces are not pricing's.
    spans.push(span({ traceId: server.traceId, service: 'cart', startUs: t, endUs: t + 900_000, events: [evaluated('cart-flag', 'x', t)] }));
  }
  const slow = (sp: Span): boolean => sp.endUs - sp.startUs >= 200_000;
  const a = flagAttribution(spans, 'pricing', slow);
  assert.ok(a);
  assert.deepEqual({ ...a, p: undefined }, { key: 'new-pricing', variant: 'on', total: 100, bad: 100, otherTotal: 300, otherBad: 43, p: undefined });
  assert.ok(a.p < 1e-30, String(a.p));
  assert.equal(flagAttribution(spans, 'pricing', (sp) => sp.spanId.endsWith('1') || sp.spanId.endsWith('2')), undefined);
  assert.equal(flagAttribution(spans, 'checkout', slow), undefined);
});

test("attribution counts each request's own evaluation when one trace holds several requests of the service", () => {
  const spans: Span[] = [];
  for (let i = 0; i < 60; i++) {
    const t = T + i * 1e6;
    const root = span({ service: 'frontend', startUs: t, endUs: t + 400_000 });
    // Each page calls pricing twice: one request with the flag on (slow), one with it off (fast).
    for (const on of [true, false]) {
      const req = span({ traceId: root.traceId, parentSpanId: root.spanId, startUs: t, endUs: t + (on ? 300_000 : 10_000), events: [evaluated('new-pricing', on ? 'on' : 'off', t)] });
      spans.push(req);
    }
    spans.push(root);
  }
  const a = flagAttribution(spans, 'pricing', (sp) => sp.endUs - sp.startUs >= 100_000);
  assert.deepEqual(a && { ...a, p: undefined }, { key: 'new-pricing', variant: 'on', total: 60, bad: 60, otherTotal: 60, otherBad: 0, p: undefined });
});

test('evaluations logged as Events (the current convention) join their spans by trace and span id; loose ones still date a rollout', () => {
  const spans: Span[] = [];
  const logs: import('../../signals/model.js').LogRecord[] = [];
  const log = (sp: Span | undefined, variant: string, t: number, byAttribute = false): void => {
    logs.push({ timeUs: t, service: 'pricing', severityNumber: 9, body: '', attributes: { 'feature_flag.key': 'new-pricing', 'feature_flag.result.variant': variant, ...(byAttribute ? { 'event.name': 'feature_flag.evaluation' } : {}) }, ...(byAttribute ? {} : { eventName: 'feature_flag.evaluation' }), ...(sp ? { traceId: sp.traceId, spanId: sp.spanId } : {}), resource: { attributes: {} } });
  };
  for (let i = 0; i < 400; i++) {
    const t = T + i * 1e6;
    const on = i >= 200 && i % 2 === 0;
    const sp = span({ startUs: t, endUs: t + (on ? 300_000 : 20_000) });
    spans.push(sp);
    log(sp, on ? 'on' : 'off', t, i % 3 === 0);
  }
  // An unrelated log line and an event of another name are not evaluations.
  logs.push({ timeUs: T, service: 'pricing', severityNumber: 9, body: 'hello', attributes: { 'feature_flag.key': 'x', 'feature_flag.result.variant': 'y' }, resource: { attributes: {} } });
  const joined = withLogEvaluations(spans, logs);
  assert.equal(joined.length, spans.length);
  assert.deepEqual(flagChanges(joined).map((c) => [c.key, c.value, c.previous, c.atUs]), [['new-pricing', 'on', 'off', T + 200e6]]);
  const a = flagAttribution(joined, 'pricing', (sp) => sp.endUs - sp.startUs >= 100_000);
  assert.deepEqual(a && [a.variant, a.bad, a.total, a.otherBad], ['on', 100, 100, 0]);
  // The spans themselves are not changed.
  assert.equal(spans.every((sp) => sp.events.length === 0), true);
  // Logged outside any span: counted for the rollout, not for requests.
  const loose = withLogEvaluations([], logs.map((l) => ({ ...l, traceId: undefined, spanId: undefined })));
  assert.deepEqual(flagChanges(loose).map((c) => c.atUs), [T + 200e6]);
  assert.equal(flagAttribution(loose, 'pricing', () => true), undefined);
});
