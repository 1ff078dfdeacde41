import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeIndicators } from './edges.js';
import { indicatorKind, scoreIndicators } from './metrics.js';

const T = Array.from({ length: 20 }, (_, i) => i * 60);

test('a delayed callee network shows as edge-net-latency on the callee, not on the caller', () => {
  // frontend → cart; from t = 600 the cart's network adds 200 ms the cart itself never sees.
  const server = T.map((t) => 0.005 + (t % 120 ? 0.0002 : 0));
  const client = server.map((s, i) => s + 0.001 + (T[i]! >= 600 ? 0.2 : 0));
  const series = edgeIndicators([{ caller: 'frontend', callee: 'cart', client: { t: T, v: client }, server: { t: T, v: server } }]);
  assert.deepEqual([...series.keys()].sort(), ['cart', 'frontend']);
  assert.equal(indicatorKind('edge-net-latency:frontend'), 'latency-network');
  const scores = scoreIndicators(series, 600, 300, 180);
  const net = scores.find((s) => s.service === 'cart' && s.indicator === 'edge-net-latency:frontend')!;
  assert.ok(net.score > 20 && net.direction > 0, JSON.stringify(net));
  // The caller kept calling: its edge-calls indicator does not move.
  assert.equal(scores.find((s) => s.service === 'frontend' && s.indicator === 'edge-calls:cart')!.score, 0);
});

test('an edge falling silent is charged to the caller (it stopped calling), and a slow callee is not "network"', () => {
  // checkout → email: calls stop at t = 600 (checkout throws before calling); checkout → payment slows at both ends.
  const flat = T.map(() => 0.003);
  const silent = T.map((t, i) => (t >= 600 ? NaN : flat[i]!));
  const slow = T.map((t) => (t >= 600 ? 0.3 : 0.003));
  const series = edgeIndicators([
    { caller: 'checkout', callee: 'email', client: { t: T, v: silent }, server: { t: T, v: silent } },
    { caller: 'checkout', callee: 'payment', client: { t: T, v: slow }, server: { t: T, v: slow } },
  ]);
  const scores = scoreIndicators(series, 600, 300, 180);
  const calls = scores.find((s) => s.service === 'checkout' && s.indicator === 'edge-calls:email')!;
  assert.ok(calls.score > 5 && calls.direction < 0, JSON.stringify(calls));
  assert.ok(!scores.some((s) => s.service === 'email' && s.score > 3), 'the silent callee shows nothing');
  const net = scores.find((s) => s.service === 'payment' && s.indicator === 'edge-net-latency:checkout')!;
  assert.ok(net.score < 1, `both ends slow → no network share (${net.score})`);
  const inLat = scores.find((s) => s.service === 'payment' && s.indicator === 'edge-in-latency:checkout')!;
  assert.ok(inLat.score > 20);
});
