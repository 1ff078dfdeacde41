/**
 * Code ownership for the knowledge graph: CODEOWNERS rules (GitHub syntax, last matching rule wins) and, where
 * none matches, the file's most frequent committers from the git history.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Commit } from '../../algorithms/defects/features.js';

export function parseCodeowners(text: string): { pattern: RegExp; owners: string[] }[] {
  const rules: { pattern: RegExp; owners: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [pat, ...owners] = line.split(/\s+/);
    if (!pat || !owners.length) continue;
    let re = pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '§§').replace(/\*/g, '[^/]*').replace(/§§/g, '.*').replace(/\?/g, '[^/]');
    re = pat.startsWith('/') ? `^${re.slice(1)}` : `(^|/)${re}`;
    re += pat.endsWith('/') ? '' : '($|/)';
    rules.push({ pattern: new RegExp(re), owners });
  }
  return rules;
}

export function codeownersFor(repo: string): { pattern: RegExp; owners: string[] }[] {
  for (const p of ['CODEOWNERS', '.github/CODEOWNERS', 'docs/CODEOWNERS']) {
    const f = join(repo, p);
    if (existsSync(f)) return parseCodeowners(readFileSync(f, 'utf8'));
  }
  return [];
}

export function ownersOf(file: string, rules: readonly { pattern: RegExp; owners: string[] }[], commits: readonly Commit[], top = 2): { owners: string[]; source: 'CODEOWNERS' | 'git' | 'none' } {
  let hit: string[] | undefined;
  for (const r of rules) if (r.pattern.test(file)) hit = r.owners;
  if (hit) return { owners: hit, source: 'CODEOWNERS' };
  const counts = new Map<string, number>();
  for (const c of commits) if (c.files.some((f) => f.path === file)) counts.set(c.author, (counts.get(c.author) ?? 0) + 1);
  const owners = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([a]) => a);
  return owners.length ? { owners, source: 'git' } : { owners: [], source: 'none' };
}
