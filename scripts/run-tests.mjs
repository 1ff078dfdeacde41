#!/usr/bin/env node
// Runs every *.test.ts under src/, test/, testbed/ and bench/ with Node's built-in test runner (through tsx).
// Node 20's `--test` takes no globs, hence this small finder. Extra args are passed to node (e.g. a file filter).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['src', 'test', 'testbed', 'bench'];
const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts') && (filter.length === 0 || filter.some((f) => p.includes(f)))) files.push(p);
  }
}
roots.forEach(walk);
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// Tests that run the whole testbed (nine services) or the demo measure timing-sensitive behaviour (false alarms,
// saturation knees); two of them at once on a 2-core machine disturb each other. They run after the rest, one
// at a time.
const heavy = (p) => /\.(testbed|e2e)\.test\.ts$/.test(p) || p.startsWith('testbed/') || p.startsWith('testbed\\');
const phases = [
  { files: files.filter((p) => !heavy(p)), concurrency },
  { files: files.filter(heavy), concurrency: '1' },
].filter((p) => p.files.length);
let status = 0;
for (const phase of phases) {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${phase.concurrency}`, '--test-reporter=spec', ...phase.files],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
  );
  if (res.status !== 0) status = res.status ?? 1;
}
process.exit(status);
