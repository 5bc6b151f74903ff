import type { Knex } from 'knex';
import { dropLedgerTable, makeLedgerTable } from '../src/integrity/ledgerTable.js';

/**
 * PRD versions: the PRD evolution log. Each archived text is a ledger row of chain "prd" —
 * one chain, so removing a whole PRD still breaks it — numbered 1, 2, 3 … per prd_id.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table cc.prd_versions (
      prd_id text not null check (prd_id ~ '^[a-z0-9][a-z0-9._-]*$' and length(prd_id) <= 200),
      version integer not null check (version >= 1),
      title text not null,
      status text,
      front_matter jsonb not null,
      content text not null,
      content_sha256 char(64) not null,
      size_bytes integer not null,
      source_path text,
      message text,
      archived_by text not null,
      archived_at timestamptz not null,
      constraint prd_versions_prd_version_key unique (prd_id, version)
    );
    create index prd_versions_sha_idx on cc.prd_versions (content_sha256);
    create index prd_versions_archived_at_idx on cc.prd_versions (archived_at);
    comment on table cc.prd_versions is 'PRD versions, content byte for byte (cos-db archive prd).';
  `);
  await makeLedgerTable(knex, { schema: 'cc', table: 'prd_versions' });
}

export async function down(knex: Knex): Promise<void> {
  await dropLedgerTable(knex, { schema: 'cc', table: 'prd_versions' });
}
