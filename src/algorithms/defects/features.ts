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

/**
 * Bug-fix commits: conventional "fix:" prefixes, fix/bug vocabulary, or a closing issue reference. A commit typed
 * docs/chore/test/… is not a fix unless it says it fixes an issue ("fixes #123"); the pull-request number that
 * squash merges append ("docs: fix typo (#20575)") is not such a reference.
 */
export function isBugFix(message: string): boolean {
  const m = message.slice(0, 500).toLowerCase();
  if (/^(revert|chore|docs?|build|ci|test|style|refactor|perf|feat)(\(.*?\))?!?:/.test(m) && !/\bfix(es|ed)?:?\s+(#\d+|https?:\/\/\S+\/issues\/\d+)/.test(m)) return false;
  return /^fix(\(.*?\))?!?:/.test(m) || /\b(fix(es|ed|ing)?|bug(s|fix)?|regression|crash(es|ed)?|broken|defect|hotfix|incorrect(ly)?|wrong)\b/.test(m) || /\b(close[sd]?|resolve[sd]?)\s+#\d+/.test(m);
}

/** Production source: code files outside tests, docs, examples, benchmarks, fixtures, type declarations and config. */
export function isSourceFile(path: string): boolean {
  if (!/\.(m?[jt]sx?|cjs|cts|mts|vue)$/.test(path)) return false;
  if (/\.d\.ts$/.test(path)) return false;
  // Type tests (`*.test-d.ts`, tsd/vitest) and folders named as tests or sandboxes with a prefix (`dts-test/`,
  // `test-dts/`, `vapor-e2e-test/`, `sfc-playground/`) are not source either: the issue labels source files only.
  return !/(^|\/)(tests?|__tests__|__mocks__|spec|specs|docs?|examples?|benchmarks?|bench|fixtures?|scripts|\.github|e2e|playground|types?-tests?|[\w.-]+-(tests?|e2e|playground)|tests?-[\w.-]+)\//i.test(path) && !/\.(test|spec|bench)(-d)?\.[a-z]+$/.test(path) && !/(^|\/)(rollup|vite|vitest|jest|babel|webpack|eslint|prettier|tsup|karma)\.config\./.test(path);
}

export interface FileRow {
  path: string;
  loc: number;
  features: Record<string, number>;
  label?: boolean;
}

/** The first model's features (size, churn, fixes, Rahman, authors, … up to mentions in fix messages). */
export const CORE_FEATURES = [
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

/**
 * The second round for issue 13 (definitions at the end of featuresAt): fix counts decayed at several half-lives,
 * total churn, SZZ-like fix-inducing lines, file-level experience, newcomers, deletions, growth, persistence of
 * fixes across windows, path-token fix rates, mentions in any message, burstiness, and the file's tests and docs.
 * Alone none beats size; together with eight training windows instead of five they lift the model by ~0.01 AUC.
 */
export const EXTRA_FEATURES = [
  'fix_decay_30',
  'fix_decay_90',
  'fix_decay_365',
  'fix_decay_730',
  'log_churn_total',
  'log_added_total',
  'log_unfixed_added',
  'log_induced_lines',
  'induced_share',
  'log_file_experience',
  'newcomer_share_365',
  'deleted_share_365',
  'log_growth_365',
  'fixed_windows',
  'token_fix_rate',
  'token_fix_max',
  'log_mentions_365',
  'log_peak_loc_ratio',
  'burst_30',
  'log_test_loc',
  'log_test_commits_total',
  'log_doc_commits_total',
  'log_doc_commits_365',
  'log_mentions_total',
  'log_test_loc_ratio',
] as const;

export const FEATURE_NAMES = [...CORE_FEATURES, ...EXTRA_FEATURES] as const;

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
  fixDecayHl: number[];
  churnTotal: number;
  addedTotal: number;
  unfixedAdded: number;
  /** Non-fix commits on the file since its last fix: (time, lines added). */
  pending: { time: number; added: number }[];
  inducedLines: number;
  inducedCommits730: number;
  commits730: number;
  fileExp365: number;
  newcomer365: number;
  deleted365: number;
  locYearAgo: number;
  fixWindows: Set<number>;
  peakLoc: number;
  times365: number[];
}

/** Feature-adding commits: conventional `feat:`, or the older `New:` / `Update:` / `Add` subjects. */
export function isFeature(message: string): boolean {
  return /^(feat(\(.*?\))?!?:|new:|update:|add(s|ed)?\b|implement)/i.test(message.slice(0, 100));
}

/** Test files of a source file: same base name under a test folder or with .test/.spec (tests/lib/rules/indent.js). */
const baseNames = new Map<string, string>();
const baseName = (p: string): string => {
  let b = baseNames.get(p);
  if (b === undefined) {
    b = (p.split('/').pop() ?? p).replace(/\.(test|spec)(?=\.)/, '').replace(/\.[a-z]+$/i, '').toLowerCase();
    // Memoised (features are built at nine cuts from one history); bounded for long-running processes.
    if (baseNames.size > 500_000) baseNames.clear();
    baseNames.set(p, b);
  }
  return b;
};
const isTestFile = (p: string): boolean => /(^|\/)(tests?|__tests__|spec|specs)\//i.test(p) || /\.(test|spec)\.[a-z]+$/i.test(p);

/**
 * What a commit says independently of the cut (fix? feature? message words, source files, test and doc base
 * names). Training builds features at nine cuts from the same commit objects; deriving this once per commit
 * instead of per cut keeps `tswarm predict` on 11,000 commits at ~1 s of CPU.
 */
interface Derived {
  fix: boolean;
  feat: boolean;
  words: string[];
  src: FileChange[];
  tests: FileChange[];
  testBases: string[];
  docBases: string[];
  srcBases: string[];
}
const derivedCache = new WeakMap<Commit, Derived>();
function derive(c: Commit): Derived {
  let d = derivedCache.get(c);
  if (!d) {
    const tests = c.files.filter((f) => isTestFile(f.path));
    d = {
      fix: isBugFix(c.message),
      feat: isFeature(c.message),
      words: [...new Set(c.message.slice(0, 500).toLowerCase().match(/[a-z0-9][a-z0-9_-]{2,}/g) ?? [])],
      src: c.files.filter((f) => isSourceFile(f.path)),
      tests,
      testBases: [...new Set(tests.map((f) => baseName(f.path)))],
      docBases: [...new Set(c.files.filter((f) => !isTestFile(f.path) && /\.md$/i.test(f.path)).map((f) => baseName(f.path)))],
      srcBases: [],
    };
    d.srcBases = [...new Set(d.src.map((f) => baseName(f.path)))];
    derivedCache.set(c, d);
  }
  return d;
}

/** Half-life of the recency-weighted fix and commit counts: a fix half a year ago counts half. */
const HALF_LIFE_DAYS = 180;
/** Periods over which Hassan's change entropy is measured. */
const ENTROPY_PERIOD_DAYS = 30;
const EXTRA_HALF_LIVES = [30, 90, 365, 730];
/** Path tokens: base-name words (no-unused-vars → no, unused, vars; camelCase split). */
const pathTokens = (p: string): string[] => [...new Set(baseName(p).replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length >= 2))];

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
  const allWords = new Map<string, number>();
  const allWordsTotal = new Map<string, number>();
  const knownBases = new Set<string>();
  const testLoc = new Map<string, number>();
  const testCommitsTotal = new Map<string, number>();
  const docCommits = new Map<string, number>();
  const docCommits365 = new Map<string, number>();
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
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const c of commits) {
    if (c.time >= cut) break;
    if (c.parents > 1) continue;
    const dc = derive(c);
    const fix = dc.fix;
    const age = cut - c.time;
    const t = (c.time - start) / span;
    const w = 1 / (1 + Math.exp(-12 * t + 12));
    const decay = Math.pow(0.5, age / (HALF_LIFE_DAYS * DAY));
    const src = dc.src;
    const { words, testBases, docBases } = dc;
    // Tests and docs of a source file share its base name (tests/lib/rules/indent.js, docs/src/rules/indent.md):
    // a big, often-edited test file means many edge cases; docs edits mean users asking about it.
    for (const f of dc.tests) testLoc.set(f.path, Math.max(0, (testLoc.get(f.path) ?? 0) + (f.added ?? 0) - (f.deleted ?? 0)));
    for (const b of testBases) bump(testCommitsTotal, b);
    for (const b of docBases) bump(docCommits, b);
    // Only words that name a file seen so far can be looked up later: counting the rest was most of the cost.
    for (const b of dc.srcBases) knownBases.add(b);
    const named = words.filter((wd) => knownBases.has(wd));
    for (const wd of named) bump(allWordsTotal, wd);
    if (age <= 365 * DAY) {
      for (const b of testBases) bump(testCommits, b);
      for (const b of docBases) bump(docCommits365, b);
      for (const wd of named) bump(allWords, wd);
      if (fix) for (const wd of named) bump(fixWords, wd);
    }
    const feat = dc.feat;
    // A fix touching many files is usually a sweep (a rename, a deprecation), not n defects: spread its weight.
    const spread = Math.min(1, 5 / Math.max(1, src.length));
    const exp = Math.log1p(authorCommits.get(c.author) ?? 0);
    authorCommits.set(c.author, (authorCommits.get(c.author) ?? 0) + 1);
    if (c.time >= periodStart + ENTROPY_PERIOD_DAYS * DAY) {
      flushPeriod();
      periodStart = c.time;
    }
    for (const f of src) periodCounts.set(f.path, (periodCounts.get(f.path) ?? 0) + 1);
    // Only source files become rows (and coupling, entropy and directory priors look only at them), so only they
    // need the per-file accumulators.
    for (const f of src) {
      let a = files.get(f.path);
      if (!a) {
        files.set(f.path, (a = { loc: 0, churn90: 0, churn365: 0, commits90: 0, commits365: 0, commits: 0, fixes365: 0, fixes: 0, fixScore: 0, authors: new Map(), first: c.time, last: c.time, deleted: false,
          fixes180: 0, commits180: 0, fixDecay: 0, commitDecay: 0, authors365: new Set(), experience: 0, entropy: 0, lastFix: -Infinity, spreadFixDecay: 0, added365: 0, feats365: 0,
          fixDecayHl: EXTRA_HALF_LIVES.map(() => 0), churnTotal: 0, addedTotal: 0, unfixedAdded: 0, pending: [], inducedLines: 0, inducedCommits730: 0, commits730: 0, fileExp365: 0, newcomer365: 0, deleted365: 0,
          locYearAgo: -1, fixWindows: new Set(), peakLoc: 0, times365: [] }));
      }
      // Size a year before the cut: the size before its first commit of the last year.
      if (age <= 365 * DAY && a.locYearAgo < 0) a.locYearAgo = a.loc;
      const fileExp = a.authors.get(c.author) ?? 0;
      const add = f.added ?? 0;
      const del = f.deleted ?? 0;
      a.loc = Math.max(0, a.loc + add - del);
      a.peakLoc = Math.max(a.peakLoc, a.loc);
      a.churnTotal += add + del;
      a.addedTotal += add;
      if (age <= 730 * DAY) a.commits730++;
      if (fix) {
        // SZZ-like proxy: the lines added by the non-fix commits of the 90 days before a fix are the likeliest
        // to have caused it; a file whose fresh code keeps needing fixes is fix-prone.
        const recent = a.pending.filter((p) => c.time - p.time <= 90 * DAY);
        a.inducedLines += recent.reduce((x, p) => x + p.added, 0) * decay;
        if (age <= 730 * DAY) a.inducedCommits730 += recent.length;
        a.pending = [];
        a.unfixedAdded = 0;
        EXTRA_HALF_LIVES.forEach((hl, i) => (a!.fixDecayHl[i]! += Math.pow(0.5, age / (hl * DAY))));
        if (age <= 4 * 180 * DAY) a.fixWindows.add(Math.floor(age / (180 * DAY)));
      } else {
        a.pending.push({ time: c.time, added: add });
        if (a.pending.length > 50) a.pending.shift();
        a.unfixedAdded += add;
      }
      if (age <= 365 * DAY) {
        a.fileExp365 += Math.log1p(fileExp);
        if ((authorCommits.get(c.author) ?? 0) <= 5) a.newcomer365++;
        a.deleted365 += del;
        a.times365.push(c.time);
      }
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
  const tokens = new Map<string, { n: number; fixed: number }>();
  let fixedAlive = 0;
  for (const [path, a] of alive) {
    fixedAlive += a.fixes365 > 0 ? 1 : 0;
    for (const t of pathTokens(path)) {
      const x = tokens.get(t) ?? { n: 0, fixed: 0 };
      x.n++;
      x.fixed += a.fixes365 > 0 ? 1 : 0;
      tokens.set(t, x);
    }
  }
  const prior = alive.length ? fixedAlive / alive.length : 0;
  const testLocByBase = new Map<string, number>();
  for (const [p, n] of testLoc) if (n > 0) testLocByBase.set(baseName(p), (testLocByBase.get(baseName(p)) ?? 0) + n);
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
    const own = a.fixes365 > 0 ? 1 : 0;
    const tokenRates = pathTokens(path).map((t) => {
      const x = tokens.get(t)!;
      return (x.fixed - own + 5 * prior) / (x.n - 1 + 5);
    });
    let burst = 0;
    for (let i = 0, j = 0; i < a.times365.length; i++) {
      while (a.times365[i]! - a.times365[j]! > 30 * DAY) j++;
      burst = Math.max(burst, i - j + 1);
    }
    // A base name shared by many unrelated files (index, utils) says nothing about this one.
    const distinctive = baseName(path).length >= 3 && !/^(index|main|utils?|helpers?|types?|constants?)$/.test(baseName(path));
    const extra: Record<(typeof EXTRA_FEATURES)[number], number> = {
      // Fix counts at several half-lives: a month-old fix and a two-year-old one say different things.
      fix_decay_30: l(a.fixDecayHl[0]!),
      fix_decay_90: l(a.fixDecayHl[1]!),
      fix_decay_365: l(a.fixDecayHl[2]!),
      fix_decay_730: l(a.fixDecayHl[3]!),
      log_churn_total: l(a.churnTotal),
      log_added_total: l(a.addedTotal),
      // Code added since the file's last fix has not been debugged yet.
      log_unfixed_added: l(a.unfixedAdded),
      log_induced_lines: l(a.inducedLines),
      // Share of the last two years' commits that a fix followed within 90 days (SZZ-like, see the loop).
      induced_share: a.commits730 ? a.inducedCommits730 / a.commits730 : 0,
      // Experience with this file (the author's earlier commits on it), not just with the repository.
      log_file_experience: a.commits365 ? a.fileExp365 / a.commits365 : 0,
      newcomer_share_365: a.commits365 ? a.newcomer365 / a.commits365 : 0,
      deleted_share_365: a.churn365 ? a.deleted365 / a.churn365 : 0,
      log_growth_365: l(a.loc) - l(a.locYearAgo < 0 ? a.loc : a.locYearAgo),
      // Persistence: in how many of the last four 180-day windows the file was fixed.
      fixed_windows: a.fixWindows.size,
      // Name tokens learned on this history (no-unused-vars → no, unused, vars): the smoothed share of the other
      // files with the token fixed in the last year.
      token_fix_rate: tokenRates.length ? tokenRates.reduce((x, y) => x + y, 0) / tokenRates.length : prior,
      token_fix_max: tokenRates.length ? Math.max(...tokenRates) : prior,
      log_mentions_365: baseName(path).length >= 3 && baseName(path) !== 'index' ? l(allWords.get(baseName(path)) ?? 0) : 0,
      log_peak_loc_ratio: l(a.peakLoc) - l(a.loc),
      // Burstiness: the busiest 30 days' share of the year's commits.
      burst_30: a.commits365 ? burst / a.commits365 : 0,
      log_test_loc: distinctive ? l(testLocByBase.get(baseName(path)) ?? 0) : 0,
      log_test_commits_total: distinctive ? l(testCommitsTotal.get(baseName(path)) ?? 0) : 0,
      log_doc_commits_total: distinctive ? l(docCommits.get(baseName(path)) ?? 0) : 0,
      log_doc_commits_365: distinctive ? l(docCommits365.get(baseName(path)) ?? 0) : 0,
      log_mentions_total: distinctive ? l(allWordsTotal.get(baseName(path)) ?? 0) : 0,
      log_test_loc_ratio: distinctive ? l(testLocByBase.get(baseName(path)) ?? 0) - l(a.loc) : 0,
    };
    rows.push({
      path,
      loc: a.loc,
      features: {
        ...extra,
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
