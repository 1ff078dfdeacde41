import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupBy } from './group-by.js';

test('groupBy keeps the keys in first-seen order and each group in input order', () => {
  const g = groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (s) => s[0]);
  assert.deepEqual([...g], [['b', ['b1', 'b2']], ['a', ['a1', 'a2']], ['c', ['c1']]]);
  assert.equal(groupBy([], (x: number) => x).size, 0);
});
