import type { Knex } from 'knex';
import type { Database } from '../db/withDatabase.js';
import { CosError, ExitCode, notFoundError } from '../errors.js';
import { quoteIdent } from '../db/quoteIdent.js';
import { withAdvisoryLock } from '../db/advisoryLock.js';
import type { LockHolder } from '../db/lockHolders.js';
import {
  clearKnexLock,
  ensureHistoryTables,
  readApplied,
  table,
  CHECKSUM_TABLE,
  type HistoryScope,
} from './historyTables.js';
import { listMigrationFiles, type MigrationFile } from './migrationFiles.js';
import { migrationFailure } from './migrationFailure.js';
import { loadMigration, type LoadedMigration } from './loadMigration.js';
import {
  coreScope,
  moduleScope,
  registeredModules,
  requireModuleScope,
  scopeLabel,
} from './scopes.js';

export type MigrateOptions = {
  migrationsDir: string;
  module?: string | undefined;
  to?: string | undefined;
  dryRun?: boolean;
  lockTimeoutMs: number;
  /** Progress and warnings, one line each, for stderr. */
  onMessage?: (message: string) => void;
};

export type ScopeRun = {
  module: string | null;
  schema: string;
  batch: number | null;
  applied: string[];
  cleared_knex_lock: boolean;
  /** --dry-run: the SQL each previewed migration issued before being rolled back. */
  preview: Array<{ migration: string; statements: string[] }>;
  not_previewed: string[];
};

export type MigrateResult = { dry_run: boolean; scopes: ScopeRun[] };

class DryRunRollback extends Error {}

export function lockName(scope: HistoryScope): string {
  return `cos-db migrate ${scope.schema}`;
}

function waiting(options: MigrateOptions, scope: HistoryScope) {
  return (holders: LockHolder[]) =>
    options.onMessage?.(
      `waiting for the migration lock on ${scope.schema}, held by ${holders.map((h) => `pid ${h.pid} (${h.application_name})`).join(', ') || 'another session'}`,
    );
}

/** Records one applied migration in Knex's table and its checksum in cos-db's, in one round trip. */
async function record(
  knex: Knex,
  scope: HistoryScope,
  file: MigrationFile,
  batch: number,
): Promise<void> {
  await knex.raw(
    `with history as (
       insert into ${table(scope, 'knex_migrations')} (name, batch, migration_time) values (?, ?, now()))
     insert into ${table(scope, CHECKSUM_TABLE)} (name, sha256) values (?, ?)
     on conflict (name) do update set sha256 = excluded.sha256, applied_at = now(), applied_by = current_user`,
    [file.name, batch, file.name, file.sha256],
  );
}

/** Runs fn, remembering the SQL of the statement that failed (for the error's caret). */
async function tracking<T>(
  knex: Knex,
  fn: (failed: () => string | undefined) => Promise<T>,
): Promise<T> {
  let failedSql: string | undefined;
  const listener = (_error: unknown, query: { sql?: string }) => {
    failedSql = query.sql;
  };
  knex.on('query-error', listener);
  try {
    return await fn(() => failedSql);
  } finally {
    knex.removeListener('query-error', listener);
  }
}

async function applyOne(
  knex: Knex,
  scope: HistoryScope,
  file: MigrationFile,
  migration: LoadedMigration,
  batch: number,
): Promise<void> {
  await tracking(knex, async (failedSql) => {
    if (migration.transactional) {
      try {
        await knex.transaction(async (trx) => {
          if (scope.module)
            await trx.raw(`set local search_path to ${quoteIdent(scope.schema)}, public`);
          await migration.up(trx);
          await record(trx, scope, file, batch);
        });
      } catch (error) {
        throw migrationFailure(file.name, scopeLabel(scope), error, failedSql(), true);
      }
      return;
    }
    try {
      await migration.up(knex);
    } catch (error) {
      throw migrationFailure(file.name, scopeLabel(scope), error, failedSql(), false);
    }
    await record(knex, scope, file, batch);
  });
}

/** Runs the pending transactional migrations in one transaction, capturing their SQL, then rolls back. */
async function preview(
  knex: Knex,
  scope: HistoryScope,
  pending: MigrationFile[],
): Promise<Pick<ScopeRun, 'preview' | 'not_previewed'>> {
  const result: Pick<ScopeRun, 'preview' | 'not_previewed'> = { preview: [], not_previewed: [] };
  const loaded: Array<[MigrationFile, LoadedMigration]> = [];
  for (const file of pending) loaded.push([file, await loadMigration(file)]);
  const firstNonTx = loaded.findIndex(([, m]) => !m.transactional);
  const previewable = firstNonTx === -1 ? loaded : loaded.slice(0, firstNonTx);
  result.not_previewed = (firstNonTx === -1 ? [] : loaded.slice(firstNonTx)).map(([f]) => f.name);
  if (previewable.length === 0) return result;
  try {
    await knex.transaction(async (trx) => {
      let statements: string[] = [];
      const listener = (query: { sql: string; bindings?: unknown[]; __knexTxId?: string }) => {
        statements.push(
          query.bindings && query.bindings.length
            ? `${query.sql} -- bindings: ${JSON.stringify(query.bindings)}`
            : query.sql,
        );
      };
      await ensureHistoryTables(trx, scope);
      if (scope.module)
        await trx.raw(`set local search_path to ${quoteIdent(scope.schema)}, public`);
      knex.on('query', listener);
      try {
        for (const [file, migration] of previewable) {
          statements = [];
          await tracking(knex, async (failedSql) => {
            try {
              await migration.up(trx);
            } catch (error) {
              throw migrationFailure(file.name, scopeLabel(scope), error, failedSql(), true);
            }
          });
          result.preview.push({ migration: file.name, statements });
        }
      } finally {
        knex.removeListener('query', listener);
      }
      throw new DryRunRollback();
    });
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
  }
  return result;
}

async function migrateScope(
  db: Database,
  scope: HistoryScope,
  options: MigrateOptions,
  to: string | undefined,
): Promise<ScopeRun> {
  const { knex } = db;
  return withAdvisoryLock(
    db,
    lockName(scope),
    options.lockTimeoutMs,
    async () => {
      const run: ScopeRun = {
        module: scope.module,
        schema: scope.schema,
        batch: null,
        applied: [],
        cleared_knex_lock: false,
        preview: [],
        not_previewed: [],
      };
      if (!options.dryRun) {
        await ensureHistoryTables(knex, scope);
        run.cleared_knex_lock = await clearKnexLock(knex, scope);
        if (run.cleared_knex_lock) {
          options.onMessage?.(
            `cleared a stale knex_migrations_lock in ${scope.schema} (left set by a plain Knex run that did not finish)`,
          );
        }
      }
      const files = listMigrationFiles(scope.dir);
      const applied = await readApplied(knex, scope);
      const names = new Set(files.map((f) => f.name));
      const missing = applied.filter((a) => !names.has(a.name)).map((a) => a.name);
      if (missing.length > 0) {
        throw new CosError(
          ExitCode.drift,
          `${scopeLabel(scope)}: applied migrations have no file: ${missing.join(', ')}`,
          {
            hint: 'restore the files (git checkout), or roll them back on a copy that still has them; `cos-db migrate status` shows all drift',
            details: { missing },
          },
        );
      }
      const shaByName = new Map(files.map((f) => [f.name, f.sha256]));
      for (const a of applied) {
        if (a.sha256 !== null && a.sha256 !== shaByName.get(a.name)) {
          options.onMessage?.(
            `warning: ${scopeLabel(scope)}: ${a.name} was edited after it was applied`,
          );
        }
      }
      const appliedNames = new Set(applied.map((a) => a.name));
      let pending = files.filter((f) => !appliedNames.has(f.name));
      if (to !== undefined) {
        const index = pending.findIndex(
          (f) => f.name === to || f.name.replace(/\.[^.]+$/, '') === to,
        );
        pending = index === -1 ? [] : pending.slice(0, index + 1);
      }
      if (options.dryRun) {
        Object.assign(run, await preview(knex, scope, pending));
        return run;
      }
      if (pending.length === 0) return run;
      const batch = Math.max(0, ...applied.map((a) => a.batch)) + 1;
      run.batch = batch;
      // Start every import now: tsx transforms files on its loader thread while earlier
      // migrations wait on the database. Failures surface in order, when their turn comes.
      const loads = pending.map((file) => loadMigration(file));
      for (const load of loads) load.catch(() => undefined);
      for (const [index, file] of pending.entries()) {
        const migration = await (loads[index] as Promise<LoadedMigration>);
        options.onMessage?.(
          `${scopeLabel(scope)}: applying ${file.name}${migration.transactional ? '' : ' (no transaction)'}`,
        );
        await applyOne(knex, scope, file, migration, batch);
        run.applied.push(file.name);
      }
      return run;
    },
    waiting(options, scope),
  );
}

function matches(file: MigrationFile, name: string): boolean {
  return file.name === name || file.name.replace(/\.[^.]+$/, '') === name;
}

/**
 * Applies pending migrations: the core's, then every registered module's (or one module's),
 * each migration in its own transaction unless it declares otherwise, each schema under its own
 * advisory lock. With --dry-run nothing is kept.
 */
export async function migrate(db: Database, options: MigrateOptions): Promise<MigrateResult> {
  const { knex } = db;
  const scopes: ScopeRun[] = [];
  const dryRun = options.dryRun ?? false;
  if (options.module) {
    const scope = await requireModuleScope(knex, options.migrationsDir, options.module);
    if (
      options.to &&
      !listMigrationFiles(scope.dir).some((f) => matches(f, options.to as string))
    ) {
      throw notFoundError(`no migration named ${options.to} in module ${options.module}`);
    }
    scopes.push(await migrateScope(db, scope, options, options.to));
    return { dry_run: dryRun, scopes };
  }
  const core = coreScope();
  if (options.to) {
    // --to names one migration: run only the schema it belongs to, up to it.
    const candidates = [
      core,
      ...(await registeredModules(knex)).map((m) => moduleScope(options.migrationsDir, m.name)),
    ];
    const owner = candidates.find((s) =>
      listMigrationFiles(s.dir).some((f) => matches(f, options.to as string)),
    );
    if (!owner)
      throw notFoundError(`no migration named ${options.to}`, {
        hint: 'see `cos-db migrate status`',
      });
    scopes.push(await migrateScope(db, owner, options, options.to));
    return { dry_run: dryRun, scopes };
  }
  scopes.push(await migrateScope(db, core, options, undefined));
  for (const module of await registeredModules(knex)) {
    scopes.push(
      await migrateScope(db, moduleScope(options.migrationsDir, module.name), options, undefined),
    );
  }
  return { dry_run: dryRun, scopes };
}
