import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../fleet/contracts.js';
import { prioritise } from '../algorithms/feedback/prioritise.js';
import { layeredLayout } from '../algorithms/graph/layout.js';
import { buildReport } from './report.js';
import { renderHtmlReport } from './html.js';

const f: Finding = {
  id: 'rc-payment',
  agentId: 'qe-root-cause-analyzer',
  kind: 'root-cause',
  category: 'defect-patterns',
  title: 'payment <script>alert(1)</script> is the likely root cause',
  severity: 'high',
  confidence: 0.8,
  subject: { service: 'payment' },
  evidence: { chain: ['checkout errors rose 0% → 12%'], code: [{ file: 'payment/charge.ts', line: 42 }] },
  basis: 'measured',
  createdUs: 1,
};

test('the HTML report is one self-contained file: sections, escaped text, charts data, the service map with the culprit', () => {
  const report = buildReport({ cycleId: 'c1', ranked: prioritise([f]), now: new Date(0) });
  const html = renderHtmlReport(report, {
    figures: [
      { section: 'incident', figures: [
        { type: 'graph', id: 'g', title: 'Service map', edges: [{ source: 'frontend', target: 'checkout' }, { source: 'checkout', target: 'payment', errorShare: 0.4 }], highlight: ['payment'] },
        { type: 'timeseries', id: 'lat', title: 'p95 </script> latency', unit: 'ms', series: [{ label: 'payment p95', points: [[1e6, 10], [2e6, 300]] }], markers: [{ x: 2e6, label: 'fault', kind: 'fault' }] },
        { type: 'chain', id: 'c', title: 'Evidence chain', steps: ['a', 'b'] },
      ] },
    ],
  });
  assert.ok(html.startsWith('<!doctype html>'));
  for (const h of ['Defect patterns', 'Performance insights', 'Resilience gaps', 'Learning updates', 'Service map', 'Evidence chain']) assert.ok(html.includes(h), h);
  assert.ok(!html.includes('<script>alert(1)'), 'finding text is escaped');
  assert.ok(!/<(script|link|img)[^>]+(src|href)="https?:/i.test(html), 'no network resources');
  assert.ok(html.includes('uPlot'), 'chart library inlined');
  assert.match(html, /fill="#d32f2f"[^>]*\/><text[^>]*>payment</, 'culprit highlighted');
  // The embedded figure JSON cannot close its script element early.
  const json = /<script type="application\/json" id="figures">([\s\S]*?)<\/script>/.exec(html)![1]!;
  assert.equal((JSON.parse(json) as { title: string }[])[1]!.title, 'p95 </script> latency');
});

test('layered layout puts callers left of callees and survives cycles', () => {
  const l = layeredLayout([
    { source: 'frontend', target: 'checkout' },
    { source: 'checkout', target: 'payment' },
    { source: 'frontend', target: 'catalog' },
    { source: 'payment', target: 'checkout' },
  ]);
  const x = Object.fromEntries(l.nodes.map((n) => [n.id, n.x]));
  assert.ok(x.frontend! < x.checkout! && x.checkout! < x.payment!);
  assert.equal(l.nodes.length, 4);
});
