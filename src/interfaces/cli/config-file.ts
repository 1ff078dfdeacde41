/**
 * The config file (`tswarm.config.yaml`, `.yml` or `.json` in the working directory, or `--config <file>`): where to
 * pull telemetry from (`sources:`) and the SLOs to judge it against (`slos:`, config/slo-config.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { CliError } from './util.js';
import { parseSlos, SLO_CONFIG_KIND, SloConfigError } from '../../config/slo-config.js';
import type { Slo } from '../../algorithms/perf/slo.js';
import type { MemoryStore } from '../../store/store.js';

export const CONFIG_FILES = ['tswarm.config.yaml', 'tswarm.config.yml', 'tswarm.config.json'];

export interface SwarmConfig {
  /** The file read; absent when there is none. */
  file?: string;
  sources: string[];
  slos: Slo[];
}

const KEYS = new Set(['sources', 'slos']);

/** The config file's contents, checked; an explicit `--config` that is missing or any bad content is exit 2. */
export function loadConfig(explicit?: string): SwarmConfig {
  const file = explicit ?? CONFIG_FILES.find((f) => existsSync(f));
  if (!file) return { sources: [], slos: [] };
  if (!existsSync(file)) throw new CliError(`--config ${file}: no such file`, 2);
  let cfg: unknown;
  try {
    cfg = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: not valid YAML/JSON (${(e as Error).message})`, 2);
  }
  if (cfg === null || cfg === undefined) return { file, sources: [], slos: [] };
  if (typeof cfg !== 'object' || Array.isArray(cfg)) throw new CliError(`${file}: expected a mapping with sources: and/or slos:`, 2);
  const c = cfg as { sources?: unknown; slos?: unknown };
  const unknown = Object.keys(c).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new CliError(`${file}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...KEYS].join(', ')})`, 2);
  const raw = c.sources;
  const sources = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? Object.values(raw) : raw === undefined ? [] : undefined;
  if (!sources || !sources.every((x): x is string => typeof x === 'string')) throw new CliError(`${file}: sources must be a list of URLs (or {metrics, traces, logs})`, 2);
  try {
    return { file, sources, slos: parseSlos(c.slos, `${file}: slos`) };
  } catch (e) {
    if (e instanceof SloConfigError) throw new CliError(e.message, 2);
    throw e;
  }
}

/**
 * The file's SLOs become the memory's, for every cycle that reads this memory (serve's, MCP's, workers'). A file
 * without `slos:` clears them (it is the whole truth); no file at all leaves what is stored.
 */
export async function storeSlos(store: MemoryStore, cfg: SwarmConfig): Promise<void> {
  if (!cfg.file) return;
  await store.patterns.put(SLO_CONFIG_KIND, 'current', { slos: cfg.slos, file: cfg.file, loadedAtUs: Date.now() * 1000 });
}

/** What runServer stores at start: the same rule (a file replaces the stored SLOs, no file leaves them). */
export const serverSlos = (cfg: SwarmConfig): { slos: Slo[]; file: string } | undefined => (cfg.file ? { slos: cfg.slos, file: cfg.file } : undefined);
