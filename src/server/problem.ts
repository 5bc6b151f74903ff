import { CosError, ExitCode, type ExitCodeValue } from '../errors.js';
import { databaseError } from '../db/databaseError.js';

/** An RFC 9457 problem document, with the CLI's exit code, message and hint beside. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  exit_code: number;
  hint: string | null;
  [extension: string]: unknown;
};

/** The HTTP status of each exit code: what a client does next, as the exit code tells a script. */
const STATUS: Record<ExitCodeValue, { status: number; title: string }> = {
  [ExitCode.ok]: { status: 200, title: 'ok' },
  [ExitCode.internal]: { status: 500, title: 'internal error' },
  [ExitCode.usage]: { status: 400, title: 'invalid request' },
  [ExitCode.notFound]: { status: 404, title: 'not found' },
  [ExitCode.integrity]: { status: 409, title: 'conflict' },
  [ExitCode.connection]: { status: 503, title: 'database unavailable' },
  [ExitCode.drift]: { status: 503, title: 'store not migrated' },
  [ExitCode.lockTimeout]: { status: 503, title: 'lock timeout' },
  [ExitCode.serverRefused]: { status: 503, title: 'database refused the work' },
  // The token's scope or agent, or the database role's privileges: either way, not allowed.
  [ExitCode.permission]: { status: 403, title: 'forbidden' },
  [ExitCode.output]: { status: 500, title: 'cannot write the response' },
  [ExitCode.interrupted]: { status: 503, title: 'shutting down' },
};

/** A refusal of the endpoint's own, with its HTTP status (401, 403, 413, 429 …). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.usage,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const typeOf = (title: string) => `urn:cos-db:problem:${title.replace(/[^a-z0-9]+/gi, '-')}`;

/**
 * The problem document for any error a route throws: a CosError keeps the CLI's exit code,
 * message and hint (`unprocessable`: a 404 that names a record the body refers to is 422); a
 * database fault is told as the CLI tells it; anything else is a 500 with no detail of ours.
 */
export function problemOf(error: unknown, unprocessable = false): Problem {
  if (error instanceof HttpProblem)
    return {
      type: typeOf(error.title),
      title: error.title,
      status: error.status,
      detail: error.message,
      exit_code: error.exitCode,
      hint: null,
      ...error.extensions,
    };
  const known = error instanceof CosError ? error : databaseError(error);
  if (!known)
    return {
      type: typeOf('internal error'),
      title: 'internal error',
      status: 500,
      detail: 'internal error (a bug: see the server log, and report it)',
      exit_code: ExitCode.internal,
      hint: null,
    };
  let { status, title } = STATUS[known.exitCode];
  if (unprocessable && known.exitCode === ExitCode.notFound) {
    status = 422;
    title = 'unknown reference';
  }
  const details = { ...known.details };
  delete details.retryable;
  return {
    type: typeOf(title),
    title,
    status,
    detail: known.message,
    exit_code: known.exitCode,
    hint: known.hint ?? null,
    ...details,
  };
}
