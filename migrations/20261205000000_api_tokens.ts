import type { Knex } from 'knex';

/**
 * The agent endpoint's tokens (cos-db token, cos-db serve, cos-db mcp): who may read and who may
 * append, as a ledger table of its own chain ("tokens"), so that creating and revoking a token
 * is on the record and covered by verify and checkpoints like everything else. Only a token's
 * SHA-256 is stored; the token itself is printed once, when it is created.
 *
 * Frozen like the baseline: it imports nothing that can change.
 */
const UP = String.raw`
-- One row per act: 'create' (the agent a token speaks for, its scope, its digest, when it
-- expires) or 'revoke' (the token it ends). A token is valid while it has a 'create' row, no
-- 'revoke' row, and its expiry is in the future.
create table cc.api_tokens (
  token_id text not null,
  action text not null check (action in ('create', 'revoke')),
  agent text not null check (length(agent) between 1 and 200),
  scope text check (scope in ('read', 'append')),
  token_sha256 bytea check (octet_length(token_sha256) = 32),
  expires_at timestamptz,
  done_by text not null,
  done_at timestamptz not null,
  chain text not null,
  seq bigint not null check (seq >= 1),
  prev_hash bytea not null,
  hash bytea not null,
  hash_version smallint not null,
  constraint api_tokens_create_has_digest
    check ((action = 'create') = (token_sha256 is not null and scope is not null)),
  constraint api_tokens_token_action_key unique (token_id, action),
  constraint api_tokens_digest_key unique (token_sha256),
  constraint cc_api_tokens_chain_seq_key unique (chain, seq)
);
comment on table cc.api_tokens is 'Agent endpoint tokens: their SHA-256, agent, scope, creation and revocation (cos-db token).';

create trigger cos_ledger_links after insert on cc.api_tokens
  referencing new table as new_rows for each statement execute function cc.ledger_check_links();
create trigger cos_ledger_no_update_delete before update or delete on cc.api_tokens
  for each row execute function cc.ledger_guard();
create trigger cos_ledger_no_truncate before truncate on cc.api_tokens
  for each statement execute function cc.ledger_guard();
alter table cc.api_tokens enable always trigger cos_ledger_links;
alter table cc.api_tokens enable always trigger cos_ledger_no_update_delete;
alter table cc.api_tokens enable always trigger cos_ledger_no_truncate;
insert into cc.ledger_tables (table_name, action) values ('cc.api_tokens', 'register');
`;

const DOWN = String.raw`
drop table cc.api_tokens;
insert into cc.ledger_tables (table_name, action) values ('cc.api_tokens', 'retire');
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(UP);
}

export async function down(knex: Knex): Promise<void> {
  // Rolling back would erase the record of who could read and write, and who said so.
  const made = await knex.raw<{ rows: unknown[] }>('select 1 from cc.api_tokens limit 1');
  if (made.rows.length > 0)
    throw new Error(
      'cc.api_tokens holds tokens: their creation and revocation are on the record; this migration cannot be rolled back',
    );
  await knex.raw(DOWN);
}
