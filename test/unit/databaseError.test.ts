import { describe, expect, it } from 'vitest';
import { databaseError, isRetryable } from '../../src/db/databaseError.js';
import { CosError, ExitCode } from '../../src/errors.js';

/** The classification table (real faults are in test/pg/faults.test.ts; a full disk cannot be made here). */
const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('databaseError', () => {
  it.each([
    ['57014', ExitCode.serverRefused, false, 'cancelled'],
    ['57P01', ExitCode.connection, true, 'terminated by an administrator'],
    ['40P01', ExitCode.serverRefused, true, 'deadlock'],
    ['53100', ExitCode.serverRefused, false, 'disk is full'],
    ['53200', ExitCode.serverRefused, false, 'out of memory'],
    ['42501', ExitCode.permission, false, 'permission denied'],
    ['08006', ExitCode.connection, true, 'connection to the database was lost'],
    ['EPIPE', ExitCode.connection, true, 'connection to the database was lost'],
    ['ECONNRESET', ExitCode.connection, true, 'connection to the database was lost'],
  ])('%s: exit %i, retryable %s', (code, exitCode, retryable, words) => {
    const known = databaseError(withCode(code));
    expect(known).toBeInstanceOf(CosError);
    expect(known?.exitCode).toBe(exitCode);
    expect(known?.message).toContain(words);
    expect(isRetryable(withCode(code))).toBe(retryable);
  });

  it('knows the driver by its own words, behind the statement knex puts first', () => {
    const e = new Error('release savepoint cos_chunk - Connection terminated unexpectedly');
    expect(databaseError(e)?.exitCode).toBe(ExitCode.connection);
  });

  it('leaves alone what it does not know: a bug stays a bug', () => {
    expect(databaseError(withCode('22P02'))).toBeUndefined();
    expect(databaseError(new Error('something else'))).toBeUndefined();
  });
});
