/**
 * Per-file signals from the commit stream that `featuresAt` does not read (fourth round for issue 13): what the
 * messages of a file's commits say beyond "fix" (reverts, regressions / security / crashes, co-authors, issue and
 * PR references), the shape of its fixes (focused vs spread over many files, how many people fix it), where it
 * sits (how crowded its directory is, TypeScript or not) and whether it was born in a rename — with
 * `--no-renames` a moved file starts a fresh history, and its first commit is a delete + add pair.
 * Pure: commits and the rows of `featuresAt` at the same time in, the rows with these features added out.
 */
import type { Commit, FileChange, FileRow } from './features.js';
import { isBugFix, isSourceFile } from './features.js';

const DAY = 86_400;
/** Same half-life as the recency-weighted fix count of `featuresAt`. */
const HALF_LIFE_DAYS = 180;
/** A fix touching more source files than this is a spread-out fix (a refactoring that fixes, a sweep). */
const FOCUSED_FIX_FILES = 5;

const REVERT = /^revert\b|this reverts commit/i;
const SEVERE = /\b(regression|hotfix|security|vulnerab\w*|cve-\d+|crash\w*|hang\w*|memory leak|infinite loop|breaking)\b/i;
const CO_AUTHOR = /co-authored-by:/i;

export const COMMIT_SIGNAL_FEATURES = [
  'revert_decay',
  'severe_decay',
  'log_coauthor_365',
  'log_refs_365',
  'log_dir_files',
  'rename_born',
  'log_msg_len',
  'log_fix_refs_365',
  'is_ts',
  'log_fix_authors_365',
  'log_spread_fixes_365',
  'log_focused_fixes_365',
] as const;

/** What a commit says, independent of the time the features are built at (they are built at ~10 times per cut). */
interface Said {
  revert: boolean;
  severe: boolean;
  coAuthor: boolean;
  refs: string[];
  fix: boolean;
  logLength: number;
  src: FileChange[];
  /** Source files whose lines all went (the delete half of a rename). */
  gone: FileChange[];
}
const saidCache = new WeakMap<Commit, Said>();
function said(c: Commit): Said {
  let s = saidCache.get(c);
  if (!s) {
    const msg = c.message.slice(0, 2000);
    const src = c.files.filter((f) => isSourceFile(f.path));
    s = {
      revert: REVERT.test(msg),
      severe: SEVERE.test(msg),
      coAuthor: CO_AUTHOR.test(msg),
      refs: [...new Set([...msg.slice(0, 500).matchAll(/#(\d+)/g)].map((m) => m[1]!))],
      fix: isBugFix(msg),
      logLength: Math.log1p(msg.length),
      src,
      gone: src.filter((f) => (f.added ?? 0) === 0 && (f.deleted ?? 0) > 0),
    };
    saidCache.set(c, s);
  }
  return s;
}

const baseName = (p: string): string => (p.split('/').pop() ?? p).replace(/\.[a-z]+$/i, '').toLowerCase();
const dirOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));

interface Acc {
  revert: number;
  severe: number;
  coAuthor: number;
  refs: Set<string>;
  fixRefs: Set<string>;
  logLength: number;
  commits365: number;
  renameBorn: boolean;
  fixAuthors: Set<string>;
  spreadFixes: number;
  focusedFixes: number;
}

/** The rows (from `featuresAt(commits, t)`) with COMMIT_SIGNAL_FEATURES added, from the commits before `t`. */
export function withCommitSignals(commits: readonly Commit[], t: number, rows: readonly FileRow[]): FileRow[] {
  const acc = new Map<string, Acc>();
  for (const c of commits) {
    if (c.time >= t) break;
    if (c.parents > 1) continue;
    const s = said(c);
    if (!s.src.length) continue;
    const age = t - c.time;
    const decay = Math.pow(0.5, age / (HALF_LIFE_DAYS * DAY));
    for (const f of s.src) {
      let a = acc.get(f.path);
      if (!a) {
        // A rename shows as a delete and an add in one commit: same base name, or (renamed too) about as many
        // lines deleted elsewhere as added here.
        const renameBorn = s.gone.some((g) => g.path !== f.path && (baseName(g.path) === baseName(f.path) || Math.abs((g.deleted ?? 0) - (f.added ?? 0)) <= 0.1 * Math.max(10, f.added ?? 0)));
        acc.set(f.path, (a = { revert: 0, severe: 0, coAuthor: 0, refs: new Set(), fixRefs: new Set(), logLength: 0, commits365: 0, renameBorn, fixAuthors: new Set(), spreadFixes: 0, focusedFixes: 0 }));
      }
      if (s.revert) a.revert += decay;
      if (s.severe) a.severe += decay;
      if (age > 365 * DAY) continue;
      a.commits365++;
      a.logLength += s.logLength;
      if (s.coAuthor) a.coAuthor++;
      for (const r of s.refs) a.refs.add(r);
      if (s.fix) {
        for (const r of s.refs) a.fixRefs.add(r);
        a.fixAuthors.add(c.author);
        if (s.src.length > FOCUSED_FIX_FILES) a.spreadFixes++;
        else a.focusedFixes++;
      }
    }
  }
  const dirFiles = new Map<string, number>();
  for (const r of rows) dirFiles.set(dirOf(r.path), (dirFiles.get(dirOf(r.path)) ?? 0) + 1);
  const l = Math.log1p;
  return rows.map((r) => {
    const a = acc.get(r.path);
    const x: Record<(typeof COMMIT_SIGNAL_FEATURES)[number], number> = {
      revert_decay: l(a?.revert ?? 0),
      severe_decay: l(a?.severe ?? 0),
      log_coauthor_365: l(a?.coAuthor ?? 0),
      log_refs_365: l(a?.refs.size ?? 0),
      log_dir_files: l(dirFiles.get(dirOf(r.path)) ?? 0),
      rename_born: a?.renameBorn ? 1 : 0,
      log_msg_len: a?.commits365 ? a.logLength / a.commits365 : 0,
      log_fix_refs_365: l(a?.fixRefs.size ?? 0),
      is_ts: /\.(tsx?|mts|cts)$/.test(r.path) ? 1 : 0,
      log_fix_authors_365: l(a?.fixAuthors.size ?? 0),
      log_spread_fixes_365: l(a?.spreadFixes ?? 0),
      log_focused_fixes_365: l(a?.focusedFixes ?? 0),
    };
    return { ...r, features: { ...r.features, ...x } };
  });
}
