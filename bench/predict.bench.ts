/**
 * `tswarm predict` on a history of ~11,000 commits (eslint, from ../shared/data/defects): read, train on earlier
 * windows, score every file. Target ≤ 10 s.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readHistoryFile } from '../src/agents/detection/defect-history.js';
import { predictRisk } from '../src/agents/detection/defect-predictor.js';

const file = join(process.env.TSWARM_DATA ?? '../shared/data', 'defects', 'eslint.jsonl.gz');
if (!existsSync(file)) {
  console.log(`predict: skipped (${file} not found)`);
  console.log(JSON.stringify({ bench: 'predict', skipped: true }));
  process.exit(0);
}
const t0 = performance.now();
const c0 = process.cpuUsage();
const { commits } = readHistoryFile(file);
const risks = await predictRisk({ commits, repoRoot: '.' });
const s = (performance.now() - t0) / 1000;
// CPU time too: on a shared machine the wall clock says more about the neighbours than about us.
const cu = process.cpuUsage(c0);
const cpu = (cu.user + cu.system) / 1e6;
console.log(`predict: ${commits.length.toLocaleString()} commits, ${risks.length} files scored in ${s.toFixed(2)} s (${cpu.toFixed(2)} s CPU); top: ${risks[0]?.file}`);
console.log(JSON.stringify({ bench: 'predict', commits: commits.length, files: risks.length, seconds: +s.toFixed(2), cpuSeconds: +cpu.toFixed(2) }));
