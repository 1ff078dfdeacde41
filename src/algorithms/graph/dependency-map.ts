/**
 * Dependency maps from spans: service → service and operation → operation call edges with rate, latency and
 * error share per edge, plus databases/queues/external hosts named by span attributes (OTel semantic
 * conventions). Pure: spans in, edges out, so it runs the same on stored telemetry and on recorded cases.
 *
 * An edge caller → callee is seen when a span of service B has a parent span of service A (the usual
 * client-span → server-span hop), or when a CLIENT/PRODUCER span names a peer that sends no telemetry of its
 * own (a database, a queue, an uninstrumented HTTP host).
 *
 * A client span whose callee's span is missing (not exported yet at the window's end, sampled out, lost) is still a
 * call to that callee when its address is known: the address other client spans to it resolved to, through their
 * callee's span, names one service. Without this a window's last calls showed as calls to "external" hosts such as
 * 127.0.0.1:34705 beside the service behind that address. An address that leads to several services (a gateway, a
 * load balancer) stays a host.
 */
import type { Span } from '../../signals/model.js';

export interface CallEdge {
  source: string;
  target: string;
  kind: 'calls' | 'db' | 'messaging' | 'external';
  calls: number;
  errors: number;
  /** Sum of the callee-side (or client-side for uninstrumented peers) durations in µs. */
  durationSumUs: number;
  /** Example operation pairs `callerOp -> calleeOp` with their call counts. */
  operations: Record<string, number>;
  firstUs: number;
  lastUs: number;
}

export interface DependencyMap {
  services: string[];
  edges: CallEdge[];
  /** Entry points: operations of server spans without a parent in another service (user-facing operations). */
  entryOperations: { service: string; operation: string; calls: number }[];
}

function strAttr(span: Span, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = span.attributes[k];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return undefined;
}

/** The peer named by a client span that has no instrumented child: db system/name, messaging system, host. */
function uninstrumentedPeer(span: Span): { target: string; kind: CallEdge['kind'] } | undefined {
  const db = strAttr(span, 'db.system.name', 'db.system');
  if (db) {
    const name = strAttr(span, 'db.namespace', 'db.name');
    return { target: name ? `${db}:${name}` : db, kind: 'db' };
  }
  const mq = strAttr(span, 'messaging.system');
  if (mq) {
    const dest = strAttr(span, 'messaging.destination.name', 'messaging.destination');
    return { target: dest ? `${mq}:${dest}` : mq, kind: 'messaging' };
  }
  const host = strAttr(span, 'server.address', 'net.peer.name', 'http.host');
  if (host) {
    const port = span.attributes['server.port'] ?? span.attributes['net.peer.port'];
    return { target: port !== undefined ? `${host}:${String(port)}` : host, kind: 'external' };
  }
  return undefined;
}

export function buildDependencyMap(spans: Iterable<Span>): DependencyMap {
  const byId = new Map<string, Span>();
  const all: Span[] = [];
  for (const s of spans) {
    byId.set(s.spanId, s);
    all.push(s);
  }
  const edges = new Map<string, CallEdge>();
  const services = new Set<string>();
  const hasInstrumentedChild = new Set<string>();
  const entries = new Map<string, { service: string; operation: string; calls: number }>();
  /** The service behind each address, learned from client spans whose callee's span is here (null: several). */
  const behind = new Map<string, string | null>();

  const touch = (source: string, target: string, kind: CallEdge['kind'], span: Span, op: string): void => {
    const key = `${source}\u0000${target}\u0000${kind}`;
    let e = edges.get(key);
    if (!e) {
      e = { source, target, kind, calls: 0, errors: 0, durationSumUs: 0, operations: {}, firstUs: span.startUs, lastUs: span.startUs };
      edges.set(key, e);
    }
    e.calls++;
    if (span.status.code === 2) e.errors++;
    e.durationSumUs += Math.max(0, span.endUs - span.startUs);
    e.operations[op] = (e.operations[op] ?? 0) + 1;
    if (span.startUs < e.firstUs) e.firstUs = span.startUs;
    if (span.startUs > e.lastUs) e.lastUs = span.startUs;
  };

  for (const s of all) {
    services.add(s.service);
    const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (parent) {
      hasInstrumentedChild.add(parent.spanId);
      if (parent.service !== s.service) {
        // Walk up to the caller's nearest server/internal span name for a readable operation pair.
        touch(parent.service, s.service, 'calls', s, `${parent.name} -> ${s.name}`);
        const peer = parent.kind === 3 || parent.kind === 4 ? uninstrumentedPeer(parent) : undefined;
        if (peer?.kind === 'external') {
          const was = behind.get(peer.target);
          behind.set(peer.target, was === undefined || was === s.service ? s.service : null);
        }
      }
    }
    const isEntry = (s.kind === 2 || s.kind === 5) && (!parent || parent.service === s.service) && !s.parentSpanId;
    const remoteParentUnknown = (s.kind === 2 || s.kind === 5) && s.parentSpanId !== undefined && !parent;
    if (isEntry || remoteParentUnknown) {
      const k = `${s.service}\u0000${s.name}`;
      const cur = entries.get(k) ?? { service: s.service, operation: s.name, calls: 0 };
      cur.calls++;
      entries.set(k, cur);
    }
  }
  for (const s of all) {
    if ((s.kind === 3 || s.kind === 4) && !hasInstrumentedChild.has(s.spanId)) {
      const peer = uninstrumentedPeer(s);
      if (!peer || services.has(peer.target)) continue;
      const callee = peer.kind === 'external' ? behind.get(peer.target) : undefined;
      if (callee) touch(s.service, callee, 'calls', s, `${s.name} -> ?`);
      else touch(s.service, peer.target, peer.kind, s, s.name);
    }
  }
  return {
    services: [...services].sort(),
    edges: [...edges.values()].sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target)),
    entryOperations: [...entries.values()].sort((a, b) => b.calls - a.calls),
  };
}
