import type { Knex } from 'knex';

/** First key of every cos-db advisory lock ("cos" in ASCII); the second is hashtext of the name. */
export const LOCK_CLASS = 0x636f73;

export type LockHolder = {
  pid: number;
  application_name: string;
  user: string;
  since: string;
};

/** The server sessions holding cos-db's advisory lock named `name`. */
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
