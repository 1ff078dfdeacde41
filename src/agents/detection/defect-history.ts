/**
 * Commit histories: the JSON-lines format of ../shared/data/defects (optionally gzipped) or a live repository
 * through the git CLI (`git log --reverse --no-renames --numstat`, the same stream). Corrupt lines are skipped
 * with a warning that says how many; a path that is not a git repository, or a shallow clone, is said plainly.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Commit } from '../../algorithms/defects/features.js';

export class HistoryError extends Error {}

export function readHistoryFile(file: string): { commits: Commit[]; warnings: string[] } {
  if (!existsSync(file)) throw new HistoryError(`${file}: no such file`);
  let text: string;
  try {
    const buf = readFileSync(file);
    text = (file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
  } catch (e) {
    throw new HistoryError(`${file}: cannot read (${(e as Error).message})`);
  }
  const commits: Commit[] = [];
  let bad = 0;
  let firstBad = 0;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const c = JSON.parse(line) as Commit;
      if (typeof c.time !== 'number' || !Array.isArray(c.files)) throw new Error('shape');
      commits.push({ sha: String(c.sha), time: c.time, author: String(c.author ?? ''), parents: Number(c.parents ?? 1), message: String(c.message ?? ''), files: c.files });
    } catch {
      bad++;
      if (!firstBad) firstBad = i + 1;
    }
  });
  if (!commits.length) throw new HistoryError(`${file}: no readable commits`);
  commits.sort((a, b) => a.time - b.time);
  return { commits, warnings: bad ? [`${file}: skipped ${bad} corrupt line(s), the first at line ${firstBad}`] : [] };
}

export async function readGitRepo(repo: string): Promise<{ commits: Commit[]; warnings: string[] }> {
  const run = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('git', ['-C', repo, ...args], { maxBuffer: 1 << 30 }, (err, stdout, stderr) => (err ? reject(new HistoryError(stderr.trim() || err.message)) : resolve(stdout)));
    });
  try {
    await run(['rev-parse', '--git-dir']);
  } catch {
    throw new HistoryError(`${repo} is not a git repository (tswarm predict needs its history: run it in a clone, or pass --history FILE)`);
  }
  const warnings: string[] = [];
  if (existsSync(join(repo, '.git', 'shallow')) || (await run(['rev-parse', '--is-shallow-repository']).catch(() => 'false')).trim() === 'true') {
    warnings.push(`${repo} is a shallow clone: only the fetched history is used (git fetch --unshallow for all of it)`);
  }
  const SEP = '\u001e';
  const out = await run(['log', '--reverse', '--no-renames', '--numstat', `--format=${SEP}%H%x1f%at%x1f%ae%x1f%P%x1f%B%x1f`]);
  const commits: Commit[] = [];
  for (const chunk of out.split(SEP)) {
    if (!chunk.trim()) continue;
    const [sha, at, email, parents, message, rest] = chunk.split('\u001f') as [string, string, string, string, string, string];
    const files = (rest ?? '')
      .split('\n')
      .map((l) => /^(\d+|-)\t(\d+|-)\t(.+)$/.exec(l))
      .filter((m): m is RegExpExecArray => Boolean(m))
      .map((m) => ({ path: m[3]!, added: m[1] === '-' ? null : Number(m[1]), deleted: m[2] === '-' ? null : Number(m[2]) }));
    commits.push({ sha, time: Number(at), author: email, parents: parents.trim() ? parents.trim().split(' ').length : 0, message: message.slice(0, 2000), files });
  }
  if (!commits.length) throw new HistoryError(`${repo}: no commits`);
  return { commits, warnings };
}
