import type { Knex } from 'knex';
import type { RowQuery } from './driver.js';
import { quoteIdent } from './quoteIdent.js';

const PAGE = 2000;

/**
 * A query's rows in key order, a page at a time by keyset: constant memory on either engine, on
 * the handle's own connection (a snapshot transaction, say), with no cursor held open.
 */
export async function* pagedRows(
  knex: Knex,
  query: RowQuery,
): AsyncGenerator<Record<string, unknown>> {
  const order = query.keyset.map(quoteIdent).join(', ');
  let after: unknown[] | undefined;
  for (;;) {
    const where = after ? `where (${order}) > (${after.map(() => '?').join(', ')})` : '';
    const rows = (
      await knex.raw<{ rows: Array<Record<string, unknown>> }>(
        `select * from (${query.sql}) q ${where} order by ${order} limit ${PAGE}`,
        [...query.bindings, ...(after ?? [])] as Knex.RawBinding[],
      )
    ).rows;
    for (const row of rows) yield row;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1] as Record<string, unknown>;
    after = query.keyset.map((c) =>
      last[c] instanceof Date ? (last[c] as Date).toISOString() : last[c],
    );
  }
}
