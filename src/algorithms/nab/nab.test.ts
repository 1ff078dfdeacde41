import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA, hasSharedData } from '../../../test/helpers/env.js';
import { loadCorpus, loadReferenceScores, referenceDetectors } from './data.js';
import { corpusScore, prepare, scaledSigmoid, rawScore, PROFILES, type ProfileName } from './scorer.js';
import { scoreSeries } from '../anomaly/detector.js';

test('scaled sigmoid: +1 far left of a window edge, 0 at it, -1 beyond 3', () => {
  assert.ok(Math.abs(scaledSigmoid(-1) - 0.9866) < 1e-4);
  assert.equal(scaledSigmoid(0), 0);
  assert.equal(scaledSigmoid(3.1), -1);
});

test('only the earliest detection in a window counts; false positives after a window cost less than before it', () => {
  const times = Array.from({ length: 100 }, (_, i) => i * 1000);
  const p = prepare({ name: 'x', times, windows: [[50_000, 59_000]] });
  const s = new Float64Array(100);
  s[50] = 1;
  s[55] = 1;
  const early = rawScore(p, s, 0.5, PROFILES.standard);
  assert.equal(early.tp, 1);
  assert.ok(Math.abs(early.raw - 1) < 1e-9, 'earliest possible detection earns exactly A_TP');
  const after = new Float64Array(100);
  after[62] = 1;
  const before = new Float64Array(100);
  before[30] = 1;
  assert.ok(rawScore(p, after, 0.5, PROFILES.standard).raw > rawScore(p, before, 0.5, PROFILES.standard).raw);
});

test('the scorer reproduces the published NAB scoreboard for the six reference detectors (all profiles, ±0.05)', { skip: !hasSharedData('nab') && 'shared data not present' }, () => {
  const root = join(SHARED_DATA, 'nab');
  const files = loadCorpus(root).map(prepare);
  const thresholds = JSON.parse(readFileSync(join(root, 'reference/thresholds.json'), 'utf8')) as Record<string, Record<ProfileName, { threshold: number }>>;
  const published = JSON.parse(readFileSync(join(root, 'reference/final_results.json'), 'utf8')) as Record<string, Record<ProfileName, number>>;
  const detectors = referenceDetectors(root);
  assert.equal(detectors.length, 6);
  for (const d of detectors) {
    const scores = loadReferenceScores(root, d);
    for (const p of Object.keys(PROFILES) as ProfileName[]) {
      const r = corpusScore(files, scores, thresholds[d]![p].threshold, p);
      assert.ok(Math.abs(r.score - published[d]![p]) <= 0.05, `${d} ${p}: ${r.score} vs ${published[d]![p]}`);
    }
  }
});

test('the detector is online: a point\'s score does not depend on later points', () => {
  const xs = Array.from({ length: 600 }, (_, i) => Math.sin(i / 10) + (i === 500 ? 8 : 0));
  const full = scoreSeries(xs);
  const prefix = scoreSeries(xs.slice(0, 501));
  assert.deepEqual(Array.from(full.slice(0, 501)), Array.from(prefix));
  assert.ok(full[500]! > 0.6, `the spike scores high (${full[500]})`);
  assert.ok(Math.max(...Array.from(full.slice(200, 499))) < full[500]!, 'nothing before it scores as high');
});
