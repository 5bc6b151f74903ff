import type { Knex } from 'knex';
import { quoteIdent } from '../db/quoteIdent.js';

/** Where one schema's migration history lives: the core in public (Knex's default), a module in its own schema. */
export type HistoryScope = {
  /** The module, or null for the core. */
  module: string | null;
  /** The schema holding knex_migrations and its companions. */
  schema: string;
  /** The folder of migration files. */
  dir: string;
};

export const CHECKSUM_TABLE = 'cos_db_migration_checksums';

export type AppliedMigration = {
  name: string;
  batch: number;
  migrationTime: Date;
  sha256: string | null;
};

export function table(scope: HistoryScope, name: string): string {
  return `${quoteIdent(scope.schema)}.${quoteIdent(name)}`;
}

/**
 * Creates Knex's own tables exactly as Knex does (so plain Knex reads and writes the same
 * history) and cos-db's checksum table beside them.
 */
export async function ensureHistoryTables(knex: Knex, scope: HistoryScope): Promise<void> {
  await knex.raw(`
    create table if not exists ${table(scope, 'knex_migrations')} (
      id serial primary key, name varchar(255), batch integer, migration_time timestamptz);
    create table if not exists ${table(scope, 'knex_migrations_lock')} (
      index serial primary key, is_locked integer);
    create table if not exists ${table(scope, CHECKSUM_TABLE)} (
      name varchar(255) primary key,
      sha256 char(64) not null,
      applied_at timestamptz not null default now(),
      applied_by text not null default current_user)`);
  await knex.raw(
    `insert into ${table(scope, 'knex_migrations_lock')} (is_locked)
     select 0 where not exists (select 1 from ${table(scope, 'knex_migrations_lock')})`,
  );
}

export async function historyExists(knex: Knex, scope: HistoryScope): Promise<boolean> {
  const rows = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [
      `${quoteIdent(scope.schema)}.knex_migrations`,
    ])
  ).rows;
  return rows[0]?.t !== null && rows[0]?.t !== undefined;
}

export async function readApplied(knex: Knex, scope: HistoryScope): Promise<AppliedMigration[]> {
  if (!(await historyExists(knex, scope))) return [];
  const hasChecksums = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [
      `${quoteIdent(scope.schema)}.${CHECKSUM_TABLE}`,
    ])
  ).rows[0]?.t;
  const rows = (
    await knex.raw<{
      rows: Array<{ name: string; batch: number; migration_time: Date; sha256: string | null }>;
    }>(
      hasChecksums
        ? `select m.name, m.batch, m.migration_time, c.sha256
             from ${table(scope, 'knex_migrations')} m
             left join ${table(scope, CHECKSUM_TABLE)} c on c.name = m.name
            order by m.id`
        : `select name, batch, migration_time, null as sha256 from ${table(scope, 'knex_migrations')} order by id`,
    )
  ).rows;
  return rows.map((r) => ({
    name: r.name,
    batch: r.batch,
    migrationTime: r.migration_time,
    sha256: r.sha256,
  }));
}

/** Clears a knex_migrations_lock row left set by a plain Knex run that died. True if it was set. */
export async function clearKnexLock(knex: Knex, scope: HistoryScope): Promise<boolean> {
  if (!(await historyExists(knex, scope))) return false;
  const result = await knex.raw<{ rowCount: number }>(
    `update ${table(scope, 'knex_migrations_lock')} set is_locked = 0 where is_locked <> 0`,
  );
  return (result.rowCount ?? 0) > 0;
}
