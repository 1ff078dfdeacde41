/**
 * The verdict → re-weighting loop on recorded incidents: cases arrive in time order, each is ranked with the
 * weights learned so far, then its verdict (the confirmed root cause) updates them (prequential evaluation —
 * no case's truth is seen before it is ranked).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SHARED_DATA, hasSharedData } from '../../../test/helpers/env.js';
import { prequential } from '../../algorithms/learning/signal-weights.js';
import { readNezhaCases } from './rca-cases.js';
import { kindScores } from './rca-run.js';

test('verdict feedback improves AC@1 on later Nezha Online Boutique cases (measured: 0.571 → 0.661)', { skip: !hasSharedData('rca/nezha') && 'shared data not present' }, () => {
  const cases = readNezhaCases(join(SHARED_DATA, 'rca/nezha')).filter((c) => c.system === 'online-boutique').sort((a, b) => a.injectS! - b.injectS!);
  const online = cases.map((c) => ({ id: c.id, scores: kindScores(c), truth: c.truth!.service }));
  const signals = [...new Set(online.flatMap((o) => Object.keys(o.scores)))];
  const r = prequential(online, signals);
  assert.ok(r.learnedAc1 > r.staticAc1 + 0.05, `learned ${r.learnedAc1} vs static ${r.staticAc1}`);
  assert.ok(r.learnedAc1Later >= r.staticAc1Later, `later half: learned ${r.learnedAc1Later} vs static ${r.staticAc1Later}`);
});
