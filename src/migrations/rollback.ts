import type { Database } from '../db/withDatabase.js';
import { notFoundError, usageError } from '../errors.js';
import { quoteIdent } from '../db/quoteIdent.js';
import { withAdvisoryLock } from '../db/advisoryLock.js';
import { readApplied, table, CHECKSUM_TABLE } from './historyTables.js';
import { listMigrationFiles } from './migrationFiles.js';
import { migrationFailure } from './migrationFailure.js';
import { loadMigration } from './loadMigration.js';
import { lockName } from './runMigrations.js';
import { coreScope, requireModuleScope, scopeLabel } from './scopes.js';

export type RollbackOptions = {
  migrationsDir: string;
  module?: string | undefined;
  /** Exactly one of these; none means the last batch, as Knex does. */
  step?: number | undefined;
  all?: boolean | undefined;
  to?: string | undefined;
  lockTimeoutMs: number;
  onMessage?: (message: string) => void;
};

export type RollbackResult = { module: string | null; schema: string; rolled_back: string[] };

/**
 * Undoes applied migrations of one schema (the core, or --module's), newest first, each in its
 * own transaction unless it declares otherwise.
 */
export async function rollback(db: Database, options: RollbackOptions): Promise<RollbackResult> {
  const chosen = [
    options.step !== undefined,
    options.all === true,
    options.to !== undefined,
  ].filter(Boolean).length;
  if (chosen > 1) throw usageError('give at most one of --step, --all and --to');
  if (options.step !== undefined && (!Number.isInteger(options.step) || options.step < 1)) {
    throw usageError(`--step must be a whole number of at least 1, not ${options.step}`);
  }
  const { knex } = db;
  const scope = options.module
    ? await requireModuleScope(knex, options.migrationsDir, options.module)
    : coreScope();
  return withAdvisoryLock(db, lockName(scope), options.lockTimeoutMs, async () => {
    const applied = await readApplied(knex, scope);
    let targets = [...applied].reverse();
    if (options.all) {
      // every one
    } else if (options.step !== undefined) {
      targets = targets.slice(0, options.step);
    } else if (options.to !== undefined) {
      const index = applied.findIndex(
        (a) => a.name === options.to || a.name.replace(/\.[^.]+$/, '') === options.to,
      );
      if (index === -1)
        throw notFoundError(`${options.to} is not an applied migration of ${scopeLabel(scope)}`);
      targets = applied.slice(index + 1).reverse();
    } else {
      const last = Math.max(0, ...applied.map((a) => a.batch));
      targets = targets.filter((a) => a.batch === last);
    }
    const files = new Map(listMigrationFiles(scope.dir).map((f) => [f.name, f]));
    for (const target of targets) {
      if (!files.has(target.name)) {
        throw notFoundError(`cannot roll back ${target.name}: its file is gone from ${scope.dir}`, {
          hint: 'restore the file (git checkout) and try again; nothing was rolled back',
        });
      }
    }
    const rolledBack: string[] = [];
    for (const target of targets) {
      const file = files.get(target.name)!;
      const migration = await loadMigration(file);
      if (!migration.down)
        throw usageError(`${file.name} has no down(): it cannot be rolled back`, {
          details: { rolled_back: rolledBack },
        });
      options.onMessage?.(`${scopeLabel(scope)}: rolling back ${file.name}`);
      const forget = async (k: typeof knex) => {
        await k.raw(`delete from ${table(scope, 'knex_migrations')} where name = ?`, [file.name]);
        await k.raw(`delete from ${table(scope, CHECKSUM_TABLE)} where name = ?`, [file.name]);
      };
      try {
        if (migration.transactional) {
          await knex.transaction(async (trx) => {
            if (scope.module)
              await trx.raw(`set local search_path to ${quoteIdent(scope.schema)}, public`);
            await migration.down!(trx);
            await forget(trx);
          });
        } else {
          await migration.down(knex);
          await forget(knex);
        }
      } catch (error) {
        throw migrationFailure(
          file.name,
          scopeLabel(scope),
          error,
          undefined,
          migration.transactional,
        );
      }
      rolledBack.push(file.name);
    }
    return { module: scope.module, schema: scope.schema, rolled_back: rolledBack };
  });
}
