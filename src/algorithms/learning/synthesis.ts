/**
 * Knowledge synthesis: turn each cycle's findings into durable learnings ("checkout has no timeout on payment:
 * confirmed by chaos experiment E12 and incident INC-7"), deduplicated by what they are about, with their sources,
 * and decayed when they stop being observed.
 *
 * A learning's strength combines its observations as a noisy-OR of the findings' confidences (two independent
 * agents seeing the same weakness make it more certain than either alone), is multiplied down by rejections,
 * and halves every `halfLifeUs` without a fresh observation. Below `retireBelow` it is retired, not deleted:
 * what used to be true is itself worth knowing.
 */
import type { Finding } from '../../fleet/contracts.js';

export interface Learning {
  key: string;
  /** What was learned, in the words of its latest finding. */
  headline: string;
  /** The headline with its sources, for people. */
  statement: string;
  category: Finding['category'];
  /** Class of finding, e.g. `resilience-gap`, `root-cause`, `latency-regression`. */
  topic: string;
  subject: Record<string, string>;
  strength: number;
  observations: number;
  confirmations: number;
  rejections: number;
  agents: string[];
  /** Finding ids, experiment ids, incident/case ids, newest last (bounded). */
  sources: string[];
  firstUs: number;
  lastUs: number;
  retired: boolean;
}

export interface SynthesisOptions {
  halfLifeUs?: number;
  retireBelow?: number;
  maxSources?: number;
}

const DAY_US = 86_400_000_000;

export const LEARNABLE_KINDS = new Set(['resilience-gap', 'resilience-confirmed', 'root-cause', 'regression', 'slo-burn', 'capacity', 'incident-match', 'defect-risk', 'threshold-failed', 'anomaly']);

/** What a finding is about, independent of which agent or cycle produced it. */
export function learningKey(f: Pick<Finding, 'category' | 'kind' | 'subject'>): { key: string; topic: string; subject: Record<string, string> } {
  const subject: Record<string, string> = {};
  for (const k of ['service', 'dependency', 'operation', 'file', 'metric'] as const) {
    const v = f.subject[k];
    if (v) subject[k] = v;
  }
  const topic = f.kind;
  const key = [f.category, topic, ...Object.entries(subject).map(([k, v]) => `${k}=${v}`)].join('|');
  return { key, topic, subject };
}

function sourcesOf(f: Finding): string[] {
  return [f.id, ...(f.evidence.experiments ?? []).map((e) => `experiment:${e}`), ...(f.evidence.loadRuns ?? []).map((r) => `load:${r}`)];
}

function describeSources(l: Learning): string {
  const exps = l.sources.filter((s) => s.startsWith('experiment:')).map((s) => s.slice(11));
  const parts: string[] = [];
  if (exps.length) parts.push(`chaos experiment${exps.length > 1 ? 's' : ''} ${exps.slice(-3).join(', ')}`);
  const agents = l.agents.map((a) => a.replace(/^qe-/, ''));
  parts.push(`${l.observations} observation${l.observations > 1 ? 's' : ''} by ${agents.join(', ')}`);
  if (l.confirmations) parts.push(`${l.confirmations} confirmed`);
  if (l.rejections) parts.push(`${l.rejections} rejected`);
  return parts.join('; ');
}

function decayed(strength: number, elapsedUs: number, halfLifeUs: number): number {
  return elapsedUs <= 0 ? strength : strength * Math.pow(0.5, elapsedUs / halfLifeUs);
}

/**
 * Folds a cycle's findings and verdicts into the learnings known so far. Pure: returns the new set; the caller
 * persists it. Verdicts name finding ids; they move the learning that finding fed.
 */
export function synthesise(
  previous: readonly Learning[],
  findings: readonly Finding[],
  verdicts: readonly { findingId: string; verdict: 'confirmed' | 'rejected' }[],
  nowUs: number,
  opts: SynthesisOptions = {},
): Learning[] {
  const halfLifeUs = opts.halfLifeUs ?? 7 * DAY_US;
  const retireBelow = opts.retireBelow ?? 0.05;
  const maxSources = opts.maxSources ?? 20;
  const byKey = new Map<string, Learning>();
  for (const l of previous) byKey.set(l.key, { ...l, agents: [...l.agents], sources: [...l.sources], subject: { ...l.subject } });
  // Decay everything first; fresh observations below restore strength.
  for (const l of byKey.values()) {
    l.strength = decayed(l.strength, nowUs - l.lastUs, halfLifeUs);
  }
  const findingToKey = new Map<string, string>();
  for (const l of byKey.values()) for (const s of l.sources) findingToKey.set(s, l.key);
  const seenThisCycle = new Set<string>();
  for (const f of findings) {
    // Durable learnings are about causes and the system's behaviour (gaps, root causes, regressions, capacity);
    // inventory facts and individual log templates are kept by the agents that own them.
    if (!LEARNABLE_KINDS.has(f.kind)) continue;
    const { key, topic, subject } = learningKey(f);
    findingToKey.set(f.id, key);
    let l = byKey.get(key);
    if (!l) {
      l = { key, headline: f.title, statement: f.title, category: f.category, topic, subject, strength: 0, observations: 0, confirmations: 0, rejections: 0, agents: [], sources: [], firstUs: nowUs, lastUs: nowUs, retired: false };
      byKey.set(key, l);
    }
    // Evidence is distinct findings: the same finding reported again (another cycle over the same incident) is
    // not a new observation.
    const dedupe = `${key}\u0000${f.id}`;
    if (seenThisCycle.has(dedupe) || l.sources.includes(f.id)) {
      seenThisCycle.add(dedupe);
      l.lastUs = nowUs;
      continue;
    }
    seenThisCycle.add(dedupe);
    l.strength = 1 - (1 - l.strength) * (1 - Math.max(0, Math.min(1, f.confidence)));
    l.observations++;
    l.lastUs = nowUs;
    l.retired = false;
    if (!l.agents.includes(f.agentId)) l.agents.push(f.agentId);
    for (const s of sourcesOf(f)) if (!l.sources.includes(s)) l.sources.push(s);
    if (l.sources.length > maxSources) l.sources.splice(0, l.sources.length - maxSources);
    l.headline = f.title;
  }
  for (const v of verdicts) {
    const key = findingToKey.get(v.findingId);
    const l = key ? byKey.get(key) : undefined;
    if (!l) continue;
    if (v.verdict === 'confirmed') {
      l.confirmations++;
      l.strength = 1 - (1 - l.strength) * 0.3;
    } else {
      l.rejections++;
      l.strength *= 0.3;
    }
  }
  for (const l of byKey.values()) {
    l.retired = l.strength < retireBelow;
    l.statement = `${l.headline} (${describeSources(l)})`;
  }
  return [...byKey.values()].sort((a, b) => b.strength - a.strength || a.key.localeCompare(b.key));
}
