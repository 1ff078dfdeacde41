import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContextualDetector } from './cad.js';
import { StreamingDetector, scoreSeries } from './detector.js';

test('CAD: a repeated bin sequence becomes predictable, a break in it is surprising', () => {
  const cad = new ContextualDetector();
  const pattern = [0, 2, 5, 7, 5, 2];
  let late = 0;
  for (let i = 0; i < 600; i++) {
    const s = cad.step(pattern[i % pattern.length]!);
    if (i >= 500) late = Math.max(late, s);
  }
  assert.ok(late < 0.2, `learned pattern scores low (${late})`);
  const surprise = cad.step(6); // after ...5, 2 the pattern continues with 0
  assert.ok(surprise > 0.5, `broken pattern scores high (${surprise})`);
});

test('CAD: the context store is bounded (relearned from scratch at maxContexts)', () => {
  const cad = new ContextualDetector({ maxContexts: 500 });
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 16807) % 2147483647;
    cad.step(seed % 8);
    assert.ok(cad.contexts <= 500 + 64, `contexts ${cad.contexts}`);
  }
});

test('detector: one incident is one alarm (rest period after a high score)', () => {
  const xs = Array.from({ length: 1400 }, (_, i) => 10 + Math.sin(i / 8) + (i >= 1000 && i < 1010 ? 40 : 0));
  const s = scoreSeries(xs);
  const high = Array.from(s).map((v, i) => [v, i] as const).filter(([v, i]) => i >= 900 && v >= 0.75);
  assert.ok(high.length >= 1 && high[0]![1] >= 1000 && high[0]![1] <= 1001, `detected at the onset (${high.map((h) => h[1]).join(',')})`);
  assert.equal(high.length, 1, 'and only once');
});

test('detector: non-finite values are ignored and score 0', () => {
  const d = new StreamingDetector();
  for (let i = 0; i < 100; i++) d.update(i % 10);
  assert.equal(d.update(Number.NaN), 0);
  assert.equal(d.update(Number.POSITIVE_INFINITY), 0);
});
