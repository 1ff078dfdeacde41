/**
 * OUTPUT: the feedback report — the seed's four outputs (defect patterns, performance insights, resilience gaps,
 * learning updates), each item ranked by the queen, with its evidence and basis, plus a production-risk signal
 * per quality category that an ideation swarm (risk assessor, quality-criteria recommender) consumes directly.
 * The JSON shape is published as schemas/feedback-report.schema.json.
 */
import type { Evidence, FeedbackCategory, FindingSubject, Severity, TimeWindow } from '../fleet/contracts.js';
import type { RankedItem } from '../algorithms/feedback/prioritise.js';

export const REPORT_SCHEMA_VERSION = '1.0';
export const CATEGORIES: FeedbackCategory[] = ['defect-patterns', 'performance-insights', 'resilience-gaps', 'learning-updates'];
export const CATEGORY_TITLES: Record<FeedbackCategory, string> = {
  'defect-patterns': 'Defect patterns',
  'performance-insights': 'Performance insights',
  'resilience-gaps': 'Resilience gaps',
  'learning-updates': 'Learning updates',
};

export interface FeedbackItem {
  id: string;
  rank: number;
  kind: string;
  title: string;
  summary?: string;
  severity: Severity;
  confidence: number;
  score: number;
  basis: 'measured' | 'inferred';
  subject: FindingSubject;
  window?: TimeWindow;
  agents: string[];
  /** Ids of every finding merged into this item. */
  findingIds: string[];
  evidence: Evidence;
  rationale: string;
  recommendations: string[];
  /** True when this item was not in any earlier cycle's report. */
  isNew: boolean;
}

/** ISO/IEC 25010 quality characteristics the risk signal is expressed in. */
export type QualityCategory = 'reliability' | 'performance-efficiency' | 'functional-correctness' | 'maintainability';

export interface RiskSignal {
  category: QualityCategory;
  /** In [0,1]: 1 - Π(1 - score_i) over the items that bear on it. */
  weight: number;
  level: 'low' | 'medium' | 'high';
  evidence: { itemId: string; title: string; score: number }[];
  recommendations: string[];
}

export interface AgentRunNote {
  agentId: string;
  status: 'ok' | 'failed' | 'skipped' | 'timeout';
  reason?: string;
  findings: number;
  durationMs?: number;
}

export interface FeedbackReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  cycleId: string;
  generatedAt: string;
  window?: TimeWindow;
  summary: { items: number; byCategory: Record<FeedbackCategory, number>; top?: { id: string; title: string; category: FeedbackCategory } };
  sections: Record<FeedbackCategory, FeedbackItem[]>;
  risk: RiskSignal[];
  agents: AgentRunNote[];
}

const KIND_RECOMMENDATIONS: Record<string, string[]> = {
  'root-cause': ['Add a regression test reproducing the failure path named in the evidence chain', 'Add an alert on the culprit indicator'],
  'new-error': ['Triage the new error fingerprint; add a test for the failing input', 'Treat unhandled exceptions at this frame as a release blocker'],
  'log-burst': ['Check whether the bursting log template marks a failure mode worth a test or an alert'],
  'defect-risk': ['Raise review depth and test coverage for the high-risk files before the next change to them'],
  anomaly: ['Confirm the anomaly against the baseline; add a performance test around the affected operation'],
  regression: ['Bisect the change around the named deploy; add a performance budget to CI for this operation'],
  'slo-burn': ['Freeze risky changes for the service until the error budget recovers', 'Review the SLO and its alerting windows'],
  'budget-spent': ['Put reliability work ahead of new features for the service until its error budget recovers', 'Find which incidents spent it (the window\'s SLO burns and root causes) and test against their causes'],
  'resilience-gap': ['Add the missing mechanism (timeout, retry with backoff and jitter, circuit breaker, fallback) and re-run the experiment'],
  capacity: ['Plan capacity below the measured knee; load-test before traffic growth'],
};

function qualityCategoriesOf(item: FeedbackItem, category: FeedbackCategory): QualityCategory[] {
  switch (category) {
    case 'defect-patterns':
      return item.kind === 'defect-risk' ? ['maintainability', 'functional-correctness'] : ['functional-correctness', 'reliability'];
    case 'performance-insights':
      return item.kind === 'slo-burn' ? ['reliability', 'performance-efficiency'] : item.kind === 'budget-spent' ? ['reliability'] : ['performance-efficiency'];
    case 'resilience-gaps':
      return ['reliability'];
    case 'learning-updates':
      return ['maintainability'];
  }
}

export function buildReport(args: {
  cycleId: string;
  ranked: RankedItem[];
  previouslyReported?: Set<string>;
  agents?: AgentRunNote[];
  window?: TimeWindow;
  now?: Date;
}): FeedbackReport {
  const sections = Object.fromEntries(CATEGORIES.map((c) => [c, [] as FeedbackItem[]])) as Record<FeedbackCategory, FeedbackItem[]>;
  for (const r of args.ranked) {
    const list = sections[r.category];
    const evidence = mergeEvidence(r.members.map((m) => m.evidence));
    const item: FeedbackItem = {
      id: r.id,
      rank: list.length + 1,
      kind: r.lead.kind,
      title: r.title,
      summary: r.lead.summary,
      severity: r.severity,
      confidence: round(r.confidence),
      score: round(r.score),
      basis: r.basis,
      subject: r.lead.subject,
      window: r.lead.window,
      agents: r.agents,
      findingIds: r.members.map((m) => m.id),
      evidence,
      rationale: r.rationale,
      recommendations: KIND_RECOMMENDATIONS[r.lead.kind] ?? [],
      isNew: !(args.previouslyReported?.has(r.id) ?? false),
    };
    list.push(item);
  }
  const risk = riskSignals(sections);
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, sections[c].length])) as Record<FeedbackCategory, number>;
  const top = args.ranked[0];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    cycleId: args.cycleId,
    generatedAt: (args.now ?? new Date()).toISOString(),
    window: args.window,
    summary: { items: args.ranked.length, byCategory, top: top ? { id: top.id, title: top.title, category: top.category } : undefined },
    sections,
    risk,
    agents: args.agents ?? [],
  };
}

function riskSignals(sections: Record<FeedbackCategory, FeedbackItem[]>): RiskSignal[] {
  const acc = new Map<QualityCategory, RiskSignal>();
  for (const category of CATEGORIES) {
    for (const item of sections[category]) {
      for (const q of qualityCategoriesOf(item, category)) {
        const cur = acc.get(q) ?? { category: q, weight: 0, level: 'low', evidence: [], recommendations: [] };
        cur.weight = 1 - (1 - cur.weight) * (1 - Math.min(0.99, item.score));
        cur.evidence.push({ itemId: item.id, title: item.title, score: item.score });
        for (const rec of item.recommendations) if (!cur.recommendations.includes(rec)) cur.recommendations.push(rec);
        acc.set(q, cur);
      }
    }
  }
  return [...acc.values()]
    .map((r) => ({ ...r, weight: round(r.weight), level: (r.weight >= 0.5 ? 'high' : r.weight >= 0.2 ? 'medium' : 'low') as RiskSignal['level'], evidence: r.evidence.slice(0, 10) }))
    .sort((a, b) => b.weight - a.weight);
}

function mergeEvidence(list: Evidence[]): Evidence {
  const out: Evidence = {};
  for (const e of list) {
    for (const [k, v] of Object.entries(e) as [keyof Evidence, unknown][]) {
      if (!Array.isArray(v)) continue;
      const cur = (out[k] as unknown[] | undefined) ?? [];
      for (const x of v) if (!cur.some((y) => JSON.stringify(y) === JSON.stringify(x))) cur.push(x);
      (out as Record<string, unknown[]>)[k] = cur;
    }
  }
  return out;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
