import type { Knex } from 'knex';
import type { QualifiedTable } from './contentColumns.js';

/** The ledger tables registered in cc.ledger_tables (none before the core is migrated). */
export async function ledgerTables(knex: Knex): Promise<string[]> {
  const exists = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>(
      "select to_regclass('cc.ledger_tables') as t",
    )
  ).rows[0]?.t;
  if (!exists) return [];
  return (
    await knex.raw<{ rows: Array<{ table_name: string }> }>(
      `select table_name from (
         select distinct on (table_name) table_name, action from cc.ledger_tables order by table_name, id desc
       ) latest where action = 'register' order by table_name`,
    )
  ).rows.map((r) => r.table_name);
}

export async function storeOrigin(knex: Knex): Promise<string | null> {
  const exists = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>(
      "select to_regclass('cc.store_identity') as t",
    )
  ).rows[0]?.t;
  if (!exists) return null;
  return (
    (
      await knex.raw<{ rows: Array<{ origin: string }> }>(
        'select origin::text as origin from cc.store_identity limit 1',
      )
    ).rows[0]?.origin ?? null
  );
}

export function splitTable(name: string): QualifiedTable {
  const [schema, table] = name.split('.') as [string, string];
  return { schema, table };
}

/** Whether the store has a table (one a later migration made). */
export async function hasTable(knex: Knex, name: string): Promise<boolean> {
  const rows = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [name])
  ).rows;
  return Boolean(rows[0]?.t);
}

/** Whether the store has the redactions table (migration 20261204000000). */
export const hasRedactions = (knex: Knex) => hasTable(knex, 'cc.redactions');

export const REDACTIONS_CHAIN = 'redactions';
