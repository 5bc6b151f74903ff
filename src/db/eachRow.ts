import type { Knex } from 'knex';
import type { QueryArrayConfig } from 'pg';

/**
 * Runs one statement (placeholders $1, $2, …) in a transaction of its own, after `set local` of
 * the settings given, and hands each row over, as an array of its values, as it arrives: from a
 * server, while the server is still finding the rows after it.
 */
export type EachRow = (
  sql: string,
  values: unknown[],
  settings: Readonly<Record<string, string>>,
  onRow: (row: unknown[]) => void,
) => Promise<void>;

/** A node-postgres connection (a pg.Client, or the one a knex transaction holds). */
type PgConnection = {
  query(text: string): Promise<unknown>;
  query(query: unknown): RowEvents;
};
type RowEvents = {
  on(event: 'row', listener: (row: unknown[]) => void): RowEvents;
  on(event: 'end', listener: () => void): RowEvents;
  on(event: 'error', listener: (error: Error) => void): RowEvents;
};
type PgliteConnection = {
  query(
    sql: string,
    params: unknown[],
    options: { rowMode: 'array' },
  ): Promise<{ rows: unknown[][] }>;
};

const IDENTIFIER = /^[a-z_][a-z0-9_.]*$/;

/** `set local` statements for settings whose names are plain identifiers (values are quoted). */
function setLocal(settings: Readonly<Record<string, string>>): string {
  return Object.entries(settings)
    .map(([name, value]) => {
      if (!IDENTIFIER.test(name)) throw new Error(`not a setting name: ${name}`);
      return `set local ${name} = '${value.replaceAll("'", "''")}';`;
    })
    .join(' ');
}

/** One query on a node-postgres connection, its rows handed over as they arrive. */
async function streamRows(
  connection: PgConnection,
  sql: string,
  values: unknown[],
  onRow: (row: unknown[]) => void,
): Promise<void> {
  // Its CommonJS exports object (default): the bundle's chunks give CommonJS modules no named exports.
  const { default: pg } = await import('pg');
  const config: QueryArrayConfig = { text: sql, values, rowMode: 'array' };
  await new Promise<void>((resolve, reject) => {
    // An error thrown by onRow would escape into the socket's handler: kept for the end.
    let failure: unknown;
    connection
      .query(new pg.Query(config))
      .on('row', (row) => {
        try {
          if (failure === undefined) onRow(row);
        } catch (error) {
          failure = error;
        }
      })
      .on('error', reject)
      .on('end', () => (failure === undefined ? resolve() : reject(failure)));
  });
}

/** EachRow on a bare node-postgres client (no knex). */
export function clientEachRow(client: PgConnection): EachRow {
  return async (sql, values, settings, onRow) => {
    await client.query(`begin; ${setLocal(settings)}`);
    try {
      await streamRows(client, sql, values, onRow);
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    await client.query('commit');
  };
}

/**
 * EachRow through knex, on either engine. The embedded engine, in this process, has no socket to
 * stream from: its rows come all at once, and are handed over one by one.
 */
export function knexEachRow(knex: Knex): EachRow {
  return (sql, values, settings, onRow) =>
    knex.transaction(async (trx) => {
      if (Object.keys(settings).length > 0) await trx.raw(setLocal(settings));
      const connection = (await trx.client.acquireConnection()) as unknown;
      if (trx.client.config.client === 'pg') {
        await streamRows(connection as PgConnection, sql, values, onRow);
        return;
      }
      const result = await (connection as PgliteConnection).query(sql, values, {
        rowMode: 'array',
      });
      for (const row of result.rows) onRow(row);
    });
}
