/**
 * File-level defect-risk features from a commit history at a cut date, labels for the window after it, and the
 * classic baselines (size, recent churn, Rahman et al.'s time-weighted bug-fix score — Google's bug-prediction
 * heuristic). Pure: commits in, rows out.
 */

export interface FileChange {
  path: string;
  added: number | null;
  deleted: number | null;
}

export interface Commit {
  sha: string;
  /** Unix seconds. */
  time: number;
  author: string;
  parents: number;
  message: string;
  files: FileChange[];
}

const DAY = 86_400;

/** Bug-fix commits: conventional "fix:" prefixes, fix/bug vocabulary, or a closing issue reference. */
export function isBugFix(message: string): boolean {
  const m = message.slice(0, 500).toLowerCase();
  if (/^(revert|chore|docs?|build|ci|test|style|refactor|perf|feat)(\(.*?\))?!?:/.test(m) && !/\bfix(es|ed)?\b.*#\d+/.test(m)) return false;
  return /^fix(\(.*?\))?!?:/.test(m) || /\b(fix(es|ed|ing)?|bug(s|fix)?|regression|crash(es|ed)?|broken|defect|hotfix|incorrect(ly)?|wrong)\b/.test(m) || /\b(close[sd]?|resolve[sd]?)\s+#\d+/.test(m);
}

/** Production source: code files outside tests, docs, examples, benchmarks, fixtures, type declarations and config. */
export function isSourceFile(path: string): boolean {
  if (!/\.(m?[jt]sx?|cjs|cts|mts|vue)$/.test(path)) return false;
  if (/\.d\.ts$/.test(path)) return false;
  return !/(^|\/)(tests?|__tests__|__mocks__|spec|specs|docs?|examples?|benchmarks?|bench|fixtures?|scripts|\.github|e2e|playground|types?-tests?)\//i.test(path) && !/\.(test|spec|bench)\.[a-z]+$/.test(path) && !/(^|\/)(rollup|vite|vitest|jest|babel|webpack|eslint|prettier|tsup|karma)\.config\./.test(path);
}

export interface FileRow {
  path: string;
  loc: number;
  features: Record<string, number>;
  label?: boolean;
}

export const FEATURE_NAMES = [
  'log_loc',
  'log_churn_90',
  'log_churn_365',
  'log_commits_90',
  'log_commits_365',
  'log_commits_total',
  'log_fixes_365',
  'log_fixes_total',
  'fix_score',
  'log_authors',
  'minor_author_share',
  'log_age_days',
  'log_days_since_change',
  'fix_ratio',
  'coupled_fix_score',
  'log_prod_errors',
  'log_prod_fingerprints',
] as const;

interface Acc {
  loc: number;
  churn90: number;
  churn365: number;
  commits90: number;
  commits365: number;
  commits: number;
  fixes365: number;
  fixes: number;
  fixScore: number;
  authors: Map<string, number>;
  first: number;
  last: number;
  deleted: boolean;
}

export interface ProductionSignals {
  /** path → errors and distinct fingerprints (from stack frames mapped to repo files). */
  [path: string]: { errors: number; fingerprints: number };
}

/**
 * Features of every source file alive at `cut` from the commits before it. Rahman's score weighs each fix by
 * 1/(1+e^(-12t+12)) with t the fix's position in [0,1] between the history's start and the cut.
 */
export function featuresAt(commits: readonly Commit[], cut: number, prod: ProductionSignals = {}): FileRow[] {
  const start = commits[0]?.time ?? cut;
  const span = Math.max(1, cut - start);
  const files = new Map<string, Acc>();
  const coChange = new Map<string, Set<string>>();
  for (const c of commits) {
    if (c.time >= cut) break;
    if (c.parents > 1) continue;
    const fix = isBugFix(c.message);
    const age = cut - c.time;
    const t = (c.time - start) / span;
    const w = 1 / (1 + Math.exp(-12 * t + 12));
    const src = c.files.filter((f) => isSourceFile(f.path));
    for (const f of c.files) {
      let a = files.get(f.path);
      if (!a) files.set(f.path, (a = { loc: 0, churn90: 0, churn365: 0, commits90: 0, commits365: 0, commits: 0, fixes365: 0, fixes: 0, fixScore: 0, authors: new Map(), first: c.time, last: c.time, deleted: false }));
      const add = f.added ?? 0;
      const del = f.deleted ?? 0;
      a.loc = Math.max(0, a.loc + add - del);
      // A file whose lines all went away in a commit that removed it is gone (renames show as delete + add).
      a.deleted = add === 0 && del > 0 && a.loc === 0;
      const churn = add + del;
      a.commits++;
      a.last = c.time;
      a.authors.set(c.author, (a.authors.get(c.author) ?? 0) + 1);
      if (age <= 90 * DAY) {
        a.churn90 += churn;
        a.commits90++;
      }
      if (age <= 365 * DAY) {
        a.churn365 += churn;
        a.commits365++;
      }
      if (fix) {
        a.fixes++;
        a.fixScore += w;
        if (age <= 365 * DAY) a.fixes365++;
      }
    }
    if (age <= 365 * DAY && src.length > 1 && src.length <= 20) {
      for (const f of src) {
        let s = coChange.get(f.path);
        if (!s) coChange.set(f.path, (s = new Set()));
        for (const g of src) if (g.path !== f.path) s.add(g.path);
      }
    }
  }
  const rows: FileRow[] = [];
  const l = (x: number): number => Math.log1p(Math.max(0, x));
  for (const [path, a] of files) {
    if (a.deleted || a.loc <= 0 || !isSourceFile(path)) continue;
    const authors = a.authors.size;
    const minor = [...a.authors.values()].filter((n) => n / a.commits < 0.05).length;
    const partners = [...(coChange.get(path) ?? [])];
    const coupled = partners.length ? partners.reduce((s, p) => s + (files.get(p)?.fixScore ?? 0), 0) / partners.length : 0;
    const p = prod[path] ?? { errors: 0, fingerprints: 0 };
    rows.push({
      path,
      loc: a.loc,
      features: {
        log_loc: l(a.loc),
        log_churn_90: l(a.churn90),
        log_churn_365: l(a.churn365),
        log_commits_90: l(a.commits90),
        log_commits_365: l(a.commits365),
        log_commits_total: l(a.commits),
        log_fixes_365: l(a.fixes365),
        log_fixes_total: l(a.fixes),
        fix_score: a.fixScore,
        log_authors: l(authors),
        minor_author_share: authors ? minor / authors : 0,
        log_age_days: l((cut - a.first) / DAY),
        log_days_since_change: l((cut - a.last) / DAY),
        fix_ratio: a.commits ? a.fixes / a.commits : 0,
        coupled_fix_score: coupled,
        log_prod_errors: l(p.errors),
        log_prod_fingerprints: l(p.fingerprints),
      },
    });
  }
  return rows;
}

/** Label: the file was touched by a bug-fix commit in (cut, cut + horizon]. */
export function labelRows(rows: FileRow[], commits: readonly Commit[], cut: number, horizonDays = 180): FileRow[] {
  const fixed = new Set<string>();
  for (const c of commits) {
    if (c.time <= cut || c.parents > 1) continue;
    if (c.time > cut + horizonDays * DAY) break;
    if (isBugFix(c.message)) for (const f of c.files) fixed.add(f.path);
  }
  return rows.map((r) => ({ ...r, label: fixed.has(r.path) }));
}
