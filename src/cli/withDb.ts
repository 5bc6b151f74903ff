import { knexEachRow, type EachRow } from '../db/eachRow.js';
import {
  withDatabase,
  withEachRow,
  type Database,
  type DatabaseOptions,
} from '../db/withDatabase.js';
import { databaseError, isUndefinedObject } from '../db/databaseError.js';
import { CosError, ExitCode } from '../errors.js';
import type { Output } from './output.js';
import type { Settings } from './settings.js';
import { LEGACY_STORE_SQL, legacyStoreError } from '../db/storeGeneration.js';

/** What opening a database needs of the command that asks. */
export type DbContext = { settings: Settings; out: Output; command: string };

/** The selected env's database options for a command, with its notices on stderr. */
function databaseOptions(context: DbContext, options: Partial<DatabaseOptions>): DatabaseOptions {
  const { settings, out, command } = context;
  return {
    lockTimeoutMs: settings.lockTimeoutMs,
    command,
    notice: (message) => out.info(message),
    ...options,
  };
}

/**
 * A statement named a table, schema or function that is not there: "this store is not migrated"
 * (exit 6) when the store's history lacks core migrations, else the error as it is (a fault in
 * cos-db's own SQL, not the user's to fix).
 */
async function notMigrated(error: unknown, eachRow: EachRow): Promise<unknown> {
  if (!isUndefinedObject(error)) return error;
  const { pendingCoreMigrations } = await import('../migrations/scopes.js');
  const pending = await pendingCoreMigrations(eachRow).catch(() => 0);
  if (pending === 0) return error;
  // For the line only: the server's own words, after the statement knex puts before them.
  const message = (error as Error).message;
  const at = message.lastIndexOf(' - ');
  const words = at === -1 ? message : message.slice(at + 3);
  return new CosError(
    ExitCode.drift,
    `this store is not migrated: ${words} (${pending} core migration(s) pending)`,
    {
      hint: 'apply its migrations with `cos-db migrate` (see `cos-db migrate status`)',
      cause: error,
    },
  );
}

/** Any other database fault as its own line, hint and exit code (databaseError). */
async function storeErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw databaseError(error) ?? error;
  }
}

export type WithDbOptions = Partial<DatabaseOptions> & {
  /** Read a store made by cos-db 0.x too (export): db.legacy says whether it is one. */
  legacy?: boolean;
};

/**
 * Opens the selected env's database for a command, with its notices on stderr. A store made by
 * cos-db 0.x is refused (exit 6) unless the command reads it (options.legacy).
 */
export function withDb<T>(
  context: DbContext,
  fn: (db: Database) => Promise<T>,
  options: WithDbOptions = {},
): Promise<T> {
  return storeErrors(() =>
    withDatabase(context.settings.target, databaseOptions(context, options), async (db) => {
      if (db.legacy && !options.legacy) throw legacyStoreError();
      try {
        return await fn(db);
      } catch (error) {
        throw await notMigrated(error, knexEachRow(db.knex));
      }
    }),
  );
}

/** withDb for a command that needs no more than EachRow: on a server, no knex (see withEachRow). */
export function withDbRows<T>(
  context: DbContext,
  fn: (eachRow: EachRow) => Promise<T>,
): Promise<T> {
  return storeErrors(() =>
    withEachRow(context.settings.target, databaseOptions(context, {}), async (eachRow) => {
      let legacy = false;
      await eachRow(LEGACY_STORE_SQL, [], {}, (row) => (legacy = row[0] === true));
      if (legacy) throw legacyStoreError();
      try {
        return await fn(eachRow);
      } catch (error) {
        throw await notMigrated(error, eachRow);
      }
    }),
  );
}
