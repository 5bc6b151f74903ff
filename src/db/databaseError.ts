import { CosError, ExitCode, type ExitCodeValue } from '../errors.js';

/**
 * The one place that says what a database error means: by SQLSTATE (never by the server's
 * message text, which follows lc_messages), and for a connection that broke, by the driver's
 * error code or its own fixed wording. Each kind has one line, a hint and an exit code.
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
