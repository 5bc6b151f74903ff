import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { mcpServer } from '../mcp/mcpTools.js';
import { usageError } from '../errors.js';
import type { ServerContext } from './context.js';
import { HttpProblem } from './problem.js';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1', '[::1]'];

/** The host names a request may address this server by: a DNS-rebinding page names another. */
function allowedHostnames(boundTo: string): Set<string> {
  return new Set(LOOPBACK.includes(boundTo) ? LOOPBACK : [boundTo, ...LOOPBACK]);
}

const hostnameOf = (host: string) => host.replace(/:\d+$/, '').toLowerCase();

/**
 * MCP over streamable HTTP at /mcp, stateless (a server and a transport per request, so any
 * instance can answer any request). Host and Origin are checked first, as the MCP spec asks of
 * a local server; then the token, as on every route.
 */
export function mcpRoute(app: FastifyInstance, context: ServerContext, boundTo: string): void {
  const allowed = allowedHostnames(boundTo);
  const checkOrigin = (host: string | undefined, origin: string | undefined) => {
    if (host === undefined || !allowed.has(hostnameOf(host)))
      throw new HttpProblem(403, 'forbidden', `Host "${host ?? ''}" is not this server`, 9);
    if (origin !== undefined) {
      let name: string;
      try {
        name = new URL(origin).hostname.toLowerCase();
      } catch {
        name = '';
      }
      if (!allowed.has(name) && !allowed.has(`[${name}]`))
        throw new HttpProblem(403, 'forbidden', `Origin "${origin}" may not call this server`, 9);
    }
  };

  app.post('/mcp', {
    config: { scope: 'read' },
    schema: { hide: true },
    onRequest: async (request) => checkOrigin(request.headers.host, request.headers.origin),
    handler: async (request, reply) => {
      let message: unknown;
      try {
        message = JSON.parse((request.body as Buffer | undefined)?.toString('utf8') ?? '');
      } catch {
        throw usageError('body: not a JSON-RPC message');
      }
      const server = mcpServer({
        knex: context.knex,
        identity: request.identity!,
        append: (events) => context.queue.append(events),
      });
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, message);
    },
  });

  for (const method of ['GET', 'DELETE'] as const)
    app.route({
      method,
      url: '/mcp',
      config: { scope: 'read' },
      schema: { hide: true },
      onRequest: async (request) => checkOrigin(request.headers.host, request.headers.origin),
      handler: async (_request, reply) => {
        reply.header('allow', 'POST');
        throw new HttpProblem(
          405,
          'method not allowed',
          'this MCP endpoint is stateless: POST only',
        );
      },
    });
}
