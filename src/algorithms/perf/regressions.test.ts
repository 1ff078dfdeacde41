import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INDICATOR_RULES, nearestSystemChange, regressionsIn } from './regressions.js';
import type { Span } from '../../signals/model.js';

const t0 = 1_700_000_000_000_000;
const B = 10e6;
const times = (n: number): number[] => Array.from({ length: n }, (_, i) => t0 + i * B);
let seed = 3;
const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5);

test('an error rate that steps from ~0.5% to ~6% is a regression with its before and after; noise around 0.5% is not', () => {
  const t = times(120);
  const step = t.map((_, i) => Math.max(0, (i < 80 ? 0.005 : 0.06) + 0.01 * noise()));
  const r = regressionsIn(t, step, INDICATOR_RULES['error rate'], t[40]!);
  assert.equal(r.length, 1);
  assert.ok(Math.abs(r[0]!.index - 80) <= 1, `at ${r[0]!.index}`);
  assert.ok(r[0]!.before < 0.01 && r[0]!.after > 0.05 && r[0]!.pValue <= 0.01, JSON.stringify(r[0]));
  assert.deepEqual(regressionsIn(t, t.map(() => Math.max(0, 0.005 + 0.01 * noise())), INDICATOR_RULES['error rate'], t[40]!), []);
  // A change before the window is not this window's regression.
  assert.deepEqual(regressionsIn(t, step, INDICATOR_RULES['error rate'], t[100]!), []);
});

test('only a change for the worse counts: throughput falling is one, rising is not; errors falling are not', () => {
  const t = times(120);
  const fall = t.map((_, i) => (i < 70 ? 40 : 18) + 2 * noise());
  const r = regressionsIn(t, fall, INDICATOR_RULES.throughput, t[0]!);
  assert.equal(r.length, 1);
  assert.ok(r[0]!.magnitude < -0.4, JSON.stringify(r[0]));
  assert.deepEqual(regressionsIn(t, fall.map((x) => 58 - x), INDICATOR_RULES.throughput, t[0]!), []);
  assert.deepEqual(regressionsIn(t, t.map((_, i) => (i < 70 ? 0.08 : 0.01)), INDICATOR_RULES['error rate'], t[0]!), []);
  // Large relative, tiny absolute: 1 → 2 ms p95 is below what anyone feels.
  assert.deepEqual(regressionsIn(t, t.map((_, i) => (i < 70 ? 1 : 2) + 0.05 * noise()), INDICATOR_RULES['latency p95'], t[0]!), []);
});

const span = (startUs: number, resource: Record<string, string>, service = 'cart'): Span => ({ traceId: '1'.padStart(32, '0'), spanId: String(startUs).slice(-16).padStart(16, '0'), name: 'GET /', kind: 2, startUs, endUs: startUs + 1000, service, attributes: {}, events: [], links: [], status: { code: 0 }, resource: { attributes: { 'service.name': service, ...resource } } });

test('the nearest system change: a new service.version is a deploy, a new config or flag-set value a config change', () => {
  const at = t0 + 600e6;
  const deploy = [span(t0, { 'service.version': '1.4.2' }), span(at - 20e6, { 'service.version': '1.5.0' })];
  assert.deepEqual(nearestSystemChange(deploy, at), { kind: 'deploy', service: 'cart', key: 'service.version', value: '1.5.0', previous: '1.4.2', atUs: at - 20e6 });
  const config = [span(t0, { 'service.version': '1.4.2', 'app.config.version': '41' }), span(at + 5e6, { 'service.version': '1.4.2', 'app.config.version': '42' })];
  assert.deepEqual(nearestSystemChange(config, at), { kind: 'config', service: 'cart', key: 'app.config.version', value: '42', previous: '41', atUs: at + 5e6 });
  const flags = [span(t0, { 'feature_flag.set': 'a' }), span(at - 1e6, { 'feature_flag.set': 'b' })];
  assert.equal(nearestSystemChange(flags, at)?.key, 'feature_flag.set');
  // Not changes: one value all along, attributes that are not configuration, a change too far away.
  assert.equal(nearestSystemChange([span(t0, { 'service.version': '1' }), span(at, { 'service.version': '1' })], at), undefined);
  assert.equal(nearestSystemChange([span(t0, { 'host.name': 'a' }), span(at, { 'host.name': 'b' })], at), undefined);
  assert.equal(nearestSystemChange([span(t0, { 'service.version': '1' }), span(at + 900e6, { 'service.version': '2' })], at), undefined);
  // The closer of a deploy and a config change wins.
  assert.equal(nearestSystemChange([...deploy, ...config], at)?.kind, 'config');
});

test('declared changes: the nearest of them and the ones seen on spans wins; one seen on spans that a declared change reports is that change, dated when it was made', () => {
  const at = t0 + 600e6;
  const deploy = [span(t0, { 'service.version': '1.4.2' }), span(at - 20e6, { 'service.version': '1.5.0' })];
  const declaredDeploy = { kind: 'deploy' as const, service: 'cart', key: 'service.version', value: '1.5.0', atUs: at - 80e6, declared: { by: 'ci' } };
  // Farther from the change point than the first span of 1.5.0, and still the answer: it is the same deploy.
  assert.deepEqual(nearestSystemChange(deploy, at, 300e6, [declaredDeploy]), declaredDeploy);
  // A flag flip on no span, closer than the deploy, wins.
  const flag = { kind: 'flag' as const, service: 'cart', key: 'new-pricing', value: 'on', previous: 'off', atUs: at - 5e6, declared: {} };
  assert.deepEqual(nearestSystemChange(deploy, at, 300e6, [declaredDeploy, flag]), flag);
  // Out of reach: neither a declared change nor the same version declared long before stands in for the one seen.
  const old = { ...declaredDeploy, atUs: at - 900e6 };
  assert.deepEqual(nearestSystemChange(deploy, at, 300e6, [old]), { kind: 'deploy', service: 'cart', key: 'service.version', value: '1.5.0', previous: '1.4.2', atUs: at - 20e6 });
  assert.equal(nearestSystemChange([], at, 300e6, [old]), undefined);
  // Another version declared is another change: the nearer of the two.
  const other = { ...declaredDeploy, value: '1.5.1', atUs: at - 200e6 };
  assert.equal(nearestSystemChange(deploy, at, 300e6, [other])?.value, '1.5.0');
  // A webhook's commit is the version the spans report as a short sha (or the reverse): the same deploy.
  const bySha = [span(t0, { 'service.version': '1f0c2ab' }), span(at - 20e6, { 'service.version': '279484c' })];
  const hook = { ...declaredDeploy, value: '279484c09fbe69ededfced8c1bb6e6d24616b468', declared: { by: 'Codertocat' } };
  assert.deepEqual(nearestSystemChange(bySha, at, 300e6, [hook]), hook);
  assert.equal(nearestSystemChange(bySha, at, 300e6, [{ ...hook, value: '3a9c' + hook.value.slice(4) }])?.value, '279484c');
});
