import type { Knex } from 'knex';
import type { Database } from '../db/withDatabase.js';

export type RowQuery = {
  /** A SELECT without ORDER BY; its filters already in it. */
  sql: string;
  bindings: unknown[];
  /** Columns that order the rows uniquely: the stream's order and the embedded engine's page key. */
  keyset: string[];
};

const PAGE = 2000;

/**
 * Rows in keyset order, in constant memory: a server streams them through pg-query-stream (a
 * cursor); PGlite's stream would hold the whole result, so there the rows come page by page.
 */
export async function* streamRows(
  db: Database,
  query: RowQuery,
): AsyncGenerator<Record<string, unknown>> {
  const order = query.keyset.map((c) => `"${c}"`).join(', ');
  if (db.engine === 'postgres') {
    const stream = db.knex
      .raw(`select * from (${query.sql}) q order by ${order}`, query.bindings as Knex.RawBinding[])
      .stream({ batchSize: 2000, highWaterMark: 2000 } as never);
    for await (const row of stream as unknown as AsyncIterable<Record<string, unknown>>) yield row;
    return;
  }
  let after: unknown[] | undefined;
  for (;;) {
    const where = after ? `where (${order}) > (${after.map(() => '?').join(', ')})` : '';
    const rows = (
      await db.knex.raw<{ rows: Array<Record<string, unknown>> }>(
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
