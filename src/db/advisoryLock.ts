import type { Knex } from 'knex';
import { driverOf } from './driverOf.js';
import type { LockHolder } from './lockHolders.js';

/**
 * Holds cos-db's lock named `name` around fn, waiting up to timeoutMs for another holder: on a
 * server a session-level advisory lock, on the embedded store its lock file (serverDriver.ts,
 * embeddedDriver.ts).
 */
export function withAdvisoryLock<T>(
  db: { knex: Knex },
  name: string,
  timeoutMs: number,
  fn: () => Promise<T>,
  onWait?: (holders: LockHolder[]) => void,
): Promise<T> {
  return driverOf(db.knex).withSessionLock(db.knex, name, timeoutMs, fn, onWait);
}
