/**
 * Call-edge metrics → per-service indicator series. Service meshes (Istio, Linkerd) and Nezha's collector export
 * the latency of every caller→callee edge twice: as the caller sees it (client side, includes the network) and
 * as the callee sees it (server side). Three things follow, each charged to the service it points at:
 *  - `edge-in-latency:<caller>` on the callee: its response time as its caller sees it. A slow callee slows this
 *    edge; a slow grand-callee slows it too, which the victim discount (metrics.ts topologyAdjust) handles;
 *  - `edge-net-latency:<caller>` on the callee: client-side over server-side latency (≥ 1), the share of time spent
 *    between the two pods. It rises when the callee's network is delayed while none of its own metrics move — the
 *    signature of a network fault that pod metrics alone cannot see (MicroRCA / Nezha use the same pair);
 *  - `edge-calls:<callee>` on the caller: 1 when the edge carried calls in a time step, 0 when it fell silent.
 *    A service that returns early or throws stops calling its callees: the change belongs to the caller.
 */
import { appendPoint as put, type Series, type ServiceSeries } from './metrics.js';

export interface EdgeLatency {
  caller: string;
  callee: string;
  /** Caller-side latency; NaN where the edge carried no calls. Same time axis as `server`. */
  client: Series;
  /** Callee-side latency on the same time axis, when exported. */
  server?: Series;
}

export function edgeIndicators(edges: readonly EdgeLatency[]): ServiceSeries {
  const out: ServiceSeries = new Map();
  for (const e of edges) {
    if (e.caller === e.callee) continue;
    const server = new Map<number, number>();
    if (e.server) e.server.t.forEach((t, i) => server.set(t, e.server!.v[i]!));
    for (let i = 0; i < e.client.t.length; i++) {
      const t = e.client.t[i]!;
      const c = e.client.v[i]!;
      const present = Number.isFinite(c);
      put(out, e.caller, `edge-calls:${e.callee}`, t, present ? 1 : 0);
      if (!present) continue;
      put(out, e.callee, `edge-in-latency:${e.caller}`, t, c);
      const s = server.get(t);
      // As a ratio, so the robust scorer's relative floor applies (a difference sits near 0, where any jitter
      // would look huge).
      if (s !== undefined && Number.isFinite(s) && s > 0) put(out, e.callee, `edge-net-latency:${e.caller}`, t, Math.max(1, c / s));
    }
  }
  return out;
}
