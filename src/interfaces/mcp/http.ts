/**
 * MCP over Streamable HTTP at `/mcp`, mounted on the `tswarm serve` server. Stateless: each POST gets a fresh
 * server + transport (the SDK's recommended stateless pattern), so no session state leaks between clients and
 * a crashed request cannot poison others. Bearer auth as for the rest of the server.
 */
import type { FastifyInstance } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { SwarmApi } from '../../agents/feedback/swarm-api.js';
import { authorised } from '../http/auth.js';
import { createMcpServer } from './server.js';

export async function registerMcpHttp(app: FastifyInstance, opts: { api: SwarmApi; token?: string; path?: string }): Promise<void> {
  const path = opts.path ?? '/mcp';
  app.post(path, async (req, reply) => {
    if (!authorised(req.raw, opts.token)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ jsonrpc: '2.0', error: { code: -32001, message: 'missing or wrong bearer token' }, id: null });
    }
    reply.hijack();
    const server = createMcpServer(opts.api);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (e) {
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: e instanceof Error ? e.message : String(e) }, id: null }));
      }
    }
  });
  // Stateless server: no server-initiated stream, no sessions to delete.
  const notAllowed = async (_req: unknown, reply: import('fastify').FastifyReply): Promise<void> => {
    await reply.code(405).header('allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless, use POST' }, id: null });
  };
  app.get(path, notAllowed);
  app.delete(path, notAllowed);
}
