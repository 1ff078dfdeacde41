/** Renders a dependency map as Graphviz DOT, Mermaid or JSON, optionally highlighting nodes (e.g. the culprit). */
import type { CallEdge } from './dependency-map.js';

export type GraphFormat = 'dot' | 'mermaid' | 'json';

const safeId = (s: string): string => 'n_' + s.replace(/[^A-Za-z0-9_]/g, '_');
const pct = (x: number): string => `${(100 * x).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;

function edgeLabel(e: CallEdge): string {
  const meanMs = e.calls ? e.durationSumUs / e.calls / 1000 : 0;
  return `${e.calls} calls, ${meanMs.toFixed(1)} ms, ${pct(e.calls ? e.errors / e.calls : 0)} err`;
}

export function renderGraph(edges: CallEdge[], format: GraphFormat, highlight: string[] = []): string {
  const nodes = [...new Set(edges.flatMap((e) => [e.source, e.target]))].sort();
  const hi = new Set(highlight);
  if (format === 'json') {
    return JSON.stringify({ nodes: nodes.map((id) => ({ id, highlighted: hi.has(id) })), edges }, null, 2);
  }
  if (format === 'dot') {
    const lines = ['digraph dependencies {', '  rankdir=LR;', '  node [shape=box, style="rounded"];'];
    for (const n of nodes) {
      const attrs = hi.has(n) ? ', style="rounded,filled", fillcolor="#F44336", fontcolor="white"' : '';
      lines.push(`  ${safeId(n)} [label=${JSON.stringify(n)}${attrs}];`);
    }
    for (const e of edges) lines.push(`  ${safeId(e.source)} -> ${safeId(e.target)} [label=${JSON.stringify(edgeLabel(e))}];`);
    lines.push('}');
    return lines.join('\n');
  }
  const lines = ['flowchart LR'];
  for (const n of nodes) lines.push(`  ${safeId(n)}["${n.replace(/"/g, "'")}"]`);
  for (const e of edges) lines.push(`  ${safeId(e.source)} -->|"${edgeLabel(e)}"| ${safeId(e.target)}`);
  for (const n of nodes) if (hi.has(n)) lines.push(`  style ${safeId(n)} fill:#F44336,color:#fff`);
  return lines.join('\n');
}
