import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeInputError, describeChange, parseChange, parseChanges, MAX_CHANGES_PER_REQUEST } from './change-event.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0) * 1000;

test('a deploy is a new service.version: {service, version}, dated now unless told', () => {
  assert.deepEqual(parseChange({ service: 'checkout', version: 'v2.4.1' }, NOW), { kind: 'deploy', service: 'checkout', key: 'service.version', value: 'v2.4.1', atUs: NOW });
  assert.equal(parseChange({ service: 'checkout', kind: 'deploy', value: 42 }, NOW).value, '42');
  assert.equal(describeChange(parseChange({ service: 'checkout', version: 'v2' }, NOW)), 'deploy checkout v2');
});

test('config changes and flag flips take key and value (scalars become strings), with the value they replaced', () => {
  const flag = parseChange({ service: 'pricing', kind: 'flag', key: 'new-pricing', value: true, previous: false, by: 'flagd', url: 'https://flags.example/a/1', description: 'canary 10%' }, NOW);
  assert.deepEqual(flag, { kind: 'flag', service: 'pricing', key: 'new-pricing', value: 'true', previous: 'false', atUs: NOW, by: 'flagd', url: 'https://flags.example/a/1', description: 'canary 10%' });
  assert.equal(describeChange(flag), 'flag pricing new-pricing: false → true');
  // key without a kind: a config change.
  const cfg = parseChange({ service: 'cart', key: 'cache.ttl', value: 30 }, NOW);
  assert.equal(cfg.kind, 'config');
  assert.equal(describeChange(cfg), 'config cart cache.ttl=30');
  // A listed announcement (change list --json) re-imports as announced.
  const announced = { kind: 'config', service: 'cart', key: 'cache.ttl', value: '0', previous: '300', atUs: NOW - 1e6, by: 'ops-console', description: 'configuration changed', source: 'log' } as const;
  assert.deepEqual(parseChange(announced, NOW), announced);
  assert.throws(() => parseChange({ ...announced, source: 'span' }, NOW), /source/);
  // The link is normalised: it goes into Markdown and HTML.
  assert.equal(parseChange({ service: 'cart', version: '2', url: 'https://ci.example/runs/7 <b>' }, NOW).url, 'https://ci.example/runs/7%20%3Cb%3E');
});

test('the time: ISO 8601, epoch milliseconds, epoch microseconds (atUs) or "now"; unit mistakes and far futures are refused', () => {
  assert.equal(parseChange({ service: 's', version: '1', at: '2026-12-02T10:15:00Z' }, NOW).atUs, Date.UTC(2026, 11, 2, 10, 15) * 1000);
  assert.equal(parseChange({ service: 's', version: '1', at: Date.UTC(2026, 11, 2, 10, 15) }, NOW).atUs, Date.UTC(2026, 11, 2, 10, 15) * 1000);
  assert.equal(parseChange({ service: 's', version: '1', atUs: 1_796_000_000_000_000 }, NOW).atUs, 1_796_000_000_000_000);
  assert.equal(parseChange({ service: 's', version: '1', at: 'now' }, NOW).atUs, NOW);
  assert.throws(() => parseChange({ service: 's', version: '1', at: 1_796_000_000 }, NOW), /before 2000: seconds given\?/);
  assert.throws(() => parseChange({ service: 's', version: '1', atUs: 1_796_000_000_000 }, NOW), /before 2000: milliseconds given\?/);
  assert.throws(() => parseChange({ service: 's', version: '1', at: '12/02/2026' }, NOW), /ISO 8601/);
  assert.throws(() => parseChange({ service: 's', version: '1', at: '2026-13-45T00:00:00Z' }, NOW), /not a valid time/);
  assert.throws(() => parseChange({ service: 's', version: '1', at: '2026-12-05T00:00:00Z' }, NOW), /more than a day ahead/);
  assert.throws(() => parseChange({ service: 's', version: '1', at: 'now', atUs: NOW }, NOW), /either at or atUs/);
});

test('bad changes get an error that names the field and what it needs', () => {
  const bad: [unknown, RegExp][] = [
    [{ servcie: 'x', version: '1' }, /service|servcie/],
    [{ service: 'x', version: '1', servcie: 'y' }, /servcie/],
    [{ service: '', version: '1' }, /^service: /],
    [{ service: 'x' }, /a deploy needs the version/],
    [{ service: 'x', kind: 'flag', key: 'f' }, /a flag change needs key and value/],
    [{ service: 'x', kind: 'flag', version: '1' }, /version is for deploys/],
    [{ service: 'x', kind: 'deploy', key: 'app.config', value: '2' }, /give version, not key "app.config"/],
    [{ service: 'x', version: '1', value: '2' }, /version and value differ/],
    [{ service: 'x', kind: 'config', key: 'k', value: 'a', previous: 'a' }, /nothing changed/],
    [{ service: 'x', version: '1', url: 'javascript:alert(1)' }, /^url: must be an http\(s\) URL/],
    [{ service: 'x', kind: 'rollback', version: '1' }, /^kind: /],
    ['deploy checkout', /expected object/i],
  ];
  for (const [input, msg] of bad) {
    assert.throws(() => parseChange(input, NOW), (e: unknown) => e instanceof ChangeInputError && msg.test(e.message), JSON.stringify(input));
  }
});

test('a list is all or nothing: the first bad change fails it, named by its index', () => {
  assert.equal(parseChanges([{ service: 'a', version: '1' }, { service: 'b', version: '2' }], NOW).length, 2);
  assert.throws(() => parseChanges([{ service: 'a', version: '1' }, { service: 'b' }], NOW), /: \[1\] a deploy needs/);
  assert.throws(() => parseChanges([], NOW), /empty list/);
  assert.throws(() => parseChanges(Array.from({ length: MAX_CHANGES_PER_REQUEST + 1 }, () => ({ service: 'a', version: '1' })), NOW), /at most 1000/);
});
