import { tmpdir } from 'node:os';
import { resolveTarget } from '../../src/config/resolveTargets.js';
import { withDatabase, type Database } from '../../src/db/withDatabase.js';
import { appendToChain, withLedgerTransaction } from '../../src/integrity/ledger.js';
import { makeLedgerTable } from '../../src/integrity/ledgerTable.js';
import { migrate } from '../../src/migrations/runMigrations.js';
import { CORE_MIGRATIONS } from './migrationsDir.js';

export const ITEMS = { schema: 'lab', table: 'items' };

/** Opens a database by URL (postgres://… or pglite:…) the way the CLI does. */
export function withUrl<T>(url: string, fn: (db: Database) => Promise<T>, poolMax = 4): Promise<T> {
  const target = resolveTarget('dev', { cwd: tmpdir(), processEnv: { COS_DEV_DATABASE_URL: url } });
  return withDatabase(target, { lockTimeoutMs: 30_000, command: 'test', poolMax }, fn);
}

/** Core migrations plus a ledger table lab.items(note, n, payload, at). */
export async function setUpLedger(db: Database): Promise<void> {
  await migrate(db, { migrationsDir: CORE_MIGRATIONS, lockTimeoutMs: 30_000 });
  await db.knex.raw(
    'create schema lab; create table lab.items (note text not null, n int, payload jsonb, at timestamptz)',
  );
  await makeLedgerTable(db.knex, ITEMS);
}

export function item(i: number): Record<string, unknown> {
  return {
    note: `item ${i}`,
    n: i,
    payload: { i, tags: ['a', 'b'], nested: { z: 1, a: [i] } },
    at: new Date(Date.UTC(2026, 10, 29, 0, 0, i % 60)),
  };
}

export async function append(db: Database, chain: string, rows: Array<Record<string, unknown>>) {
  return withLedgerTransaction(db.knex, (trx) => appendToChain(trx, ITEMS, chain, rows));
}
