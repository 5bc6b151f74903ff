import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { Database } from '../db/withDatabase.js';
import { isDuplicateSchema, isUniqueViolation } from '../db/databaseError.js';
import { CosError, ExitCode, notFoundError, usageError } from '../errors.js';
import { withAdvisoryLock } from '../db/advisoryLock.js';
import { CHECKSUM_TABLE, ensureHistoryTables } from '../migrations/historyTables.js';
import { scopeStatus } from '../migrations/migrationStatus.js';
import { lockName } from '../migrations/runMigrations.js';
import { coreInstalled, moduleScope, registeredModules } from '../migrations/scopes.js';
import { quoteIdent } from '../db/quoteIdent.js';
import { validateModuleName } from '../migrations/moduleName.js';

const BOOKKEEPING = ['knex_migrations', 'knex_migrations_lock', CHECKSUM_TABLE];

async function requireCore(knex: Knex): Promise<void> {
  if (!(await coreInstalled(knex))) {
    throw new CosError(ExitCode.drift, 'the core schema (cc) is not installed in this database', {
      hint: 'run `cos-db migrate` first',
    });
  }
}

async function userTables(knex: Knex, schema: string): Promise<string[]> {
  const rows = (
    await knex.raw<{ rows: Array<{ name: string }> }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ? and c.relkind in ('r', 'p', 'v', 'm', 'f') and c.relname <> all(?) order by 1`,
      [schema, BOOKKEEPING],
    )
  ).rows;
  return rows.map((r) => r.name);
}

export type CreatedModule = { module: string; schema: string; migrations_dir: string };

/** Creates the module's schema, registers it, and gives it its own migration history and folder. */
export async function createModule(
  db: Database,
  options: {
    name: string;
    description?: string | undefined;
    actor: string;
    migrationsDir: string;
    lockTimeoutMs: number;
  },
): Promise<CreatedModule> {
  const name = validateModuleName(options.name);
  const { knex } = db;
  await requireCore(knex);
  const scope = moduleScope(options.migrationsDir, name);
  await withAdvisoryLock(db, lockName(scope), options.lockTimeoutMs, async () => {
    try {
      await knex.transaction(async (trx) => {
        const exists =
          (
            await trx.raw<{ rows: unknown[] }>('select 1 from pg_namespace where nspname = ?', [
              name,
            ])
          ).rows.length > 0;
        if (exists) {
          const registered =
            (await trx.raw<{ rows: unknown[] }>('select 1 from cc.modules where name = ?', [name]))
              .rows.length > 0;
          throw new CosError(
            ExitCode.integrity,
            registered
              ? `module "${name}" already exists`
              : `schema "${name}" already exists and is not a cos-db module`,
            { hint: registered ? 'see `cos-db schema list`' : 'choose another module name' },
          );
        }
        await trx.raw(`create schema ${quoteIdent(name)}`);
        await trx.raw('insert into cc.modules (name, description, created_by) values (?, ?, ?)', [
          name,
          options.description ?? '',
          options.actor,
        ]);
        await ensureHistoryTables(trx, scope);
      });
    } catch (error) {
      if (isUniqueViolation(error) || isDuplicateSchema(error)) {
        throw new CosError(ExitCode.integrity, `module "${name}" already exists`, { cause: error });
      }
      throw error;
    }
  });
  if (!existsSync(scope.dir)) {
    mkdirSync(scope.dir, { recursive: true });
    writeFileSync(join(scope.dir, '.gitkeep'), '');
  }
  return { module: name, schema: name, migrations_dir: scope.dir };
}

export type ModuleListing = {
  name: string;
  description: string;
  created_at: string;
  created_by: string;
  tables: string[];
  migrations: { applied: number; pending: number; missing: number; edited: number };
};

export async function listModules(db: Database, migrationsDir: string): Promise<ModuleListing[]> {
  await requireCore(db.knex);
  const result: ModuleListing[] = [];
  for (const module of await registeredModules(db.knex)) {
    const status = await scopeStatus(db.knex, moduleScope(migrationsDir, module.name));
    result.push({
      ...module,
      tables: await userTables(db.knex, module.name),
      migrations: status.counts,
    });
  }
  return result;
}

export type DroppedModule = {
  module: string;
  dropped_tables: string[];
  migrations_dir_kept: string;
};

/** Drops a module's schema and its registration. Refuses while it holds tables, unless cascade. */
export async function dropModule(
  db: Database,
  options: { name: string; cascade: boolean; migrationsDir: string; lockTimeoutMs: number },
): Promise<DroppedModule> {
  const name = validateModuleName(options.name);
  const { knex } = db;
  await requireCore(knex);
  const modules = await registeredModules(knex);
  if (!modules.some((m) => m.name === name)) {
    throw notFoundError(`module "${name}" does not exist`, { hint: 'see `cos-db schema list`' });
  }
  const scope = moduleScope(options.migrationsDir, name);
  return withAdvisoryLock(db, lockName(scope), options.lockTimeoutMs, async () => {
    const tables = await userTables(knex, name);
    if (tables.length > 0 && !options.cascade) {
      throw usageError(
        `module "${name}" still holds ${tables.length} table(s): ${tables.join(', ')}`,
        {
          hint: 'roll its migrations back first, or add --cascade to drop them with it',
          details: { tables },
        },
      );
    }
    await knex.transaction(async (trx) => {
      await trx.raw(`drop schema if exists ${quoteIdent(name)} cascade`);
      await trx.raw('delete from cc.modules where name = ?', [name]);
    });
    return { module: name, dropped_tables: tables, migrations_dir_kept: scope.dir };
  });
}
