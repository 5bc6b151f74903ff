import { CosError, ExitCode } from '../errors.js';
import { isInterrupted } from '../interrupt.js';
import type { Output } from './output.js';

/**
 * Tells the user what went wrong, once: a CosError as its line and hint (and its JSON document
 * with --json), anything else as an internal error. Returns the exit code.
 */
export function report(out: Output, error: unknown): number {
  // The interrupt has told the user what happened; the error it caused is not news.
  if (isInterrupted()) return ExitCode.interrupted;
  if (error instanceof CosError) {
    out.error(`cos-db: ${error.message}`);
    if (error.hint) out.error(`  hint: ${error.hint}`);
    if (out.verbose && error.cause instanceof Error)
      out.error(error.cause.stack ?? String(error.cause));
    if (out.json) {
      out.result(
        {
          error: {
            exit_code: error.exitCode,
            message: error.message,
            hint: error.hint ?? null,
            ...error.details,
          },
        },
        () => '',
      );
    }
    return error.exitCode;
  }
  const err = error as Error;
  out.error(`cos-db: internal error: ${err?.message ?? String(error)}`);
  out.error(
    out.verbose ? (err?.stack ?? '') : '  rerun with --verbose for the stack trace, and report it',
  );
  if (out.json)
    out.result(
      {
        error: {
          exit_code: ExitCode.internal,
          message: `internal error: ${err?.message ?? String(error)}`,
          hint: 'rerun with --verbose for the stack trace, and report it',
        },
      },
      () => '',
    );
  return ExitCode.internal;
}
