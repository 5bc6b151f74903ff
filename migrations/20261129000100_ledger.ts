import type { Knex } from 'knex';
import { appendOnlySql } from '../src/integrity/ledgerTable.js';

/**
 * The ledger's foundations: the guard function every ledger table's triggers call, the registry
 * of ledger tables that `cos-db verify` walks (itself append-only), and the store's identity,
 * which signed checkpoints name so a checkpoint cannot be checked against another database.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function cc.ledger_guard() returns trigger language plpgsql as $$
    begin
      raise exception 'cos-db: %.% is append-only; % is not allowed', tg_table_schema, tg_table_name, tg_op
        using errcode = 'insufficient_privilege',
              hint = 'ledger rows are never changed or removed; archive a new version instead';
    end $$;

    -- Append-only like the tables it lists: a table is registered, and retired when a
    -- migration is rolled back; verify walks those whose latest entry is a registration.
    create table cc.ledger_tables (
      id bigint generated always as identity primary key,
      table_name text not null,
      action text not null default 'register' check (action in ('register', 'retire')),
      at timestamptz not null default now()
    );
    create table cc.store_identity (
      origin uuid primary key default gen_random_uuid(),
      created_at timestamptz not null default now()
    );
    insert into cc.store_identity default values;
  `);
  for (const table of ['cc.ledger_tables', 'cc.store_identity']) {
    for (const statement of appendOnlySql(table)) await knex.raw(statement);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'drop table cc.store_identity; drop table cc.ledger_tables; drop function cc.ledger_guard();',
  );
}
