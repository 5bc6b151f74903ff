import type { Knex } from 'knex';
import { driverOf } from './driverOf.js';
import { serverDriver } from './serverDriver.js';

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

/** A node-postgres connection: a pg.Client, or the one a knex transaction holds. */
type PgConnection = { query(text: string): Promise<unknown> };

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

/** EachRow on a bare node-postgres client (no knex). */
export function clientEachRow(client: PgConnection): EachRow {
  return async (sql, values, settings, onRow) => {
    await client.query(`begin; ${setLocal(settings)}`);
    try {
      await serverDriver.eachRowOn(client, sql, values, onRow);
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    await client.query('commit');
  };
}

/** EachRow through knex, on either engine (the engine's eachRowOn). */
export function knexEachRow(knex: Knex): EachRow {
  const driver = driverOf(knex);
  return (sql, values, settings, onRow) =>
    knex.transaction(async (trx) => {
      if (Object.keys(settings).length > 0) await trx.raw(setLocal(settings));
      await driver.eachRowOn(await trx.client.acquireConnection(), sql, values, onRow);
    });
}
