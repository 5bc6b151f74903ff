import { withDatabase, type Database, type DatabaseOptions } from '../db/withDatabase.js';
import { CosError, ExitCode } from '../errors.js';
import type { Context } from './context.js';

/**
 * SQLSTATEs for a table, schema or function that is not there: a store whose migrations are not
 * (all) applied.
 */
const MISSING = new Set(['42P01', '3F000', '42883']);

/** Opens the selected env's database for a command, with its notices on stderr. */
export async function withDb<T>(
  context: Context,
  fn: (db: Database) => Promise<T>,
  options: Partial<DatabaseOptions> = {},
): Promise<T> {
  const { settings, out, invocation } = context;
  try {
    return await withDatabase(
      settings.target,
      {
        lockTimeoutMs: settings.lockTimeoutMs,
        command: invocation.command,
        notice: (message) => out.info(message),
        ...options,
      },
      fn,
    );
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (!(error instanceof CosError) && e.code && MISSING.has(e.code)) {
      const what =
        /(?:relation|schema) "[^"]+" does not exist|function [\w.]+\([^)]*\) does not exist/.exec(
          e.message ?? '',
        )?.[0];
      throw new CosError(
        ExitCode.drift,
        `this store is not migrated: ${what ?? e.message ?? 'a table is missing'}`,
        {
          hint: 'apply its migrations with `cos-db migrate` (see `cos-db migrate status`)',
          cause: error,
        },
      );
    }
    throw error;
  }
}
