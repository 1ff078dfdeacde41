import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, CliError } from './util.js';

test('parseDurationMs understands ms, s, m, h, d and bare seconds', () => {
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('10s'), 10_000);
  assert.equal(parseDurationMs('5m'), 300_000);
  assert.equal(parseDurationMs('2h'), 7_200_000);
  assert.equal(parseDurationMs('3d'), 259_200_000);
  assert.equal(parseDurationMs('7'), 7000);
});

test('parseDurationMs rejects garbage with a CliError naming the input', () => {
  assert.throws(() => parseDurationMs('soon'), (e: unknown) => e instanceof CliError && /soon/.test(e.message));
});
