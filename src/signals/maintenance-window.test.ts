import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMaintenance, endedEarly, MaintenanceInputError, parseMaintenance } from './maintenance-window.js';

const NOW = Date.parse('2026-12-03T10:00:00Z') * 1000;
const H = 3600e6;

test('a maintenance window: from now or a given time, for a duration or to an end; an id that a retried declaration keeps', () => {
  const w = parseMaintenance({ service: 'db', reason: 'index rebuild', duration: '2h', by: 'alice' }, NOW);
  assert.deepEqual({ ...w, id: undefined }, { id: undefined, service: 'db', reason: 'index rebuild', fromUs: NOW, toUs: NOW + 2 * H, by: 'alice', declaredUs: NOW });
  assert.match(w.id, /^mw-[0-9a-f]{12}$/);
  assert.equal(parseMaintenance({ service: 'db', reason: 'index rebuild', from: NOW / 1000, to: '2026-12-03T11:00:00Z' }, NOW + 60e6).id, w.id, 'same service, start and reason: the same window, declared again');
  assert.notEqual(parseMaintenance({ service: 'db', reason: 'index rebuild', duration: '2h' }, NOW + 60e6).id, w.id, 'a later start: another window');
  const planned = parseMaintenance({ reason: 'network upgrade', from: '2026-12-05T22:00:00Z', to: '2026-12-06T02:00:00Z' }, NOW);
  assert.equal(planned.toUs - planned.fromUs, 4 * H);
  assert.equal(describeMaintenance(planned), 'maintenance (network upgrade)');
  assert.equal(describeMaintenance(w), 'maintenance of db (index rebuild)');
});

test('a window must say why and how long, end after it starts, last at most a week and start at most a week ahead', () => {
  const bad = (input: unknown, re: RegExp): void => assert.throws(() => parseMaintenance(input, NOW), (e: unknown) => e instanceof MaintenanceInputError && re.test(e.message));
  bad({ duration: '1h' }, /^reason: /);
  bad({ reason: 'x' }, /^give exactly one of to \(an end time\) or duration/);
  bad({ reason: 'x', duration: '1h', to: '2026-12-03T12:00:00Z' }, /^give exactly one of/);
  bad({ reason: 'x', duration: 'soon' }, /^duration: invalid duration "soon"/);
  bad({ reason: 'x', duration: '8d' }, /^a maintenance window lasts at most a week \(got 192 h\)/);
  bad({ reason: 'x', from: '2026-12-03T12:00:00Z', to: '2026-12-03T11:00:00Z' }, /^the window ends \(2026-12-03T11:00:00\.000Z\) before it starts/);
  bad({ reason: 'x', from: '2026-12-20T00:00:00Z', duration: '1h' }, /^the from time 2026-12-20T00:00:00\.000Z is more than a week ahead of now/);
  bad({ reason: 'x', from: 'tomorrow', duration: '1h' }, /^from must be an ISO 8601 time/);
  bad({ reason: 'x', from: 1_700_000_000, duration: '1h' }, /is before 2000: seconds given\?/);
  bad({ reason: 'x', duration: '1h', sevice: 'db' }, /Unrecognized key/);
  bad({ reason: 'x', duration: '1h', url: 'javascript:alert(1)' }, /^url: must be an http\(s\) URL/);
});

test('ending a window early moves its end to now; one not begun is cancelled; one already over stays as it was', () => {
  const w = parseMaintenance({ reason: 'x', from: '2026-12-03T10:00:00Z', duration: '2h' }, NOW);
  assert.deepEqual(endedEarly(w, NOW + H), { ...w, toUs: NOW + H, endedUs: NOW + H });
  assert.equal(endedEarly(w, NOW - H).toUs, w.fromUs, 'cancelled: no stretch left');
  assert.equal(endedEarly(w, NOW + 3 * H), w);
});
