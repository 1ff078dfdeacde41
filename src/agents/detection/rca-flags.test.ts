import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagEvidence } from './rca-flags.js';
import type { Span } from '../../signals/model.js';

const T = 1_700_000_000_000_000;

/** payment: 10 requests/s; from `onsetS` the flag charge-v2 is on for a third of them, and those fail. */
function payment(onsetS: number, endS: number, flagAtS = onsetS): Span[] {
  const out: Span[] = [];
  for (let i = 0; i < endS * 10; i++) {
    const t = T + i * 100_000;
    const on = t >= T + flagAtS * 1e6 && i % 3 === 0;
    const failed = on && t >= T + onsetS * 1e6;
    const id = (i + 1).toString(16);
    out.push({
      traceId: id.padStart(32, '0'), spanId: id.padStart(16, '0'), name: 'POST /charge', kind: 2, startUs: t, endUs: t + 20_000 + (i % 7) * 1000, service: 'payment', attributes: {}, links: [], status: { code: failed ? 2 : 0 }, resource: { attributes: {} },
      events: [{ name: 'feature_flag.evaluation', timeUs: t, attributes: { 'feature_flag.key': 'charge-v2', 'feature_flag.result.variant': on ? 'on' : 'off' } }],
    });
  }
  return out;
}

test('flag evidence on a culprit: the variant it started serving at the onset, and the failing requests carry it', () => {
  const onsetUs = T + 120e6;
  const e = flagEvidence(payment(120, 180), 'payment', onsetUs, 120e6, 60e6);
  assert.ok(e?.change && e.attribution, JSON.stringify(e));
  assert.deepEqual([e.change.key, e.change.value, e.change.previous, e.change.atUs], ['charge-v2', 'on', 'off', onsetUs]);
  assert.deepEqual([e.attribution.key, e.attribution.variant, e.attribution.bad, e.attribution.total, e.attribution.otherBad], ['charge-v2', 'on', 200, 200, 0]);
  assert.match(e.bad, /^failed or over [\d.]+ ms$/);
});

test('a flag rolled out long before the onset is no change near it, though its variant may still carry the failures', () => {
  const e = flagEvidence(payment(400, 460, 60), 'payment', T + 400e6, 120e6, 60e6);
  assert.equal(e?.change, undefined);
  assert.equal(e?.attribution?.variant, 'on');
  // Another service's spans, or none with flags: nothing.
  assert.equal(flagEvidence(payment(120, 180), 'checkout', T + 120e6, 120e6, 60e6), undefined);
});
