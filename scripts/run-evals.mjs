#!/usr/bin/env node
// Full accuracy evaluations on the public labelled benchmarks in ../shared/data (read in place, never copied).
// Each eval is a `tswarm eval ...` command; results go to eval-results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';

const data = process.env.TSWARM_DATA ?? '../shared/data';
mkdirSync('eval-results', { recursive: true });
const evals = [
  ['loghub', ['eval', 'loghub', '--data', `${data}/loghub-2k`, '--truth', 'corrected', '--json']],
  ['loghub-original', ['eval', 'loghub', '--data', `${data}/loghub-2k`, '--truth', 'original', '--json']],
  ['loghub-loghub2', ['eval', 'loghub', '--data', `${data}/loghub-2k`, '--truth', 'loghub2', '--json']],
  ['nab', ['eval', 'nab', '--data', `${data}/nab`, '--json']],
  ['rca-nezha', ['eval', 'rca', '--data', `${data}/rca/nezha`, '--format', 'nezha', '--json']],
  ['defects', ['eval', 'defects', '--history', `${data}/defects/fastify.jsonl.gz`, `${data}/defects/vue-core.jsonl.gz`, `${data}/defects/eslint.jsonl.gz`, '--json']],
];
const only = process.argv.slice(2);
let failed = 0;
for (const [name, args] of evals) {
  if (only.length && !only.includes(name)) continue;
  if (!existsSync(data)) { console.error(`data folder ${data} not found`); process.exit(1); }
  console.log(`\n=== eval ${name}: tswarm ${args.join(' ')}`);
  const res = spawnSync(process.execPath, ['bin/tswarm.js', ...args], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
