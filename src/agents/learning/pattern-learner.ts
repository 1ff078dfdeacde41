/**
 * qe-pattern-learner: mines log templates online, tracks their rates, groups errors into issues, flags new /
 * rare / bursting / dropping patterns and new error fingerprints, and stores incident signatures that later
 * incidents are matched against (the seed's "defect patterns").
 *
 * Memory (pattern store):
 *   log-template / `miner-state`   the miner's whole state (templates, aliases, id counter): ids stable across runs
 *   log-template / <template id>   one record per template (text, lines in the last window, service)
 *   error-group / <fingerprint>    Sentry-like issue: first/last seen, counts per release, trace ids
 *   incident-signature / <id>      templates, fingerprints, metrics, services, root cause, verdict
 */
import { spanLabel } from '../../algorithms/time/duration.js';
import { groupBy } from '../../util/group-by.js';
import { createHash } from 'node:crypto';
import { AGENT_IDS, type Agent, type AgentContext, type AgentTask, type Finding, type Severity, type TimeWindow } from '../../fleet/contracts.js';
import { isErrorSeverity, type LogRecord } from '../../signals/model.js';
import { announcedChange, announcedChanges, namesSetting, ROUTINE_REPEATS } from '../../algorithms/perf/announced-changes.js';
import { settingPhrase } from '../../signals/change-event.js';
import { TemplateMiner, type MinerState } from '../../algorithms/logs/miner.js';
import { ErrorGrouper, type ErrorGroup } from '../../algorithms/errors/grouping.js';
import { detectChanges, errorCoOccurrence, type PatternEvent, type PatternChange } from '../../algorithms/patterns/tracker.js';
import { matchIncident, type IncidentSignature } from '../../algorithms/patterns/signatures.js';
import { announcedEvent, changeEvidence, recordAnnounced, recordAnnouncedChanges } from '../declared-changes.js';
import { describeDisturbances, knownDisturbances, quietRangesUs, touches } from '../own-disturbances.js';

const MINER_KEY = 'miner-state';
const MAX_LOGS = 200_000;
const MAX_FINDINGS_PER_KIND = 20;

interface TemplateRecord {
  template: string;
  windowCount: number;
  samples: string[];
}

function windowOf(task: AgentTask, ctx: AgentContext): TimeWindow {
  const w = task.window ?? (task.params.window as TimeWindow | undefined);
  if (w && Number.isFinite(w.fromUs) && Number.isFinite(w.toUs) && w.toUs > w.fromUs) return w;
  if (w) throw new Error(`invalid window ${JSON.stringify(w)}: need finite fromUs < toUs`);
  const now = ctx.clock.nowUs();
  return { fromUs: now - 5 * 60_000_000, toUs: now };
}

/** Share of the logged time that serves as the baseline when there is too little history before the window. */
const SELF_BASELINE_SHARE = 0.4;
/** History shorter than this share of the window is too little to judge "new" against. */
const MIN_HISTORY_SHARE = 0.5;

function stableId(...parts: string[]): string {
  return `${AGENT_IDS.patternLearner}:${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16)}`;
}

export class PatternLearnerAgent implements Agent {
  readonly id = AGENT_IDS.patternLearner;
  readonly layer = 'learning' as const;
  readonly description = 'mines log templates, groups errors, flags new/bursting patterns, matches incident signatures';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const window = windowOf(task, ctx);
    const span = window.toUs - window.fromUs;
    const baselineSpans = Number(task.params.baselineSpans ?? 6);
    if (!(baselineSpans >= 0 && baselineSpans <= 1000)) throw new Error(`baselineSpans must be in [0, 1000], got ${task.params.baselineSpans}`);
    const baselineFromUs = window.fromUs - baselineSpans * span;
    const now = ctx.clock.nowUs();
    const { store } = ctx;

    // 1. Templates: restore the miner, mine the baseline + window.
    const saved = await store.patterns.get<MinerState>('log-template', MINER_KEY);
    const miner = saved ? TemplateMiner.fromJSON(saved.value) : new TemplateMiner();
    const logs = await store.telemetry.queryLogs({ window: { fromUs: baselineFromUs, toUs: window.toUs }, limit: MAX_LOGS });
    logs.sort((a, b) => a.timeUs - b.timeUs);
    const raw: { id: string; e: PatternEvent; log: LogRecord }[] = [];
    for (const l of logs) {
      if (ctx.signal.aborted) throw new Error('aborted');
      const r = miner.add(l.body);
      raw.push({ id: r.id, log: l, e: { templateId: r.id, service: l.service, timeUs: l.timeUs, traceId: l.traceId, error: isErrorSeverity(l.severityNumber) } });
    }
    ctx.progress({ done: logs.length, message: `mined ${logs.length} log lines into ${miner.size} templates` });
    // Templates may have merged while mining: map every early id to the one it became.
    const events: PatternEvent[] = [];
    const samples = new Map<string, string[]>();
    /** Each template's first line in the window: a new template may be a service announcing a change. */
    const firstLine = new Map<string, LogRecord>();
    for (const r of raw) {
      const id = miner.resolve(r.id) ?? r.id;
      events.push({ ...r.e, templateId: id });
      if (r.e.timeUs >= window.fromUs) {
        const s = samples.get(id) ?? [];
        if (s.length < 3) s.push(r.log.body.slice(0, 300));
        samples.set(id, s);
        if (!firstLine.has(id)) firstLine.set(id, r.log);
      }
    }

    // The swarm's own load tests and chaos experiments, and declared maintenance: their lines count neither as a
    // burst nor as the baseline, and their errors neither as new nor as seen (below).
    const ownAll = await knownDisturbances(ctx, { fromUs: baselineFromUs, toUs: window.toUs });
    // Each service's own: a maintenance window of the database silences the database and its callers, not the rest.
    const quietOf = new Map<string, { fromUs: number; toUs: number }[]>();
    const isQuiet = (t: number, service: string): boolean => {
      let quiet = quietOf.get(service);
      if (!quiet) quietOf.set(service, (quiet = quietRangesUs(ownAll, service)));
      return quiet.some((r) => t >= r.fromUs && t < r.toUs);
    };

    // 2. Errors: group into issues; new fingerprints are those not in memory before this run. An error seen only
    // while a known disturbance ran (a database down for its declared migration, a fault the swarm injected) is
    // expected there: it is not reported as new, not kept as known either, so it is new if it comes back after.
    const errors = await store.telemetry.queryErrors({ window: { fromUs: baselineFromUs, toUs: window.toUs }, limit: MAX_LOGS });
    const known = new Map((await store.patterns.list<ErrorGroup>('error-group', { limit: 10_000 })).map((r) => [r.key, r.value]));
    const grouper = ErrorGrouper.fromJSON([...known.values()]);
    const seenBefore = new Set(known.keys());
    const activeInWindow = new Map<string, number>();
    // Each finding's window is when its lines or errors were seen, not the whole analysis window: the queen merges
    // findings of one service whose windows touch, and a morning's burst is not the evening's incident.
    const errorSpan = new Map<string, { fromUs: number; toUs: number }>();
    const loud = new Set<string>();
    for (const e of errors.sort((a, b) => a.timeUs - b.timeUs)) {
      const { group } = grouper.add(e);
      if (isQuiet(e.timeUs, e.service)) continue;
      loud.add(group.fingerprint);
      if (e.timeUs < window.fromUs) seenBefore.add(group.fingerprint);
      else {
        activeInWindow.set(group.fingerprint, (activeInWindow.get(group.fingerprint) ?? 0) + 1);
        // Sorted by time: the first event in the window opens the span, each later one extends it.
        const span = errorSpan.get(group.fingerprint);
        if (span) span.toUs = e.timeUs + 1;
        else errorSpan.set(group.fingerprint, { fromUs: e.timeUs, toUs: e.timeUs + 1 });
      }
    }

    // 3. Trace errors: join error traces with log lines on trace id.
    const errorSpans = await store.telemetry.querySpans({ window, errorsOnly: true, limit: MAX_LOGS });
    const errorTraces = new Set(errorSpans.map((s) => s.traceId));
    for (const e of errors) if (e.traceId && e.timeUs >= window.fromUs) errorTraces.add(e.traceId);
    const inWindow = events.filter((e) => e.timeUs >= window.fromUs);
    const cooc = new Map(errorCoOccurrence(inWindow, errorTraces).map((c) => [c.templateId, c]));

    // 4. Findings.
    const findings: Finding[] = [];
    // With (almost) no log history before the window (a fresh memory: the first cycle after the swarm started
    // listening), every template would be "new" at once, the normal traffic's included. The first part of what was
    // logged then serves as the baseline: what was already logged there is normal, what starts later is new.
    const firstUs = events[0]?.timeUs;
    const historyUs = firstUs === undefined ? 0 : window.fromUs - firstUs;
    const selfBaseline = baselineSpans > 0 && firstUs !== undefined && historyUs < MIN_HISTORY_SHARE * span && window.toUs - firstUs > 10e6;
    const judged = selfBaseline ? { fromUs: Math.max(window.fromUs, firstUs! + SELF_BASELINE_SHARE * (window.toUs - firstUs!)), toUs: window.toUs } : window;
    // With less history than the baseline asks for, the rate is the history's: counted over the stretch before
    // the window with no line at all, a steady template read as a burst of (baseline span / history)×.
    const shortHistory = !selfBaseline && firstUs !== undefined && firstUs > baselineFromUs && firstUs < window.fromUs;
    const baselineLabel = selfBaseline
      ? `baseline: the first ${Math.round(SELF_BASELINE_SHARE * 100)}% of the logs seen (too little history before the window)`
      : shortHistory
        ? `baseline: the ${spanLabel(historyUs / 1e6)} before the window, all the history there is (${baselineSpans} window(s) asked)`
        : `baseline ${baselineSpans} window(s) before`;
    const baseFrom = selfBaseline || shortHistory ? firstUs! : baselineFromUs;
    const own = ownAll.filter((k) => k.toS * 1e6 >= baseFrom);
    const tracker = task.params.tracker as object | undefined;
    // A disturbance of some services only: each service's lines are judged against its own quiet time.
    const changes = own.every((k) => !k.services)
      ? detectChanges(events, judged, baseFrom, tracker, quietRangesUs(own))
      : [...groupBy(events, (e) => e.service)].flatMap(([svc, evs]) => detectChanges(evs, judged, baseFrom, tracker, quietRangesUs(own, svc))).sort((x, y) => x.p - y.p || y.observed - x.observed);
    const leftOut = (service: string): string[] => {
      const of = own.filter((k) => touches(k, service));
      return of.length ? [`left out: lines during ${describeDisturbances(of)}`] : [];
    };
    const tplEvidence = (c: PatternChange) => {
      const t = miner.get(c.templateId);
      return { templateId: c.templateId, template: t?.template ?? '', samples: samples.get(c.templateId) ?? [], count: c.observed, service: c.service };
    };
    const bursts = changes.filter((c) => c.kind === 'burst' || c.kind === 'drop').slice(0, MAX_FINDINGS_PER_KIND);
    for (const c of bursts) {
      const co = cooc.get(c.templateId);
      const traceIds = [...new Set([...(co?.traceIds ?? []), ...c.traceIds])].slice(0, 10);
      const onErrors = co?.onErrorTraces ?? 0;
      const sev: Severity = c.kind === 'burst' && (c.errorLines > 0 || onErrors > 0) ? 'high' : 'medium';
      findings.push({
        id: stableId('log-burst', c.kind, c.service, c.templateId),
        agentId: this.id,
        kind: 'log-burst',
        category: 'defect-patterns',
        title: `${c.kind === 'burst' ? 'Burst' : 'Drop'} of log template ${c.templateId} on ${c.service}: ${c.observed} lines vs ${c.expected.toFixed(1)} expected`,
        summary: `"${tplEvidence(c).template}" (Poisson p=${c.p.toExponential(2)}; ${c.errorLines} at error severity; ${onErrors} on traces with errors)`,
        severity: sev,
        confidence: Math.min(0.99, 1 - c.p),
        subject: { service: c.service, template: c.templateId },
        evidence: {
          logTemplates: [tplEvidence(c)],
          traceIds,
          chain: [
            // Each line names its template: merged into an item with others, the lines must still say whose they are.
            `${baselineLabel}: ${c.baselineTotal} lines of template ${c.templateId}`,
            `${c.templateId} in the window: ${c.observed} lines (expected ${c.expected.toFixed(2)}), one-sided Poisson p=${c.p.toExponential(2)}`,
            ...(c.kind === 'drop' && c.firstUs > window.fromUs ? [`the rate fell after its line at ${new Date(c.firstUs / 1000).toISOString()}`] : []),
            ...(onErrors > 0 ? [`${onErrors} of its lines are on traces that had an error`] : []),
            ...leftOut(c.service),
          ],
        },
        basis: 'measured',
        window: { fromUs: c.firstUs, toUs: c.kind === 'drop' ? window.toUs : c.lastUs + 1 },
        createdUs: now,
        data: { change: c.kind, observed: c.observed, expected: c.expected, p: c.p, onErrorTraces: onErrors, direction: c.kind, firstUs: c.firstUs },
      });
    }
    const fresh = changes.filter((c) => c.kind === 'new').slice(0, MAX_FINDINGS_PER_KIND);
    for (const c of fresh) {
      const co = cooc.get(c.templateId);
      // A new line that announces a config change or flag flip (announced-changes.ts) is told as that change: the
      // performance tester and the root-cause analyzer tie effects to it, and the report reads it as a cause.
      const first = firstLine.get(c.templateId);
      const announced = first && c.observed < ROUTINE_REPEATS ? announcedChange(first) : undefined;
      findings.push({
        id: stableId('new-template', c.service, c.templateId),
        agentId: this.id,
        kind: 'new-template',
        category: 'defect-patterns',
        title: announced
          ? `${announced.kind === 'flag' ? 'Flag flip' : 'Config change'} announced in ${c.service}'s log: ${settingPhrase(announced.key, announced.value, announced.previous)}${announced.declared?.by ? ` by ${announced.declared.by}` : ''}`
          : `New log template on ${c.service} (${c.observed} lines, none before): ${tplEvidence(c).template.slice(0, 120)}`,
        severity: c.errorLines > 0 || (co?.onErrorTraces ?? 0) > 0 ? 'medium' : 'low',
        confidence: 0.9,
        subject: { service: c.service, template: c.templateId },
        evidence: {
          logTemplates: [tplEvidence(c)],
          traceIds: [...new Set([...(co?.traceIds ?? []), ...c.traceIds])].slice(0, 10),
          chain: [`${baselineLabel}: no line of template ${c.templateId}`, `${c.templateId} in the window: ${c.observed} lines from ${new Date(c.firstUs / 1000).toISOString()}, ${c.errorLines} at error severity, ${co?.onErrorTraces ?? 0} on traces with errors`],
          ...changeEvidence(announced),
        },
        basis: 'measured',
        window: { fromUs: c.firstUs, toUs: c.lastUs + 1 },
        createdUs: now,
        data: { observed: c.observed, errorLines: c.errorLines, onErrorTraces: co?.onErrorTraces ?? 0, firstUs: c.firstUs },
      });
    }
    const groups = grouper.list();
    const newGroups = groups.filter((g) => !seenBefore.has(g.fingerprint) && activeInWindow.has(g.fingerprint)).slice(0, MAX_FINDINGS_PER_KIND);
    for (const g of newGroups) {
      const services = Object.keys(g.services);
      findings.push({
        id: stableId('new-error', g.fingerprint),
        agentId: this.id,
        kind: 'new-error',
        category: 'defect-patterns',
        title: `New error ${g.type}: ${g.messageTemplate.slice(0, 120)} (${g.count}x on ${services.join(', ')})`,
        severity: g.count >= 10 ? 'high' : 'medium',
        confidence: 0.95,
        subject: { service: services[0], fingerprint: g.fingerprint },
        evidence: {
          fingerprints: [g.fingerprint],
          traceIds: g.traceIds.slice(0, 10),
          code: g.frames.map((f) => ({ file: f.replace(/^.*\(|\)$/g, ''), function: f.replace(/ \(.*$/, ''), service: services[0] })),
          chain: [`error ${g.fingerprint} first seen ${new Date(g.firstSeenUs / 1000).toISOString()}, ${g.count} events, releases ${JSON.stringify(g.releases)}`],
        },
        basis: 'measured',
        window: errorSpan.get(g.fingerprint) ?? window,
        createdUs: now,
        data: { group: g, firstUs: Math.max(g.firstSeenUs, window.fromUs) },
      });
    }

    // 5. Incident signature of this window, matched against the past ones.
    let signatureMatch: Finding | undefined;
    // Anomalous templates: bursts, and new templates logged at error severity or on error traces.
    const anomalous = [...bursts.filter((c) => c.kind === 'burst'), ...fresh.filter((c) => c.errorLines > 0 || (cooc.get(c.templateId)?.onErrorTraces ?? 0) > 0)];
    const activeGroups = groups.filter((g) => activeInWindow.has(g.fingerprint));
    if (anomalous.length + activeGroups.length > 0) {
      const sig: IncidentSignature = {
        id: String(task.params.incidentId ?? `${window.fromUs}-${window.toUs}`),
        atUs: window.toUs,
        templates: Object.fromEntries(anomalous.map((c) => [c.templateId, c.observed])),
        fingerprints: activeGroups.map((g) => g.fingerprint),
        metrics: [...new Set(ctx.upstream.flatMap((f) => (f.evidence.metrics ?? []).map((m) => `${m.service ?? ''}:${m.series}`)))],
        services: [...new Set([...anomalous.map((c) => c.service), ...activeGroups.flatMap((g) => Object.keys(g.services))])],
      };
      const rca = ctx.upstream.find((f) => f.kind === 'root-cause');
      if (rca) sig.rootCause = rca.subject.service ?? rca.title;
      // An incident is not its own precedent: a signature from an overlapping window is this incident, seen before.
      const past = (await store.patterns.list<IncidentSignature>('incident-signature', { limit: 5000 })).map((r) => r.value).filter((p) => p.id !== sig.id && p.atUs < window.fromUs);
      const matches = matchIncident(sig, past, { k: 3, minScore: Number(task.params.minMatchScore ?? 0.5) });
      if (matches.length > 0) {
        const best = matches[0];
        signatureMatch = {
          id: stableId('incident-match', sig.id, best.signature.id),
          agentId: this.id,
          kind: 'incident-match',
          category: 'defect-patterns',
          title: `Incident resembles ${best.signature.id} (similarity ${best.score.toFixed(2)})${best.signature.rootCause ? `; root cause then: ${best.signature.rootCause}` : ''}`,
          severity: 'medium',
          confidence: best.score,
          subject: { service: sig.services[0], incident: sig.id },
          evidence: {
            fingerprints: sig.fingerprints.filter((f) => best.signature.fingerprints.includes(f)),
            logTemplates: Object.keys(sig.templates)
              .filter((t) => t in best.signature.templates)
              .map((t) => ({ templateId: t, template: miner.get(t)?.template ?? '' })),
          },
          basis: 'inferred',
          window,
          createdUs: now,
          data: { matches: matches.map((m) => ({ id: m.signature.id, score: m.score, rootCause: m.signature.rootCause, verdict: m.signature.verdict })) },
        };
        signatureMatch.evidence.findings = findings.map((f) => f.id);
        findings.push(signatureMatch);
      }
      await store.patterns.put('incident-signature', sig.id, sig, { service: sig.services[0] });
    }

    // 6. Persist what was learned.
    await store.patterns.put('log-template', MINER_KEY, miner.toJSON());
    const counts = new Map<string, { n: number; service: string }>();
    for (const e of inWindow) {
      const c = counts.get(e.templateId) ?? { n: 0, service: e.service };
      c.n++;
      counts.set(e.templateId, c);
    }
    await store.patterns.putMany<TemplateRecord>(
      'log-template',
      [...counts].map(([id, c]) => ({ key: id, service: c.service, value: { template: miner.get(id)?.template ?? '', windowCount: c.n, samples: samples.get(id) ?? [] } })),
    );
    await store.patterns.putMany<ErrorGroup>('error-group', groups.filter((g) => known.has(g.fingerprint) || loud.has(g.fingerprint)).map((g) => ({ key: g.fingerprint, value: g, service: Object.keys(g.services)[0] })));
    // The change list: what the findings cite, and every change the window's lines announce by name and value (the
    // agent reads every line, with the baseline before it to tell a poller's restatements), so "what changed?" is
    // answered before anything breaks.
    await recordAnnounced(store, findings);
    await recordAnnouncedChanges(store, announcedChanges(logs).filter((c) => c.atUs >= window.fromUs && c.atUs < window.toUs && namesSetting(c)).map(announcedEvent));
    return findings;
  }
}

export const patternLearner = new PatternLearnerAgent();
