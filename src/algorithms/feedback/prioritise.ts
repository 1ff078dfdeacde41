/**
 * The queen's ranking over all findings of a cycle: score = severity × confidence × impact × novelty,
 * after deduplication (same finding id) and merging of related findings (same category and subject, windows
 * that overlap or touch), so ideation gets one item per problem with every piece of evidence attached.
 *
 * Impact comes from the knowledge graph (blast radius of the subject service: share of user-facing traffic that
 * reaches it); novelty from earlier cycles (a finding seen before and not worse counts less, so the same item
 * does not crowd out new ones every cycle).
 */
import { SEVERITY_WEIGHT, type Finding, type FeedbackCategory, type Severity } from '../../fleet/contracts.js';

export interface PriorFinding {
  id: string;
  severity: Severity;
  confidence: number;
  cycles: number;
}

export interface RankedItem {
  /** Id of the lead finding (the strongest of the merged group). */
  id: string;
  category: FeedbackCategory;
  title: string;
  severity: Severity;
  confidence: number;
  impact: number;
  novelty: number;
  score: number;
  basis: Finding['basis'];
  lead: Finding;
  /** All findings merged into this item (lead first). */
  members: Finding[];
  agents: string[];
  /** Why this rank, in words. */
  rationale: string;
}

export interface PrioritiseOptions {
  /** Impact weight per service in [0,1]; unknown services get `defaultImpact`. */
  impact?: (subjectService: string | undefined) => number | undefined;
  defaultImpact?: number;
  prior?: Map<string, PriorFinding>;
  /**
   * Whether two services are of one system (their traffic can reach one another: queen-coordinator.ts
   * `serviceSystems`, from the call graph); undefined when the graph does not know one of them. A root cause
   * explains only the symptoms of its own system: two unrelated systems sharing one memory can fail at once.
   */
  related?: (a: string, b: string) => boolean | undefined;
}

const SEV_ORDER: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
/** Finding kinds that describe effects (what users and callers see) rather than causes. */
const SYMPTOM_KINDS = new Set(['anomaly', 'regression', 'slo-burn', 'budget-spent', 'new-error', 'log-burst', 'log-drop', 'new-template', 'rare-template', 'error-cooccurrence', 'threshold-failed']);

/**
 * Findings about the longer term, not about the incident of the moment: a spent error budget asks for reliability
 * work over weeks. Merged into the cycle's anomaly item on the same service it would be one more line in an
 * incident's evidence, and gone from the report once the incident is; it stays an item of its own.
 */
export const STANDING_KINDS: ReadonlySet<string> = new Set(['budget-spent']);

function subjectKey(f: Finding): string {
  const s = f.subject;
  return [f.category, s.service ?? '', s.file ?? '', s.dependency ?? '', s.operation ?? '', STANDING_KINDS.has(f.kind) ? f.kind : ''].join('\u0000');
}

function windowsTouch(a: Finding, b: Finding): boolean {
  if (!a.window || !b.window) return true;
  const slack = 5 * 60 * 1_000_000; // five minutes: symptoms of one incident arrive a little apart
  return a.window.fromUs <= b.window.toUs + slack && b.window.fromUs <= a.window.toUs + slack;
}

function novelty(f: Finding, prior?: Map<string, PriorFinding>): number {
  const p = prior?.get(f.id);
  if (!p) return 1;
  const worse = SEV_ORDER.indexOf(f.severity) > SEV_ORDER.indexOf(p.severity) || f.confidence > p.confidence + 0.1;
  if (worse) return 0.9;
  // Seen before and not worse: decays with the number of cycles it has already been reported in.
  return Math.max(0.2, 0.6 / Math.sqrt(p.cycles));
}

export function prioritise(findings: Finding[], opts: PrioritiseOptions = {}): RankedItem[] {
  // 1. Deduplicate by id, keeping the most severe/confident copy.
  const byId = new Map<string, Finding>();
  for (const f of findings) {
    const cur = byId.get(f.id);
    if (!cur || SEVERITY_WEIGHT[f.severity] * f.confidence > SEVERITY_WEIGHT[cur.severity] * cur.confidence) byId.set(f.id, f);
  }
  // 2. Merge related findings: same category + subject, windows touching.
  const groups: Finding[][] = [];
  const bySubject = new Map<string, Finding[][]>();
  for (const f of byId.values()) {
    const key = subjectKey(f);
    const candidates = bySubject.get(key) ?? [];
    const g = candidates.find((grp) => grp.some((m) => windowsTouch(m, f)));
    if (g) g.push(f);
    else {
      const ng = [f];
      candidates.push(ng);
      groups.push(ng);
      bySubject.set(key, candidates);
    }
  }
  const impactOf = (svc: string | undefined): number => {
    const v = opts.impact?.(svc);
    return typeof v === 'number' && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : (opts.defaultImpact ?? 0.5);
  };
  // 3. Score.
  const items: RankedItem[] = groups.map((members) => {
    members.sort((a, b) => SEVERITY_WEIGHT[b.severity] * b.confidence - SEVERITY_WEIGHT[a.severity] * a.confidence);
    const lead = members[0]!;
    // Independent corroboration raises confidence: 1 - Π(1 - c_i), capped below 1.
    const confidence = Math.min(0.99, 1 - members.reduce((p, m) => p * (1 - Math.min(0.99, m.confidence)), 1));
    const severity = members.reduce<Severity>((s, m) => (SEV_ORDER.indexOf(m.severity) > SEV_ORDER.indexOf(s) ? m.severity : s), lead.severity);
    // Impact floor keeps a critical finding on an unmapped service from vanishing.
    const impact = 0.25 + 0.75 * impactOf(lead.subject.service);
    const nov = Math.max(...members.map((m) => novelty(m, opts.prior)));
    const score = SEVERITY_WEIGHT[severity] * confidence * impact * nov;
    const agents = [...new Set(members.map((m) => m.agentId))];
    const basis: Finding['basis'] = members.some((m) => m.basis === 'measured') ? 'measured' : 'inferred';
    const rationale =
      `severity ${severity} (${SEVERITY_WEIGHT[severity]}) × confidence ${confidence.toFixed(2)}` +
      `${members.length > 1 ? ` (${members.length} findings from ${agents.join(', ')})` : ''}` +
      ` × impact ${impact.toFixed(2)} × novelty ${nov.toFixed(2)}`;
    return { id: lead.id, category: lead.category, title: lead.title, severity, confidence, impact, novelty: nov, score, basis, lead, members, agents, rationale };
  });
  // 4. Causality: a root cause explains the symptoms it caused on other services of its system in the same
  //    incident. The root cause inherits the largest blast radius among them and ranks above; the symptoms are kept
  //    but demoted. By system and not by call path: a failing payment also shows as a traffic drop on the shipping
  //    call that checkout no longer reaches, a sibling of it in the graph.
  const causes = items.filter((i) => i.lead.kind === 'root-cause' && i.lead.subject.service);
  for (const cause of causes) {
    const culprit = cause.lead.subject.service!;
    const explained = items.filter((i) => i !== cause && SYMPTOM_KINDS.has(i.lead.kind) && i.lead.subject.service !== culprit && windowsTouch(i.lead, cause.lead) && (!i.lead.subject.service || opts.related?.(i.lead.subject.service, culprit) !== false));
    if (!explained.length) continue;
    const inherited = Math.max(cause.impact, ...explained.map((e) => e.impact));
    cause.score = (cause.score / cause.impact) * inherited * 1.5;
    cause.impact = inherited;
    cause.rationale += `; explains ${explained.length} symptom(s) elsewhere (×1.5, blast radius ${inherited.toFixed(2)})`;
    for (const e of explained) {
      e.score *= 0.6;
      e.rationale += `; a symptom of the root cause in ${culprit} (×0.6)`;
    }
  }
  return items.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
