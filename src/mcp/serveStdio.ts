import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Knex } from 'knex';
import { AppendQueue } from '../events/appendQueue.js';
import type { Identity } from '../tokens/apiTokens.js';
import { mcpServer } from './mcpTools.js';

/** Serves the MCP tools on stdin and stdout until the client closes stdin. */
export async function serveStdio(knex: Knex, identity: Identity): Promise<void> {
  // The endpoint's append path: a client's concurrent calls share a transaction, and each is
  // answered once it is on disk.
  const queue = new AppendQueue(knex, 10_000);
  const server = mcpServer({ knex, identity, append: (events) => queue.append(events) });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
  await queue.idle();
}
