import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorEvent, StackFrame } from '../../signals/model.js';
import { ErrorGrouper, errorFingerprint } from './grouping.js';

const frames = (line: number): StackFrame[] => [
  { file: '/app/node_modules/pg/lib/client.js', line: 10, function: 'Client.query', inApp: false },
  { file: '/app/src/orders/repo.ts', line, function: 'loadOrder', inApp: true },
  { file: '/app/src/orders/handler.ts', line: line + 5, function: 'getOrder', inApp: true },
];

function ev(over: Partial<ErrorEvent>): ErrorEvent {
  return {
    timeUs: 1_000_000,
    service: 'orders',
    type: 'NotFoundError',
    message: 'order 123 not found',
    frames: frames(40),
    fingerprint: 'ingest',
    source: 'span',
    attributes: {},
    resource: { attributes: {} },
    ...over,
  };
}

test('same type, message template and in-app frames group together, whatever the values and line numbers', () => {
  const a = errorFingerprint(ev({}));
  const b = errorFingerprint(ev({ message: 'order 98765 not found', frames: frames(77) }));
  assert.equal(a.fingerprint, b.fingerprint);
  assert.equal(a.messageTemplate, 'order <*> not found');
  assert.deepEqual(a.frames, ['loadOrder (repo.ts)', 'getOrder (handler.ts)']);
  assert.notEqual(errorFingerprint(ev({ type: 'TypeError' })).fingerprint, a.fingerprint);
  assert.notEqual(errorFingerprint(ev({ message: 'order service unavailable' })).fingerprint, a.fingerprint);
  const otherFrames = frames(40).map((f) => (f.function === 'loadOrder' ? { ...f, function: 'loadInvoice' } : f));
  assert.notEqual(errorFingerprint(ev({ frames: otherFrames })).fingerprint, a.fingerprint);
});

test('groups keep first/last seen, counts per release and service, and trace ids', () => {
  const g = new ErrorGrouper();
  assert.equal(g.add(ev({ timeUs: 5, release: '1.0.0', traceId: 't1' })).created, true);
  assert.equal(g.add(ev({ timeUs: 2, release: '1.0.1', traceId: 't2', message: 'order 7 not found' })).created, false);
  g.add(ev({ timeUs: 9, release: '1.0.1', traceId: 't2' }));
  const [grp] = g.list();
  assert.equal(grp.count, 3);
  assert.equal(grp.firstSeenUs, 2);
  assert.equal(grp.lastSeenUs, 9);
  assert.deepEqual(grp.releases, { '1.0.0': 1, '1.0.1': 2 });
  assert.deepEqual(grp.traceIds, ['t1', 't2']);
  const back = ErrorGrouper.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
  assert.equal(back.add(ev({ timeUs: 10 })).group.count, 4);
});
