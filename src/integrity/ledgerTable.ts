import type { Knex } from 'knex';
import { qualified, type QualifiedTable } from './contentColumns.js';

export const GUARD_ROW_TRIGGER = 'cos_ledger_no_update_delete';
export const GUARD_TRUNCATE_TRIGGER = 'cos_ledger_no_truncate';
/** The statement-level trigger that refuses rows which do not extend their chain. */
export const LINKS_TRIGGER = 'cos_ledger_links';

/**
 * The function behind LINKS_TRIGGER, for any ledger table (it names the table it fires on):
 * every row a statement adds must extend its chain — the first at position 1 after the genesis
 * hash, or right after the chain's stored head, each next one right after the row before it,
 * its prev_hash that row's hash. So neither a fork (two rows after the same one) nor a gap can
 * be stored, whoever writes. One sort of the statement's new rows and one index probe per chain
 * touched: far cheaper than UNIQUE(chain, prev_hash), an index over a random key that outgrows
 * memory on a bulk load, and stronger: that constraint let a row skip positions or name a hash
 * that is not its predecessor's. The core's baseline migration holds its own frozen copy.
 */
export const LINKS_FUNCTION_SQL = `
  create or replace function cc.ledger_check_links() returns trigger language plpgsql as $fn$
  declare
    bad record;
  begin
    execute format($q$
      with s as (
        select chain, seq, prev_hash,
               lag(seq) over w as before_seq, lag(hash) over w as before_hash,
               row_number() over w as n
          from new_rows window w as (partition by chain order by seq)
      )
      select s.chain, s.seq from s
       where case
               when s.n > 1 then s.seq <> s.before_seq + 1 or s.prev_hash <> s.before_hash
               when s.seq = 1 then s.prev_hash <> '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
               else s.prev_hash is distinct from
                      (select t.hash from %I.%I t where t.chain = s.chain and t.seq = s.seq - 1)
             end
       limit 1$q$, tg_table_schema, tg_table_name) into bad;
    if bad is not null then
      raise exception 'cos-db: row % of chain % in %.% does not extend its chain (a fork or a gap)',
        bad.seq, bad.chain, tg_table_schema, tg_table_name
        using errcode = 'integrity_constraint_violation',
              hint = 'append through cos-db, which locks the chain and reads its head first';
    end if;
    return null;
  end $fn$`;

/** SQL for the links trigger on a ledger table (the function must exist: LINKS_FUNCTION_SQL). */
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
    LINKS_FUNCTION_SQL,
    ...linksTriggerSql(q),
    ...appendOnlySql(q),
  ];
}

/**
 * For module migrations, and stable across cos-db 1.x: makes a table (created with its content
 * columns) a ledger table — integrity
 * columns, UNIQUE(chain, seq) and the links trigger so neither a fork nor a gap can be stored,
 * guard triggers that refuse UPDATE, DELETE and TRUNCATE — and registers it for `cos-db verify`.
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
