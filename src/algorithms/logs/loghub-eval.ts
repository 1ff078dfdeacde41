/**
 * Scoring of log template mining against labelled data (Loghub-2k), per the definitions in
 * ../shared/data/loghub-2k/SOURCE.md:
 *   GA  (Zhu et al., ICSE'19): a line is correct when its parsed group is exactly its true group.
 *   FGA (Jiang et al., ISSTA'24): F1 over groups recovered exactly (precision over parsed, recall over true groups).
 *   PA  (Jiang et al.): fraction of lines whose parsed template string equals the true template string.
 *   FTA (Jiang et al.): F1 over parsed templates whose lines all carry one true template equal to it.
 *
 * Groups are keyed by a label string on both sides. For the corrected truth the label is the template string (two
 * EventIds of Linux share one string); the parsed side is grouped by the template string it printed, so anyone
 * re-scoring the `--out` CSVs (LineId,EventTemplate) gets the same figures.
 *
 * Pure: no I/O. The loader lives in loghub-data.ts.
 */

export interface Scores {
  ga: number;
  fga: number;
  pa: number;
  fta: number;
  /** Pairwise F1 (the logparser READMEs' "F1_measure"), for comparison with older papers. */
  pairF1: number;
  lines: number;
  trueGroups: number;
  parsedGroups: number;
}

function groupIndex(labels: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const g = m.get(l);
    if (g) g.push(i);
    else m.set(l, [i]);
  });
  return m;
}

const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
const pairs = (n: number): number => (n * (n - 1)) / 2;

/**
 * `trueGroup[i]` / `parsedGroup[i]`: group labels of line i; `trueTemplate[i]` / `parsedTemplate[i]`: template
 * strings (for the corrected truth and for our parser these are the same arrays as the group labels).
 */
export function scoreParsing(input: {
  trueGroup: readonly string[];
  trueTemplate: readonly string[];
  parsedGroup: readonly string[];
  parsedTemplate: readonly string[];
}): Scores {
  const { trueGroup, trueTemplate, parsedGroup, parsedTemplate } = input;
  const n = trueGroup.length;
  if (parsedGroup.length !== n || trueTemplate.length !== n || parsedTemplate.length !== n) {
    throw new Error(`length mismatch: truth has ${n} lines, parsed ${parsedGroup.length}`);
  }
  const trueGroups = groupIndex(trueGroup);
  const parsedGroups = groupIndex(parsedGroup);
  const trueSize = new Map<string, number>();
  for (const [k, v] of trueGroups) trueSize.set(k, v.length);

  let gaLines = 0;
  let exactGroups = 0;
  let ftaCorrect = 0;
  let truePairs = 0;
  let parsedPairs = 0;
  let commonPairs = 0;
  for (const members of trueGroups.values()) truePairs += pairs(members.length);
  for (const members of parsedGroups.values()) {
    parsedPairs += pairs(members.length);
    const counts = new Map<string, number>();
    for (const i of members) counts.set(trueGroup[i], (counts.get(trueGroup[i]) ?? 0) + 1);
    for (const c of counts.values()) commonPairs += pairs(c);
    if (counts.size === 1) {
      const label = trueGroup[members[0]];
      if (trueSize.get(label) === members.length) {
        gaLines += members.length;
        exactGroups++;
      }
    }
    // FTA: every line of this parsed template carries one true template whose string equals ours.
    const t0 = trueTemplate[members[0]];
    const pt = parsedTemplate[members[0]];
    if (t0 === pt && members.every((i) => trueTemplate[i] === t0)) ftaCorrect++;
  }
  let paLines = 0;
  for (let i = 0; i < n; i++) if (parsedTemplate[i] === trueTemplate[i]) paLines++;
  const trueTemplates = new Set(trueTemplate).size;

  const pairP = parsedPairs === 0 ? (truePairs === 0 ? 1 : 0) : commonPairs / parsedPairs;
  const pairR = truePairs === 0 ? 1 : commonPairs / truePairs;
  return {
    ga: n === 0 ? 0 : gaLines / n,
    fga: f1(exactGroups / Math.max(1, parsedGroups.size), exactGroups / Math.max(1, trueGroups.size)),
    pa: n === 0 ? 0 : paLines / n,
    fta: f1(ftaCorrect / Math.max(1, parsedGroups.size), ftaCorrect / Math.max(1, trueTemplates)),
    pairF1: f1(pairP, pairR),
    lines: n,
    trueGroups: trueGroups.size,
    parsedGroups: parsedGroups.size,
  };
}

/** Mean of each metric over datasets (the figure the literature reports). */
export function averageScores(all: readonly Scores[]): Pick<Scores, 'ga' | 'fga' | 'pa' | 'fta' | 'pairF1'> {
  const mean = (k: 'ga' | 'fga' | 'pa' | 'fta' | 'pairF1'): number =>
    all.length === 0 ? 0 : all.reduce((s, x) => s + x[k], 0) / all.length;
  return { ga: mean('ga'), fga: mean('fga'), pa: mean('pa'), fta: mean('fta'), pairF1: mean('pairF1') };
}

export type Truth = 'corrected' | 'original' | 'loghub2';
export const TRUTHS: readonly Truth[] = ['corrected', 'original', 'loghub2'];
export const LOGHUB_DATASETS = [
  'Android', 'Apache', 'BGL', 'HDFS', 'HPC', 'Hadoop', 'HealthApp', 'Linux',
  'Mac', 'OpenSSH', 'OpenStack', 'Proxifier', 'Spark', 'Thunderbird', 'Windows', 'Zookeeper',
] as const;

/** File name of a dataset's structured ground truth for one truth. */
export function structuredFile(name: string, truth: Truth): string {
  const suffix = truth === 'corrected' ? '_corrected' : truth === 'loghub2' ? '_loghub2' : '';
  return `${name}_2k.log_structured${suffix}.csv`;
}

export interface LabelledLines {
  lineIds: number[];
  contents: string[];
  /** The label lines are grouped by: the template string (corrected, loghub2) or the EventId (original). */
  groups: string[];
  templates: string[];
}

/**
 * Reads a structured CSV (already parsed into rows by an RFC-4180 parser, header first) into contents and labels.
 * The original truth is grouped by EventId (as Zhu et al. scored it); the others by template string (SOURCE.md).
 */
export function labelledFromRows(rows: readonly string[][], truth: Truth): LabelledLines {
  if (rows.length === 0) throw new Error('empty CSV: no header row');
  const header = rows[0].map((h) => h.replace(/^\uFEFF/, '').trim());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`CSV has no "${name}" column (header: ${header.join(',')})`);
    return i;
  };
  const [cLine, cContent, cId, cTpl] = [col('LineId'), col('Content'), col('EventId'), col('EventTemplate')];
  const out: LabelledLines = { lineIds: [], contents: [], groups: [], templates: [] };
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.length === 1 && row[0] === '') continue;
    if (row.length < header.length) throw new Error(`row ${r + 1} has ${row.length} fields, header has ${header.length}`);
    const strip = (s: string): string => s.replace(/\r$/, '');
    const template = strip(row[cTpl]);
    out.lineIds.push(Number(row[cLine]));
    out.contents.push(strip(row[cContent]));
    out.templates.push(template);
    out.groups.push(truth === 'original' ? strip(row[cId]) : template);
  }
  return out;
}

/** `LineId,EventTemplate` CSV (RFC 4180 quoting) so others can score our assignments independently. */
export function assignmentsCsv(lineIds: readonly number[], templates: readonly string[]): string {
  const q = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['LineId,EventTemplate'];
  for (let i = 0; i < lineIds.length; i++) lines.push(`${lineIds[i]},${q(templates[i])}`);
  return lines.join('\n') + '\n';
}
