import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA, hasSharedData } from '../../../test/helpers/env.js';
import { announcedChange, announcedChanges, withAnnounced } from './announced-changes.js';
import type { LogRecord } from '../../signals/model.js';
import type { SystemChange } from './regressions.js';

const T = 1_700_000_000_000_000;
const line = (body: string, over: Partial<LogRecord> = {}): LogRecord => ({ timeUs: T, service: 'pricing', severityNumber: 9, body, attributes: {}, resource: { attributes: {} }, ...over });
const what = (c: SystemChange | undefined): Partial<SystemChange> | undefined => c && { kind: c.kind, key: c.key, value: c.value, ...(c.previous !== undefined ? { previous: c.previous } : {}) };

test('a structured line saying the configuration changed is a config change, with the key and who made it from its fields', () => {
  const c = announcedChange(line('{"ts":"2026-12-03T14:08:39.209Z","level":"info","service":"catalog","msg":"admin: configuration changed","key":"fault.slowquery","by":"admin-api"}', { service: 'catalog' }));
  assert.deepEqual(what(c), { kind: 'config', key: 'fault.slowquery', value: '' });
  assert.equal(c!.service, 'catalog');
  assert.equal(c!.atUs, T);
  assert.deepEqual(c!.declared, { by: 'admin-api', description: 'admin: configuration changed', source: 'log' });
});

test('OTLP log attributes carry the setting, its new value and the one it replaced', () => {
  assert.deepEqual(what(announcedChange(line('settings updated', { attributes: { key: 'cache.ttl', value: 5, previous: 30 } }))), { kind: 'config', key: 'cache.ttl', value: '5', previous: '30' });
});

test('plain and logfmt lines name the setting in the message', () => {
  assert.deepEqual(what(announcedChange(line('2026-12-03T14:00:00Z INFO [pricing] config updated cache.ttl=5 trace_id=0af7651916cd43dd8448eb211c80319c'))), { kind: 'config', key: 'cache.ttl', value: '5' });
  assert.deepEqual(what(announcedChange(line('level=info msg="configuration reloaded" key=pool.size value=20 old=10'))), { kind: 'config', key: 'pool.size', value: '20', previous: '10' });
  assert.deepEqual(what(announcedChange(line('property cache.ttl changed from 30 to 5'))), { kind: 'config', key: 'cache.ttl', value: '5', previous: '30' });
  assert.deepEqual(what(announcedChange(line('applying new settings: set pool.size to 20'))), { kind: 'config', key: 'pool.size', value: '20' });
  assert.deepEqual(what(announcedChange(line('Refresh keys changed: [pool.size, cache.ttl]'))), { kind: 'config', key: 'pool.size, cache.ttl', value: '' });
  assert.deepEqual(what(announcedChange(line('2026/12/03 14:00:00 [notice] 1#1: signal 1 (SIGHUP) received from 42, reconfiguring'))), { kind: 'config', key: 'configuration', value: '' });
});

test('a flag changed in a log line is a flag flip', () => {
  assert.deepEqual(what(announcedChange(line('{"msg":"feature flag updated","flag":"new-pricing","value":"on","previous":"off"}'))), { kind: 'flag', key: 'new-pricing', value: 'on', previous: 'off' });
  assert.deepEqual(what(announcedChange(line('toggle checkout-v2 enabled', { attributes: { 'feature_flag.key': 'checkout-v2', enabled: true } }))), { kind: 'flag', key: 'checkout-v2', value: 'true' });
});

test('failed attempts, restatements, startup loading and other mentions of config are not changes', () => {
  for (const body of [
    'failed to reload configuration: parse error at line 3',
    'could not apply new settings, keeping the old ones',
    'config unchanged after refresh',
    'configuration will be reloaded at midnight',
    'loaded configuration from /etc/pricing.yaml',
    'GET /api/config 200 3.1ms',
    'feature flags evaluated for user u-1',
    'Jul  2 02:18:39 calvisitor configd[53]: network changed: v4(en0-:10.105.163.202) DNS! Proxy SMB',
    '{"msg":"order placed","config":"changed"}',
  ]) {
    assert.equal(announcedChange(line(body)), undefined, body);
  }
  assert.equal(announcedChange(line('setting cache.ttl updated', { attributes: { key: 'cache.ttl', value: '30', previous: '30' } })), undefined, 'a new value equal to the old one changed nothing');
});

test('the same announcement three times among the lines read is a poller, not a change', () => {
  const at = (s: number, body = 'configuration reloaded'): LogRecord => line(body, { timeUs: T + s * 1e6 });
  assert.equal(announcedChanges([at(0), at(60), at(120)]).length, 0);
  const two = announcedChanges([at(60), at(0)]);
  assert.deepEqual(two.map((c) => c.atUs), [T, T + 60e6], 'twice is two changes, oldest first');
  // A different value is a different announcement.
  assert.equal(announcedChanges([at(0, 'config updated ttl=1'), at(1, 'config updated ttl=2'), at(2, 'config updated ttl=3')]).length, 3);
});

test('a change declared by whoever made it is not counted again when the service also logs it', () => {
  const declared: SystemChange = { kind: 'config', service: 'pricing', key: 'cache.ttl', value: '5', atUs: T - 10e6, declared: { by: 'ops' } };
  const logs = [line('config updated cache.ttl=5'), line('config updated pool.size=20', { timeUs: T + 1e6 })];
  assert.deepEqual(withAnnounced([declared], logs).map((c) => `${c.key}=${c.value} ${c.declared?.by ?? ''}`), ['cache.ttl=5 ops', 'pool.size=20 ']);
});

test('on the 32,000 lines of the 16 Loghub-2k systems no line reads as a change announcement', { skip: !hasSharedData('loghub-2k') && 'no ../shared/data/loghub-2k' }, () => {
  const root = join(SHARED_DATA, 'loghub-2k');
  let lines = 0;
  const found: string[] = [];
  for (const d of readdirSync(root)) {
    const file = join(root, d, `${d}_2k.log`);
    if (!existsSync(file)) continue;
    for (const body of readFileSync(file, 'utf8').split('\n')) {
      lines++;
      if (announcedChange(line(body, { service: d }))) found.push(`${d}: ${body}`);
    }
  }
  assert.ok(lines > 30_000, `${lines} lines read`);
  assert.deepEqual(found, []);
});
