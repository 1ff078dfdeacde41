/**
 * Where the SLOs stand (`GET /api/slos`, asked on every dashboard refresh): burn rates over the last 6 h and the
 * error budget over 30 days. A SQLite file store holds 30 days of rollups for BENCH_OPS operations (default 8)
 * over 4 services, one request per 10 s bucket per operation, ingested as spans so the store merges old buckets as
 * it does in use (ROLLUP_TIERS). Figures, wall time of one call each (median of 5):
 *   - the peer: reading the whole 30 days of rollups and building the series (what a budget costs without the
 *     hourly digest);
 *   - the first overview on a fresh process (it reads the closed hours once);
 *   - later overviews (only the hours closed since: none here);
 * and the rollup rows the 30 days take, against the rows at full resolution.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { sloOverview } from '../src/agents/feedback/memory-ops.js';
import { perfSeries } from '../src/agents/analysis/performance-tester.js';
import type { Resource, Span } from '../src/signals/model.js';

const OPS = Number(process.env.BENCH_OPS ?? 8);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const services = ['frontend', 'checkout', 'cart', 'payment'];
const resources: Resource[] = services.map((s) => ({ attributes: { 'service.name': s, 'service.version': '1.0.0' } }));
const T0 = 1_700_000_000_000_000;
const STEP = 10e6;
const buckets = (DAYS * 864e8) / STEP;

const dir = mkdtempSync(join(tmpdir(), 'tswarm-bench-slo-'));
try {
  const db = join(dir, 'm.db');
  let store = await openStore(db);
  const t0 = performance.now();
  const BATCH = 2000;
  let batch: Span[] = [];
  let pending: Promise<unknown>[] = [];
  for (let b = 0; b < buckets; b++) {
    for (let o = 0; o < OPS; o++) {
      const si = o % services.length;
      const start = T0 + b * STEP + o * 1000;
      batch.push({ traceId: `${b.toString(16).padStart(16, '0')}${o.toString(16).padStart(16, '0')}`, spanId: '0000000000000001', service: services[si]!, name: `GET /op${o}`, kind: 2, startUs: start, endUs: start + 5_000 + ((b * 7919 + o) % 200_000), attributes: {}, events: [], links: [], status: { code: (b + o) % 500 === 0 ? 2 : 0 }, resource: resources[si]! });
      if (batch.length === BATCH) {
        pending.push(store.telemetry.ingest({ spans: batch, logs: [], metrics: [], errors: [] }));
        batch = [];
        if (pending.length >= 8) {
          await Promise.all(pending);
          pending = [];
        }
      }
    }
  }
  pending.push(store.telemetry.ingest({ spans: batch, logs: [], metrics: [], errors: [] }));
  await Promise.all(pending);
  const ingestS = (performance.now() - t0) / 1000;
  await store.close();

  store = await openStore(db);
  const nowUs = T0 + DAYS * 864e8;
  const rows = (await store.telemetry.rollups({ window: { fromUs: nowUs - 30 * 864e8, toUs: nowUs } })).length;
  const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
  const time = async (f: () => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const full: number[] = [];
  for (let i = 0; i < 5; i++) full.push(await time(async () => perfSeries(await store.telemetry.rollups({ window: { fromUs: nowUs - 30 * 864e8, toUs: nowUs } }))));
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    await store.close();
    // A fresh store object is a fresh process as far as the digest is concerned (it is kept per store).
    store = await openStore(db);
    cold.push(await time(() => sloOverview(store)));
    warm.push(await time(() => sloOverview(store)));
  }
  const o = await sloOverview(store);
  await store.close();
  const fullRes = OPS * Math.min(buckets, (30 * 864e8) / STEP);
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  console.log(
    `SLO overview over ${DAYS} days of ${OPS} operations (${services.length} services; ingest ${ingestS.toFixed(1)} s): ` +
      `30-day rollups ${rows.toLocaleString()} rows (${fullRes.toLocaleString()} at full resolution, ${(fullRes / rows).toFixed(1)}x fewer); ` +
      `reading the 30 days and building series (peer) ${ms(median(full))}; first overview ${ms(median(cold))}; later overviews ${ms(median(warm))} ` +
      `(${(median(full) / median(warm)).toFixed(0)}x faster than the peer); e.g. ${o.services[0]?.service}: ${o.services[0]?.slos[0]?.budgetText}`,
  );
  console.log(JSON.stringify({ bench: 'slo-overview', days: DAYS, operations: OPS, rollupRows30d: rows, fullResolutionRows: fullRes, peerFullReadMs: +median(full).toFixed(1), firstOverviewMs: +median(cold).toFixed(1), laterOverviewMs: +median(warm).toFixed(1), ratioVsPeer: +(median(full) / median(warm)).toFixed(1) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
