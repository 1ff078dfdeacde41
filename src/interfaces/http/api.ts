/**
 * The HTTP API behind the dashboard (and scripts): services overview, findings with verdicts, the knowledge
 * graph, patterns, learnings, the latest report, and an SSE stream of swarm events. Mounted on the same server
 * as the OTLP receiver by `tswarm serve`; every route honours the bearer token when one is set.
 */
import { readBaselines } from '../../agents/analysis/baselines-view.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MemoryStore } from '../../store/store.js';
import { serviceOverview } from '../../algorithms/perf/rollup-summary.js';
import { renderGraphSvg, renderHtmlReport } from '../../feedback/html.js';
import { agentAccuracy } from '../../agents/learning/accuracy-report.js';
import { authorised, TOKEN_COOKIE } from './auth.js';
import type { EventHub } from './event-hub.js';
import { dashboardHtml } from './dashboard.js';
import { changeList, changeRecord, latestReport, recordHumanVerdict, sloOverview } from '../../agents/feedback/memory-ops.js';
import { SwarmInputError } from '../../agents/feedback/swarm-api.js';
import { maintenanceEnd, maintenanceList, maintenanceRecord } from '../../agents/feedback/maintenance-ops.js';

export interface ApiOptions {
  store: MemoryStore;
  token?: string;
  hub?: EventHub;
  /** Runs one analysis cycle now (wired by `tswarm serve`); absent → 501. */
  analyze?: () => Promise<{ cycleId: string }>;
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: message });
}

export async function registerApi(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  const { store, token } = opts;

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    if (!(path === '/' || path.startsWith('/api/') || path === '/report.html')) return;
    // Dashboard login: ?token=… once, then a cookie.
    if (token && path === '/' && typeof (req.query as Record<string, unknown>)?.token === 'string') {
      const given = (req.query as Record<string, string>).token!;
      if (given === token) {
        void reply
          .header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
          .redirect('/', 303);
        return reply;
      }
    }
    if (!authorised(req.raw, token)) {
      if (path === '/') return reply.code(401).type('text/html').send('<!doctype html><title>telemetry-swarm</title><link rel="icon" href="data:,"><p>This dashboard needs the token: open <code>/?token=YOUR_TOKEN</code>.</p>');
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
    }
  });

  // Browsers ask for it on every page; an empty answer keeps their consoles clean.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(dashboardHtml()));

  app.get('/api/status', async () => ({ backend: store.backend, services: await store.telemetry.stats() }));

  app.get('/api/services', async (req) => {
    const q = req.query as { recent?: string; baseline?: string };
    const recentUs = Number(q.recent ?? 300) * 1e6;
    const baselineUs = Number(q.baseline ?? 3600) * 1e6;
    const stats = await store.telemetry.stats();
    const lastUs = Math.max(0, ...stats.map((s) => s.lastUs ?? 0));
    if (!lastUs) return { nowUs: 0, services: [] };
    const nowUs = lastUs + 1;
    const rollups = await store.telemetry.rollups({ window: { fromUs: nowUs - recentUs - baselineUs, toUs: nowUs } });
    return { nowUs, services: serviceOverview(rollups, nowUs, recentUs, baselineUs) };
  });

  // Each service's SLOs (declared in the config file, or the default) and how fast it burns its budget now.
  app.get('/api/slos', async () => sloOverview(store));

  app.get('/api/findings', async (req) => {
    const q = req.query as { category?: string; agent?: string; limit?: string };
    const findings = await store.findings.list({ category: q.category as never, agentId: q.agent, limit: Math.min(1000, Number(q.limit ?? 200)) });
    const verdicts = await store.learning.verdicts({ findingIds: findings.map((f) => f.id) });
    const latest = new Map<string, string>();
    for (const v of verdicts.sort((a, b) => a.atUs - b.atUs)) latest.set(v.findingId, v.verdict);
    return { findings: findings.map((f) => ({ ...f, verdict: latest.get(f.id) ?? null })) };
  });

  app.get('/api/findings/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const f = await store.findings.get(id);
    if (!f) return reply.code(404).send({ error: `no finding "${id}"` });
    return { finding: f, verdicts: await store.learning.verdicts({ findingIds: [id] }) };
  });

  app.post('/api/verdicts', async (req, reply) => {
    const body = req.body as { findingId?: unknown; verdict?: unknown; cause?: unknown; reason?: unknown; by?: unknown } | undefined;
    if (!body || typeof body.findingId !== 'string') return badRequest(reply, 'body must be JSON {findingId, verdict: "confirmed"|"rejected", cause?, reason?}');
    if (body.verdict !== 'confirmed' && body.verdict !== 'rejected') return badRequest(reply, 'verdict must be "confirmed" or "rejected"');
    if (body.cause !== undefined && typeof body.cause !== 'string') return badRequest(reply, 'cause must be a service name (string)');
    if (!(await store.findings.get(body.findingId))) return reply.code(404).send({ error: `no finding "${body.findingId}"` });
    try {
      const r = await recordHumanVerdict(store, { findingId: body.findingId, verdict: body.verdict, ...(typeof body.cause === 'string' ? { cause: body.cause } : {}), ...(typeof body.reason === 'string' ? { reason: body.reason } : {}), ...(typeof body.by === 'string' ? { by: body.by } : {}) }, 'dashboard');
      opts.hub?.publish('verdict', r.verdict);
      return reply.code(201).send({ ok: true, verdict: r.verdict, ...(typeof body.cause === 'string' ? { cause: body.cause.trim() } : {}) });
    } catch (e) {
      if (e instanceof SwarmInputError) return badRequest(reply, e.message);
      throw e;
    }
  });

  // Declared changes: a CD pipeline's deploy step or a flag service's webhook posts one change or a list.
  app.post('/api/changes', async (req, reply) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object') return badRequest(reply, 'body must be JSON: a change {service, version} or {service, kind: "config"|"flag", key, value, previous?}, with at? (ISO time or epoch ms), by?, url?, description?; or a list of them');
    try {
      const r = await changeRecord(store, req.body);
      for (const c of r.data.changes) opts.hub?.publish('change', c);
      return reply.code(201).send({ ok: true, recorded: r.data.changes.length, changes: r.data.changes });
    } catch (e) {
      if (e instanceof SwarmInputError) return badRequest(reply, e.message);
      throw e;
    }
  });

  app.get('/api/changes', async (req, reply) => {
    const q = req.query as { service?: string; days?: string };
    const days = q.days === undefined ? 7 : Number(q.days);
    if (!Number.isFinite(days) || days <= 0) return badRequest(reply, `days must be a positive number (got "${q.days}")`);
    return { changes: (await changeList(store, { ...(q.service ? { service: q.service } : {}), days })).data.changes };
  });

  // Maintenance windows: planned work the analysis leaves out, as it does the swarm's own experiments.
  app.post('/api/maintenance', async (req, reply) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) return badRequest(reply, 'body must be JSON: {reason, service?, from? (ISO time, epoch ms or "now"), to or duration ("2h"), by?, url?}');
    try {
      const r = await maintenanceRecord(store, req.body);
      opts.hub?.publish('maintenance', r.data.window);
      return reply.code(201).send({ ok: true, window: r.data.window, covers: r.data.covers });
    } catch (e) {
      if (e instanceof SwarmInputError) return badRequest(reply, e.message);
      throw e;
    }
  });

  app.get('/api/maintenance', async (req, reply) => {
    const q = req.query as { days?: string };
    const days = q.days === undefined ? 7 : Number(q.days);
    if (!Number.isFinite(days) || days <= 0) return badRequest(reply, `days must be a positive number (got "${q.days}")`);
    return { windows: (await maintenanceList(store, { days })).data.windows };
  });

  app.post('/api/maintenance/:id/end', async (req, reply) => {
    try {
      const r = await maintenanceEnd(store, (req.params as { id: string }).id);
      opts.hub?.publish('maintenance', r.data.window);
      return { ok: true, window: r.data.window };
    } catch (e) {
      if (e instanceof SwarmInputError) return reply.code(404).send({ error: e.message });
      throw e;
    }
  });

  app.get('/api/accuracy', async () => ({ accuracy: await agentAccuracy(store) }));

  app.get('/api/graph', async () => {
    const edges = await store.graph.edges({ kind: 'calls' });
    return { edges: edges.map((e) => ({ source: e.source.replace(/^(service|peer):/, ''), target: e.target.replace(/^(service|peer):/, ''), weight: e.weight, props: e.props, firstSeenUs: e.firstSeenUs, lastSeenUs: e.lastSeenUs })) };
  });

  app.get('/api/graph.svg', async (req, reply) => {
    const q = req.query as { highlight?: string };
    const edges = await store.graph.edges({ kind: 'calls' });
    const svg = renderGraphSvg({
      type: 'graph',
      id: 'deps',
      title: 'Service dependency map',
      edges: edges.map((e) => ({ source: e.source.replace(/^(service|peer):/, ''), target: e.target.replace(/^(service|peer):/, ''), errorShare: Number((e.props as { errorShare?: number }).errorShare ?? 0), label: `${e.weight} calls` })),
      highlight: q.highlight ? q.highlight.split(',') : [],
    });
    return reply.type('image/svg+xml').send(svg);
  });

  app.get('/api/patterns', async (req) => {
    const q = req.query as { kind?: string; service?: string; limit?: string };
    const kind = q.kind ?? 'log-template';
    const rows = await store.patterns.list(kind, { service: q.service, limit: Math.min(5000, Number(q.limit ?? 200)) });
    return { kind, patterns: rows };
  });

  app.get('/api/baselines', async (req) => {
    const q = req.query as { service?: string };
    return { services: await readBaselines(store, q.service || undefined) };
  });

  app.get('/api/learnings', async () => ({ learnings: (await store.patterns.list('learning', { limit: 1000 })).map((r) => r.value) }));

  app.get('/api/report', async (_req, reply) => {
    const r = await latestReport(store);
    if (!r) return reply.code(404).send({ error: 'no report yet: run an analysis cycle (tswarm analyze, or POST /api/analyze)' });
    return r.report;
  });

  app.get('/report.html', async (_req, reply) => {
    const r = await latestReport(store);
    if (!r) return reply.code(404).type('text/plain').send('no report yet: run an analysis cycle first');
    return reply.type('text/html; charset=utf-8').send(renderHtmlReport(r.report, { figures: r.figures }));
  });

  app.post('/api/analyze', async (_req, reply) => {
    if (!opts.analyze) return reply.code(501).send({ error: 'this server was started without an analysis fleet' });
    const r = await opts.analyze();
    return reply.code(202).send(r);
  });

  app.get('/api/events', (req, reply) => {
    const hub = opts.hub;
    if (!hub) return reply.code(501).send({ error: 'no event stream on this server' });
    const after = Number(req.headers['last-event-id'] ?? (req.query as { after?: string }).after ?? 0);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (ev: { id: number; type: string; data: unknown; atMs: number }): void => {
      res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify({ atMs: ev.atMs, ...(typeof ev.data === 'object' && ev.data ? ev.data : { value: ev.data }) })}\n\n`);
    };
    for (const ev of hub.recent(after)) send(ev);
    const unsubscribe = hub.subscribe(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    req.raw.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });
}
