/** `tswarm mcp`: the MCP server over stdio (for Claude Code, Cursor and any MCP client). */
import type { Command } from 'commander';
import { addDbOption } from '../util.js';

export function register(program: Command): void {
  addDbOption(program.command('mcp').description('serve the swarm\'s MCP tools over stdio (fleet_init, defect_predict, root_cause_analyze, pattern_learn, memory_share, …)')).action(async (o: { db: string }) => {
    const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
    const { openStore } = await import('../../../store/open.js');
    const { createSwarm } = await import('../../../agents/feedback/fleet-commander.js');
    const { createMcpServer } = await import('../../mcp/server.js');
    const store = await openStore(o.db);
    const server = createMcpServer(createSwarm(store));
    const transport = new StdioServerTransport();
    const close = async (): Promise<void> => {
      await server.close().catch(() => undefined);
      await store.close();
      process.exit(0);
    };
    transport.onclose = () => void close();
    process.stdin.on('end', () => void close());
    process.once('SIGTERM', () => void close());
    await server.connect(transport);
    // stdout belongs to the protocol; say hello on stderr only.
    process.stderr.write(`tswarm MCP server on stdio (memory: ${o.db})\n`);
    await new Promise(() => undefined);
  });
}
