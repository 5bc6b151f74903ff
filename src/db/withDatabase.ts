import type { Knex } from 'knex';
import { existsSync, readdirSync } from 'node:fs';
import type { EmbeddedTarget, ServerTarget, Target } from '../config/resolveTargets.js';
import { connectionError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { connectionFailure, probeFailure } from './databaseError.js';
import { clientEachRow, knexEachRow, type EachRow } from './eachRow.js';
import { acquireLockFile, type LockHolder } from './lockFile.js';
import { keepBomWhileOpen } from './keepBom.js';
import { copyPgliteTemplate } from './pgliteTemplate.js';
import { storePath } from './storePath.js';
import { LEGACY_STORE_SQL } from './storeGeneration.js';
import { settledWithin } from '../settledWithin.js';

export type DatabaseOptions = {
  /** How long to wait for another process holding the embedded store's lock file. */
  lockTimeoutMs: number;
  /** What the lock file says about the holder. */
  command: string;
  /** Called with one-line notices meant for stderr. */
  notice?: (message: string) => void;
  /** Pool size for a server; the embedded engine always has one connection. */
  poolMax?: number;
  connectTimeoutMs?: number;
};

/** Knex logs connection failures itself, stack and all; cos-db reports them once, its own way. */
const quietLog = { warn() {}, error() {}, debug() {}, deprecate() {} };

export type Database = {
  knex: Knex;
  target: Target;
  engine: 'postgres' | 'embedded';
  /** The store was made by cos-db 0.x (storeGeneration.ts): only export reads it. */
  legacy: boolean;
};

type Opened = {
  knex: Knex;
  legacy: boolean;
  close: () => Promise<void>;
  abort?: () => Promise<void>;
};

/** The probe every open makes: the connection works, and whether the store is a 0.x one. */
async function probe(db: Knex): Promise<boolean> {
  const rows = (await db.raw<{ rows: Array<{ legacy: boolean }> }>(LEGACY_STORE_SQL)).rows;
  return rows[0]?.legacy === true;
}

/** node-postgres's settings for a connection to the target. */
const pgConnection = (target: ServerTarget, options: DatabaseOptions) => ({
  connectionString: target.url,
  application_name: `cos-db ${options.command}`.slice(0, 63),
  connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
});

/** A node-postgres client as the pool holds it: its socket, to cut on Ctrl-C. */
type PgClient = { connection?: { stream?: { destroy(): void } } };

async function openServer(target: ServerTarget, options: DatabaseOptions): Promise<Opened> {
  const { default: knex } = await import('knex');
  const clients = new Set<PgClient>();
  const db = knex({
    client: 'pg',
    connection: pgConnection(target, options),
    pool: {
      min: 0,
      max: options.poolMax ?? 4,
      afterCreate: (client: PgClient, done: (error: Error | null, client: PgClient) => void) => {
        clients.add(client);
        done(null, client);
      },
    },
    acquireConnectionTimeout: options.connectTimeoutMs ?? 10_000,
    log: quietLog,
  });
  let legacy: boolean;
  try {
    legacy = await probe(db);
  } catch (error) {
    await db.destroy();
    throw probeFailure(target, error);
  }
  const cut = () => {
    for (const client of clients) client.connection?.stream?.destroy();
  };
  return {
    knex: db,
    legacy,
    // A connection lost mid-transaction can stay checked out of the pool for ever (knex waits
    // for a rollback that never settles), and destroy would wait for it: after a moment, cut.
    close: async () => {
      const closed = await settledWithin(db.destroy(), 2000);
      if (!closed) cut();
    },
    // The server rolls back whatever transaction a cut connection had open; destroy alone would
    // wait for the statement (and the transaction) under way to finish.
    abort: async () => {
      cut();
      await db.destroy();
    },
  };
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

async function openEmbedded(target: EmbeddedTarget): Promise<Opened> {
  const [{ default: knex }, { PGlite }, { PgliteClient }] = await Promise.all([
    import('knex'),
    import('@electric-sql/pglite'),
    import('./pgliteClient.js'),
  ]);
  if (isEmptyDir(target.dataDir)) copyPgliteTemplate(target.dataDir);
  const restoreDecoder = keepBomWhileOpen();
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = new PGlite(target.dataDir, {
      // int8 as a string, as node-postgres returns it, so results do not depend on the engine.
      parsers: { 20: (value: string) => value },
    });
    await pglite.waitReady;
  } catch (error) {
    restoreDecoder();
    throw connectionError(
      `cannot open the embedded store at ${target.dataDir}: ${(error as Error).message}`,
      {
        hint: 'the directory may be damaged or from another PGlite version; move it aside to start afresh',
        cause: error,
      },
    );
  }
  const db = knex({
    client: PgliteClient as unknown as typeof Knex.Client,
    connection: () => ({ pglite }) as object,
    log: quietLog,
  } as Knex.Config);
  let legacy: boolean;
  try {
    legacy = await probe(db);
  } catch (error) {
    await db.destroy();
    restoreDecoder();
    throw error;
  }
  return {
    knex: db,
    legacy,
    close: async () => {
      try {
        await db.destroy();
      } finally {
        restoreDecoder();
      }
    },
  };
}

/**
 * Opens the target's database, runs fn, and always closes it again. For the embedded engine it
 * holds the store's lock file for the whole run. Ctrl-C closes the connection, so the server
 * rolls back whatever was in flight.
 */
export async function withDatabase<T>(
  target: Target,
  options: DatabaseOptions,
  fn: (db: Database) => Promise<T>,
): Promise<T> {
  let release: (() => void) | undefined;
  if (target.engine === 'embedded') {
    target = { ...target, dataDir: storePath(target.dataDir) };
    if (!target.explicit) {
      options.notice?.(
        `using the embedded store at ${target.dataDir} (nothing configured for ${target.env}; set COS_${target.env.toUpperCase()}_DATABASE_URL to use a server)`,
      );
    }
    release = await acquireLockFile(`${target.dataDir}.lock`, {
      timeoutMs: options.lockTimeoutMs,
      command: options.command,
      onWait: (holder: LockHolder) =>
        options.notice?.(`waiting for pid ${holder.pid} (${holder.command}) to release the store`),
    });
  }
  const releaseLock = release;
  let opened: Opened | undefined;
  const unregister = onInterrupt(async () => {
    await (opened?.abort ?? opened?.close)?.();
    releaseLock?.();
  });
  try {
    opened =
      target.engine === 'embedded' ? await openEmbedded(target) : await openServer(target, options);
    return await fn({ knex: opened.knex, target, engine: target.engine, legacy: opened.legacy });
  } finally {
    unregister();
    try {
      await opened?.close();
    } finally {
      releaseLock?.();
    }
  }
}

/**
 * withDatabase for a command that needs no more than EachRow (trace). A server gets one bare
 * node-postgres connection: no knex to load (knex and lodash are most of the code a command
 * parses and runs before its first query; docs/performance.md).
 */
export async function withEachRow<T>(
  target: Target,
  options: DatabaseOptions,
  fn: (eachRow: EachRow) => Promise<T>,
): Promise<T> {
  if (target.engine === 'embedded')
    return withDatabase(target, options, (db) => fn(knexEachRow(db.knex)));
  const { default: pg } = await import('pg');
  const client = new pg.Client(pgConnection(target, options));
  // A connection the server ends between queries is an 'error' event with no listener (and the
  // process's end); a query under way fails on its own.
  client.on('error', () => undefined);
  const unregister = onInterrupt(() => client.end());
  try {
    try {
      await client.connect();
    } catch (error) {
      throw connectionFailure(target, error);
    }
    return await fn(clientEachRow(client));
  } finally {
    unregister();
    await client.end().catch(() => undefined);
  }
}
