import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span, SpanKind } from '../../signals/model.js';
import { buildDependencyMap } from './dependency-map.js';
import { impactFromEdges, impactFromTraces } from './impact.js';
import { renderGraph } from './export.js';

let nextId = 0;
function span(traceId: string, service: string, name: string, kind: SpanKind, parent?: Span, attrs: Span['attributes'] = {}, error = false): Span {
  const startUs = 1_000_000 + nextId * 10;
  return {
    traceId,
    spanId: (++nextId).toString(16).padStart(16, '0'),
    parentSpanId: parent?.spanId,
    name,
    kind,
    startUs,
    endUs: startUs + 5000,
    service,
    attributes: attrs,
    events: [],
    links: [],
    status: { code: error ? 2 : 0 },
    resource: { attributes: { 'service.name': service } },
  };
}

/** frontend → checkout → payment (HTTP), checkout → redis (db attrs, uninstrumented); frontend → catalog. */
function shop(traces: number): Span[] {
  const out: Span[] = [];
  for (let i = 0; i < traces; i++) {
    const t = `t${i}`;
    if (i % 4 === 0) {
      const root = span(t, 'frontend', 'GET /product', 2);
      const cli = span(t, 'frontend', 'GET catalog', 3, root);
      out.push(root, cli, span(t, 'catalog', 'GET /items', 2, cli));
    } else {
      const root = span(t, 'frontend', 'POST /checkout', 2);
      const c1 = span(t, 'frontend', 'POST checkout', 3, root);
      const s1 = span(t, 'checkout', 'POST /place', 2, c1);
      const c2 = span(t, 'checkout', 'POST payment', 3, s1);
      const s2 = span(t, 'payment', 'POST /charge', 2, c2, {}, i % 3 === 0);
      const db = span(t, 'checkout', 'GET', 3, s1, { 'db.system': 'redis' });
      out.push(root, c1, s1, c2, s2, db);
    }
  }
  return out;
}

test('dependency map recovers the call graph with directions, error shares and uninstrumented peers', () => {
  const map = buildDependencyMap(shop(40));
  const pairs = map.edges.map((e) => `${e.source}->${e.target}:${e.kind}`).sort();
  assert.deepEqual(pairs, ['checkout->payment:calls', 'checkout->redis:db', 'frontend->catalog:calls', 'frontend->checkout:calls']);
  const pay = map.edges.find((e) => e.target === 'payment')!;
  assert.equal(pay.calls, 30);
  assert.equal(pay.errors, 10);
  assert.deepEqual(map.entryOperations.map((o) => o.operation), ['POST /checkout', 'GET /product']);
});

test("a client call whose callee's span is missing goes to the service behind its address; an address of several services stays a host", () => {
  const http = (port: number): Span['attributes'] => ({ 'server.address': '127.0.0.1', 'server.port': port });
  const out: Span[] = [];
  for (let i = 0; i < 5; i++) {
    const root = span(`a${i}`, 'frontend', 'GET /', 2);
    const cli = span(`a${i}`, 'frontend', 'POST', 3, root, http(34705));
    // Through a gateway on :8080, cart and catalog both answer.
    const gw = span(`a${i}`, 'frontend', 'GET', 3, root, http(8080));
    out.push(root, cli, span(`a${i}`, 'currency', 'POST /convert', 2, cli), gw, span(`a${i}`, i % 2 ? 'cart' : 'catalog', 'GET /x', 2, gw));
  }
  // The window's last request: its callees' spans were not exported yet.
  const root = span('z', 'frontend', 'GET /', 2);
  out.push(root, span('z', 'frontend', 'POST', 3, root, http(34705)), span('z', 'frontend', 'GET', 3, root, http(8080)), span('z', 'frontend', 'GET', 3, root, http(9999)));
  const map = buildDependencyMap(out);
  const calls = Object.fromEntries(map.edges.map((e) => [`${e.target}:${e.kind}`, e.calls]));
  assert.deepEqual(calls, { 'currency:calls': 6, 'cart:calls': 2, 'catalog:calls': 3, '127.0.0.1:8080:external': 1, '127.0.0.1:9999:external': 1 });
});

test('measured impact of payment: checkout and frontend depend on it; only the checkout journey is affected', () => {
  const spans = shop(40);
  const map = buildDependencyMap(spans);
  const imp = impactFromTraces(spans, map.edges, 'payment');
  assert.deepEqual(imp.directDependents, ['checkout']);
  assert.deepEqual(imp.transitiveDependents, ['checkout', 'frontend']);
  assert.equal(imp.userFacing.length, 1);
  assert.equal(imp.userFacing[0]!.operation, 'POST /checkout');
  assert.equal(imp.userFacing[0]!.share, 1);
});

test('inferred impact from edges alone ranks the same journey and labels itself inferred', () => {
  const map = buildDependencyMap(shop(40));
  const imp = impactFromEdges(map.edges, map.entryOperations, 'redis');
  assert.equal(imp.basis, 'inferred');
  assert.deepEqual(imp.transitiveDependents, ['checkout', 'frontend']);
  assert.ok(imp.userFacing.length >= 1);
  assert.ok(imp.userFacing.every((o) => o.share > 0 && o.share <= 1));
});

test('graph renders to DOT and Mermaid with the culprit highlighted', () => {
  const map = buildDependencyMap(shop(8));
  const dot = renderGraph(map.edges, 'dot', ['payment']);
  assert.match(dot, /n_checkout -> n_payment/);
  assert.match(dot, /n_payment \[label="payment", style="rounded,filled"/);
  const mmd = renderGraph(map.edges, 'mermaid', ['payment']);
  assert.match(mmd, /^flowchart LR/);
  assert.match(mmd, /style n_payment fill:#F44336/);
  assert.deepEqual(JSON.parse(renderGraph(map.edges, 'json')).nodes.length, 5);
});
