import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Knex } from 'knex';
import { archiveNormalizedEvents } from '../events/archiveEvents.js';
import type { NormalizedEvent } from '../events/eventSchema.js';
import type { Identity } from '../tokens/apiTokens.js';
import { mcpServer } from './mcpTools.js';

/** Where each appended event is, and whether this call stored it. */
async function appendDirect(knex: Knex, events: NormalizedEvent[]) {
  const written = await archiveNormalizedEvents(knex, events, { label: 'event' });
  const fresh = new Set(written.ids ?? []);
  const rows = (
    await knex.raw<{ rows: Array<{ event_id: string; chain: string; seq: string; hash: string }> }>(
      `select event_id, chain, seq::text as seq, encode(hash, 'hex') as hash
         from cc.events where event_id = any(?)`,
      [events.map((e) => e.event_id)],
    )
  ).rows;
  return rows.map((r) => ({
    ...r,
    status: fresh.has(r.event_id) ? 'archived' : 'already_archived',
  }));
}

/** Serves the MCP tools on stdin and stdout until the client closes stdin. */
export async function serveStdio(knex: Knex, identity: Identity): Promise<void> {
  const server = mcpServer({ knex, identity, append: (events) => appendDirect(knex, events) });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
