/**
 * Layered layout of a call graph (Sugiyama-style, reduced to what a service map needs): callers left, callees
 * right, one column per longest-path depth, rows ordered by the barycentre of each node's callers so edges
 * cross less. Written by hand because the graph libraries that do this (dagre, elk) are large for a report that
 * must stay one self-contained file, and a service map has tens of nodes, not thousands.
 */

export interface LaidOutNode {
  id: string;
  layer: number;
  row: number;
  x: number;
  y: number;
}

export interface Layout {
  nodes: LaidOutNode[];
  width: number;
  height: number;
}

export function layeredLayout(edges: readonly { source: string; target: string }[], opts: { colWidth?: number; rowHeight?: number; margin?: number } = {}): Layout {
  const colWidth = opts.colWidth ?? 190;
  const rowHeight = opts.rowHeight ?? 56;
  const margin = opts.margin ?? 20;
  const ids = [...new Set(edges.flatMap((e) => [e.source, e.target]))].sort();
  const out = new Map<string, string[]>();
  const inn = new Map<string, string[]>();
  for (const id of ids) {
    out.set(id, []);
    inn.set(id, []);
  }
  for (const e of edges) {
    if (e.source === e.target) continue;
    out.get(e.source)!.push(e.target);
    inn.get(e.target)!.push(e.source);
  }
  // Break cycles: DFS from roots (then from any unvisited), dropping back edges.
  const state = new Map<string, 0 | 1 | 2>();
  const dag = new Map<string, string[]>(ids.map((id) => [id, []]));
  const visit = (start: string): void => {
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      const next = out.get(n)!;
      if (i >= next.length) {
        state.set(n, 2);
        stack.pop();
        continue;
      }
      top[1] = i + 1;
      const m = next[i]!;
      const s = state.get(m) ?? 0;
      if (s === 1) continue; // back edge
      dag.get(n)!.push(m);
      if (s === 0) {
        state.set(m, 1);
        stack.push([m, 0]);
      }
    }
  };
  for (const id of ids) if (!inn.get(id)!.length && !state.get(id)) visit(id);
  for (const id of ids) if (!state.get(id)) visit(id);
  // Longest-path layering over the DAG (Kahn order).
  const indeg = new Map(ids.map((id) => [id, 0]));
  for (const [, ts] of dag) for (const t of ts) indeg.set(t, indeg.get(t)! + 1);
  const layer = new Map(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indeg.get(id) === 0);
  while (queue.length) {
    const n = queue.shift()!;
    for (const t of dag.get(n)!) {
      layer.set(t, Math.max(layer.get(t)!, layer.get(n)! + 1));
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) queue.push(t);
    }
  }
  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id)!] ??= []).push(id);
  const rowOf = new Map<string, number>();
  layers.forEach((ls, li) => {
    if (li > 0) {
      const bary = (id: string): number => {
        const ps = inn.get(id)!.filter((p) => rowOf.has(p));
        return ps.length ? ps.reduce((a, p) => a + rowOf.get(p)!, 0) / ps.length : Number.MAX_SAFE_INTEGER;
      };
      ls.sort((a, b) => bary(a) - bary(b) || a.localeCompare(b));
    }
    ls.forEach((id, r) => rowOf.set(id, r));
  });
  const maxRows = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const height = margin * 2 + maxRows * rowHeight;
  const nodes: LaidOutNode[] = [];
  layers.forEach((ls, li) => {
    const offset = ((maxRows - ls.length) * rowHeight) / 2;
    ls.forEach((id, r) => nodes.push({ id, layer: li, row: r, x: margin + li * colWidth, y: margin + offset + r * rowHeight }));
  });
  return { nodes, width: margin * 2 + Math.max(1, layers.length) * colWidth, height };
}
