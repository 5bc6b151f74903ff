import { CosError, ExitCode } from '../errors.js';

type PgError = Error & { position?: string; code?: string; detail?: string; hint?: string };

/** "line 3, column 8" and the line with a caret under the failing character. */
export function caret(sql: string, position: number): string {
  const before = sql.slice(0, position - 1);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n') - 1;
  const text = sql.split('\n')[line - 1] ?? '';
  return `at line ${line}, column ${column}:\n    ${text}\n    ${' '.repeat(Math.max(0, column - 1))}^`;
}

/**
 * A migration that threw, rolled back: names the file and, for a SQL error, the statement and the
 * position PostgreSQL reported. Knex prefixes the driver's message with the SQL; that is undone.
 */
export function migrationFailure(
  file: string,
  scope: string,
  error: unknown,
  failedSql: string | undefined,
  rolledBack: boolean,
): CosError {
  const err = error as PgError;
  let message = err?.message ?? String(error);
  if (failedSql && message.startsWith(`${failedSql} - `))
    message = message.slice(failedSql.length + 3);
  const where =
    failedSql && err.position
      ? `\n  ${caret(failedSql, Number(err.position))}`
      : failedSql
        ? `\n  in: ${failedSql.slice(0, 500)}`
        : '';
  const fate = rolledBack
    ? 'was rolled back'
    : 'ran outside a transaction: check what it left behind';
  return new CosError(
    ExitCode.usage,
    `migration ${file} (${scope}) failed and ${fate}: ${message}${where}`,
    {
      hint: err.hint ?? 'fix the migration and run `cos-db migrate` again',
      cause: error,
      details: {
        migration: file,
        scope,
        sqlstate: err.code ?? null,
        position: err.position ? Number(err.position) : null,
        sql: failedSql ?? null,
      },
    },
  );
}
