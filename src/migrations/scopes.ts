import type { Knex } from 'knex';
import { join } from 'node:path';
import { packageRoot } from '../packageRoot.js';
import { notFoundError } from '../errors.js';
import { validateModuleName } from './moduleName.js';
import type { EachRow } from '../db/eachRow.js';
import type { HistoryScope } from './historyTables.js';
import { listMigrationFiles } from './migrationFiles.js';

export type ModuleRow = {
  name: string;
  description: string;
  created_at: string;
  created_by: string;
};

/**
 * The core's migrations are part of cos-db and always come from its own migrations/ folder
 * (they import its helpers); COS_MIGRATIONS_DIR only says where modules' folders are.
 */
export function coreMigrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

export function coreScope(): HistoryScope {
  return { module: null, schema: 'public', dir: coreMigrationsDir() };
}

export function moduleScope(migrationsDir: string, module: string): HistoryScope {
  return { module, schema: module, dir: join(migrationsDir, module) };
}

export function scopeLabel(scope: HistoryScope): string {
  return scope.module ?? 'core';
}

export async function coreInstalled(knex: Knex): Promise<boolean> {
  const rows = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>("select to_regclass('cc.modules') as t")
  ).rows;
  return Boolean(rows[0]?.t);
}

/** Modules registered in cc.modules; none before the core schema exists. */
export async function registeredModules(knex: Knex): Promise<ModuleRow[]> {
  if (!(await coreInstalled(knex))) return [];
  const rows = (
    await knex.raw<{
      rows: Array<{ name: string; description: string; created_at: Date; created_by: string }>;
    }>('select name, description, created_at, created_by from cc.modules order by name')
  ).rows;
  return rows.map((r) => ({
    name: r.name,
    description: r.description,
    created_at: new Date(r.created_at).toISOString(),
    created_by: r.created_by,
  }));
}

/** One module's scope; the module must be registered. */
export async function requireModuleScope(
  knex: Knex,
  migrationsDir: string,
  module: string,
): Promise<HistoryScope> {
  validateModuleName(module);
  const modules = await registeredModules(knex);
  if (!modules.some((m) => m.name === module)) {
    throw notFoundError(`module "${module}" does not exist in this database`, {
      hint: `create it with \`cos-db schema create ${module}\`, or see \`cos-db schema list\``,
    });
  }
  return moduleScope(migrationsDir, module);
}

/**
 * How many of the core's migrations this store has not applied (every one before the first).
 * Read through EachRow, so it works on a command's connection whatever the command uses.
 */
export async function pendingCoreMigrations(eachRow: EachRow): Promise<number> {
  const files = listMigrationFiles(coreMigrationsDir()).map((f) => f.name);
  let hasHistory = false;
  await eachRow(
    "select to_regclass('public.knex_migrations') is not null",
    [],
    {},
    (row) => (hasHistory = row[0] === true),
  );
  const applied = new Set<string>();
  if (hasHistory)
    await eachRow('select name from public.knex_migrations', [], {}, (row) =>
      applied.add(String(row[0])),
    );
  return files.filter((name) => !applied.has(name)).length;
}
