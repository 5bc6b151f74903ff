import type { Knex } from 'knex';
import { qualified, type QualifiedTable } from './contentColumns.js';

export const GUARD_ROW_TRIGGER = 'cos_ledger_no_update_delete';
export const GUARD_TRUNCATE_TRIGGER = 'cos_ledger_no_truncate';
/** The statement-level trigger that refuses rows which do not extend their chain. */
export const LINKS_TRIGGER = 'cos_ledger_links';
/** The statement-level trigger that keeps each chain's Merkle tree tiles (migration 20261208000000). */
export const MERKLE_TRIGGER = 'cos_merkle';

/** SQL for the Merkle trigger on a ledger table; its function is the core schema's. */
export function merkleTriggerSql(table: string): string[] {
  return [
    `create trigger ${MERKLE_TRIGGER} after insert on ${table}
       referencing new table as new_rows for each statement execute function cc.merkle_append()`,
    `alter table ${table} enable always trigger ${MERKLE_TRIGGER}`,
  ];
}

/**
 * SQL for the links trigger on a ledger table: every row a statement adds must extend its chain,
 * so neither a fork nor a gap can be stored. Its function, cc.ledger_check_links(), is the core
 * schema's (the baseline migration), shared by every ledger table.
 */
export function linksTriggerSql(table: string): string[] {
  return [
    `create trigger ${LINKS_TRIGGER} after insert on ${table}
       referencing new table as new_rows for each statement execute function cc.ledger_check_links()`,
    `alter table ${table} enable always trigger ${LINKS_TRIGGER}`,
  ];
}

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

/** How a ledger table's integrity constraints are named: "<prefix>_chain_seq_key". */
export function constraintPrefix(t: QualifiedTable): string {
  return `${t.schema}_${t.table}`.slice(0, 40);
}

/** SQL that makes an existing table a ledger table. Pure, so it can be read and tested as text. */
export function ledgerTableSql(t: QualifiedTable): string[] {
  const q = qualified(t);
  const base = constraintPrefix(t);
  return [
    `alter table ${q}
       add column chain text not null,
       add column seq bigint not null check (seq >= 1),
       add column prev_hash bytea not null,
       add column hash bytea not null,
       add column hash_version smallint not null,
       add constraint "${base}_chain_seq_key" unique (chain, seq)`,
    ...linksTriggerSql(q),
    ...merkleTriggerSql(q),
    ...appendOnlySql(q),
  ];
}

/**
 * For module migrations, and stable across cos-db 1.x: makes a table (created with its content
 * columns) a ledger table — integrity
 * columns, UNIQUE(chain, seq) and the links trigger so neither a fork nor a gap can be stored,
 * guard triggers that refuse UPDATE, DELETE and TRUNCATE, the trigger that keeps its chains' Merkle
 * trees (cos-db prove) — and registers it for `cos-db verify`.
 * A content column X with a bytea column X_salt beside it is hashed as a salted commitment
 * (sha256(X_salt || canonical JSON of X)), so its value can be erased with the proof kept.
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
