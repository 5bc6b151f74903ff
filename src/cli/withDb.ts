import { withDatabase, type Database, type DatabaseOptions } from '../db/withDatabase.js';
import type { Context } from './context.js';

/** Opens the selected env's database for a command, with its notices on stderr. */
export function withDb<T>(
  context: Context,
  fn: (db: Database) => Promise<T>,
  options: Partial<DatabaseOptions> = {},
): Promise<T> {
  const { settings, out, invocation } = context;
  return withDatabase(
    settings.target,
    {
      lockTimeoutMs: settings.lockTimeoutMs,
      command: invocation.command,
      notice: (message) => out.info(message),
      ...options,
    },
    fn,
  );
}
