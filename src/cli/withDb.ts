import type { EachRow } from '../db/eachRow.js';
import {
  withDatabase,
  withEachRow,
  type Database,
  type DatabaseOptions,
} from '../db/withDatabase.js';
import { databaseError } from '../db/databaseError.js';
import { CosError, ExitCode } from '../errors.js';
import type { Context } from './context.js';
import { LEGACY_STORE_SQL, legacyStoreError } from '../db/storeGeneration.js';

/** SQLSTATEs for a table or schema that is not there: a store whose migrations are not applied. */
const MISSING = new Set(['42P01', '3F000']);
/** A function of cos-db's own schema that is not there: a store migrated only part of the way. */
const MISSING_FUNCTION = /function cc\.\w+\([^)]*\) does not exist/;

/** The selected env's database options for a command, with its notices on stderr. */
function databaseOptions(context: Context, options: Partial<DatabaseOptions>): DatabaseOptions {
  const { settings, out, invocation } = context;
  return {
    lockTimeoutMs: settings.lockTimeoutMs,
    command: invocation.command,
    notice: (message) => out.info(message),
    ...options,
  };
}

/**
 * Runs fn; a missing table, schema or cc.* function becomes "this store is not migrated", and
 * any other database fault its own line, hint and exit code (databaseError).
 */
async function storeErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const e = error as { code?: string; message?: string };
    const message = e.message ?? '';
    // Any other missing function is a fault in cos-db's SQL, not an unmigrated store.
    const missingFunction = e.code === '42883' ? MISSING_FUNCTION.exec(message)?.[0] : undefined;
    if (!(error instanceof CosError) && ((e.code && MISSING.has(e.code)) || missingFunction)) {
      const what =
        missingFunction ?? /(?:relation|schema) "[^"]+" does not exist/.exec(message)?.[0];
      throw new CosError(ExitCode.drift, `this store is not migrated: ${what ?? message}`, {
        hint: 'apply its migrations with `cos-db migrate` (see `cos-db migrate status`)',
        cause: error,
      });
    }
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
  context: Context,
  fn: (db: Database) => Promise<T>,
  options: WithDbOptions = {},
): Promise<T> {
  return storeErrors(() =>
    withDatabase(context.settings.target, databaseOptions(context, options), async (db) => {
      if (db.legacy && !options.legacy) throw legacyStoreError();
      return fn(db);
    }),
  );
}

/** withDb for a command that needs no more than EachRow: on a server, no knex (see withEachRow). */
export function withDbRows<T>(context: Context, fn: (eachRow: EachRow) => Promise<T>): Promise<T> {
  return storeErrors(() =>
    withEachRow(context.settings.target, databaseOptions(context, {}), async (eachRow) => {
      let legacy = false;
      await eachRow(LEGACY_STORE_SQL, [], {}, (row) => (legacy = row[0] === true));
      if (legacy) throw legacyStoreError();
      return fn(eachRow);
    }),
  );
}
