#!/usr/bin/env node
// Writes the metrics-only view of recorded testbed cases (`tswarm testbed record-set --out DIR`) as one gzipped
// JSON file: per case its folder name (`<service>_<fault>/<rep>`, which carries the label), `inject_time.txt` and
// `metrics.csv` — nothing from traces, logs or the raw telemetry, so it stands for a deployment without tracing or
// log shipping. Cases are in recording order (by inject time): record-set randomises the order of the fault
// schedule, and a verdict replay needs the order the incidents happened in.
//
//   node scripts/testbed-metrics-fixture.mjs <record-set dir> <out.json.gz> [--source "<how it was recorded>"]
//
// The fixture of test/verdict-loop-testbed.test.ts:
//   tswarm testbed record-set --count 30 --seed 1 --out cases  && node scripts/testbed-metrics-fixture.mjs cases  test/fixtures/testbed-metrics-cases/set1.json.gz --source "record-set --count 30 --seed 1"
//   tswarm testbed record-set --count 30 --seed 2 --out cases2 && node scripts/testbed-metrics-fixture.mjs cases2 test/fixtures/testbed-metrics-cases/set2.json.gz --source "record-set --count 30 --seed 2"
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const at = args.indexOf('--source');
const source = at >= 0 ? args.splice(at, 2)[1] : undefined;
const [root, out] = args;
if (!root || !out) {
  console.error('usage: testbed-metrics-fixture.mjs <record-set dir> <out.json.gz> [--source TEXT]');
  process.exit(2);
}
const cases = [];
for (const scenario of readdirSync(root).sort()) {
  const sdir = join(root, scenario);
  if (!statSync(sdir).isDirectory() || !/^[^_]+_.+$/.test(scenario)) continue;
  for (const rep of readdirSync(sdir).sort()) {
    const dir = join(sdir, rep);
    const inject = join(dir, 'inject_time.txt');
    const metrics = join(dir, 'metrics.csv');
    if (!existsSync(inject) || !existsSync(metrics)) continue;
    const injectTime = Number(readFileSync(inject, 'utf8').trim());
    if (!Number.isFinite(injectTime)) throw new Error(`${inject}: not a unix time`);
    cases.push({ case: `${scenario}/${rep}`, injectTime, metricsCsv: readFileSync(metrics, 'utf8') });
  }
}
if (!cases.length) throw new Error(`${root}: no <service>_<fault>/<rep>/ case folders with inject_time.txt and metrics.csv`);
cases.sort((a, b) => a.injectTime - b.injectTime || a.case.localeCompare(b.case));
mkdirSync(dirname(out), { recursive: true });
const body = gzipSync(JSON.stringify({ ...(source ? { source } : {}), view: 'metrics only (inject_time.txt + metrics.csv)', cases }), { level: 9 });
writeFileSync(out, body);
console.log(`${out}: ${cases.length} cases, ${body.length} bytes`);
