/**
 * The MCP server: the seed's tools (`fleet_init`, `defect_predict`, `root_cause_analyze`, `pattern_learn`,
 * `memory_share`, ...) over stdio (`tswarm mcp`) and Streamable HTTP (`/mcp` under `tswarm serve`, bearer auth).
 * A thin adapter: zod schemas and descriptions here, the work in the SwarmApi (fleet commander). Every tool
 * answers with structured content plus a readable summary; errors come back as tool errors, never a crash.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { DOMAINS, type ProgressFn, type SwarmApi, type ToolAnswer } from '../../agents/feedback/swarm-api.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const VERSION = '0.1.0';

/**
 * Runs a long tool with progress notifications when the client asked for them (a progress token), and answers
 * only once every notification has been handed to the transport: a client drops progress for a request it has
 * already had the answer to, and a fast run (an RCA over a small window) used to get its answer out first.
 */
async function withProgress(extra: Extra, run: (progress: ProgressFn | undefined) => Promise<ToolAnswer>): Promise<CallToolResult> {
  const token = extra._meta?.progressToken;
  const pending: Promise<unknown>[] = [];
  const progress: ProgressFn | undefined =
    token === undefined
      ? undefined
      : (done, total, message) => {
          pending.push(extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: done, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) } }).catch(() => undefined));
        };
  const result = await answer(() => run(progress));
  await Promise.all(pending);
  return result;
}

async function answer(run: () => Promise<ToolAnswer>): Promise<CallToolResult> {
  try {
    const a = await run();
    return { content: [{ type: 'text', text: a.summary }], structuredContent: a.data };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { isError: true, content: [{ type: 'text', text: msg }] };
  }
}

const domainNames = Object.keys(DOMAINS) as [keyof typeof DOMAINS, ...(keyof typeof DOMAINS)[]];

export function createMcpServer(api: SwarmApi): McpServer {
  const server = new McpServer({ name: 'telemetry-swarm', version: VERSION }, { capabilities: { logging: {} } });

  server.registerTool(
    'fleet_init',
    {
      title: 'Initialise the telemetry swarm',
      description: 'Spawns the production telemetry swarm: topology "mesh" (agents read each other\'s findings from shared memory) or "hierarchical" (only through the fleet commander), the enabled domains, and the max number of agents running at once.',
      inputSchema: {
        topology: z.enum(['mesh', 'hierarchical']).default('mesh'),
        enabledDomains: z.array(z.enum(domainNames)).min(1).default([...domainNames]),
        maxAgents: z.number().int().min(1).max(10).default(10),
      },
    },
    async (args) => answer(() => api.fleetInit({ topology: args.topology, enabledDomains: args.enabledDomains, maxAgents: args.maxAgents })),
  );

  server.registerTool(
    'fleet_status',
    { title: 'Fleet status', description: 'Agents of the swarm with their layer, last run, findings and errors; the last cycles.', inputSchema: {} },
    async () => answer(() => api.fleetStatus()),
  );

  server.registerTool(
    'defect_predict',
    {
      title: 'Predict defects from production signals',
      description: 'Ranks source files under `target` by defect risk from production errors (stack frames → files), log and trace signals, and git history. `signals` are source URLs as in the seed (cloudwatch://, prometheus://, jaeger://, loki://, file://); unreachable sources are reported and the stored telemetry is used.',
      inputSchema: {
        target: z.string().min(1).describe('source directory of the repository, e.g. "src/"'),
        signals: z.object({ logs: z.string().optional(), metrics: z.string().optional(), traces: z.string().optional(), errors: z.string().optional() }).optional(),
        top: z.number().int().min(1).max(500).optional(),
      },
    },
    async (args, extra) => withProgress(extra, (progress) => api.defectPredict(args, progress, extra.signal)),
  );

  server.registerTool(
    'root_cause_analyze',
    {
      title: 'Analyse the root cause of an incident',
      description: 'Ranks root-cause candidates (service, operation, log pattern, metric) for an incident from traces, metric change points and log-pattern anomalies, with the evidence chain. `incident` is an id or a recorded case path; `timeRange` like "last 4 hours" or an ISO interval.',
      inputSchema: {
        incident: z.string().min(1),
        symptoms: z.array(z.string()).optional(),
        timeRange: z.string().optional(),
      },
    },
    async (args, extra) => withProgress(extra, (progress) => api.rootCauseAnalyze(args, progress, extra.signal)),
  );

  server.registerTool(
    'pattern_learn',
    {
      title: 'Learn patterns',
      description: 'Mines log templates, error groups and incident signatures from an input (an incident id, a file path, or "recent" for the stored window) in a domain such as "production-incidents"; stores them when storeResults is true.',
      inputSchema: { domain: z.string().min(1), input: z.string().min(1), storeResults: z.boolean().default(true) },
    },
    async (args, extra) => withProgress(extra, (progress) => api.patternLearn(args, progress, extra.signal)),
  );

  server.registerTool(
    'memory_share',
    {
      title: 'Share knowledge between agents',
      description: 'Delivers knowledge from a source agent to target agents: they see the records on their next read of the domain\'s namespace, with provenance and an audit trail. Without `content`, the source agent\'s current learnings for the domain are shared.',
      inputSchema: {
        sourceAgentId: z.string().min(1),
        targetAgentIds: z.array(z.string().min(1)).min(1),
        knowledgeDomain: z.string().min(1),
        content: z.unknown().optional(),
      },
    },
    async (args) => answer(() => api.memoryShare(args)),
  );

  server.registerTool(
    'memory_query',
    {
      title: 'Read a shared memory namespace',
      description: 'Reads the records of a namespace as `reader` (access rules apply: a private namespace is readable by its owner and the agents it was shared with).',
      inputSchema: { namespace: z.string().min(1), reader: z.string().min(1), sinceUs: z.number().optional(), limit: z.number().int().min(1).max(10_000).optional() },
    },
    async (args) => answer(() => api.memoryQuery(args)),
  );

  server.registerTool(
    'performance_analyze',
    {
      title: 'Analyse performance',
      description: 'Baselines, anomalies, regressions (change points) and SLO burn rates for a service (or all) over a time range.',
      inputSchema: { service: z.string().optional(), timeRange: z.string().optional() },
    },
    async (args, extra) => withProgress(extra, (progress) => api.performanceAnalyze(args, progress, extra.signal)),
  );

  server.registerTool(
    'benchmark_regressions',
    {
      title: 'Find regressions in a benchmark history',
      description: 'Lasting changes in a benchmark history given inline (one object per run, in run order or with a time column; label columns such as commit, numeric metric columns), each named by the run it starts at, with before/after means, p-value and whether it is for the worse. Energy change points with a permutation test, as Apache Otava does.',
      inputSchema: {
        runs: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))).min(8).max(100_000),
        higherIsBetter: z.array(z.string()).optional().describe('metric columns where a rise is an improvement (default: names ending in /s, ps, ops, throughput, rate)'),
      },
    },
    async (args) =>
      answer(async () => {
        const { analyseHistory } = await import('../../algorithms/perf/bench-history.js');
        const names = args.higherIsBetter;
        const r = analyseHistory(args.runs, names ? { higherIsBetter: (m) => names.includes(m) } : {});
        if (!r.metrics.length) throw new Error(`no numeric metric columns (columns: ${r.labels.join(', ')})`);
        const worse = r.changes.filter((c) => c.regression);
        return { summary: `${r.rows} runs, ${r.metrics.length} metrics: ${worse.length} regressions, ${r.changes.length - worse.length} improvements${worse.length ? `; first: ${worse[0]!.metric} ${worse[0]!.before.toPrecision(4)} → ${worse[0]!.after.toPrecision(4)} from run ${worse[0]!.row + 1}` : ''}`, data: r as unknown as Record<string, unknown> };
      }),
  );

  server.registerTool(
    'chaos_run',
    {
      title: 'Run a chaos experiment',
      description: 'Runs a chaos experiment (a Chaos Toolkit-style definition, or the name of a built-in one) against allow-listed hosts only, with a steady-state hypothesis and automatic rollback. A dry run that only validates and plans unless confirm is true.',
      inputSchema: { experiment: z.union([z.string(), z.record(z.string(), z.unknown())]), confirm: z.boolean().default(false) },
    },
    async (args, extra) => withProgress(extra, (progress) => api.chaosRun(args, progress, extra.signal)),
  );

  server.registerTool(
    'load_test',
    {
      title: 'Run a load test',
      description: 'Generates load against an allow-listed URL (open model with `rate` requests/s or closed model with `vus` virtual users) for a bounded duration; latency from HDR histograms corrected for coordinated omission; thresholds like "p(95)<300". `capacity` runs a step test (USL, knee); `underFault` measures the same load before, during and after a fault.',
      inputSchema: {
        target: z.string().url(),
        rate: z.number().positive().max(50_000).optional(),
        vus: z.number().int().positive().max(1000).optional(),
        duration: z.string().default('10s'),
        thresholds: z.array(z.string()).optional(),
        capacity: z.boolean().optional().describe('step test with rising concurrency: USL fit and knee'),
        underFault: z
          .object({
            toxiproxy: z.string().url().describe('Toxiproxy-compatible control API (tswarm chaos proxy)'),
            proxy: z.string(),
            toxic: z.object({ type: z.string(), stream: z.enum(['upstream', 'downstream']).optional(), attributes: z.record(z.string(), z.number()).optional() }),
            rate: z.number().positive().max(50_000).optional(),
            baselineS: z.number().positive().max(600).optional(),
            faultS: z.number().positive().max(600).optional(),
            recoveryS: z.number().positive().max(600).optional(),
            slo: z.object({ p95Ms: z.number().positive(), errorRate: z.number().min(0).max(1) }).optional(),
          })
          .optional()
          .describe('load under fault: steady load before, during and after a toxic; SLO and error-budget verdict'),
      },
    },
    async (args, extra) => withProgress(extra, (progress) => api.loadTest(args, progress, extra.signal)),
  );

  server.registerTool(
    'knowledge_query',
    {
      title: 'Query the knowledge graph and learning store',
      description: '"deps": service dependency edges; "impact": blast radius of `node`; "learnings": durable learnings; "accuracy": agent precision from verdicts; "baselines": what is normal per service (latency p50/p95/p99, errors, traffic, operations, metric series; `node`: one service) and whether each is judged by the hour yet; "changes": deploys, config changes and flag flips declared in the last 7 days (`node`: one service); "slos": each service\'s SLOs and their budget burn over 5 min / 1 h / 6 h, with the burn-rate rules firing (`node`: one service).',
      inputSchema: { query: z.enum(['deps', 'impact', 'learnings', 'accuracy', 'baselines', 'changes', 'slos']), node: z.string().optional() },
    },
    async (args) => answer(() => api.knowledgeQuery(args)),
  );

  server.registerTool(
    'feedback_report',
    {
      title: 'The latest feedback report',
      description: 'The queen\'s latest report to ideation: defect patterns, performance insights, resilience gaps, learning updates, ranked, with evidence and a production-risk signal.',
      inputSchema: { format: z.enum(['json', 'markdown', 'html']).default('json') },
    },
    async (args) => answer(() => api.feedbackReport(args)),
  );

  server.registerTool(
    'verdict_record',
    {
      title: 'Record a verdict on a finding',
      description: 'Confirms or rejects a finding; feeds agent accuracy and the re-weighting of evidence.',
      inputSchema: { findingId: z.string().min(1), verdict: z.enum(['confirmed', 'rejected']), cause: z.string().min(1).optional().describe('root-cause findings: the service that really was the cause'), reason: z.string().optional(), by: z.string().optional() },
    },
    async (args) => answer(() => api.verdictRecord(args)),
  );

  server.registerTool(
    'change_record',
    {
      title: 'Declare a deploy, config change or feature-flag flip',
      description: 'Tells the swarm what changed and when, as a CD pipeline or flag service would: regressions and anomalies are tied to the nearest change, the root-cause analysis counts a change shortly before an incident as direct evidence, and the report draws it on the timeline and the plots. A flag flipped at run time shows on no span; declare it here.',
      // The shape is checked by signals/change-event.ts (one place for every interface); these fields document it.
      inputSchema: {
        service: z.string().min(1),
        kind: z.enum(['deploy', 'config', 'flag']).optional().describe('default: deploy when version is given'),
        version: z.string().optional().describe('deploys: the version rolled out'),
        key: z.string().optional().describe('config/flag: the key or flag name'),
        value: z.union([z.string(), z.number(), z.boolean()]).optional().describe('config/flag: the new value'),
        previous: z.union([z.string(), z.number(), z.boolean()]).optional().describe('the value it replaced'),
        at: z.union([z.string(), z.number()]).optional().describe('ISO 8601 time or epoch ms; default now'),
        by: z.string().optional(),
        url: z.string().optional().describe('link to the pipeline run, pull request or flag audit entry'),
        description: z.string().optional(),
      },
    },
    async (args) => answer(() => api.changeRecord({ changes: Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) })),
  );

  server.registerTool(
    'maintenance_declare',
    {
      title: 'Declare a maintenance window',
      description: 'Tells the swarm about planned work (a migration, a failover drill, another team\'s load test): its stretch is left out of the analysis as the swarm\'s own chaos experiments are (no anomaly, regression, log burst or incident onset from it; the report shades it). Error budgets still count it. At most a week long, at most a week ahead.',
      // The shape is checked by signals/maintenance-window.ts; these fields document it.
      inputSchema: {
        reason: z.string().min(1),
        service: z.string().optional().describe('the service worked on (the whole stretch is left out: its callers feel it too)'),
        from: z.union([z.string(), z.number()]).optional().describe('ISO 8601 time, epoch ms or "now" (default)'),
        to: z.union([z.string(), z.number()]).optional().describe('the end (or give duration)'),
        duration: z.string().optional().describe('how long, e.g. "30m", "2h"'),
        by: z.string().optional(),
        url: z.string().optional().describe('link to the change ticket or runbook'),
      },
    },
    async (args) => answer(() => api.maintenanceDeclare({ window: Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) })),
  );

  return server;
}
