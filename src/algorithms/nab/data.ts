/** Reading NAB's corpus (data CSVs, combined windows) and its reference score files. */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { NabFile } from './scorer.js';

/** NAB timestamps are UTC wall times like `2014-07-01 00:00:00` (windows add `.000000`). */
export function nabTime(s: string): number {
  return Date.parse(s.trim().replace(' ', 'T').replace(/\.\d+$/, '') + 'Z');
}

export interface NabSeries extends NabFile {
  values: number[];
}

export function loadCorpus(root: string): NabSeries[] {
  const windowsFile = join(root, 'labels', 'combined_windows.json');
  if (!existsSync(windowsFile)) throw new Error(`${windowsFile} not found: is ${root} the NAB folder?`);
  const windows = JSON.parse(readFileSync(windowsFile, 'utf8')) as Record<string, [string, string][]>;
  const out: NabSeries[] = [];
  for (const name of Object.keys(windows).sort()) {
    const file = join(root, 'data', name);
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    const times: number[] = [];
    const values: number[] = [];
    for (const l of lines) {
      const i = l.indexOf(',');
      times.push(nabTime(l.slice(0, i)));
      values.push(Number(l.slice(i + 1)));
    }
    out.push({ name, times, values, windows: windows[name]!.map(([a, b]) => [nabTime(a), nabTime(b)] as [number, number]) });
  }
  return out;
}

/** A reference detector's scores (`reference/detector-scores/<name>.csv.gz`: file,anomaly_score). */
export function loadReferenceScores(root: string, detector: string): Map<string, number[]> {
  const text = gunzipSync(readFileSync(join(root, 'reference', 'detector-scores', `${detector}.csv.gz`))).toString('utf8');
  const out = new Map<string, number[]>();
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const i = line.lastIndexOf(',');
    const f = line.slice(0, i);
    let l = out.get(f);
    if (!l) out.set(f, (l = []));
    l.push(Number(line.slice(i + 1)));
  }
  return out;
}

export function referenceDetectors(root: string): string[] {
  return readdirSync(join(root, 'reference', 'detector-scores'))
    .filter((f) => f.endsWith('.csv.gz'))
    .map((f) => f.replace(/\.csv\.gz$/, ''))
    .sort();
}
