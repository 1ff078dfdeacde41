/**
 * Scenario modules: a k6-like TypeScript file (requests, checks, think time, per-VU data, k6-style thresholds)
 * run by `tswarm load run`, in the closed and the open model; bad scenario files get clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './generator.js';
import { thresholdsFrom, loadScenario } from './scenario.js';
import { runCli, tempDir } from '../../test/helpers/env.js';

/** A tiny shop: login returns a token for the user, /cart needs it and echoes the user; /slow takes 30 ms. */
async function shop(): Promise<{ url: string; seen: Map<string, number>; close(): void }> {
  const seen = new Map<string, number>();
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/login' && req.method === 'POST') {
        const user = (JSON.parse(body) as { user: string }).user;
        seen.set(user, (seen.get(user) ?? 0) + 1);
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ token: `t-${user}` }));
      }
      if (req.url === '/cart') {
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer t-')) {
          res.statusCode = 401;
          return res.end('no token');
        }
        return res.end(JSON.stringify({ user: auth.slice(9), items: 2 }));
      }
      res.statusCode = 404;
      res.end();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}`, seen, close: () => s.close() };
}

const SCENARIO = (base: string): string => `
import type { VuContext } from '${join(process.cwd(), 'src/load/generator.ts').replace(/\\/g, '/')}';
export const options = {
  vus: 4,
  duration: '2s',
  data: [{ user: 'ann' }, { user: 'bob' }],
  thresholds: { http_req_duration: ['p(95)<1000'], http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] },
};
export default async function (vu: VuContext): Promise<void> {
  const { user } = vu.data as { user: string };
  const login = await vu.http.post('${base}/login', { user }, { name: 'login' });
  const token = (login.json() as { token: string }).token;
  const cart = await vu.http.get('${base}/cart', { headers: { authorization: 'Bearer ' + token }, name: 'cart' });
  vu.check(cart, {
    'cart is 200': (r) => r.status === 200,
    'cart belongs to the user': (r) => (JSON.parse(r.body) as { user: string }).user === user,
  });
  await vu.sleep(0.05);
}
`;

test('a TypeScript scenario module runs through `tswarm load run`: requests, checks, per-VU data, think time, thresholds', { timeout: 60_000 }, async () => {
  const srv = await shop();
  const dir = tempDir();
  try {
    const file = join(dir.path, 'shop.ts');
    writeFileSync(file, SCENARIO(srv.url));
    const html = join(dir.path, 'load.html');
    const r = await runCli(['load', 'run', file, '--json', '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { model: string; iterations: number; requests: number; endpoints: { name: string; requests: number }[]; checks: Record<string, { passes: number; fails: number }>; thresholds: { expr: string; passed: boolean }[]; durationS: number };
    assert.equal(s.model, 'closed');
    // 4 VUs × 2 s, each iteration ≥ 50 ms of think time: at most ~160 iterations, and two requests each.
    assert.ok(s.iterations > 20 && s.iterations <= 170, `iterations ${s.iterations}`);
    assert.ok(Math.abs(s.requests - 2 * s.iterations) <= 4, `${s.requests} requests for ${s.iterations} iterations`);
    assert.deepEqual(s.endpoints.map((e) => e.name).sort(), ['cart', 'login']);
    assert.equal(s.checks['cart is 200']!.fails, 0);
    assert.equal(s.checks['cart belongs to the user']!.fails, 0);
    assert.ok(s.checks['cart is 200']!.passes >= 20);
    assert.deepEqual(s.thresholds.map((t) => t.expr), ['p(95)<1000', 'error_rate<0.01', 'checks>0.99']);
    assert.ok(s.thresholds.every((t) => t.passed));
    // The HTML report draws throughput and latency over time from the run's own timeline.
    const page = readFileSync(html, 'utf8');
    assert.match(page, /data-figure="load-throughput"/);
    assert.match(page, /data-figure="load-latency"/);
    const figs = JSON.parse(/<script type="application\/json" id="figures">([\s\S]*?)<\/script>/.exec(page)![1]!) as { id: string; series?: { points: [number, number][] }[] }[];
    const perSecond = figs.find((f) => f.id === 'load-throughput')!.series![0]!.points;
    assert.equal(perSecond.reduce((a, p) => a + p[1], 0), s.requests, 'the throughput plot accounts for every request');
    assert.match(page, /cart belongs to the user/);
    // Per-VU data: VUs 0 and 2 log in as ann, 1 and 3 as bob.
    assert.ok((srv.seen.get('ann') ?? 0) > 5 && (srv.seen.get('bob') ?? 0) > 5, JSON.stringify([...srv.seen]));
  } finally {
    dir.cleanup();
    srv.close();
  }
});

test('failing checks fail the checks threshold (exit 99); a script exception is an iteration error, not a crash', { timeout: 60_000 }, async () => {
  const srv = await shop();
  try {
    let n = 0;
    const s = await runLoad({
      model: { type: 'open', rate: 100 },
      duration: 1,
      thresholds: ['checks>0.99'],
      script: async (vu) => {
        const r = await vu.http.get(`${srv.url}/cart`);
        vu.check(r, { 'cart is 200': (x) => x.status === 200 });
        if (++n % 10 === 0) throw new Error('boom in the scenario');
      },
    });
    assert.ok(Math.abs(s.achievedRate - 100) <= 2, `iterations arrive at the asked rate: ${s.achievedRate}`);
    assert.equal(s.checks['cart is 200']!.passes, 0);
    assert.equal(s.passed, false);
    assert.ok((s.errorsByKind['script: boom in the scenario'] ?? 0) >= 8, JSON.stringify(s.errorsByKind));
  } finally {
    srv.close();
  }
  await assert.rejects(runLoad({ model: { type: 'closed', vus: 1 }, duration: 1, script: async (vu) => void (await vu.http.get('http://10.9.9.9/')) }), /not on the allow-list/);
});

test('k6 threshold objects translate; bad scenario files say what is wrong', async () => {
  assert.deepEqual(thresholdsFrom({ http_req_duration: ['p(95)<300'], 'http_req_duration{name:cart}': ['p(99)<500'], http_req_failed: ['rate<0.01'] }), ['p(95)<300', 'p(99){cart}<500', 'error_rate<0.01']);
  assert.throws(() => thresholdsFrom({ vus_max: ['value>3'] }), /not supported/);
  const dir = tempDir();
  try {
    const noDefault = join(dir.path, 'x.mjs');
    writeFileSync(noDefault, 'export const options = {};\n');
    await assert.rejects(loadScenario(noDefault), /needs a default export function/);
    const broken = join(dir.path, 'y.ts');
    writeFileSync(broken, 'export default function ( {\n');
    await assert.rejects(loadScenario(broken), /cannot load the scenario module/);
    const yaml = join(dir.path, 'z.yaml');
    writeFileSync(yaml, 'model: {type: open}\n');
    await assert.rejects(loadScenario(yaml), /needs a "requests" list/);
    await assert.rejects(loadScenario(join(dir.path, 'missing.ts')), /no such file/);
  } finally {
    dir.cleanup();
  }
});
