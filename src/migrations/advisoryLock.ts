import type { Knex } from 'knex';
import type { Database } from '../db/withDatabase.js';
import { lockTimeoutError } from '../errors.js';

/** First key of every cos-db advisory lock ("cos" in ASCII); the second is hashtext of the name. */
export const LOCK_CLASS = 0x636f73;

export type LockHolder = {
  pid: number;
  application_name: string;
  user: string;
  since: string;
};

export async function advisoryLockHolders(knex: Knex, name: string): Promise<LockHolder[]> {
  const rows = (
    await knex.raw<{
      rows: Array<{ pid: number; application_name: string; usename: string; backend_start: Date }>;
    }>(
      `select a.pid, a.application_name, a.usename, a.backend_start
         from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 2
          and l.classid::bigint = ? and l.objid::bigint = (hashtext(?)::bigint & 4294967295)`,
      [LOCK_CLASS, name],
    )
  ).rows;
  return rows.map((r) => ({
    pid: r.pid,
    application_name: r.application_name,
    user: r.usename,
    since: new Date(r.backend_start).toISOString(),
  }));
}

/**
 * Holds a session-level advisory lock named `name` around fn, on a connection of its own, waiting
 * up to timeoutMs. A process killed with -9 loses its session and so its lock: nothing can stay
 * stuck the way Knex's lock row does. The embedded engine has one connection and cos-db's lock
 * file already serialises processes, so there the lock is the file.
 */
export async function withAdvisoryLock<T>(
  db: Database,
  name: string,
  timeoutMs: number,
  fn: () => Promise<T>,
  onWait?: (holders: LockHolder[]) => void,
): Promise<T> {
  if (db.engine === 'embedded') return fn();
  const { knex } = db;
  const connection = (await knex.client.acquireConnection()) as unknown;
  const onConn = (sql: string, bindings: readonly unknown[]) =>
    knex.raw(sql, bindings as Knex.RawBinding[]).connection(connection);
  try {
    const deadline = Date.now() + timeoutMs;
    let told = false;
    for (;;) {
      const got = (await onConn('select pg_try_advisory_lock(?, hashtext(?)) as ok', [
        LOCK_CLASS,
        name,
      ])) as {
        rows: Array<{ ok: boolean }>;
      };
      if (got.rows[0]?.ok) break;
      const holders = await advisoryLockHolders(knex, name);
      if (!told) {
        onWait?.(holders);
        told = true;
      }
      if (Date.now() >= deadline) {
        const who = holders
          .map(
            (h) =>
              `pid ${h.pid} (${h.application_name || 'no application name'}, ${h.user}, since ${h.since})`,
          )
          .join(', ');
        throw lockTimeoutError(
          `${name} is locked by ${who || 'another session'}; gave up after ${timeoutMs / 1000} s`,
          {
            hint: 'wait for that run to finish, raise --lock-timeout, or end that session with pg_terminate_backend(pid)',
            details: { lock: name, holders },
          },
        );
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now()))),
      );
    }
    try {
      return await fn();
    } finally {
      await onConn('select pg_advisory_unlock(?, hashtext(?))', [LOCK_CLASS, name]).catch(
        () => undefined,
      );
    }
  } finally {
    await knex.client.releaseConnection(connection);
  }
}
