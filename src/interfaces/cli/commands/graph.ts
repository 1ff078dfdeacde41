/** `tswarm graph deps|impact|export`: the knowledge graph (dependency maps and impact analysis) from memory. */
import type { Command } from 'commander';
import { addDbOption, CliError, commandGroup, parseDurationMs, printJson } from '../util.js';

interface GraphOpts {
  db: string;
  service?: string;
  json?: boolean;
  format?: string;
  window?: string;
  highlight?: string;
}

export function register(program: Command): void {
  const graph = commandGroup(program, 'graph', 'the knowledge graph: dependency maps, impact analysis, export');

  addDbOption(graph.command('deps').description('service call edges from stored traces (source → target, rate, latency, errors)'))
    .option('--service <name>', 'only edges touching this service')
    .option('--window <duration>', 'look back this far from the newest span (default: everything stored)')
    .option('--json', 'print JSON')
    .action(async (opts: GraphOpts) => {
      const { loadDependencyMap } = await import('../graph-data.js');
      const { map } = await loadDependencyMap(opts.db, opts.window ? parseDurationMs(opts.window) : undefined);
      const edges = opts.service ? map.edges.filter((e) => e.source === opts.service || e.target === opts.service) : map.edges;
      if (opts.json) return printJson(edges.map((e) => ({ source: e.source, target: e.target, kind: e.kind, calls: e.calls, errors: e.errors, errorShare: e.calls ? e.errors / e.calls : 0, meanLatencyMs: e.calls ? e.durationSumUs / e.calls / 1000 : 0 })));
      if (!edges.length) {
        process.stdout.write('no call edges stored (ingest traces first)\n');
        return;
      }
      for (const e of edges) {
        const ms = e.calls ? e.durationSumUs / e.calls / 1000 : 0;
        process.stdout.write(`${e.source} → ${e.target}  ${e.kind}  ${e.calls} calls  ${ms.toFixed(1)} ms mean  ${((100 * e.errors) / Math.max(1, e.calls)).toFixed(1)}% errors\n`);
      }
    });

  addDbOption(graph.command('impact <node>').description('blast radius of a service or dependency: dependents and user-facing operations with traffic shares'))
    .option('--window <duration>', 'look back this far from the newest span')
    .option('--json', 'print JSON')
    .action(async (node: string, opts: GraphOpts) => {
      const { loadDependencyMap } = await import('../graph-data.js');
      const { impactFromTraces } = await import('../../../algorithms/graph/impact.js');
      const { map, spans } = await loadDependencyMap(opts.db, opts.window ? parseDurationMs(opts.window) : undefined);
      const known = new Set(map.edges.flatMap((e) => [e.source, e.target]).concat(map.services));
      if (!known.has(node)) throw new CliError(`unknown node "${node}": known are ${[...known].sort().join(', ') || '(none — ingest traces first)'}`, 2);
      const impact = impactFromTraces(spans, map.edges, node);
      if (opts.json) return printJson(impact);
      process.stdout.write(`impact of ${node} (${impact.basis})\n`);
      process.stdout.write(`  direct dependents:     ${impact.directDependents.join(', ') || '-'}\n`);
      process.stdout.write(`  transitive dependents: ${impact.transitiveDependents.join(', ') || '-'}\n`);
      process.stdout.write(`  depends on:            ${impact.dependencies.join(', ') || '-'}\n`);
      process.stdout.write('  user-facing operations:\n');
      for (const op of impact.userFacing) process.stdout.write(`    ${op.service} ${op.operation}: ${(100 * op.share).toFixed(1)}% of ${op.calls} requests reach ${node}\n`);
    });

  addDbOption(graph.command('export').description('dependency map as DOT, Mermaid or JSON'))
    .option('--format <fmt>', 'dot | mermaid | json', 'mermaid')
    .option('--highlight <nodes>', 'comma-separated nodes to highlight (e.g. the culprit)')
    .option('--window <duration>', 'look back this far from the newest span')
    .action(async (opts: GraphOpts) => {
      const fmt = opts.format ?? 'mermaid';
      if (!['dot', 'mermaid', 'json'].includes(fmt)) throw new CliError(`unknown format "${fmt}" (dot, mermaid or json)`, 2);
      const { loadDependencyMap } = await import('../graph-data.js');
      const { renderGraph } = await import('../../../algorithms/graph/export.js');
      const { map } = await loadDependencyMap(opts.db, opts.window ? parseDurationMs(opts.window) : undefined);
      process.stdout.write(renderGraph(map.edges, fmt as 'dot' | 'mermaid' | 'json', opts.highlight ? opts.highlight.split(',') : []) + '\n');
    });
}
