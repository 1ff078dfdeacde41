/**
 * Stack frames → repository files and lines. Frame paths come from containers (`/app/src/x.ts`, `/usr/src/app/…`),
 * URLs (`file://`, `webpack://app/./src/x.ts`), or build output (`dist/x.js`, with a source map next to it). We
 * match by the longest path suffix against the repository's files, and follow `.map` files (source-map) when a
 * frame points into compiled output that the repository builds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SourceMapConsumer, type RawSourceMap } from 'source-map';
import type { StackFrame } from '../../signals/model.js';

export function normaliseFramePath(p: string): string {
  return p
    .replace(/^file:\/\//, '')
    .replace(/^webpack:\/\/[^/]*\/(\.\/)?/, '')
    .replace(/^webpack-internal:\/\/\/(\.\/)?/, '')
    .replace(/\?.*$/, '')
    .replace(/\\/g, '/');
}

/** Index of repository files by every path suffix, for longest-suffix lookup. */
export class RepoIndex {
  private readonly bySuffix = new Map<string, string[]>();

  constructor(readonly files: readonly string[]) {
    for (const f of files) {
      const parts = f.split('/');
      for (let i = 0; i < parts.length; i++) {
        const suffix = parts.slice(i).join('/');
        const l = this.bySuffix.get(suffix);
        if (l) l.push(f);
        else this.bySuffix.set(suffix, [f]);
      }
    }
  }

  /** The repository file a frame path names, by the longest unambiguous suffix. */
  lookup(framePath: string): string | undefined {
    const parts = normaliseFramePath(framePath).split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const hits = this.bySuffix.get(parts.slice(i).join('/'));
      if (hits?.length === 1) return hits[0];
      if (hits && hits.length > 1) return hits.sort((a, b) => a.length - b.length)[0];
    }
    return undefined;
  }
}

const mapCache = new Map<string, SourceMapConsumer | null>();

/** Original position through a source map next to a compiled file of the repository, if there is one. */
export async function throughSourceMap(repoRoot: string, file: string, line: number | undefined, column: number | undefined): Promise<{ file: string; line?: number } | undefined> {
  if (!line || !/\.(c|m)?js$/.test(file)) return undefined;
  const abs = resolve(repoRoot, file);
  const mapPath = `${abs}.map`;
  let consumer = mapCache.get(mapPath);
  if (consumer === undefined) {
    consumer = existsSync(mapPath) ? await new SourceMapConsumer(JSON.parse(readFileSync(mapPath, 'utf8')) as RawSourceMap) : null;
    mapCache.set(mapPath, consumer);
  }
  if (!consumer) return undefined;
  const pos = consumer.originalPositionFor({ line, column: Math.max(0, (column ?? 1) - 1) });
  if (!pos.source) return undefined;
  const original = resolve(dirname(abs), pos.source);
  const rel = original.startsWith(resolve(repoRoot)) ? original.slice(resolve(repoRoot).length + 1) : pos.source;
  return { file: rel.replace(/\\/g, '/'), ...(pos.line ? { line: pos.line } : {}) };
}

export interface MappedFrame {
  file: string;
  line?: number;
  function?: string;
}

export async function mapFrame(repoRoot: string, index: RepoIndex, f: StackFrame): Promise<MappedFrame | undefined> {
  if (!f.file) return undefined;
  const hit = index.lookup(f.file);
  if (!hit) return undefined;
  const viaMap = await throughSourceMap(repoRoot, hit, f.line, f.column);
  if (viaMap && index.lookup(viaMap.file)) return { file: index.lookup(viaMap.file)!, ...(viaMap.line ? { line: viaMap.line } : {}), ...(f.function ? { function: f.function } : {}) };
  return { file: hit, ...(f.line ? { line: f.line } : {}), ...(f.function ? { function: f.function } : {}) };
}

export function repoFilesFrom(commits: readonly { files: { path: string; added: number | null; deleted: number | null }[] }[]): string[] {
  const loc = new Map<string, number>();
  for (const c of commits) for (const f of c.files) loc.set(f.path, Math.max(0, (loc.get(f.path) ?? 0) + (f.added ?? 0) - (f.deleted ?? 0)));
  return [...loc.entries()].filter(([, n]) => n > 0).map(([p]) => p);
}

export function joinRepo(root: string, file: string): string {
  return join(root, file);
}
