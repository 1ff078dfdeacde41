/** Renders a feedback report as Markdown: a summary, the four sections with ranked items and evidence, the risk signal. */
import type { DeclaredEvidence, Evidence } from '../fleet/contracts.js';
import { provenancePhrase, settingPhrase } from '../signals/change-event.js';
import { CATEGORIES, CATEGORY_TITLES, type FeedbackItem, type FeedbackReport } from './report.js';

const fmtTime = (us?: number): string => (us === undefined ? '?' : new Date(us / 1000).toISOString().replace('.000Z', 'Z'));
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Who declared a change (or the log line that announced it), and the link to it; nothing for one seen on the spans. */
function declaredMd(d: DeclaredEvidence | undefined): string {
  if (!d) return '';
  return ` (${esc(provenancePhrase(d))})${d.url ? ` <${d.url}>` : ''}`;
}

function evidenceLines(e: Evidence): string[] {
  const out: string[] = [];
  for (const step of e.chain ?? []) out.push(`  - ${step}`);
  for (const m of e.metrics ?? []) {
    const vs = m.baseline !== undefined && m.observed !== undefined ? `: ${fmtNum(m.baseline)} → ${fmtNum(m.observed)}${m.unit ? ' ' + m.unit : ''}` : '';
    out.push(`  - metric \`${m.series}\`${m.service ? ` (${m.service})` : ''} ${fmtTime(m.window.fromUs)} – ${fmtTime(m.window.toUs)}${vs}`);
  }
  for (const t of e.logTemplates ?? []) {
    out.push(`  - log template \`${t.templateId}\` ×${t.count ?? '?'}: \`${t.template}\``);
    for (const s of (t.samples ?? []).slice(0, 2)) out.push(`    - sample: \`${s.slice(0, 200)}\``);
  }
  for (const c of e.code ?? []) out.push(`  - code \`${c.file}${c.line !== undefined ? ':' + c.line : ''}\`${c.function ? ` in \`${c.function}\`` : ''}`);
  for (const d of e.deploys ?? []) out.push(`  - deploy ${d.service}@${d.version} at ${fmtTime(d.atUs)}${declaredMd(d.declared)}`);
  for (const c of e.configChanges ?? []) out.push(`  - ${c.kind === 'flag' ? 'flag flip' : 'config change'} ${c.service} ${settingPhrase(c.key, c.value, c.previous)} at ${fmtTime(c.atUs)}${declaredMd(c.declared)}`);
  if (e.fingerprints?.length) out.push(`  - error fingerprints: ${e.fingerprints.slice(0, 5).map((f) => `\`${f}\``).join(', ')}`);
  if (e.traceIds?.length) out.push(`  - traces: ${e.traceIds.slice(0, 5).map((t) => `\`${t}\``).join(', ')}`);
  if (e.experiments?.length) out.push(`  - chaos experiments: ${e.experiments.join(', ')}`);
  if (e.loadRuns?.length) out.push(`  - load runs: ${e.loadRuns.join(', ')}`);
  if (e.commits?.length) out.push(`  - commits: ${e.commits.slice(0, 5).map((c) => `\`${c.slice(0, 10)}\``).join(', ')}`);
  return out;
}

const fmtNum = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

function itemMarkdown(i: FeedbackItem): string[] {
  const head = `${i.rank}. **${esc(i.title)}** — ${i.severity}, confidence ${i.confidence.toFixed(2)}, ${i.basis}${i.isNew ? ', new' : ''}`;
  const lines = [head];
  if (i.summary) lines.push(`   ${esc(i.summary)}`);
  lines.push(`   - score ${i.score.toFixed(3)} = ${i.rationale}`);
  lines.push(`   - from ${i.agents.join(', ')}; finding ids ${i.findingIds.map((f) => `\`${f}\``).join(', ')}`);
  const ev = evidenceLines(i.evidence);
  if (ev.length) lines.push('   - evidence:', ...ev.map((l) => '   ' + l));
  for (const r of i.recommendations) lines.push(`   - recommendation: ${r}`);
  return lines;
}

export function renderMarkdown(r: FeedbackReport): string {
  const out: string[] = [];
  out.push(`# Production feedback — cycle ${r.cycleId}`, '');
  out.push(`Generated ${r.generatedAt}${r.window ? `, window ${fmtTime(r.window.fromUs)} – ${fmtTime(r.window.toUs)}` : ''}.`, '');
  out.push('| output | items |', '|---|---|');
  for (const c of CATEGORIES) out.push(`| ${CATEGORY_TITLES[c]} | ${r.summary.byCategory[c]} |`);
  out.push('');
  if (r.summary.top) out.push(`**Top item:** ${esc(r.summary.top.title)} (${CATEGORY_TITLES[r.summary.top.category]})`, '');
  for (const c of CATEGORIES) {
    out.push(`## ${CATEGORY_TITLES[c]}`, '');
    const items = r.sections[c];
    if (!items.length) out.push('_Nothing this cycle._');
    for (const i of items) out.push(...itemMarkdown(i), '');
    out.push('');
  }
  out.push('## Production risk by quality category', '');
  if (!r.risk.length) out.push('_No risk signal this cycle._');
  else {
    out.push('| quality category | weight | level | top evidence |', '|---|---|---|---|');
    for (const s of r.risk) out.push(`| ${s.category} | ${s.weight.toFixed(2)} | ${s.level} | ${esc(s.evidence.slice(0, 3).map((e) => e.title).join('; '))} |`);
  }
  out.push('', '## Agents this cycle', '', '| agent | status | findings | note |', '|---|---|---|---|');
  for (const a of r.agents) out.push(`| ${a.agentId} | ${a.status} | ${a.findings} | ${esc(a.reason ?? '')} |`);
  return out.join('\n') + '\n';
}
