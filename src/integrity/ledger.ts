import type { Knex } from 'knex';
import { LOCK_CLASS } from '../migrations/advisoryLock.js';
import { contentColumns, contentOf, qualified, type QualifiedTable } from './contentColumns.js';
import { GENESIS_HASH, HASH_VERSION, ledgerHash } from './ledgerHash.js';

export type AppendedRow = { seq: string; hash: string; prevHash: string };

/** Rows per INSERT statement. */
const INSERT_CHUNK = 1000;

/**
 * A transaction for ledger writes, in READ COMMITTED whatever the server's default: the chain
 * head must be read after the chain's lock is taken, and under REPEATABLE READ the snapshot
 * would predate the lock (a trial here forked chains that way).
 */
export function withLedgerTransaction<T>(
  knex: Knex,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw('set transaction isolation level read committed');
    return fn(trx);
  });
}

export async function chainHead(
  trx: Knex.Transaction | Knex,
  t: QualifiedTable,
  chain: string,
): Promise<{ seq: string; hash: string } | undefined> {
  const rows = (
    await trx.raw<{ rows: Array<{ seq: string; hash: string }> }>(
      `select seq, hash from ${qualified(t)} where chain = ? order by seq desc limit 1`,
      [chain],
    )
  ).rows;
  return rows[0];
}

/**
 * Takes a chain's transaction-scoped lock. Callers that must read before they append (the next
 * version number, say) take it first; appendToChain takes it again, which is harmless.
 */
export async function lockChain(
  trx: Knex.Transaction,
  t: QualifiedTable,
  chain: string,
): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(?, hashtext(?))', [
    LOCK_CLASS + 1,
    `${t.schema}.${t.table}:${chain}`,
  ]);
}

/**
 * Appends rows to one chain of a ledger table: takes the chain's transaction-scoped advisory
 * lock, reads the head, gives the rows the next positions, hashes and inserts them. Every
 * content column must be given (null is a value; a database default would not be hashed).
 */
export async function appendToChain(
  trx: Knex.Transaction,
  t: QualifiedTable,
  chain: string,
  rows: Array<Record<string, unknown>>,
): Promise<AppendedRow[]> {
  if (rows.length === 0) return [];
  const columns = await contentColumns(trx, t);
  for (const row of rows) {
    const absent = columns.filter((c) => !(c.name in row)).map((c) => c.name);
    if (absent.length)
      throw new Error(`ledger row for ${t.schema}.${t.table} lacks ${absent.join(', ')}`);
  }
  await lockChain(trx, t, chain);
  const head = await chainHead(trx, t, chain);
  let seq = head ? BigInt(head.seq) : 0n;
  let prev = head?.hash ?? GENESIS_HASH;
  const appended: AppendedRow[] = [];
  // One parameter per chunk: its rows as a JSON array, typed column by column by the server
  // (json_populate_recordset) — one small statement to plan instead of a VALUES list with
  // thousands of parameters. Sent as text, so neither driver re-encodes it.
  const names = [
    ...columns.map((c) => c.name),
    'chain',
    'seq',
    'prev_hash',
    'hash',
    'hash_version',
  ];
  const list = names.map((n) => `"${n}"`).join(', ');
  const sql = `insert into ${qualified(t)} (${list})
    select ${list} from json_populate_recordset(null::${qualified(t)}, ?::text::json)`;
  // Pipelined: the next chunk is hashed while the server inserts the one before.
  let inFlight: Promise<unknown> | undefined;
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    const records: Array<Record<string, unknown>> = [];
    for (const row of chunk) {
      const content = contentOf(columns, row);
      seq += 1n;
      const hash = ledgerHash(HASH_VERSION, chain, seq, prev, content);
      records.push({
        ...content,
        chain,
        seq: String(seq),
        prev_hash: prev,
        hash,
        hash_version: HASH_VERSION,
      });
      appended.push({ seq: String(seq), hash, prevHash: prev });
      prev = hash;
    }
    const body = JSON.stringify(records);
    if (inFlight) await inFlight;
    inFlight = trx.raw(sql, [body]);
  }
  await inFlight;
  return appended;
}
