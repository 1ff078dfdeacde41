/**
 * The ideation sink: the report's items and production-risk signal written to a shared memory namespace that
 * ideation agents (the seed's qe-risk-assessor and qe-quality-criteria-recommender, or any named target) read.
 * The namespace is private to the queen; `share` grants the targets, so the audit trail shows every delivery.
 */
import type { MemoryStore, SharedRecord } from '../../store/store.js';
import type { FeedbackReport, RiskSignal, FeedbackItem } from '../report.js';

export const IDEATION_NAMESPACE = 'ideation/production-feedback';
export const IDEATION_TARGETS = ['qe-risk-assessor', 'qe-quality-criteria-recommender'];
const QUEEN = 'qe-queen-coordinator';

export interface IdeationRecord {
  type: 'risk' | 'item' | 'summary';
  cycleId: string;
  risk?: RiskSignal;
  item?: Pick<FeedbackItem, 'id' | 'title' | 'kind' | 'severity' | 'confidence' | 'score' | 'basis' | 'subject' | 'recommendations' | 'evidence'> & { category: string };
  summary?: FeedbackReport['summary'];
}

export async function deliverToIdeation(store: MemoryStore, report: FeedbackReport, targets: string[] = IDEATION_TARGETS): Promise<number> {
  await store.shared.defineNamespace({ namespace: IDEATION_NAMESPACE, owner: QUEEN, visibility: 'private', writers: [QUEEN] });
  const records: { key: string; value: IdeationRecord }[] = [];
  records.push({ key: `summary/${report.cycleId}`, value: { type: 'summary', cycleId: report.cycleId, summary: report.summary } });
  for (const r of report.risk) records.push({ key: `risk/${r.category}`, value: { type: 'risk', cycleId: report.cycleId, risk: r } });
  for (const [category, items] of Object.entries(report.sections)) {
    for (const i of items) {
      records.push({
        key: `item/${i.id}`,
        value: { type: 'item', cycleId: report.cycleId, item: { id: i.id, title: i.title, kind: i.kind, severity: i.severity, confidence: i.confidence, score: i.score, basis: i.basis, subject: i.subject, recommendations: i.recommendations, evidence: i.evidence, category } },
      });
    }
  }
  for (const r of records) await store.shared.write(IDEATION_NAMESPACE, r.key, r.value, QUEEN, { cycleId: report.cycleId, source: 'qe-queen-coordinator' });
  return store.shared.share(QUEEN, targets, IDEATION_NAMESPACE, records);
}

/** The ideation side: what a risk assessor reads (latest value per key). */
export async function readIdeationFeed(store: MemoryStore, reader: string): Promise<{ risk: RiskSignal[]; items: NonNullable<IdeationRecord['item']>[]; records: SharedRecord[] }> {
  const records = await store.shared.read(IDEATION_NAMESPACE, reader);
  const latest = new Map<string, SharedRecord>();
  for (const r of records.sort((a, b) => a.atUs - b.atUs)) latest.set(r.key, r);
  const values = [...latest.values()].map((r) => r.value as IdeationRecord);
  return {
    risk: values.filter((v) => v.type === 'risk' && v.risk).map((v) => v.risk!).sort((a, b) => b.weight - a.weight),
    items: values.filter((v) => v.type === 'item' && v.item).map((v) => v.item!).sort((a, b) => b.score - a.score),
    records,
  };
}
