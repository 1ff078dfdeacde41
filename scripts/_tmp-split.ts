/**
 * NAB split scoring for the streaming detector (issue #5): the design half (even indexes of the 58 series sorted
 * by path) and the held-out half (odd indexes), each normalised on its own with thresholds chosen per profile on
 * the half being scored, the held-out half also scored with the design half's thresholds, and the full corpus.
 * Usage: npx tsx scripts/nab-split.ts [--data <nab folder>] [--opts '<DetectorOptions as JSON>'] [--json]
 * e.g. --opts '{"rest":150,"restRearm":true}' for the rest rule before the change of issue #5's accuracy round.
 */
import { loadCorpus } from '../src/algorithms/nab/data.js';
import { prepare, optimiseThreshold, corpusScore, type PreparedFile, type ProfileName } from '../src/algorithms/nab/scorer.js';
import { scoreSeries, type DetectorOptions } from './_tmp-det.js';

const PROFILES: ProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

export interface SplitScores {
  design: number[];
  held: number[];
  heldAtDesign: number[];
  full: number[];
}

export function splitScore(files: PreparedFile[], scores: ReadonlyMap<string, ArrayLike<number>>): SplitScores {
  const design = files.filter((_, i) => i % 2 === 0);
  const held = files.filter((_, i) => i % 2 === 1);
  const out: SplitScores = { design: [], held: [], heldAtDesign: [], full: [] };
  for (const p of PROFILES) {
    const d = optimiseThreshold(design, scores, p);
    out.design.push(d.score);
    out.held.push(optimiseThreshold(held, scores, p).score);
    out.heldAtDesign.push(corpusScore(held, scores, d.threshold, p).score);
    out.full.push(optimiseThreshold(files, scores, p).score);
  }
  return out;
}

export function formatSplit(s: SplitScores): string {
  const f = (a: number[]): string => a.map((x) => x.toFixed(1)).join(' / ');
  return `design ${f(s.design)} | held-out ${f(s.held)} (at design thresholds ${f(s.heldAtDesign)}) | full ${f(s.full)}`;
}

export function loadPrepared(data: string): { corpus: ReturnType<typeof loadCorpus>; files: PreparedFile[] } {
  const corpus = loadCorpus(data);
  return { corpus, files: corpus.map(prepare) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--data');
  const data = at >= 0 ? args[at + 1]! : '../shared/data/nab';
  const oi = args.indexOf('--opts');
  const opts = (oi >= 0 ? JSON.parse(args[oi + 1]!) : {}) as DetectorOptions;
  const { corpus, files } = loadPrepared(data);
  const scores = new Map(corpus.map((c) => [c.name, scoreSeries(c.values, opts)]));
  const s = splitScore(files, scores);
  if (args.includes('--json')) console.log(JSON.stringify(s));
  else console.log(formatSplit(s));
}
