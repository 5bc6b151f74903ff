import { redactPassword } from '../config/maskUrl.js';
import type { ServerTarget } from '../config/resolveTargets.js';
import { connectionError, CosError, ExitCode, type ExitCodeValue } from '../errors.js';

/**
 * The one place that says what a database error means: by SQLSTATE (never by the server's
 * message text, which follows lc_messages), and for a connection that broke, by the socket's
 * error code or node-postgres's own fixed wording (it gives such an error no code). Each kind
 * has one line, a hint and an exit code. Nothing else in cos-db reads a SQLSTATE.
 */
type Kind = {
  exitCode: ExitCodeValue;
  reason: string;
  hint: string;
  /** Whether the same work may succeed if simply tried again on a new connection. */
  retryable: boolean;
};

const RERUN = 're-running the same command is safe: what is archived already is skipped';

const LOST: Kind = {
  exitCode: ExitCode.connection,
  reason: 'the connection to the database was lost',
  hint: `check that the server is up (cos-db ping --wait 30); ${RERUN}`,
  retryable: true,
};

const BY_SQLSTATE: Record<string, Kind> = {
  '57014': {
    exitCode: ExitCode.serverRefused,
    reason: 'the statement was cancelled (statement_timeout, or pg_cancel_backend)',
    hint: `if statement_timeout is set for this role or in PGOPTIONS, raise it; ${RERUN}`,
    retryable: false,
  },
  '57P01': {
    ...LOST,
    reason:
      'the connection was terminated by an administrator (pg_terminate_backend) or a shutdown',
  },
  '57P02': { ...LOST, reason: 'the server crashed or is restarting (crash shutdown)' },
  '57P03': { ...LOST, reason: 'the server is starting up or shutting down' },
  '40P01': {
    exitCode: ExitCode.serverRefused,
    reason: 'the transaction was rolled back to break a deadlock with another session',
    hint: RERUN,
    retryable: true,
  },
  '40001': {
    exitCode: ExitCode.serverRefused,
    reason: 'the transaction was rolled back after a serialization failure',
    hint: RERUN,
    retryable: true,
  },
  '53100': {
    exitCode: ExitCode.serverRefused,
    reason: "the database server's disk is full",
    hint: `free space on the server's data or WAL volume; nothing of the failed transaction was kept; ${RERUN}`,
    retryable: false,
  },
  '53200': {
    exitCode: ExitCode.serverRefused,
    reason: 'the database server ran out of memory',
    hint: `try a smaller --batch-size, or raise the server's memory; ${RERUN}`,
    retryable: false,
  },
  '53300': {
    exitCode: ExitCode.connection,
    reason: 'the server has too many connections',
    hint: 'try again later, or raise max_connections',
    retryable: true,
  },
  '55P03': {
    exitCode: ExitCode.lockTimeout,
    reason: 'a lock the statement needs is held by another session (lock_timeout)',
    hint: 'wait for the other session, or raise lock_timeout',
    retryable: false,
  },
  '42501': {
    exitCode: ExitCode.permission,
    reason: 'permission denied',
    hint: "connect as a role that has the privilege (the store's owner, or one given `cos-db agent-role`)",
    retryable: false,
  },
  '25006': {
    exitCode: ExitCode.permission,
    reason: 'the server is read-only (a standby, or default_transaction_read_only)',
    hint: 'point the env at the primary',
    retryable: false,
  },
};

/** By SQLSTATE class, where no code of the class is listed above. */
const BY_CLASS: Record<string, Kind> = {
  '08': LOST,
  '53': {
    exitCode: ExitCode.serverRefused,
    reason: 'the server ran out of a resource',
    hint: RERUN,
    retryable: false,
  },
  '57': LOST,
};

/** Socket errors of a connection that was open. */
const SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED']);
/**
 * node-postgres's own wording (not the server's) for a connection that ended under it; knex puts
 * the statement before it.
 */
const DRIVER_LOST = /Connection terminated|connection error and is not queryable|Client was closed/;

type DriverError = Error & { code?: unknown; table?: string; constraint?: string };

/**
 * The error's SQLSTATE: the server's (five digits or capitals; not a socket code), or the one a
 * CosError carries in its details (databaseError's, or a check of cos-db's own that stands for
 * the server's, such as a ledger table found missing in the catalog).
 */
export function sqlstateOf(error: unknown): string | undefined {
  const code =
    error instanceof CosError ? error.details?.sqlstate : (error as DriverError | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !SOCKET.has(code)
    ? code
    : undefined;
}

function kindOf(error: DriverError): { kind: Kind; sqlstate: string | null } | undefined {
  const code = typeof error.code === 'string' ? error.code : undefined;
  // Before SQLSTATEs: EPIPE has their shape (five capitals).
  if ((code && SOCKET.has(code)) || DRIVER_LOST.test(error.message ?? ''))
    return { kind: LOST, sqlstate: null };
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const kind = BY_SQLSTATE[code] ?? BY_CLASS[code.slice(0, 2)];
    return kind && { kind, sqlstate: code };
  }
  return undefined;
}

/** The database error as a CosError the user can act on; undefined if it is not one we know. */
export function databaseError(error: unknown): CosError | undefined {
  if (error instanceof CosError || !(error instanceof Error)) return undefined;
  const found = kindOf(error as DriverError);
  if (!found) return undefined;
  const { kind, sqlstate } = found;
  const e = error as DriverError;
  return new CosError(kind.exitCode, `${kind.reason}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`, {
    hint: kind.hint,
    cause: error,
    details: {
      sqlstate,
      retryable: kind.retryable,
      ...(e.table ? { table: e.table } : {}),
      ...(e.constraint ? { constraint: e.constraint } : {}),
    },
  });
}

/** Whether trying the same work again on a new connection may succeed. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CosError) return error.details?.retryable === true;
  return error instanceof Error && kindOf(error as DriverError)?.kind.retryable === true;
}

/** A unique constraint refused the row (23505); of that constraint, when one is named. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  return (
    sqlstateOf(error) === '23505' &&
    (constraint === undefined || (error as DriverError).constraint === constraint)
  );
}

/** A foreign key (or a trigger raising the same SQLSTATE) refused the row: it names a missing row. */
export function isForeignKeyViolation(error: unknown): boolean {
  return sqlstateOf(error) === '23503';
}

/** The schema to create exists already (42P06). */
export function isDuplicateSchema(error: unknown): boolean {
  return sqlstateOf(error) === '42P06';
}

/**
 * The statement names a table, schema or function that is not there (42P01, 3F000, 42883):
 * cos-db's own SQL on a store not migrated that far, or a fault in that SQL (withDb tells which
 * by the store's migration history, not by the message).
 */
export function isUndefinedObject(error: unknown): boolean {
  const code = sqlstateOf(error);
  return code === '42P01' || code === '3F000' || code === '42883';
}

/** Why a connection could not be made, where the server or the socket says so by code. */
const CONNECT: Record<string, { reason: string; hint: string }> = {
  ECONNREFUSED: {
    reason: 'connection refused (no server listening)',
    hint: 'start the server, or check host and port (`cos-db env` shows where each came from)',
  },
  ETIMEDOUT: {
    reason: 'connection timed out',
    hint: 'check the host, the network and any firewall; `cos-db ping --wait 30` waits for a starting server',
  },
  ENOTFOUND: { reason: 'host name not found', hint: 'check the host name' },
  EAI_AGAIN: { reason: 'host name lookup failed', hint: 'check the host name and DNS' },
  EHOSTUNREACH: { reason: 'host unreachable', hint: 'check the host and the network' },
  ECONNRESET: { reason: 'connection reset by the server', hint: 'check the server log' },
  '28P01': { reason: 'password authentication failed', hint: 'check the user and password' },
  '28000': {
    reason: 'the server refused this login',
    hint: 'check the user name and the server’s pg_hba.conf',
  },
  '3D000': {
    reason: 'the database does not exist',
    hint: 'create it (createdb) or point the env at an existing database',
  },
  '57P03': {
    reason: 'the server is starting up or shutting down',
    hint: 'wait for it: `cos-db ping --wait 30`',
  },
  '53300': { reason: 'too many connections', hint: 'try again later, or raise max_connections' },
};

/**
 * What went wrong when a fresh connection's first statement failed: a statement fault (a
 * statement_timeout of 1 ms, say) when the server answered with a SQLSTATE that is not about
 * connecting; else a connection failure (connectionFailure).
 */
export function probeFailure(target: ServerTarget, error: unknown): CosError {
  const code = sqlstateOf(error);
  const connecting = code === undefined || code in CONNECT || code.startsWith('08');
  return (!connecting && databaseError(error)) || connectionFailure(target, error);
}

/** One line naming env, host, port, database and user (never the password) and why. */
export function connectionFailure(target: ServerTarget, error: unknown): CosError {
  const driverError = error as DriverError;
  const code = typeof driverError.code === 'string' ? driverError.code : undefined;
  const known = code === undefined ? undefined : CONNECT[code];
  // knex's own class for a pool that gave no connection within acquireConnectionTimeout.
  const timedOut = driverError.name === 'KnexTimeoutError';
  const reason =
    known?.reason ?? (timedOut ? 'connection timed out' : (driverError.message ?? String(error)));
  const who = target.user === undefined ? '' : ` as ${target.user}`;
  const message = redactPassword(
    `cannot connect to ${target.env} at ${target.host}:${target.port}/${target.database}${who}: ${reason}`,
    target.password,
  );
  return connectionError(message, {
    hint: known?.hint ?? 'check the connection settings with `cos-db env`',
    cause: error,
    details: {
      env: target.env,
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user ?? null,
      reason,
    },
  });
}
