import type { Driver } from './driver.js';
import { pagedRows } from './pagedRows.js';

type PgliteConnection = {
  query(
    sql: string,
    params: unknown[],
    options: { rowMode: 'array' },
  ): Promise<{ rows: unknown[][] }>;
};

/**
 * PGlite, in this process: no socket to stream on, one connection, and cos-db's lock file
 * already serialising processes on the store.
 */
export const embeddedDriver: Driver = {
  // COPY FROM '/dev/blob' reads the whole text handed over with the statement.
  async copyIn(knex, copySql, pieces) {
    const parts = [...pieces];
    if (parts.length === 0) return;
    await knex.raw(`${copySql} '/dev/blob'`).options({ blob: new Blob(parts) });
  },
  // Its rows come all at once, and are handed over one by one.
  async eachRowOn(connection, sql, values, onRow) {
    const result = await (connection as PgliteConnection).query(sql, values, { rowMode: 'array' });
    for (const row of result.rows) onRow(row);
  },
  // PGlite's stream would hold the whole result: page by key instead.
  streamRows: pagedRows,
  copyOut: undefined,
  // The store's lock file is already held for the whole command: nobody else can be here.
  withSessionLock: (_knex, _name, _timeoutMs, fn) => fn(),
  lockHolders: async () => [],
};
