import type { Knex } from 'knex';
import type { LockHolder } from './lockHolders.js';

/** A SELECT to read in key order: the stream's order, and the embedded engine's page key. */
export type RowQuery = {
  /** A SELECT without ORDER BY; its filters already in it. */
  sql: string;
  bindings: unknown[];
  /** Columns that order the rows uniquely. */
  keyset: string[];
};

/**
 * What the two engines do differently, each written once per engine (serverDriver.ts,
 * embeddedDriver.ts) and chosen by driverOf: nothing outside src/db/ asks which engine it has.
 * Every operation takes the knex handle (or transaction) to run on.
 */
export type Driver = {
  /** Loads COPY text, already encoded, with `copy … from` (copySql ends there). */
  copyIn(
    knex: Knex,
    copySql: string,
    pieces: Iterable<Uint8Array>,
    /** The pieces are all in memory already: send them without waiting to drain. */
    inMemory: boolean,
  ): Promise<void>;
  /** One statement on a transaction's connection, each row (an array) handed over as it comes. */
  eachRowOn(
    connection: unknown,
    sql: string,
    values: unknown[],
    onRow: (row: unknown[]) => void,
  ): Promise<void>;
  /** A query's rows in key order in constant memory. */
  streamRows(knex: Knex, query: RowQuery): AsyncGenerator<Record<string, unknown>>;
  /**
   * The text `copy (…) to stdout` writes, as it comes; undefined where the engine cannot stream
   * it (callers then stream rows).
   */
  copyOut: ((knex: Knex, copySql: string) => AsyncGenerator<Buffer>) | undefined;
  /** Holds a lock named `name` around fn, waiting up to timeoutMs for another holder. */
  withSessionLock<T>(
    knex: Knex,
    name: string,
    timeoutMs: number,
    fn: () => Promise<T>,
    onWait?: (holders: LockHolder[]) => void,
  ): Promise<T>;
  /** The sessions that hold the lock named `name`. */
  lockHolders(knex: Knex, name: string): Promise<LockHolder[]>;
};
