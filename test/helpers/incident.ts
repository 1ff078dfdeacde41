/** Synthetic incident telemetry for tests that need a realistic memory without starting the testbed. */
import { openStore } from '../../src/store/open.js';
import { makeErrorEvent } from '../../src/signals/errors.js';
import type { Span } from '../../src/signals/model.js';

/** A small shop incident in memory: payment throws and slows down; its callers see it. */
export async function seedMemory(path: string): Promise<void> {
  const store = await openStore(path);
  const spans: Span[] = [];
  const errors = [];
  const t0 = Date.now() * 1000 - 20 * 60e6;
  let id = 1;
  const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  for (let i = 0; i < 2400; i++) {
    const start = t0 + i * 500_000;
    const bad = i > 1800 && i % 2 === 0;
    const traceId = hex(i + 1, 32);
    const res = (s: string) => ({ attributes: { 'service.name': s, 'service.version': '1.4.2' } });
    const mk = (service: string, name: string, kind: Span['kind'], s: number, d: number, parent?: string): Span => {
      const sp: Span = { traceId, spanId: hex(id++, 16), name, kind, startUs: s, endUs: s + d, service, attributes: {}, events: [], links: [], status: { code: bad ? 2 : 0 }, resource: res(service) };
      if (parent) sp.parentSpanId = parent;
      spans.push(sp);
      return sp;
    };
    const d = bad ? 300_000 : 20_000;
    const fe = mk('frontend', 'POST /api/checkout', 2, start, d + 20_000);
    const co = mk('checkout', 'POST /checkout', 2, start + 2000, d + 15_000, fe.spanId);
    const pc = mk('checkout', 'POST', 3, start + 4000, d + 1000, co.spanId);
    const pay = mk('payment', 'POST /charge', 2, start + 5000, d, pc.spanId);
    if (bad) errors.push(makeErrorEvent({ timeUs: start + 5000 + d, service: 'payment', type: 'TypeError', message: 'card is undefined', rawStack: 'TypeError: card is undefined\n    at charge (/app/testbed/service/defects.ts:38:11)', traceId, spanId: pay.spanId, source: 'span', attributes: {}, resource: res('payment') }));
  }
  const logs = spans.filter((s) => s.kind === 2).map((s) => ({ timeUs: s.endUs, service: s.service, severityNumber: s.status.code === 2 ? 17 : 9, body: s.status.code === 2 ? `request failed: ${s.name} card is undefined` : `handled ${s.name} in ${Math.round((s.endUs - s.startUs) / 1000)} ms`, attributes: {}, traceId: s.traceId, resource: s.resource }));
  await store.telemetry.ingest({ spans, logs, metrics: [], errors });
  await store.close();
}

