/** Exit codes are part of cos-db's interface: scripts depend on them, so they never change. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  integrity: 4,
  connection: 5,
  drift: 6,
  lockTimeout: 7,
  serverRefused: 8,
  permission: 9,
  output: 10,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `Exit codes:
  0    ok
  1    internal error (a bug: rerun with --verbose and report it)
  2    usage or invalid input
  3    not found
  4    integrity failure or conflict
  5    cannot reach, log in to or stay connected to the database
  6    pending migrations or drift (with --check)
  7    lock timeout
  8    the server cancelled or could not finish the work (statement timeout,
       cancel, deadlock, disk full, out of memory); re-running is safe
  9    permission denied (the role lacks a privilege, or the server is read-only)
  10   cannot write the output (standard output or --out: disk full, I/O error)
  130  interrupted`;

/**
 * An error the user can act on. Thrown anywhere; only the CLI entry point turns it into a
 * message on stderr and an exit code.
 */
export class CosError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  /** Structured detail for --json error output. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    exitCode: ExitCodeValue,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CosError';
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

type ErrorOptions = { hint?: string; cause?: unknown; details?: Record<string, unknown> };

export const usageError = (message: string, options?: ErrorOptions) =>
  new CosError(ExitCode.usage, message, options);
export const notFoundError = (message: string, options?: ErrorOptions) =>
  new CosError(ExitCode.notFound, message, options);
export const integrityError = (message: string, options?: ErrorOptions) =>
  new CosError(ExitCode.integrity, message, options);
export const connectionError = (message: string, options?: ErrorOptions) =>
  new CosError(ExitCode.connection, message, options);
export const lockTimeoutError = (message: string, options?: ErrorOptions) =>
  new CosError(ExitCode.lockTimeout, message, options);
