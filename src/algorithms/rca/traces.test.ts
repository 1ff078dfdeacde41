import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../../signals/model.js';
import { configChangesAfter, logIndicators, traceIndicators } from './traces.js';

let nextId = 1;
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

/**
 * One request of `caller` that calls `callee` (server → client → callee server); when `fails`, the caller throws
 * a TypeError after the answer arrived (it could not read what it got).
 */
function request(out: Span[], caller: string, callee: string, startUs: number, fails: boolean): Span {
  const traceId = hex(nextId++, 32);
  const mk = (service: string, kind: Span['kind'], s: number, d: number, parent?: string, err = false): Span => {
    const sp: Span = { traceId, spanId: hex(nextId++, 16), name: `${service} op`, kind, startUs: s, endUs: s + d, service, attributes: {}, events: [], links: [], status: { code: err ? 2 : 0 }, resource: { attributes: { 'service.name': service } } };
    if (parent) sp.parentSpanId = parent;
    out.push(sp);
    return sp;
  };
  const server = mk(caller, 2, startUs, 10_000, undefined, fails);
  const client = mk(caller, 3, startUs + 1000, 5000, server.spanId);
  mk(callee, 2, startUs + 1500, 4000, client.spanId);
  if (fails) server.events.push({ name: 'exception', timeUs: startUs + 7000, attributes: { 'exception.type': 'TypeError', 'exception.message': "Cannot read properties of undefined (reading 'map')" } });
  return server;
}

function origin(spans: Span[], svc: string): number {
  const s = traceIndicators(spans, 1e6).series.get(svc)?.get('error-origin');
  return s ? s.v.reduce((a, b) => a + b, 0) : 0;
}

test('a wrong answer that breaks every caller is blamed on the callee that gave it', () => {
  const spans: Span[] = [];
  for (let i = 0; i < 40; i++) {
    request(spans, 'frontend', 'currency', i * 100_000, i >= 20 && i % 2 === 0);
    request(spans, 'checkout', 'currency', i * 100_000 + 50_000, i >= 20 && i % 2 === 1);
  }
  const ev = traceIndicators(spans, 1e6);
  assert.ok(origin(spans, 'currency') > 0);
  assert.equal(origin(spans, 'frontend'), 0, 'the callers only consumed the bad answer');
  assert.equal(origin(spans, 'checkout'), 0);
  assert.ok([...ev.blame.values()].every((b) => b.service === 'currency' && b.share === 1));
});

test('a caller that fails on answers its callee\'s other callers read fine shares the blame (its own bug)', () => {
  const spans: Span[] = [];
  const failing: Span[] = [];
  for (let i = 0; i < 40; i++) {
    const s = request(spans, 'checkout', 'cart', i * 100_000, i >= 20 && i % 2 === 0);
    if (s.status.code === 2) failing.push(s);
    request(spans, 'frontend', 'cart', i * 100_000 + 50_000, false);
  }
  const ev = traceIndicators(spans, 1e6);
  assert.ok(origin(spans, 'checkout') > 0, 'checkout keeps its share');
  assert.ok(origin(spans, 'cart') > 0, 'cart gets the other half');
  assert.equal(ev.blame.size, failing.length);
  assert.ok([...ev.blame.values()].every((b) => b.service === 'cart' && b.share === 0.5));
  // The error it logged counts half for each in the log evidence too.
  const logs = logIndicators([], [{ timeUs: failing[0]!.endUs, service: 'checkout', type: 'TypeError', message: 'x', fingerprint: 'f1', frames: [], spanId: failing[0]!.spanId } as never], 1e6, 0, [0, 1e6, 2e6, 3e6], ev.blame);
  const sum = (svc: string): number => logs.get(svc)!.get('new-errors')!.v.reduce((a, b) => a + b, 0);
  assert.equal(sum('checkout'), 0.5);
  assert.equal(sum('cart'), 0.5);
});

test('an error about a dependency is the caller\'s own when none of its dependencies is traced (its own store)', () => {
  // cart's only dependency is its Redis (no spans of its own); frontend calls traced services. Both log timeouts.
  const err = (service: string, message: string, i: number): never => ({ timeUs: i * 1e6, service, type: 'Error', message, fingerprint: `${service}-${message}`, frames: [] }) as never;
  const errors = [err('cart', 'Command timed out', 2), err('cart', 'Command timed out', 3), err('frontend', 'cart GET /carts responded 500: Command timed out', 2)];
  const buckets = [0, 1e6, 2e6, 3e6];
  const sum = (s: ReturnType<typeof logIndicators>, svc: string): number => s.get(svc)?.get('new-errors')?.v.reduce((a, b) => a + b, 0) ?? 0;
  const traced = logIndicators([], errors, 1e6, 1.5e6, buckets, new Map(), new Set(['frontend']));
  assert.equal(sum(traced, 'cart'), 2);
  assert.equal(sum(traced, 'frontend'), 0);
  // Without trace analysis nothing says who calls what: every dependency error stays a symptom.
  const untraced = logIndicators([], errors, 1e6, 1.5e6, buckets);
  assert.equal(sum(untraced, 'cart'), 0);
});

test('a config change after the onset: a service whose config attributes take a value not seen before it; not one that always had it, nor one that only starts to report one', () => {
  const at = 1_700_000_000_000_000;
  const sp = (service: string, startUs: number, attrs: Record<string, string>): Span => ({ traceId: hex(nextId++, 32), spanId: hex(nextId++, 16), name: 'op', kind: 2, startUs, endUs: startUs + 1000, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': service, ...attrs } } });
  const spans = [
    sp('cart', at - 5e6, { 'app.config.version': '41', 'host.name': 'a' }),
    sp('cart', at + 2e6, { 'app.config.version': '42', 'host.name': 'b' }),
    sp('cart', at + 3e6, { 'app.config.version': '42', 'host.name': 'b' }),
    sp('db', at - 5e6, { 'feature_flag.set': 'x' }),
    sp('db', at + 1e6, { 'feature_flag.set': 'x' }),
    sp('web', at - 5e6, {}),
    sp('web', at + 1e6, { 'app.config.version': '1' }),
    sp('api', at - 5e6, { 'host.name': 'a' }),
    sp('api', at + 1e6, { 'host.name': 'b' }),
  ];
  assert.deepEqual(configChangesAfter(spans, at), [{ service: 'cart', config: 'app.config.version=42', previous: 'app.config.version=41', atUs: at + 2e6 }]);
});
