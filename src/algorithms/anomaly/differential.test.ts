/**
 * Differential tests for the speed work on the streaming detector (issue #5): the shipped detector and its parts
 * against the reference copies in ./reference/ (the code as it was before), step by step, on random, NAB-like and
 * (when ../shared/data is present) real NAB series. "Same" means Object.is on every score: bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARED_DATA, hasSharedData } from '../../../test/helpers/env.js';
import { loadCorpus } from '../nab/data.js';
import { ArtDetector, type ArtOptions } from './art.js';
import { ArtDetector as RefArt } from './reference/art.js';
import { StreamingDetector, type DetectorOptions } from './detector.js';
import { StreamingDetector as RefDetector } from './reference/detector.js';

/**
 * The reference detector's rest rule (150 points, re-armed by every raw score >= 0.75): the shipped default
 * changed on purpose afterwards (not re-armed, 200 points; see detector.ts), the speed work did not.
 */
const REF_REST: DetectorOptions = { rest: 150, restRearm: true };

/** Park-Miller, as elsewhere in these tests: reproducible without a dependency. */
const rng = (seed: number): (() => number) => {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
};

/** Series shaped like NAB's: cycles with noise and spikes, level shifts, trends, flat stretches, counts, gaps. */
const families: Record<string, (n: number, r: () => number) => number[]> = {
  noise: (n, r) => Array.from({ length: n }, () => r()),
  noisyCycleSpikes: (n, r) => Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 50) + 5 * r() + (i % 2713 === 2712 ? 80 : 0)),
  levelShifts: (n, r) => Array.from({ length: n }, (_, i) => (Math.floor(i / 1700) % 3) * 40 + 3 * r()),
  trend: (n, r) => Array.from({ length: n }, (_, i) => i * 0.02 + Math.sin(i / 7) + r()),
  flatWithJumps: (n, r) => Array.from({ length: n }, (_, i) => (i % 1100 < 900 ? 5 : 5 + 20 * r())),
  counts: (n, r) => Array.from({ length: n }, (_, i) => Math.floor(20 * r() * (1 + Math.sin(i / 144)))),
  heavyTail: (n, r) => Array.from({ length: n }, () => 1 / Math.max(1e-3, r()) - 1),
  gapsAndNegatives: (n, r) => Array.from({ length: n }, (_, i) => (i % 397 === 0 ? Number.NaN : -50 + 30 * Math.cos(i / 30) + 2 * r())),
  constant: (n) => Array.from({ length: n }, () => 7),
  wideRange: (n, r) => Array.from({ length: n }, (_, i) => (i < n / 2 ? r() : 1e6 * r())),
};

function sameSteps(name: string, xs: readonly number[], a: { update(x: number): number }, b: { update(x: number): number }): void {
  for (let i = 0; i < xs.length; i++) {
    const u = a.update(xs[i]!);
    const v = b.update(xs[i]!);
    if (!Object.is(u, v)) assert.fail(`${name}: step ${i} (value ${xs[i]}) gives ${u}, reference ${v}`);
  }
}

test('ART: the same scores as the reference at every step (series families, option variants incl. a small category cap)', () => {
  const variants: ArtOptions[] = [
    { step: 3, warmup: 300 },
    { step: 6, warmup: 600 },
    { step: 1, window: 4, maxCategories: 16 },
    { step: 2, window: 16, maxCategories: 40, relearnGap: 5 },
    { step: 3, window: 2, levels: 10, chomp: 0 },
    { step: 2, maxCategories: 1 },
    { step: 1, window: 4, maxCategories: 2, levels: 1000 },
    // a history shorter than the lazily grown ring's first size
    { step: 2, window: 4, warmup: 20, history: 30, relearnGap: 3 },
  ];
  let seed = 1;
  for (const [fam, gen] of Object.entries(families)) {
    for (const opts of variants) {
      const xs = gen(6000, rng(seed++));
      sameSteps(`${fam} ${JSON.stringify(opts)}`, xs, new ArtDetector(opts), new RefArt(opts));
    }
  }
});

test('detector: the same scores as the reference at every step (series families, three option sets, the reference\'s rest rule)', () => {
  const variants: DetectorOptions[] = [{}, { history: 300, replayGap: 20, maxContexts: 2000 }, { history: 40, replayGap: 7, maxContexts: 3000 }];
  let seed = 101;
  for (const [fam, gen] of Object.entries(families)) {
    for (const opts of variants) {
      const xs = gen(opts.maxContexts ? 4000 : 6000, rng(seed++));
      sameSteps(`${fam} ${JSON.stringify(opts)}`, xs, new StreamingDetector({ ...REF_REST, ...opts }), new RefDetector(opts));
    }
  }
});

test('detector: the same scores as the reference on real NAB series (every 5th of the 58)', { skip: !hasSharedData('nab') && 'shared data not present', timeout: 120_000 }, () => {
  const corpus = loadCorpus(`${SHARED_DATA}/nab`);
  assert.ok(corpus.length >= 50, `NAB corpus loaded (${corpus.length} series)`);
  for (let k = 0; k < corpus.length; k += 5) {
    const c = corpus[k]!;
    sameSteps(c.name, c.values, new StreamingDetector(REF_REST), new RefDetector());
  }
});
