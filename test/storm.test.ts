import { test } from 'node:test';
import assert from 'node:assert/strict';

test('an error storm triggers an immediate cycle once, not on every batch', async () => {
  const { StormDetector } = await import('../src/interfaces/http/serve.js');
  const d = new StormDetector();
  const storms: string[] = [];
  d.onStorm = (w) => storms.push(w);
  const t0 = 1_000_000_000;
  for (let s = 0; s < 600; s += 10) d.observe(1, 100, t0 + s * 1000);
  assert.equal(storms.length, 0, 'a steady trickle of errors is no storm');
  for (let s = 600; s < 660; s += 5) d.observe(10, 100, t0 + s * 1000);
  assert.equal(storms.length, 1);
  assert.match(storms[0]!, /errors in the last minute/);
});
