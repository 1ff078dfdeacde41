import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlos } from './slo-config.js';
import { describeSlo, slosFor } from '../algorithms/perf/slo.js';
import { countOver, quantileFromBuckets } from '../algorithms/perf/rollup-summary.js';

test('SLOs from the config file: availability as a percentage, latency as a threshold with the share of requests under it', () => {
  const slos = parseSlos([
    { service: 'checkout', availability: 99.9 },
    { service: 'checkout', latency: '300ms', objective: 99 },
    { service: 'search', latency: 250, objective: 95 },
    { service: '*', availability: 99.5 },
  ]);
  assert.deepEqual(slos, [
    { service: 'checkout', kind: 'availability', objective: 0.999 },
    { service: 'checkout', kind: 'latency', objective: 0.99, latencyMs: 300 },
    { service: 'search', kind: 'latency', objective: 0.95, latencyMs: 250 },
    { service: '*', kind: 'availability', objective: 0.995 },
  ]);
  assert.deepEqual(slos.map(describeSlo), ['99.9% availability', '99% of requests under 300 ms', '95% of requests under 250 ms', '99.5% availability']);
  assert.equal(parseSlos([{ service: 'a', latency: '1.5s', objective: 99 }])[0]!.latencyMs, 1500);
  assert.deepEqual(parseSlos(undefined), []);
  // The error budget's window: 30 days unless given, in hours or days.
  assert.deepEqual(parseSlos([{ service: 'a', availability: 99.9, window: '28d' }, { service: 'b', latency: '1s', objective: 99, window: '36h' }]).map((x) => x.windowUs), [28 * 864e8, 36 * 3600e6]);
});

test('a bad SLO entry names itself and the field', () => {
  const bad: [unknown, RegExp][] = [
    [[{ service: 'a', availability: 0.999 }], /slos\[0\]\.availability: a percentage: at least 50 and under 100 \(99\.9 means 99\.9%; 0\.999 would be 0\.999%\)$/],
    [[{ service: 'a', availability: 99.9 }, { service: 'b', latency: '300ms' }], /slos\[1\]\.objective: a latency SLO needs objective/],
    [[{ service: 'a' }], /slos\[0\]: give availability .* or latency/],
    [[{ service: 'a', availability: 99, latency: '1s', objective: 99 }], /slos\[0\]: give availability/],
    [[{ service: 'a', latency: 'fast', objective: 99 }], /slos\[0\]\.latency: "fast" is not a threshold/],
    [[{ service: 'a', availabilty: 99 }], /slos\[0\]: Unrecognized key: "availabilty"/],
    [{ service: 'a' }, /slos: a list of SLOs/],
    [[{ service: 'a', availability: 99, window: '30' }], /slos\[0\]\.window: a duration in hours or days, such as 30d or 28d$/],
    [[{ service: 'a', availability: 99, window: '90m' }], /slos\[0\]\.window: a duration in hours or days/],
    [[{ service: 'a', availability: 99, window: '400d' }], /slos\[0\]\.window: between 1h and 366d \(got 400d\)$/],
    [[{ service: 'a', availability: 99, window: '0.5h' }], /slos\[0\]\.window: between 1h and 366d/],
  ];
  for (const [input, msg] of bad) assert.throws(() => parseSlos(input), msg, JSON.stringify(input));
});

test("a service's SLOs: its own, else the catch-all, else 99.5% availability", () => {
  const declared = parseSlos([{ service: 'checkout', latency: '300ms', objective: 99 }, { service: '*', availability: 99.9 }]);
  assert.deepEqual(slosFor('checkout', declared).map(describeSlo), ['99% of requests under 300 ms']);
  assert.deepEqual(slosFor('cart', declared), [{ service: 'cart', kind: 'availability', objective: 0.999 }]);
  assert.deepEqual(slosFor('cart', []), [{ service: 'cart', kind: 'availability', objective: 0.995 }]);
});

test('requests over a latency threshold from a rollup histogram agree with its quantiles', () => {
  const bounds = [100, 200, 400, 800];
  const hist = [10, 20, 40, 20, 10]; // 100 requests; the last bucket is over 800 µs
  assert.equal(countOver(hist, 800, bounds), 10);
  assert.equal(countOver(hist, 0, bounds), 100);
  // 300 µs is halfway into (200, 400]: half its 40, and the 30 above.
  assert.equal(countOver(hist, 300, bounds), 50);
  // The count over the p90 is 10% of the requests, over the p50 half of them.
  for (const q of [0.5, 0.75, 0.9]) assert.ok(Math.abs(countOver(hist, quantileFromBuckets(hist, q, bounds)!, bounds) - 100 * (1 - q)) < 1e-9, String(q));
});

test("the README's config example is a valid config", async () => {
  const { readFileSync } = await import('node:fs');
  const YAML = (await import('yaml')).default;
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.split('```yaml').slice(1).map((b) => b.split('```')[0]!).find((b) => /^slos:/m.test(b));
  assert.ok(block, 'a yaml block with slos: in the README');
  const cfg = YAML.parse(block) as { slos: unknown };
  assert.equal(parseSlos(cfg.slos).length, 3);
});
