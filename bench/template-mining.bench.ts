/**
 * Template mining throughput (one core, one thread):
 * 1. Loghub replay: the 16 Loghub-2k datasets' Content lines (32,000 lines, 16 systems x 2,000, every line
 *    once per round, datasets interleaved round-robin so every bucket stays warm) replayed for ~1.5 M lines
 *    through one default miner. The first round is the cold pass (templates being learned, JIT warming up);
 *    later rounds are the steady state a long-running service sees, where every line is an exact repeat and the
 *    raw-line cache answers. A second miner with the raw-line cache off re-masks every line: the cost of a line
 *    never seen before that joins a known template.
 * 2. Growth: synthetic lines drawn from N distinct templates (N = 10^4, 10^5, 10^6 distinct-ish lines) to show
 *    that lines/s does not collapse as templates grow (no quadratic slow-down), and memory with the template cap.
 * 3. Hostile: 300,000 lines of all-unique words (every line a new template): the cap and the time per line hold.
 * Every figure is given per wall-clock second and per CPU second of this process (the machine is shared; CPU
 * time is the fairer one-core figure when other work competes for the cores).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { SHARED_DATA } from '../test/helpers/env.js';
import { TemplateMiner } from '../src/algorithms/logs/miner.js';
import { LOGHUB_DATASETS, labelledFromRows, structuredFile } from '../src/algorithms/logs/loghub-eval.js';

function loghubLines(): string[] {
  const dir = join(SHARED_DATA, 'loghub-2k');
  const per: string[][] = [];
  for (const name of LOGHUB_DATASETS) {
    const f = join(dir, name, structuredFile(name, 'corrected'));
    if (!existsSync(f)) continue;
    per.push(labelledFromRows(parse(readFileSync(f, 'utf8')) as string[][], 'corrected').contents);
  }
  const out: string[] = [];
  const max = Math.max(0, ...per.map((p) => p.length));
  for (let i = 0; i < max; i++) for (const p of per) if (i < p.length) out.push(p[i]);
  return out;
}

/** Lines per CPU second of the last `run` (user + system time of this process). */
let lastCpuRate = 0;

function run(miner: TemplateMiner, lines: readonly string[], total: number): number {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  while (n < total) {
    for (let i = 0; i < lines.length && n < total; i++, n++) miner.add(lines[i]);
  }
  const c = process.cpuUsage(c0);
  lastCpuRate = n / ((c.user + c.system) / 1e6);
  return n / ((performance.now() - t0) / 1000);
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Mines `lines` with a fresh capped miner; the heap it retains is the heap after a full GC with the miner alive
 * minus the heap after a full GC once it is unreachable (immune to garbage left by whatever ran before). Heap is
 * NaN without --expose-gc (`npm run bench` passes it).
 */
function mineCapped(lines: readonly string[]): { lps: number; cpu: number; size: number; heapMb: number } {
  const inner = (): { lps: number; cpu: number; size: number; alive: number } => {
    const miner = new TemplateMiner({ maxTemplates: 50_000 });
    const lps = run(miner, lines, lines.length);
    gc?.();
    return { lps, cpu: lastCpuRate, size: miner.size, alive: process.memoryUsage().heapUsed };
  };
  const r = inner();
  if (!gc) return { ...r, heapMb: Number.NaN };
  gc();
  return { lps: r.lps, cpu: r.cpu, size: r.size, heapMb: (r.alive - process.memoryUsage().heapUsed) / 1e6 };
}
const lines = loghubLines();
const result: Record<string, unknown> = { bench: 'template-mining', loghubLines: lines.length };
if (lines.length > 0) {
  const bytes = lines.reduce((s, l) => s + l.length, 0);
  result.meanLineChars = Math.round(bytes / lines.length);
  // Default miner: exact repeats of a raw line skip masking (on a replay every line after the first round repeats).
  const miner = new TemplateMiner();
  const cold = run(miner, lines, lines.length);
  const coldCpu = lastCpuRate;
  const warm = run(miner, lines, 1_500_000);
  const warmCpu = lastCpuRate;
  // Masking every line again (dedup off): the cost of a line never seen before that joins a known template.
  const masking = new TemplateMiner({ dedupLines: false });
  run(masking, lines, lines.length);
  const remask = run(masking, lines, 1_000_000);
  const remaskCpu = lastCpuRate;
  Object.assign(result, {
    coldLinesPerSec: Math.round(cold),
    coldLinesPerCpuSec: Math.round(coldCpu),
    replayLinesPerSec: Math.round(warm),
    replayLinesPerCpuSec: Math.round(warmCpu),
    remaskLinesPerSec: Math.round(remask),
    remaskLinesPerCpuSec: Math.round(remaskCpu),
    templates: miner.size,
  });
  console.log(
    `loghub replay (${lines.length} lines, 16 systems x 2,000 interleaved, mean ${result.meanLineChars} chars), lines/s wall (per CPU s): ` +
      `first pass ${fmt(cold)} (${fmt(coldCpu)}); replay to 1.5 M lines ${fmt(warm)} (${fmt(warmCpu)}) (exact-repeat cache); ` +
      `re-masking every line ${fmt(remask)} (${fmt(remaskCpu)}); ${miner.size} templates`,
  );
} else {
  console.log(`loghub data not found under ${SHARED_DATA}; skipping the replay figure`);
}

/** Synthetic line i of a family of `distinct` templates: words chosen by the template number, values random. */
function synthetic(distinct: number, count: number, seed = 1): string[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = Math.floor(rnd() * distinct);
    // Each template: a distinct word sequence (base-16 digits of t as words) plus values.
    const parts = [`svc${t % 97}.handler`];
    let x = t;
    for (let k = 0; k < 5; k++) {
      parts.push(words[x % 16]);
      x = Math.floor(x / 16);
    }
    parts.push(`id=${Math.floor(rnd() * 1e6)}`, `took ${Math.floor(rnd() * 500)}ms`, `from 10.0.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}`);
    out.push(parts.join(' '));
  }
  return out;
}

const growth: Record<string, number> = {};
for (const distinct of [10_000, 100_000, 1_000_000]) {
  const sample = synthetic(distinct, 300_000, distinct);
  const r = mineCapped(sample);
  growth[`linesPerSec_${distinct}`] = Math.round(r.lps);
  growth[`linesPerCpuSec_${distinct}`] = Math.round(r.cpu);
  growth[`heapMb_${distinct}`] = Math.round(r.heapMb);
  growth[`templates_${distinct}`] = r.size;
  console.log(`growth: ${distinct.toLocaleString()} distinct-ish templates, 300,000 lines: ${fmt(r.lps)} lines/s (${fmt(r.cpu)} per CPU s), ${r.size} live templates (cap 50,000), miner heap ${r.heapMb.toFixed(0)} MB`);
}
Object.assign(result, growth);

// Hostile: every line is six random words, so every line opens a template and a family per position.
{
  let s = 7;
  const word = (): string => ((s = (s * 48271) % 2147483647).toString(36).replace(/\d/g, 'q'));
  const unique = Array.from({ length: 300_000 }, () => `${word()} ${word()} ${word()} ${word()} ${word()} ${word()}`);
  const r = mineCapped(unique);
  Object.assign(result, { uniqueLinesPerSec: Math.round(r.lps), uniqueLinesPerCpuSec: Math.round(r.cpu), uniqueHeapMb: Math.round(r.heapMb), uniqueTemplates: r.size });
  console.log(`hostile: 300,000 all-unique lines: ${fmt(r.lps)} lines/s (${fmt(r.cpu)} per CPU s), ${r.size} live templates (cap 50,000), miner heap ${r.heapMb.toFixed(0)} MB`);
}
console.log(JSON.stringify(result));
