import type { Knex } from 'knex';
import { dropLedgerTable, makeLedgerTable } from '../src/integrity/ledgerTable.js';

/** Links from an L4 record (an event, or a PRD version as prd:ID@VERSION) to an entry in L3. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table cc.memory_links (
      link_id text not null,
      ref text not null,
      ref_kind text not null check (ref_kind in ('event', 'prd')),
      l3_ref text not null check (length(l3_ref) between 1 and 2000),
      relation text not null check (length(relation) between 1 and 200),
      created_by text not null,
      created_at timestamptz not null,
      constraint memory_links_link_id_key unique (link_id)
    );
    create index memory_links_ref_idx on cc.memory_links (ref);
    create index memory_links_l3_idx on cc.memory_links (l3_ref);
  `);
  await makeLedgerTable(knex, { schema: 'cc', table: 'memory_links' });
}

export async function down(knex: Knex): Promise<void> {
  await dropLedgerTable(knex, { schema: 'cc', table: 'memory_links' });
}
