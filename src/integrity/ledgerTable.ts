import type { Knex } from 'knex';
import { qualified, type QualifiedTable } from './contentColumns.js';

export const GUARD_ROW_TRIGGER = 'cos_ledger_no_update_delete';
export const GUARD_TRUNCATE_TRIGGER = 'cos_ledger_no_truncate';

/**
 * SQL for the guards alone: triggers that refuse UPDATE, DELETE (row) and TRUNCATE (statement),
 * ENABLE ALWAYS so session_replication_role = replica cannot skip them. For tables that are
 * append-only without a hash chain (registries, lineage edges) as much as for ledger tables.
 */
export function appendOnlySql(table: string): string[] {
  return [
    `create trigger ${GUARD_ROW_TRIGGER} before update or delete on ${table}
       for each row execute function cc.ledger_guard()`,
    `create trigger ${GUARD_TRUNCATE_TRIGGER} before truncate on ${table}
       for each statement execute function cc.ledger_guard()`,
    `alter table ${table} enable always trigger ${GUARD_ROW_TRIGGER}`,
    `alter table ${table} enable always trigger ${GUARD_TRUNCATE_TRIGGER}`,
  ];
}

/** SQL that makes an existing table a ledger table. Pure, so it can be read and tested as text. */
export function ledgerTableSql(t: QualifiedTable): string[] {
  const q = qualified(t);
  const base = `${t.schema}_${t.table}`.slice(0, 40);
  return [
    `alter table ${q}
       add column chain text not null,
       add column seq bigint not null check (seq >= 1),
       add column prev_hash char(64) not null,
       add column hash char(64) not null,
       add column hash_version smallint not null,
       add constraint "${base}_chain_seq_key" unique (chain, seq),
       add constraint "${base}_chain_prev_key" unique (chain, prev_hash)`,
    ...appendOnlySql(q),
  ];
}

/**
 * For migrations: makes a table (created with its content columns) a ledger table — integrity
 * columns, UNIQUE(chain, seq) and UNIQUE(chain, prev_hash) so a fork can never be stored, guard
 * triggers that refuse UPDATE, DELETE and TRUNCATE — and registers it for `cos-db verify`.
 */
export async function makeLedgerTable(knex: Knex, t: QualifiedTable): Promise<void> {
  for (const statement of ledgerTableSql(t)) await knex.raw(statement);
  await knex.raw("insert into cc.ledger_tables (table_name, action) values (?, 'register')", [
    `${t.schema}.${t.table}`,
  ]);
}

/** For down migrations: drops a ledger table and records it as retired, so verify stops expecting it. */
export async function dropLedgerTable(knex: Knex, t: QualifiedTable): Promise<void> {
  await knex.raw(`drop table ${qualified(t)}`);
  await knex.raw("insert into cc.ledger_tables (table_name, action) values (?, 'retire')", [
    `${t.schema}.${t.table}`,
  ]);
}
