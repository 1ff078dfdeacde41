/**
 * qe-defect-predictor: ranks source files by defect risk. The history model (logistic regression trained on the
 * repository's own past: features at earlier cuts, labels = files fixed in the following 180 days) gives a
 * calibrated prior from churn, fixes, authors and size; production errors then raise it — each distinct error
 * fingerprint whose in-app stack frames point into a file is independent evidence of a defect there (combined as
 * a noisy-OR), and fingerprints new since the last release count double. Every file comes with its reasons.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Agent, AgentContext, AgentTask, Finding } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import { isBugFix, type Commit, type FileRow } from '../../algorithms/defects/features.js';
import { explain, predict } from '../../algorithms/defects/model.js';
import type { ErrorEvent } from '../../signals/model.js';
import { fitHistoryModel, historyRowsAt, trainingWindows } from './defect-eval.js';
import { readGitRepo, readHistoryFile } from './defect-history.js';
import { mapFrame, RepoIndex, repoFilesFrom } from './code-mapping.js';
import { DEPENDENCY_ERROR } from '../../algorithms/rca/traces.js';

export interface FileRisk {
  file: string;
  probability: number;
  historyProbability: number;
  loc: number;
  services: string[];
  fingerprints: string[];
  newFingerprints: string[];
  lines: number[];
  errors: number;
  reasons: string[];
  fixCommits: string[];
  /**
   * What ranked the file: the model trained on the repository's own history, or — when the history is too short to
   * hold one training window and its label window (about a year) — Rahman's time-weighted fix score, then churn.
   */
  basis: 'model' | 'fix-score';
}

/** "1 bug fixes" → "1 bug fix": the sentences are written for counts above one. */
const singular = (t: string): string => t.replace(/(^|[^\d.])1 (bug fix|fix|author|commit|line|issue|revert|co-author|file|day|week)(es|s)\b/g, (_m, pre: string, noun: string) => `${pre}1 ${noun}`);

/** The features the fallback ranking explains itself with, in this order. */
const FALLBACK_REASONS = ['fix_score', 'log_fixes_365', 'log_churn_90', 'log_authors'] as const;

export const FEATURE_TEXT: Record<string, (v: number, r: FileRow) => string> = {
  log_fixes_365: (v) => `${Math.round(Math.expm1(v))} bug fixes in the last year`,
  log_fixes_total: (v) => `${Math.round(Math.expm1(v))} bug fixes in its history`,
  fix_score: (v) => `time-weighted fix score ${v.toFixed(2)}`,
  log_authors: (v) => `${Math.round(Math.expm1(v))} authors`,
  log_churn_90: (v) => `${Math.round(Math.expm1(v))} lines changed in 90 days`,
  log_churn_365: (v) => `${Math.round(Math.expm1(v))} lines changed in a year`,
  log_commits_90: (v) => `${Math.round(Math.expm1(v))} commits in 90 days`,
  log_commits_365: (v) => `${Math.round(Math.expm1(v))} commits in a year`,
  log_commits_total: (v) => `${Math.round(Math.expm1(v))} commits in all`,
  log_loc: (_v, r) => `${r.loc} lines`,
  minor_author_share: (v) => `${(100 * v).toFixed(0)}% minor contributors`,
  fix_ratio: (v) => `${(100 * v).toFixed(0)}% of its commits are fixes`,
  coupled_fix_score: (v) => `changes together with often-fixed files (${v.toFixed(2)})`,
  log_age_days: (v) => `${Math.round(Math.expm1(v))} days old`,
  log_days_since_change: (v) => `last changed ${Math.round(Math.expm1(v))} days ago`,
  log_fixes_180: (v) => `${Math.round(Math.expm1(v))} bug fixes in 180 days`,
  log_commits_180: (v) => `${Math.round(Math.expm1(v))} commits in 180 days`,
  fix_decay: (v) => `recent bug fixes (half-life-weighted ${Math.expm1(v).toFixed(1)})`,
  spread_fix_decay: (v) => `recent focused bug fixes (weighted ${Math.expm1(v).toFixed(1)})`,
  commit_decay: (v) => `recent activity (half-life-weighted ${Math.expm1(v).toFixed(1)} commits)`,
  log_authors_365: (v) => `${Math.round(Math.expm1(v))} authors in the last year`,
  owner_share: (v) => `top author made ${(100 * v).toFixed(0)}% of its commits`,
  log_author_experience: (v) => `authors' experience (${Math.round(Math.expm1(v))} earlier commits on average)`,
  relative_churn_365: (v) => `${Math.expm1(v).toFixed(1)} lines changed per line in a year`,
  change_entropy: (v) => `changed in scattered change periods (entropy ${v.toFixed(2)})`,
  dir_fix_share: (v) => `${(100 * v).toFixed(0)}% of its directory's files fixed in the last year`,
  dir_fix_decay: (v) => `its directory is often fixed (${Math.expm1(v).toFixed(2)} recent fixes per file)`,
  coupled_fix_decay: (v) => `changes together with recently fixed files (${Math.expm1(v).toFixed(2)})`,
  log_depth: (v) => (Math.round(Math.expm1(v)) === 0 ? 'at the top level of the repository' : `${Math.round(Math.expm1(v))} directories deep`),
  log_days_since_fix: (v) => `last fixed ${Math.round(Math.expm1(v))} days ago`,
  log_added_365: (v) => `${Math.round(Math.expm1(v))} lines added in a year`,
  log_feats_365: (v) => `${Math.round(Math.expm1(v))} feature commits in a year`,
  log_test_commits_365: (v) => `its tests changed in ${Math.round(Math.expm1(v))} commits in a year`,
  log_fix_mentions_365: (v) => `named in ${Math.round(Math.expm1(v))} bug-fix messages in a year`,
  fix_decay_30: (v) => `fixed in the last weeks (30-day-half-life-weighted ${Math.expm1(v).toFixed(1)})`,
  fix_decay_90: (v) => `fixed in the last months (90-day-half-life-weighted ${Math.expm1(v).toFixed(1)})`,
  fix_decay_365: (v) => `fixed over the last years (1-year-half-life-weighted ${Math.expm1(v).toFixed(1)})`,
  fix_decay_730: (v) => `long fix history (2-year-half-life-weighted ${Math.expm1(v).toFixed(1)})`,
  log_churn_total: (v) => `${Math.round(Math.expm1(v))} lines changed in its history`,
  log_added_total: (v) => `${Math.round(Math.expm1(v))} lines added in its history`,
  log_unfixed_added: (v) => `${Math.round(Math.expm1(v))} lines added since its last fix`,
  log_induced_lines: (v) => `code added shortly before fixes (weighted ${Math.round(Math.expm1(v))} lines)`,
  induced_share: (v) => `${(100 * v).toFixed(0)}% of its recent commits were followed by a fix within 90 days`,
  log_file_experience: (v) => `its authors' experience with it (${Math.expm1(v).toFixed(1)} earlier commits on it on average)`,
  newcomer_share_365: (v) => `${(100 * v).toFixed(0)}% of the year's commits by newcomers`,
  deleted_share_365: (v) => `${(100 * v).toFixed(0)}% of the year's changed lines were deletions`,
  log_growth_365: (v) => `grew ${Math.expm1(v) >= 0 ? '+' : ''}${(100 * Math.expm1(v)).toFixed(0)}% in a year`,
  fixed_windows: (v) => `fixed in ${v} of the last four half-years`,
  token_fix_rate: (v) => `files with similar names are often fixed (${(100 * v).toFixed(0)}%)`,
  token_fix_max: (v) => `a file-name word whose files are often fixed (${(100 * v).toFixed(0)}%)`,
  log_mentions_365: (v) => `named in ${Math.round(Math.expm1(v))} commit messages in a year`,
  log_peak_loc_ratio: (v) => `${(100 * (1 - 1 / Math.exp(v))).toFixed(0)}% smaller than at its largest`,
  burst_30: (v) => `${(100 * v).toFixed(0)}% of the year's commits in one month`,
  log_test_loc: (v) => `${Math.round(Math.expm1(v))} lines of tests`,
  log_test_commits_total: (v) => `its tests changed in ${Math.round(Math.expm1(v))} commits`,
  log_doc_commits_total: (v) => `its docs changed in ${Math.round(Math.expm1(v))} commits`,
  log_doc_commits_365: (v) => `its docs changed in ${Math.round(Math.expm1(v))} commits in a year`,
  log_mentions_total: (v) => `named in ${Math.round(Math.expm1(v))} commit messages`,
  log_test_loc_ratio: (v) => `${Math.exp(v).toFixed(1)} lines of tests per line`,
  revert_decay: (v) => `reverted recently (half-life-weighted ${Math.expm1(v).toFixed(1)} reverts)`,
  severe_decay: (v) => `recent commits about regressions, crashes or security (weighted ${Math.expm1(v).toFixed(1)})`,
  log_coauthor_365: (v) => `${Math.round(Math.expm1(v))} co-authored commits in a year`,
  log_refs_365: (v) => `${Math.round(Math.expm1(v))} issues and pull requests referenced by its commits in a year`,
  log_dir_files: (v) => `${Math.round(Math.expm1(v))} source files in its directory`,
  rename_born: () => 'created by a rename or move (its earlier history is under another name)',
  log_msg_len: (v) => `long commit messages (${Math.round(Math.expm1(v))} characters on average)`,
  log_fix_refs_365: (v) => `${Math.round(Math.expm1(v))} issues referenced by its bug fixes in a year`,
  is_ts: (v) => (v ? 'TypeScript' : 'JavaScript'),
  log_fix_authors_365: (v) => `fixed by ${Math.round(Math.expm1(v))} people in a year`,
  log_spread_fixes_365: (v) => `${Math.round(Math.expm1(v))} bug fixes across many files in a year`,
  log_focused_fixes_365: (v) => `${Math.round(Math.expm1(v))} focused bug fixes (≤ 5 files) in a year`,
};

export async function predictRisk(opts: { commits: Commit[]; repoRoot: string; target?: string; errors?: ErrorEvent[]; sinceVersion?: string; nowS?: number }): Promise<FileRisk[]> {
  const { commits } = opts;
  const now = opts.nowS ?? commits[commits.length - 1]!.time + 1;
  const index = new RepoIndex(repoFilesFrom(commits));
  // Production evidence per file.
  const prod = new Map<string, { errors: number; fps: Set<string>; newFps: Set<string>; lines: Set<number>; services: Set<string> }>();
  const releases = new Map<string, Set<string>>();
  for (const e of opts.errors ?? []) {
    // A caller failing because a dependency failed is not a defect in the caller's file.
    if (DEPENDENCY_ERROR.test(`${e.type} ${e.message}`)) continue;
    const inApp = e.frames.filter((f) => f.inApp && f.file).slice(0, 3);
    for (const f of inApp) {
      const m = await mapFrame(opts.repoRoot, index, f);
      if (!m) continue;
      let p = prod.get(m.file);
      if (!p) prod.set(m.file, (p = { errors: 0, fps: new Set(), newFps: new Set(), lines: new Set(), services: new Set() }));
      p.errors++;
      p.fps.add(e.fingerprint);
      if (m.line) p.lines.add(m.line);
      p.services.add(e.service);
      if (e.release) {
        const s = releases.get(e.fingerprint) ?? new Set();
        s.add(e.release);
        releases.set(e.fingerprint, s);
      }
      break; // the innermost in-app frame is where the error is
    }
  }
  if (opts.sinceVersion) {
    for (const p of prod.values()) for (const fp of p.fps) if (!releases.get(fp) || [...releases.get(fp)!].every((r) => r !== opts.sinceVersion) || releases.get(fp)!.size === 1) p.newFps.add(fp);
  }
  const model = fitHistoryModel(trainingWindows(commits, now));
  const rows = historyRowsAt(commits, now).filter((r) => !opts.target || r.path.startsWith(opts.target.replace(/^\.\//, '')));
  const fixCommits = new Map<string, string[]>();
  // Files a fix touched in the last 180 days: the base rate the fallback ranking (no model) reports.
  const recentFixed = new Set<string>();
  for (const c of commits) {
    if (c.time < now - 365 * 86400 || !isBugFix(c.message)) continue;
    if (c.time >= now - 180 * 86400) for (const f of c.files) recentFixed.add(f.path);
    for (const f of c.files) {
      const l = fixCommits.get(f.path) ?? [];
      if (l.length < 5) l.push(c.sha.slice(0, 10));
      fixCommits.set(f.path, l);
    }
  }
  // Without a model the probability is the base rate of the recent past, the same for every file: the fallback
  // ranks, it does not calibrate.
  const baseRate = rows.length ? Math.min(0.5, Math.max(0.01, rows.filter((r) => recentFixed.has(r.path)).length / rows.length)) : 0.05;
  const heuristic = new Map<string, [number, number]>();
  const out: FileRisk[] = rows.map((r) => {
    const ph = model ? predict(model, r) : baseRate;
    if (!model) heuristic.set(r.path, [r.features.fix_score ?? 0, r.features.log_churn_90 ?? 0]);
    const p = prod.get(r.path);
    const evidence = p ? p.fps.size + p.newFps.size : 0;
    const probability = 1 - (1 - ph) * Math.pow(0.5, evidence);
    const reasons: string[] = [];
    if (p) reasons.push(`${p.fps.size} production error fingerprint${p.fps.size > 1 ? 's' : ''} (${p.errors} errors)${p.newFps.size ? `, ${p.newFps.size} new since ${opts.sinceVersion}` : ''} at line${p.lines.size > 1 ? 's' : ''} ${[...p.lines].slice(0, 3).join(', ')}`);
    if (model) for (const x of explain(model, r, 3)) reasons.push(singular(FEATURE_TEXT[x.feature]?.(x.value, r) ?? `${x.feature} ${x.value.toFixed(2)}`));
    else for (const f of FALLBACK_REASONS) if ((r.features[f] ?? 0) > 0 && reasons.length < 3) reasons.push(singular(FEATURE_TEXT[f]!(r.features[f]!, r)));
    return {
      file: r.path,
      probability,
      historyProbability: ph,
      loc: r.loc,
      services: p ? [...p.services] : [],
      fingerprints: p ? [...p.fps] : [],
      newFingerprints: p ? [...p.newFps] : [],
      lines: p ? [...p.lines].sort((a, b) => a - b) : [],
      errors: p?.errors ?? 0,
      reasons,
      fixCommits: fixCommits.get(r.path) ?? [],
      basis: model ? 'model' : 'fix-score',
    };
  });
  const h = (f: string, k: 0 | 1): number => heuristic.get(f)?.[k] ?? 0;
  return out.sort((a, b) => b.probability - a.probability || h(b.file, 0) - h(a.file, 0) || h(b.file, 1) - h(a.file, 1) || a.file.localeCompare(b.file));
}

export class DefectPredictor implements Agent {
  readonly id = AGENT_IDS.defectPredictor;
  readonly layer = 'detection' as const;
  readonly description = 'Ranks source files by defect risk from production errors and git history, with reasons';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const repoRoot = resolve(String(task.params.repo ?? '.'));
    const history = task.params.history as string | undefined;
    const { commits, warnings } = history ? readHistoryFile(history) : existsSync(repoRoot) ? await readGitRepo(repoRoot) : { commits: [], warnings: [`${repoRoot} does not exist`] };
    for (const w of warnings) ctx.log.warn(w);
    if (!commits.length) throw new Error(warnings.join('; ') || 'no history');
    ctx.progress({ done: 1, total: 3, message: `${commits.length} commits` });
    const errors = await ctx.store.telemetry.queryErrors({ window: task.window, limit: 100_000 });
    const risks = await predictRisk({ commits, repoRoot, target: task.params.target as string | undefined, errors, sinceVersion: task.params.since as string | undefined });
    ctx.progress({ done: 2, total: 3, message: `${risks.length} files scored` });
    const top = Number(task.params.top ?? 10);
    const now = ctx.clock.nowUs();
    await ctx.store.patterns.putMany('defect-pattern', risks.slice(0, 200).map((r) => ({ key: r.file, value: r, ...(r.services[0] ? { service: r.services[0] } : {}) })));
    // Files with production evidence always surface; the rest by rank.
    // Without production evidence a file is reported only when its history alone makes it risky.
    const minHistoryRisk = Number(task.params.minRisk ?? 0.3);
    const picked = [...risks.filter((r) => r.fingerprints.length), ...risks.filter((r) => !r.fingerprints.length && r.probability >= minHistoryRisk)].slice(0, Math.max(top, risks.filter((r) => r.fingerprints.length).length));
    ctx.progress({ done: 3, total: 3 });
    return picked.map((r, i) => ({
      id: `defect-risk-${r.file}`,
      agentId: this.id,
      kind: 'defect-risk',
      category: 'defect-patterns' as const,
      title: `${r.file}${r.lines[0] ? `:${r.lines[0]}` : ''} defect risk ${(100 * r.probability).toFixed(0)}%${r.services.length ? ` (errors in ${r.services.join(', ')})` : ''}`,
      summary: r.reasons.join('; '),
      severity: r.probability >= 0.7 ? 'high' : r.probability >= 0.4 ? 'medium' : 'low',
      confidence: Math.min(0.95, 0.5 + r.probability / 2),
      subject: { file: r.file, ...(r.services[0] ? { service: r.services[0] } : {}) },
      evidence: {
        code: r.lines.length ? r.lines.slice(0, 3).map((line) => ({ file: r.file, line, ...(r.services[0] ? { service: r.services[0] } : {}) })) : [{ file: r.file }],
        fingerprints: r.fingerprints.slice(0, 5),
        commits: r.fixCommits,
        chain: r.reasons,
      },
      basis: r.fingerprints.length ? ('measured' as const) : ('inferred' as const),
      createdUs: now,
      data: { rank: i + 1, probability: r.probability, historyProbability: r.historyProbability, loc: r.loc, errors: r.errors, rankedBy: r.basis },
    }));
  }
}

export const defectPredictor = new DefectPredictor();
