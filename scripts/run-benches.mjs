#!/usr/bin/env node
// Runs every bench/*.bench.ts in turn (one process each, so one bench's heap never skews another's figures).
// Each bench prints a human line and a JSON line; this collects the JSON lines into bench-results/latest.jsonl.
import { readdirSync, mkdirSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const filter = process.argv.slice(2);
const files = readdirSync('bench').filter((f) => f.endsWith('.bench.ts') && (filter.length === 0 || filter.some((x) => f.includes(x)))).sort();
mkdirSync('bench-results', { recursive: true });
const out = join('bench-results', 'latest.jsonl');
writeFileSync(out, '');
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f}`);
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join('bench', f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(res.stdout ?? '');
  for (const line of (res.stdout ?? '').split('\n')) if (line.startsWith('{')) appendFileSync(out, line + '\n');
  if (res.status !== 0) { failed++; console.log(`bench/${f} exited with ${res.status}`); }
}
console.log(`\n${files.length - failed} benches ran, ${failed} failed; JSON lines in ${out}`);
process.exit(failed ? 1 : 0);
