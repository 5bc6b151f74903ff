import type { Knex } from 'knex';
import type { QueryArrayConfig } from 'pg';
import { lockTimeoutError } from '../errors.js';
import type { Driver } from './driver.js';
import { advisoryLockHolders, LOCK_CLASS } from './lockHolders.js';
import { quoteIdent } from './quoteIdent.js';

type CopyConnection = NodeJS.EventEmitter & {
  query: (stream: unknown) => NodeJS.WritableStream & NodeJS.EventEmitter;
};
type RowEvents = {
  on(event: 'row', listener: (row: unknown[]) => void): RowEvents;
  on(event: 'end', listener: () => void): RowEvents;
  on(event: 'error', listener: (error: Error) => void): RowEvents;
};
type QueryConnection = { query(query: unknown): RowEvents };

/** A PostgreSQL server over node-postgres: COPY and cursors stream on the socket. */
export const serverDriver: Driver = {
  async copyIn(knex, copySql, pieces, inMemory) {
    // Its CommonJS exports object (default): the bundle's chunks give CommonJS modules no named exports.
    const { default: copyStreams } = await import('pg-copy-streams');
    const connection = (await knex.client.acquireConnection()) as CopyConnection;
    // A connection that ends under the COPY does not always fail the stream: listen to it too.
    let lost: ((error?: Error) => void) | undefined;
    try {
      const stream = connection.query(copyStreams.from(`${copySql} stdin`));
      const done = new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        lost = (error?: Error) => reject(error ?? new Error('Connection terminated unexpectedly'));
        connection.once('end', lost);
        connection.once('error', lost);
      });
      done.catch(() => undefined);
      try {
        // Pieces all in memory already are handed to the socket at once, so the server never
        // waits for this process to come back to a 'drain'; pieces made as they are read wait.
        for (const piece of pieces)
          if (!stream.write(piece) && !inMemory)
            await Promise.race([new Promise((r) => stream.once('drain', r)), done]);
        stream.end();
      } catch (error) {
        // The pieces' source failed: cancel the COPY (CopyFail), so the connection is free for
        // the rollback that follows, and report the source's error rather than the server's.
        (stream as unknown as { destroy(error: Error): void }).destroy(error as Error);
        await done.catch(() => undefined);
        throw error;
      }
      await done;
    } finally {
      if (lost) {
        connection.off('end', lost);
        connection.off('error', lost);
      }
      await knex.client.releaseConnection(connection);
    }
  },

  async eachRowOn(connection, sql, values, onRow) {
    const { default: pg } = await import('pg');
    const config: QueryArrayConfig = { text: sql, values, rowMode: 'array' };
    await new Promise<void>((resolve, reject) => {
      // An error thrown by onRow would escape into the socket's handler: kept for the end.
      let failure: unknown;
      (connection as QueryConnection)
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
  },

  // A cursor (pg-query-stream): the server finds the rows after while these are written.
  async *streamRows(knex, query) {
    const order = query.keyset.map(quoteIdent).join(', ');
    const stream = knex
      .raw(`select * from (${query.sql}) q order by ${order}`, query.bindings as Knex.RawBinding[])
      .stream({ batchSize: 2000, highWaterMark: 2000 } as never);
    for await (const row of stream as unknown as AsyncIterable<Record<string, unknown>>) yield row;
  },

  async *copyOut(knex, copySql) {
    const { default: copyStreams } = await import('pg-copy-streams');
    const connection = (await knex.client.acquireConnection()) as {
      query: (stream: unknown) => NodeJS.ReadableStream;
    };
    try {
      for await (const chunk of connection.query(copyStreams.to(copySql)) as AsyncIterable<Buffer>)
        yield chunk;
    } finally {
      await knex.client.releaseConnection(connection);
    }
  },

  /**
   * A session-level advisory lock on a connection of its own: a process killed with -9 loses
   * its session and so its lock, so nothing can stay stuck the way Knex's lock row does.
   */
  async withSessionLock(knex, name, timeoutMs, fn, onWait) {
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
        ])) as { rows: Array<{ ok: boolean }> };
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
  },

  lockHolders: advisoryLockHolders,
};
