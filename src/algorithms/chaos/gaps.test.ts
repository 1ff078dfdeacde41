import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeProbe } from './gaps.js';

test('a probe reads as numbers a person takes in: requests, status, latencies in ms, errors in %, the rest as k=v', () => {
  assert.equal(
    describeProbe({ requests: 4, p50_ms: 26.472153999999136, p95_ms: 58.35015299999941, max_ms: 2095.383783999998, error_rate: 0.25 }),
    '4 requests, p50 26.5 ms, p95 58.4 ms, max 2095 ms, 25% errors',
  );
  assert.equal(describeProbe({ status: 503, latency_ms: 3.14159 }), 'HTTP 503, latency 3.14 ms');
  assert.equal(describeProbe({ requests: 1, queue_depth: 12.345678 }), '1 request, queue_depth=12.35');
  assert.equal(describeProbe({}), 'no numbers');
});
