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
  // Added for issue 13 (see featuresAt for the definitions and the papers they come from).
  'log_fixes_180',
  'log_commits_180',
  'fix_decay',
  'commit_decay',
  'log_authors_365',
  'owner_share',
  'log_author_experience',
  'relative_churn_365',
  'change_entropy',
  'dir_fix_share',
  'dir_fix_decay',
  'coupled_fix_decay',
  'log_depth',
  'log_days_since_fix',
  'spread_fix_decay',
  'log_added_365',
  'log_feats_365',
  'log_test_commits_365',
  'log_fix_mentions_365',
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
  fixes180: number;
  commits180: number;
  fixDecay: number;
  commitDecay: number;
  authors365: Set<string>;
  /** Σ log(1 + the author's earlier commits in the repository) over this file's commits. */
  experience: number;
  entropy: number;
  lastFix: number;
  spreadFixDecay: number;
  added365: number;
  feats365: number;
}

/** Feature-adding commits: conventional `feat:`, or the older `New:` / `Update:` / `Add` subjects. */
export function isFeature(message: string): boolean {
  return /^(feat(\(.*?\))?!?:|new:|update:|add(s|ed)?\b|implement)/i.test(message.slice(0, 100));
}

/** Test files of a source file: same base name under a test folder or with .test/.spec (tests/lib/rules/indent.js). */
const baseName = (p: string): string => (p.split('/').pop() ?? p).replace(/\.(test|spec)(?=\.)/, '').replace(/\.[a-z]+$/i, '').toLowerCase();
const isTestFile = (p: string): boolean => /(^|\/)(tests?|__tests__|spec|specs)\//i.test(p) || /\.(test|spec)\.[a-z]+$/i.test(p);

/** Half-life of the recency-weighted fix and commit counts: a fix half a year ago counts half. */
const HALF_LIFE_DAYS = 180;
/** Periods over which Hassan's change entropy is measured. */
const ENTROPY_PERIOD_DAYS = 30;

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
  const authorCommits = new Map<string, number>();
  const testCommits = new Map<string, number>();
  const fixWords = new Map<string, number>();
  // Hassan (ICSE 2009), "Predicting faults using the complexity of code changes": the Shannon entropy of how a
  // period's changes spread over files, normalised by log(#files). A file modified in a chaotic period (changes
  // scattered over many files) accumulates more; we use the decayed variant (EDHCM) with each file's share p_f:
  // Σ_periods H_norm · p_f · 2^(-age/half-life).
  let periodStart = -Infinity;
  let periodCounts = new Map<string, number>();
  const flushPeriod = (): void => {
    const n = periodCounts.size;
    if (n > 1) {
      const total = [...periodCounts.values()].reduce((a, b) => a + b, 0);
      let h = 0;
      for (const v of periodCounts.values()) h -= (v / total) * Math.log(v / total);
      const hn = h / Math.log(n);
      const decay = Math.pow(0.5, (cut - periodStart) / (HALF_LIFE_DAYS * DAY));
      for (const [path, v] of periodCounts) {
        const a = files.get(path);
        if (a) a.entropy += hn * (v / total) * decay;
      }
    }
    periodCounts = new Map();
  };
  for (const c of commits) {
    if (c.time >= cut) break;
    if (c.parents > 1) continue;
    const fix = isBugFix(c.message);
    const age = cut - c.time;
    const t = (c.time - start) / span;
    const w = 1 / (1 + Math.exp(-12 * t + 12));
    const decay = Math.pow(0.5, age / (HALF_LIFE_DAYS * DAY));
    const src = c.files.filter((f) => isSourceFile(f.path));
    if (age <= 365 * DAY) {
      for (const b of new Set(c.files.filter((f) => isTestFile(f.path)).map((f) => baseName(f.path)))) testCommits.set(b, (testCommits.get(b) ?? 0) + 1);
      if (fix) for (const wd of new Set(c.message.slice(0, 500).toLowerCase().match(/[a-z0-9][a-z0-9_-]{2,}/g) ?? [])) fixWords.set(wd, (fixWords.get(wd) ?? 0) + 1);
    }
    const feat = isFeature(c.message);
    // A fix touching many files is usually a sweep (a rename, a deprecation), not n defects: spread its weight.
    const spread = Math.min(1, 5 / Math.max(1, src.length));
    const exp = Math.log1p(authorCommits.get(c.author) ?? 0);
    authorCommits.set(c.author, (authorCommits.get(c.author) ?? 0) + 1);
    if (c.time >= periodStart + ENTROPY_PERIOD_DAYS * DAY) {
      flushPeriod();
      periodStart = c.time;
    }
    for (const f of src) periodCounts.set(f.path, (periodCounts.get(f.path) ?? 0) + 1);
    for (const f of c.files) {
      let a = files.get(f.path);
      if (!a) {
        files.set(f.path, (a = { loc: 0, churn90: 0, churn365: 0, commits90: 0, commits365: 0, commits: 0, fixes365: 0, fixes: 0, fixScore: 0, authors: new Map(), first: c.time, last: c.time, deleted: false,
          fixes180: 0, commits180: 0, fixDecay: 0, commitDecay: 0, authors365: new Set(), experience: 0, entropy: 0, lastFix: -Infinity, spreadFixDecay: 0, added365: 0, feats365: 0 }));
      }
      const add = f.added ?? 0;
      const del = f.deleted ?? 0;
      a.loc = Math.max(0, a.loc + add - del);
      // A file whose lines all went away in a commit that removed it is gone (renames show as delete + add).
      a.deleted = add === 0 && del > 0 && a.loc === 0;
      const churn = add + del;
      a.commits++;
      a.last = c.time;
      a.authors.set(c.author, (a.authors.get(c.author) ?? 0) + 1);
      a.commitDecay += decay;
      a.experience += exp;
      if (age <= 90 * DAY) {
        a.churn90 += churn;
        a.commits90++;
      }
      if (age <= 180 * DAY) a.commits180++;
      if (age <= 365 * DAY) {
        a.churn365 += churn;
        a.commits365++;
        a.authors365.add(c.author);
        a.added365 += add;
        if (feat) a.feats365++;
      }
      if (fix) {
        a.fixes++;
        a.fixScore += w;
        a.fixDecay += decay;
        a.spreadFixDecay += decay * spread;
        a.lastFix = c.time;
        if (age <= 365 * DAY) a.fixes365++;
        if (age <= 180 * DAY) a.fixes180++;
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
  flushPeriod();
  const alive = [...files].filter(([path, a]) => !a.deleted && a.loc > 0 && isSourceFile(path));
  // Directory priors: defects cluster in components (Zimmermann & Nagappan 2008, "Predicting defects using
  // network analysis…"; Schröter et al. 2006, "If your bug database could talk"). For each file, over the OTHER
  // live source files of its directory: the share fixed in the last year and the mean decayed fix count.
  const dirOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
  const dirs = new Map<string, { n: number; fixed: number; decay: number }>();
  for (const [path, a] of alive) {
    const d = dirs.get(dirOf(path)) ?? { n: 0, fixed: 0, decay: 0 };
    d.n++;
    d.fixed += a.fixes365 > 0 ? 1 : 0;
    d.decay += a.fixDecay;
    dirs.set(dirOf(path), d);
  }
  const rows: FileRow[] = [];
  const l = (x: number): number => Math.log1p(Math.max(0, x));
  for (const [path, a] of alive) {
    const authors = a.authors.size;
    const minor = [...a.authors.values()].filter((n) => n / a.commits < 0.05).length;
    const partners = [...(coChange.get(path) ?? [])];
    const coupled = partners.length ? partners.reduce((s, p) => s + (files.get(p)?.fixScore ?? 0), 0) / partners.length : 0;
    const coupledDecay = partners.length ? partners.reduce((s, p) => s + (files.get(p)?.fixDecay ?? 0), 0) / partners.length : 0;
    const p = prod[path] ?? { errors: 0, fingerprints: 0 };
    const d = dirs.get(dirOf(path))!;
    const others = d.n - 1;
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
        log_fixes_180: l(a.fixes180),
        log_commits_180: l(a.commits180),
        // Recency-weighted counts (Kim et al.'s FixCache intuition: recently fixed and changed files fail again).
        fix_decay: l(a.fixDecay),
        commit_decay: l(a.commitDecay),
        log_authors_365: l(a.authors365.size),
        // Ownership (Bird et al. 2011, "Don't touch my code!"): the share of commits by the top contributor.
        owner_share: a.commits ? Math.max(...a.authors.values()) / a.commits : 0,
        // Developer experience (Mockus & Weiss 2000): mean log of the authors' prior commit counts.
        log_author_experience: a.commits ? a.experience / a.commits : 0,
        // Relative churn (Nagappan & Ball 2005): lines changed in a year per line of the file.
        relative_churn_365: l(a.churn365 / Math.max(10, a.loc)),
        change_entropy: a.entropy,
        dir_fix_share: others > 0 ? (d.fixed - (a.fixes365 > 0 ? 1 : 0)) / others : 0,
        dir_fix_decay: others > 0 ? l((d.decay - a.fixDecay) / others) : 0,
        coupled_fix_decay: l(coupledDecay),
        log_depth: l(path.split('/').length - 1),
        log_days_since_fix: l(Number.isFinite(a.lastFix) ? (cut - a.lastFix) / DAY : (cut - start) / DAY),
        spread_fix_decay: l(a.spreadFixDecay),
        log_added_365: l(a.added365),
        log_feats_365: l(a.feats365),
        log_test_commits_365: l(testCommits.get(baseName(path)) ?? 0),
        log_fix_mentions_365: baseName(path).length >= 3 && baseName(path) !== 'index' ? l(fixWords.get(baseName(path)) ?? 0) : 0,
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
