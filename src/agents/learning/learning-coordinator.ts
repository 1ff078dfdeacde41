/**
 * qe-learning-coordinator: builds and keeps the knowledge graph (seed: "Knowledge Graph" — code intelligence,
 * dependency maps, impact analysis) from the signals of a window and from the other agents' findings.
 *
 * Nodes: `service:<name>`, `operation:<service>/<name>`, `peer:<db|queue|host>`, `file:<path>`,
 *        `fingerprint:<id>`, `host:<name>`.
 * Edges: `calls` (service → service/peer, with calls, errors, mean latency), `op-calls` (operation → operation),
 *        `has-operation`, `runs-on` (service → host), `code` (service → file, from stack frames and code.*
 *        attributes), `raises` (fingerprint → file), `finding` links are left to the learning store.
 */
import type { Agent, AgentContext, AgentTask, Finding } from '../../fleet/contracts.js';
import { AGENT_IDS } from '../../fleet/contracts.js';
import { buildDependencyMap, type DependencyMap } from '../../algorithms/graph/dependency-map.js';
import type { ErrorEvent, Span } from '../../signals/model.js';
import { RESOURCE_KEYS } from '../../signals/model.js';
import { synthesise, type Learning } from '../../algorithms/learning/synthesis.js';
import { asGuarded, combine, expertWeights, experts, guardedUpdate, withSources, type GuardedWeightState, type SignalScores, type WeightState } from '../../algorithms/learning/signal-weights.js';
import { caseFromFinding, guardedCaseUpdate, initialGuardedCaseLearner, type GuardedCaseLearner } from '../../algorithms/learning/rank-learner.js';
import type { MemoryStore, Verdict } from '../../store/store.js';

export const nodeId = {
  service: (s: string): string => `service:${s}`,
  operation: (s: string, op: string): string => `operation:${s}/${op}`,
  peer: (p: string): string => `peer:${p}`,
  file: (f: string): string => `file:${f}`,
  fingerprint: (f: string): string => `fingerprint:${f}`,
  host: (h: string): string => `host:${h}`,
};

type NodeIn = { id: string; kind: string; props?: Record<string, unknown>; seenUs: number };
type EdgeIn = { source: string; target: string; kind: string; weight?: number; props?: Record<string, unknown>; seenUs: number };

/** Pure: graph upserts for a window's spans and errors. Exported for tests and for the transfer specialist. */
export function graphUpdates(spans: Span[], errors: ErrorEvent[], nowUs: number): { nodes: NodeIn[]; edges: EdgeIn[]; map: DependencyMap } {
  const map = buildDependencyMap(spans);
  const nodes = new Map<string, NodeIn>();
  const edges: EdgeIn[] = [];
  const node = (id: string, kind: string, props: Record<string, unknown> = {}): void => {
    if (!nodes.has(id)) nodes.set(id, { id, kind, props, seenUs: nowUs });
  };
  const services = new Set(map.services);
  // Runtime facts of each service (from its resource) feed the transfer specialist's similarity.
  const runtime = new Map<string, Record<string, unknown>>();
  for (const sp of spans) {
    if (runtime.has(sp.service)) continue;
    const props: Record<string, unknown> = {};
    for (const k of ['telemetry.sdk.language', 'process.runtime.name', 'service.version', 'deployment.environment', 'deployment.environment.name']) {
      const v = sp.resource.attributes[k];
      if (typeof v === 'string') props[k === 'deployment.environment.name' ? 'deployment.environment' : k] = v;
    }
    runtime.set(sp.service, props);
  }
  for (const s of map.services) node(nodeId.service(s), 'service', runtime.get(s) ?? {});
  for (const e of map.edges) {
    const target = services.has(e.target) ? nodeId.service(e.target) : nodeId.peer(e.target);
    if (!services.has(e.target)) node(target, e.kind === 'calls' ? 'service' : e.kind);
    edges.push({
      source: nodeId.service(e.source),
      target,
      kind: 'calls',
      weight: e.calls,
      props: { calls: e.calls, errors: e.errors, errorShare: e.calls ? e.errors / e.calls : 0, meanLatencyMs: e.calls ? e.durationSumUs / e.calls / 1000 : 0, peerKind: e.kind },
      seenUs: e.lastUs,
    });
  }
  // Operation level: server/consumer span names per service, and op → op edges across services.
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const opEdges = new Map<string, { n: number; last: number }>();
  const hosts = new Map<string, string>();
  for (const s of spans) {
    if (s.kind === 2 || s.kind === 5) {
      node(nodeId.operation(s.service, s.name), 'operation', { service: s.service });
      const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
      if (parent && parent.service !== s.service) {
        // The caller's operation is its nearest server/consumer ancestor in the same service.
        let p: Span | undefined = parent;
        while (p && !(p.kind === 2 || p.kind === 5)) p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined;
        if (p && p.service === parent.service) {
          const k = `${nodeId.operation(p.service, p.name)}\u0000${nodeId.operation(s.service, s.name)}`;
          const cur = opEdges.get(k) ?? { n: 0, last: 0 };
          cur.n++;
          cur.last = Math.max(cur.last, s.startUs);
          opEdges.set(k, cur);
        }
      }
    }
    const host = s.resource.attributes[RESOURCE_KEYS.hostName];
    if (typeof host === 'string') hosts.set(s.service, host);
    const codeFile = s.attributes['code.filepath'] ?? s.attributes['code.file.path'];
    if (typeof codeFile === 'string') {
      node(nodeId.file(codeFile), 'file');
      edges.push({ source: nodeId.service(s.service), target: nodeId.file(codeFile), kind: 'code', weight: 1, seenUs: s.startUs });
    }
  }
  for (const [k, v] of opEdges) {
    const [source, target] = k.split('\u0000') as [string, string];
    edges.push({ source, target, kind: 'op-calls', weight: v.n, props: { calls: v.n }, seenUs: v.last });
  }
  for (const s of map.services) {
    for (const n of nodes.values()) if (n.kind === 'operation' && n.props?.service === s) edges.push({ source: nodeId.service(s), target: n.id, kind: 'has-operation', seenUs: nowUs });
  }
  for (const [svc, host] of hosts) {
    node(nodeId.host(host), 'host');
    edges.push({ source: nodeId.service(svc), target: nodeId.host(host), kind: 'runs-on', seenUs: nowUs });
  }
  // Code intelligence from errors: service → file, fingerprint → file (the in-app frames).
  const codeCounts = new Map<string, { n: number; last: number; line?: number; fn?: string }>();
  for (const e of errors) {
    node(nodeId.service(e.service), 'service');
    node(nodeId.fingerprint(e.fingerprint), 'fingerprint', { type: e.type, message: e.message.slice(0, 200), service: e.service });
    const frames = e.frames.filter((f) => f.inApp && f.file).slice(0, 3);
    frames.forEach((f, depth) => {
      const file = nodeId.file(f.file!);
      node(file, 'file');
      const k1 = `${nodeId.service(e.service)}\u0000${file}\u0000code`;
      const k2 = `${nodeId.fingerprint(e.fingerprint)}\u0000${file}\u0000raises`;
      for (const k of [k1, k2]) {
        const cur = codeCounts.get(k) ?? { n: 0, last: 0 };
        cur.n++;
        cur.last = Math.max(cur.last, e.timeUs);
        if (depth === 0) {
          cur.line = f.line;
          cur.fn = f.function;
        }
        codeCounts.set(k, cur);
      }
    });
  }
  for (const [k, v] of codeCounts) {
    const [source, target, kind] = k.split('\u0000') as [string, string, string];
    edges.push({ source, target, kind, weight: v.n, props: { occurrences: v.n, line: v.line, function: v.fn }, seenUs: v.last });
  }
  return { nodes: [...nodes.values()], edges, map };
}

export class LearningCoordinator implements Agent {
  readonly id = AGENT_IDS.learningCoordinator;
  readonly layer = 'learning' as const;
  readonly description = 'Builds the knowledge graph (dependency maps, code intelligence, impact) and synthesises learnings';

  async run(task: AgentTask, ctx: AgentContext): Promise<Finding[]> {
    const window = task.window;
    const spans = await ctx.store.telemetry.querySpans({ window, limit: Number(task.params.maxSpans ?? 500_000) });
    ctx.progress({ done: 1, total: 3, message: `${spans.length} spans` });
    const errors = await ctx.store.telemetry.queryErrors({ window, limit: 100_000 });
    const nowUs = ctx.clock.nowUs();
    const { nodes, edges, map } = graphUpdates(spans, errors, nowUs);
    await ctx.store.graph.upsertNodes(nodes);
    await ctx.store.graph.upsertEdges(edges);
    ctx.progress({ done: 2, total: 3, message: `${nodes.length} nodes, ${edges.length} edges` });
    const findings: Finding[] = [];
    // New dependency edges are a learning update: the architecture changed (or was first seen).
    const known = await ctx.store.graph.edges({ kind: 'calls' });
    const firstSeen = known.filter((e) => e.firstSeenUs >= (window?.fromUs ?? nowUs) && e.firstSeenUs === e.lastSeenUs);
    if (map.edges.length) {
      findings.push({
        id: `graph-deps-${map.services.length}-${map.edges.length}`,
        agentId: this.id,
        kind: 'dependency-map',
        category: 'learning-updates',
        title: `Dependency map: ${map.services.length} services, ${map.edges.length} call edges`,
        summary: map.edges.map((e) => `${e.source}→${e.target}`).join(', '),
        severity: 'info',
        confidence: 0.95,
        subject: {},
        evidence: { chain: [`built from ${spans.length} spans`, ...firstSeen.slice(0, 10).map((e) => `new edge ${e.source} → ${e.target}`)] },
        basis: 'measured',
        window,
        createdUs: nowUs,
        data: { services: map.services, edges: map.edges.map((e) => ({ source: e.source, target: e.target, calls: e.calls, errors: e.errors })) },
      });
    }
    // Code intelligence: owners of the files errors point into (CODEOWNERS, else the top git authors).
    const fileNodes = nodes.filter((n) => n.kind === 'file').map((n) => n.id.slice(5));
    if (fileNodes.length) {
      try {
        const repo = String(task.params.repo ?? process.cwd());
        const { readGitRepo } = await import('../detection/defect-history.js');
        const { codeownersFor, ownersOf } = await import('./owners.js');
        const { RepoIndex, repoFilesFrom } = await import('../detection/code-mapping.js');
        const { commits } = await readGitRepo(repo);
        const index = new RepoIndex(repoFilesFrom(commits));
        const rules = codeownersFor(repo);
        const ownerEdges: Parameters<typeof ctx.store.graph.upsertEdges>[0] = [];
        const ownerNodes: Parameters<typeof ctx.store.graph.upsertNodes>[0] = [];
        for (const f of fileNodes) {
          const repoFile = index.lookup(f);
          if (!repoFile) continue;
          const o = ownersOf(repoFile, rules, commits);
          for (const owner of o.owners) {
            ownerNodes.push({ id: `owner:${owner}`, kind: 'owner', seenUs: nowUs });
            ownerEdges.push({ source: nodeId.file(f), target: `owner:${owner}`, kind: 'owned-by', props: { source: o.source, repoFile }, seenUs: nowUs });
          }
        }
        await ctx.store.graph.upsertNodes(ownerNodes);
        await ctx.store.graph.upsertEdges(ownerEdges);
      } catch (e) {
        ctx.log.debug('no code owners', { error: String(e) });
      }
    }
    findings.push(...(await synthesiseLearnings(ctx.store, ctx.upstream, nowUs, this.id)));
    ctx.progress({ done: 3, total: 3 });
    return findings;
  }
}

/** Pattern kinds the coordinator keeps. `signal-weights` is read by agents that combine evidence sources. */
export const LEARNING_KIND = 'learning';
export const SIGNAL_WEIGHTS_KIND = 'signal-weights';
/** Suffix of the `signal-weights` key of an agent's metric indicator-kind weights (multipliers of its metrics ranker). */
export const METRIC_KINDS = 'metric-kinds';
/** Pattern kind of an agent's case-based re-ranker (algorithms/learning/rank-learner.ts), keyed by agent id. */
export const CASE_LEARNER_KIND = 'case-learner';
const CURSOR_KIND = 'learning-cursor';

/**
 * Automatic verdicts: a chaos experiment that broke the steady state by faulting service S reproduces an RCA
 * hypothesis naming S (confirmed); one that faulted S and held contradicts an RCA that blamed S for a latency or
 * outage (rejected). Each root-cause finding gets at most one automatic verdict.
 */
async function automaticVerdicts(store: MemoryStore, findings: readonly Finding[], nowUs: number, agentId: string): Promise<void> {
  const chaos = findings.filter((f) => f.agentId === AGENT_IDS.chaosEngineer && f.subject.dependency);
  if (!chaos.length) return;
  const rcas = [...findings.filter((f) => f.kind === 'root-cause'), ...(await store.findings.list({ agentId: AGENT_IDS.rootCauseAnalyzer, limit: 200 }))];
  const judged = new Set((await store.learning.verdicts({ findingIds: rcas.map((r) => r.id) })).filter((v) => v.automatic).map((v) => v.findingId));
  for (const r of rcas) {
    if (judged.has(r.id) || !r.subject.service) continue;
    const exp = chaos.find((c) => c.subject.dependency === r.subject.service);
    if (!exp) continue;
    const broke = exp.kind === 'resilience-gap';
    const faultType = String(r.data?.faultType ?? '');
    if (!broke && !['latency', 'dependency-outage'].includes(faultType)) continue;
    await store.learning.recordVerdict({
      findingId: r.id,
      verdict: broke ? 'confirmed' : 'rejected',
      by: agentId,
      reason: `chaos experiment ${exp.evidence.experiments?.[0] ?? ''} on ${r.subject.service} ${broke ? 'reproduced the user-facing failure' : 'held its steady state'}`,
      atUs: nowUs,
      automatic: true,
    });
    judged.add(r.id);
  }
}

/**
 * Verdicts recorded since a consumer last looked (a cursor in the pattern store makes each count once per
 * consumer). `startFrom`: the cursor a new consumer starts at, so verdicts another consumer already handled for it
 * are not handled twice.
 */
async function newVerdicts(store: MemoryStore, key = 'verdicts', startFrom?: string): Promise<Verdict[]> {
  type Cursor = { atUs: number; ids: string[] };
  const cursor = (await store.patterns.get<Cursor>(CURSOR_KIND, key))?.value ?? (startFrom ? (await store.patterns.get<Cursor>(CURSOR_KIND, startFrom))?.value : undefined) ?? { atUs: -1, ids: [] };
  const all = await store.learning.verdicts();
  const seen = new Set(cursor.ids);
  const fresh = all.filter((v) => v.atUs > cursor.atUs || (v.atUs === cursor.atUs && !seen.has(`${v.findingId}@${v.atUs}`)));
  if (fresh.length) {
    const atUs = Math.max(...fresh.map((v) => v.atUs));
    await store.patterns.put(CURSOR_KIND, key, { atUs, ids: all.filter((v) => v.atUs === atUs).map((v) => `${v.findingId}@${v.atUs}`) });
  }
  return fresh.sort((a, b) => a.atUs - b.atUs);
}

/**
 * Folds the verdicts not yet learned into the learned ranking state of the agents whose findings they judge
 * (learnFromVerdict): read, update, write back. Its own cursor (learning synthesis keeps another), so it can run
 * right after a verdict is recorded — the next ranking then uses it — as well as in the coordinator's cycle; each
 * verdict is learned once. Returns how many verdicts it learned from.
 */
export async function learnRankingFromVerdicts(store: MemoryStore): Promise<number> {
  // Before this had a cursor of its own, the synthesis cursor also marked what ranking state had learned.
  const verdicts = await newVerdicts(store, 'ranking-verdicts', 'verdicts');
  let n = 0;
  for (const v of verdicts) {
    const f = await store.findings.get(v.findingId);
    if (!f) continue;
    const kindsKey = `${f.agentId}/${METRIC_KINDS}`;
    const [signals, kinds, cases] = await Promise.all([
      store.patterns.get<WeightState | GuardedWeightState>(SIGNAL_WEIGHTS_KIND, f.agentId),
      store.patterns.get<WeightState | GuardedWeightState>(SIGNAL_WEIGHTS_KIND, kindsKey),
      store.patterns.get<GuardedCaseLearner>(CASE_LEARNER_KIND, f.agentId),
    ]);
    const before = { signals: signals?.value, kinds: kinds?.value, cases: cases?.value };
    const after = learnFromVerdict(before, f, v.verdict);
    const writes: Promise<unknown>[] = [];
    if (after.signals !== before.signals && after.signals) writes.push(store.patterns.put(SIGNAL_WEIGHTS_KIND, f.agentId, after.signals));
    if (after.kinds !== before.kinds && after.kinds) writes.push(store.patterns.put(SIGNAL_WEIGHTS_KIND, kindsKey, after.kinds));
    if (after.cases !== before.cases && after.cases) writes.push(store.patterns.put(CASE_LEARNER_KIND, f.agentId, after.cases));
    await Promise.all(writes);
    if (writes.length) n++;
  }
  return n;
}

/** What an agent ranks with from verdicts (all three optional: missing is the initial state). */
export interface LearnedRankingState {
  /** Guarded weights of the evidence signals (key: agent id). */
  signals?: WeightState | GuardedWeightState;
  /** Guarded multipliers of the metric indicator kinds (key: `<agent id>/metric-kinds`). */
  kinds?: WeightState | GuardedWeightState;
  /** Case-based re-ranker (kind `case-learner`, key: agent id). */
  cases?: GuardedCaseLearner;
}

/**
 * One verdict on a finding → the agent's next learned state. Pure, so a replay of recorded incidents runs exactly
 * what the coordinator runs. Three learners, each used only for what the finding carries:
 * - signals (`data.signalScores`) and metric kinds (`data.kindScores`): guarded Hedge weights
 *   (algorithms/learning/signal-weights.ts): Hedge learns, and the agent ranks with whichever expert — equal
 *   weights, Hedge's, equal without one source — has the clearly better record on the verdicts;
 * - the case-based re-ranker (`data.candidateProfiles`, algorithms/learning/rank-learner.ts).
 * The outcome: the culprit a verdict named (`data.confirmedCause`, `tswarm verdict <id> rejected --cause <service>`)
 * when there is one; otherwise confirmed confirms the top candidate (the same outcome as naming it: the confirmed
 * top is the cause) and rejected rejects it. A rejection naming no cause teaches the learners (Hedge's losses, a
 * negative profile) but moves none of the guards: which other answer was right is unknown, so it counts as a miss
 * for every expert and ranking alike (signal-weights.ts guardedUpdate, rank-learner.ts guardedCaseUpdate). A stream
 * of such verdicts alone therefore ranks as no verdicts do.
 */
export function learnFromVerdict(state: LearnedRankingState, f: Pick<Finding, 'id' | 'subject' | 'data'>, verdict: 'confirmed' | 'rejected'): LearnedRankingState {
  const candidate = (f.data?.topCandidate as string | undefined) ?? f.subject.service;
  if (!candidate) return state;
  // A named cause is the strongest verdict there is: whatever was said about the top, the culprit is known.
  const cause = f.data?.confirmedCause as string | undefined;
  const outcome = cause ? { confirmed: cause } : verdict === 'confirmed' ? { confirmed: candidate } : { rejected: candidate };
  const next = { ...state };
  const sets = [
    { part: 'signals' as const, scores: f.data?.signalScores, tops: f.data?.expertTops, approximate: true },
    { part: 'kinds' as const, scores: f.data?.kindScores, tops: f.data?.kindExpertTops, approximate: false },
  ];
  for (const set of sets) {
    const scores = set.scores as SignalScores | undefined;
    if (!scores || !Object.keys(scores).length) continue;
    const cur = withSources(asGuarded(state[set.part], Object.keys(scores)), Object.keys(scores));
    // What each expert would have ranked first. An agent that ranked the incident under every expert says so
    // (exact: its own ranker). Otherwise, for signals, the weighted combination of the per-signal scores stands
    // in for the ranker (it leaves out deploy bonuses and per-signal confidence: it agrees with the shipped top
    // on 86–93% of expert × case pairs of the recorded testbed sets); kinds combine by a max rule that the
    // per-kind scores alone do not reproduce, so without the agent's tops only Hedge learns and the guard stays.
    // An expert missing from the agent's tops had no answer (it dropped every piece of evidence the incident
    // had, e.g. the only signal): it counts as a miss whatever the verdict. Left unscored it would collect no
    // misses while the others do, and take the lead by saying nothing.
    const given = set.tops as Record<string, string> | undefined;
    const noAnswer = 'confirmed' in outcome ? '' : outcome.rejected;
    const tops: Record<string, string | undefined> = {};
    for (const e of experts(cur)) {
      if (given) tops[e] = given[e] ?? noAnswer;
      else if (set.approximate) tops[e] = combine(scores, { weights: expertWeights(cur, e), updates: 0 })[0]?.candidate;
    }
    // Kinds also keep the expert fitted to the stored verdicts under the ranker's own combination rule (kind-fit.ts).
    next[set.part] = guardedUpdate(cur, scores, outcome, tops, { fit: set.part === 'kinds' });
  }
  // The case-based re-ranker: the finding's candidates (shipped scores) and their evidence profiles rebuild the
  // case; the tops both rankings had when it was ranked keep the guard's record honest.
  const profiles = f.data?.candidateProfiles as Record<string, Record<string, number>> | undefined;
  const candidates = f.data?.candidates as { service: string; score: number }[] | undefined;
  if (profiles && candidates?.length) {
    const tops = (f.data?.caseTops as { static?: string; learned?: string } | undefined) ?? {};
    next.cases = guardedCaseUpdate(state.cases ?? initialGuardedCaseLearner(), caseFromFinding(f.id, candidates, profiles), outcome, tops);
  }
  return next;
}

/**
 * Folds the cycle's findings and the new verdicts into durable learnings, re-weights evidence sources of agents
 * whose findings carry per-source scores (`data.signalScores`), and reports what changed.
 */
export async function synthesiseLearnings(store: MemoryStore, findings: readonly Finding[], nowUs: number, agentId: string): Promise<Finding[]> {
  await automaticVerdicts(store, findings, nowUs, agentId);
  // Verdicts → the learned ranking state agents read (unless a verdict command folded them in already). First: a
  // store from before the ranking cursor starts it at the synthesis cursor, which is moved next.
  await learnRankingFromVerdicts(store);
  const verdicts = await newVerdicts(store);
  const previous = (await store.patterns.list<Learning>(LEARNING_KIND, { limit: 100_000 })).map((r) => r.value);
  const before = new Map(previous.map((l) => [l.key, l]));
  const next = synthesise(previous, findings, verdicts, nowUs);
  await store.patterns.putMany(LEARNING_KIND, next.map((l) => ({ key: l.key, value: l, service: l.subject.service })));
  // Resilience learnings are what the transfer specialist carries to similar services.
  const resilience = next.filter((l) => l.category === 'resilience-gaps' && !l.retired);
  if (resilience.length) {
    await store.patterns.putMany('resilience-learning', resilience.map((l) => ({ key: l.key, value: { title: l.headline, statement: l.statement, strength: l.strength, sources: l.sources }, service: l.subject.service })));
  }

  const out: Finding[] = [];
  for (const l of next) {
    const prev = before.get(l.key);
    const changed = !prev || Math.abs(prev.strength - l.strength) >= 0.15 || prev.retired !== l.retired;
    if (!changed || l.observations === 0) continue;
    // A learning is worth reporting once it is corroborated (seen twice, or judged by a verdict) or retired;
    // a single observation is already in the report as the finding itself.
    if (!l.retired && l.observations < 2 && !l.confirmations && !l.rejections) continue;
    out.push({
      id: `learning-${l.key}`,
      agentId,
      kind: l.retired ? 'learning-retired' : prev ? 'learning-updated' : 'learning-new',
      category: 'learning-updates',
      title: l.retired ? `No longer observed: ${l.headline}` : l.statement,
      severity: 'low',
      confidence: Math.min(0.99, l.strength),
      subject: l.subject,
      evidence: { findings: l.sources.filter((s) => !s.includes(':')), experiments: l.sources.filter((s) => s.startsWith('experiment:')).map((s) => s.slice(11)), chain: [`strength ${(prev?.strength ?? 0).toFixed(2)} → ${l.strength.toFixed(2)}`, `${l.confirmations} confirmed, ${l.rejections} rejected verdicts`] },
      basis: 'inferred',
      createdUs: nowUs,
      data: { learning: l },
    });
  }
  return out;
}
