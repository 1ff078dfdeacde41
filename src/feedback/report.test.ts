import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { Finding } from '../fleet/contracts.js';
import { prioritise } from '../algorithms/feedback/prioritise.js';
import { buildReport } from './report.js';
import { renderMarkdown } from './markdown.js';
import { deliverWebhook, verifySignature } from './sinks/webhook.js';
import { REPO_ROOT } from '../../test/helpers/env.js';

const finding = (over: Partial<Finding>): Finding => ({
  id: 'rc-payment',
  agentId: 'qe-root-cause-analyzer',
  kind: 'root-cause',
  category: 'defect-patterns',
  title: 'payment is the likely root cause of checkout errors',
  severity: 'high',
  confidence: 0.8,
  subject: { service: 'payment' },
  evidence: { chain: ['checkout errors rose 0% → 12%', 'payment throws TypeError at payment/charge.ts:42'], code: [{ file: 'payment/charge.ts', line: 42 }] },
  basis: 'measured',
  createdUs: 1,
  ...over,
});

const sample = (): Finding[] => [
  finding({}),
  finding({ id: 'gap-timeout', agentId: 'qe-chaos-engineer', kind: 'resilience-gap', category: 'resilience-gaps', title: 'checkout has no timeout on payment', subject: { service: 'checkout', dependency: 'payment' }, evidence: { experiments: ['E12'] } }),
  finding({ id: 'p95', agentId: 'qe-performance-tester', kind: 'anomaly', category: 'performance-insights', title: 'p95 of checkout 3x baseline', severity: 'medium', subject: { service: 'checkout' }, evidence: { metrics: [{ series: 'latency.p95', service: 'checkout', window: { fromUs: 0, toUs: 60e6 }, baseline: 120, observed: 360, unit: 'ms' }] } }),
];

test('the report has the four outputs, ranked, with evidence, and validates against the published JSON Schema', () => {
  const report = buildReport({ cycleId: 'c1', ranked: prioritise(sample()), previouslyReported: new Set(['p95']), now: new Date(0) });
  assert.equal(report.summary.items, 3);
  assert.equal(report.sections['resilience-gaps'][0]!.title, 'checkout has no timeout on payment');
  assert.equal(report.sections['performance-insights'][0]!.isNew, false);
  assert.equal(report.sections['defect-patterns'][0]!.isNew, true);
  assert.ok(report.risk.some((r) => r.category === 'reliability' && r.weight > 0 && r.evidence.length >= 1));
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/feedback-report.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ strict: false }).compile(schema);
  assert.ok(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors));
  assert.equal(validate({ ...report, schemaVersion: '2' }), false, 'the schema must reject a wrong version');
});

test('markdown shows each section, the evidence chain and the code location', () => {
  const md = renderMarkdown(buildReport({ cycleId: 'c1', ranked: prioritise(sample()) }));
  for (const h of ['## Defect patterns', '## Performance insights', '## Resilience gaps', '## Learning updates']) assert.ok(md.includes(h), h);
  assert.match(md, /payment throws TypeError at payment\/charge\.ts:42/);
  assert.match(md, /code `payment\/charge\.ts:42`/);
  assert.match(md, /_Nothing this cycle\._/);
});

test('markdown says where a change came from: declared by someone, announced in the service\'s log, or seen on its spans', () => {
  const changes = finding({
    evidence: {
      deploys: [{ service: 'payment', version: '2.0.0', atUs: 0 }],
      configChanges: [
        { service: 'payment', key: 'retry.max', value: '0', previous: '3', atUs: 60e6, declared: { by: 'ops-console', description: 'settings updated', source: 'log' } },
        { service: 'payment', key: 'fault.slowquery', value: '', atUs: 61e6, declared: { description: 'admin: configuration changed', source: 'log' } },
        { service: 'payment', key: 'charge-v2', value: 'on', atUs: 62e6, kind: 'flag', declared: { by: 'flagd', url: 'https://flags.example/9' } },
      ],
    },
  });
  const md = renderMarkdown(buildReport({ cycleId: 'c1', ranked: prioritise([changes]) }));
  assert.match(md, /config change payment retry\.max: 3 → 0 at 1970-01-01T00:01:00Z \(announced in its log by ops-console: "settings updated"\)/);
  assert.match(md, /config change payment fault\.slowquery at 1970-01-01T00:01:01Z \(announced in its log: "admin: configuration changed"\)/);
  assert.match(md, /flag flip payment charge-v2=on at 1970-01-01T00:01:02Z \(declared by flagd\) <https:\/\/flags\.example\/9>/);
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/feedback-report.schema.json'), 'utf8')) as object;
  const report = buildReport({ cycleId: 'c1', ranked: prioritise([changes]) });
  assert.ok(new Ajv({ strict: false }).validate(schema, JSON.parse(JSON.stringify(report))), 'an announced change validates');
});

test('webhook retries 5xx and delivers an HMAC-signed body the receiver can verify', async () => {
  let calls = 0;
  let verified = false;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      calls++;
      if (calls < 3) {
        res.writeHead(503).end();
        return;
      }
      verified = verifySignature('s3cret', String(req.headers['x-tswarm-timestamp']), body, String(req.headers['x-tswarm-signature']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    const res = await deliverWebhook({ hello: 'ideation' }, { url: `http://127.0.0.1:${port}/hook`, secret: 's3cret', baseDelayMs: 5 });
    assert.deepEqual({ ok: res.ok, attempts: res.attempts }, { ok: true, attempts: 3 });
    assert.ok(verified, 'signature must verify with the shared secret');
  } finally {
    srv.close();
  }
});

test('webhook gives up after maxAttempts on an unreachable receiver and says why', async () => {
  const res = await deliverWebhook({}, { url: 'http://127.0.0.1:9/none', maxAttempts: 2, baseDelayMs: 1, timeoutMs: 500 });
  assert.equal(res.ok, false);
  assert.equal(res.attempts, 2);
  assert.ok(res.error && res.error.length > 0);
});
