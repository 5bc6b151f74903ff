import type { Knex } from 'knex';
import { trackedCommit } from '../interrupt.js';
import { settledWithin } from '../settledWithin.js';
import { LOCK_CLASS } from '../db/lockHolders.js';
import { copyField, copyRows, encodeLines } from '../db/copyRows.js';
import {
  canonicalContent,
  contentColumns,
  INTEGRITY_COLUMNS,
  qualified,
  type ContentColumn,
  type QualifiedTable,
} from './contentColumns.js';
import { GENESIS_HASH, HASH_VERSION, ledgerHash } from './ledgerHash.js';
import { TILE_WIDTH, tileRoot } from './merkleTree.js';
import { writeTiles, type TileRoot } from './writeTiles.js';

export type AppendedRow = { seq: string; hash: string; prevHash: string };

/**
 * A transaction for ledger writes, in READ COMMITTED whatever the server's default: the chain
 * head must be read after the chain's lock is taken, and under REPEATABLE READ the snapshot
 * would predate the lock (a trial here forked chains that way).
 */
export async function withLedgerTransaction<T>(
  knex: Knex,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const trx = await beginTransaction(knex);
  try {
    await trx.raw('set transaction isolation level read committed');
    const result = await fn(trx);
    await trackedCommit(() => trx.commit());
    return result;
  } catch (error) {
    await rollbackQuietly(trx);
    throw error;
  }
}

/**
 * A transaction of one's own to commit or roll back. Knex hands one back even when its BEGIN
 * failed (a connection that died in the pool), and every statement on it then fails with "query
 * already complete": the BEGIN's own error (a lost connection) is what to report.
 */
export async function beginTransaction(knex: Knex): Promise<Knex.Transaction> {
  const trx = await knex.transaction();
  // Let a failed BEGIN settle the transaction first.
  await new Promise((resolve) => setImmediate(resolve));
  if (trx.isCompleted())
    throw await trx.executionPromise.then(
      () => new Error('Connection terminated: the transaction could not begin'),
      (error: unknown) => error,
    );
  return trx;
}

/**
 * Rolls a transaction back, ignoring failure, and waiting for a rollback on a connection that
 * died no more than a moment: a lost connection's server has rolled it back already, and knex
 * may never settle a rollback sent on it.
 */
export async function rollbackQuietly(trx: Knex.Transaction): Promise<void> {
  if (trx.isCompleted()) return;
  await settledWithin(trx.rollback(), 2000);
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
  await lockChains(trx, t, [chain]);
}

/** The tables whose gate each transaction holds, and how. */
const gates = new WeakMap<Knex.Transaction, Map<string, 'shared' | 'exclusive'>>();

/**
 * Every writer of a ledger table passes its gate before it takes any of its chains' locks: shared
 * by writers that lock chains in name order (which cannot deadlock among themselves), exclusive
 * by one that must lock them in whatever order its input names them (an --atomic import of a
 * stream it cannot read twice), which so has the table to itself. No cycle of waits can form.
 */
async function passGate(
  trx: Knex.Transaction,
  t: QualifiedTable,
  mode: 'shared' | 'exclusive',
): Promise<void> {
  const name = `${t.schema}.${t.table}`;
  let held = gates.get(trx);
  if (!held) gates.set(trx, (held = new Map()));
  if (held.get(name) === 'exclusive' || held.get(name) === mode) return;
  // Taken while holding the shared gate (and maybe chains), it could wait on a cycle.
  if (held.has(name)) throw new Error(`the gate of ${name} is held shared; lockTable comes first`);
  await trx.raw(
    `select pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(?, hashtext(?))`,
    [LOCK_CLASS + 2, name],
  );
  held.set(name, mode);
}

/**
 * Makes the transaction the table's only writer until it ends, so it may lock the table's chains
 * in any order. Others wait for it (or it for them) at the gate, never while holding a chain.
 */
export async function lockTable(trx: Knex.Transaction, t: QualifiedTable): Promise<void> {
  await passGate(trx, t, 'exclusive');
}

/** Takes several chains' locks in one statement, in the order given (callers sort them). */
async function lockChains(
  trx: Knex.Transaction,
  t: QualifiedTable,
  chains: string[],
): Promise<void> {
  await passGate(trx, t, 'shared');
  await trx.raw(
    'select count(pg_advisory_xact_lock(?, hashtext(? || c))) from unnest(?::text[]) as u (c)',
    [LOCK_CLASS + 1, `${t.schema}.${t.table}:`, chains],
  );
}

/** A ledger row made ready before the chain is locked: what is slow is done outside the lock. */
export type PreparedRow = {
  /** The RFC 8785 JSON of the row's content: what its hash covers. */
  canonical: string;
  /** The content columns as COPY text, tab-separated, in column order. */
  fields: string;
};

/** A ledger table with its content columns, as appendToChains writes to it. */
export type LedgerTable = { table: QualifiedTable; columns: ContentColumn[] };

/**
 * Normalizes, canonicalizes and encodes one row of a ledger table whose content columns are
 * known. Every content column must be given (null is a value; a database default would not be
 * hashed).
 */
export function prepareLedgerRow(
  columns: ContentColumn[],
  row: Record<string, unknown>,
): PreparedRow {
  const values: unknown[] = [];
  let fields = '';
  for (const [i, column] of columns.entries()) {
    if (!(column.name in row)) {
      const absent = columns.filter((c) => !(c.name in row)).map((c) => c.name);
      throw new Error(`ledger row lacks ${absent.join(', ')}`);
    }
    const value = column.normalize(row[column.name]);
    values.push(value);
    fields += (i ? '\t' : '') + column.toCopy(value);
  }
  return { canonical: canonicalContent(columns, values), fields };
}

/** A chain's last position and hash. */
export type ChainHead = {
  seq: bigint;
  hash: string;
  /**
   * The hashes of the chain's rows since its last complete Merkle tile (seq mod 256 of them),
   * where this writer knows them: so the tiles the next rows complete are hashed ahead too.
   */
  tail?: readonly string[];
};

/**
 * Appends rows to one chain of a ledger table: takes the chain's transaction-scoped advisory
 * lock, reads the head, gives the rows the next positions, hashes and inserts them. Each row is
 * prepared as it is hashed and sent, so a large batch (1,000 PRDs) never holds its canonical
 * forms all at once.
 */
export async function appendToChain(
  trx: Knex.Transaction,
  t: QualifiedTable,
  chain: string,
  rows: Array<Record<string, unknown>>,
): Promise<AppendedRow[]> {
  const columns = await contentColumns(trx, t);
  const lazy: RowsOf = {
    length: rows.length,
    *[Symbol.iterator]() {
      for (const row of rows) yield prepareLedgerRow(columns, row);
    },
  };
  return (await appendToChains(trx, { table: t, columns }, new Map([[chain, lazy]])))[0] ?? [];
}

/** Rows for one chain: prepared, or prepared as they are read. */
export type RowsOf = Iterable<PreparedRow> & { readonly length: number };

/**
 * Rows by chain; with `inputOrder` (each row's chain, in the order the rows came), they are sent
 * in that order rather than chain by chain. Input in time order then reaches the time, id and
 * other indexes in ascending order, which packs their pages full: grouped by chain, it
 * interleaved them and split pages half full (bench/RESULTS.md, bytes per event).
 */
export type ChainBatch = Map<string, RowsOf> & { inputOrder?: readonly string[] };

/** The chains rows go to, in name order: the order their locks are taken. */
const lockOrder = (byChain: ChainBatch) =>
  [...byChain.keys()].filter((c) => byChain.get(c)?.length).sort();

/**
 * The COPY lines of rows appended to chains from the given heads, each row hashed on the one
 * before it in its chain; the heads are moved past them and each row's position and hashes noted
 * in `appended` (chain by chain, in `chains` order). Lines are made as they are read, so rows
 * need not all be held at once.
 */
function* chainLines(
  chains: string[],
  byChain: ChainBatch,
  heads: Map<string, ChainHead>,
  appended: AppendedRow[][],
  tiles?: TileRoot[],
): Generator<string> {
  type Walk = {
    chain: string;
    seq: bigint;
    prev: string;
    out: AppendedRow[];
    field: string;
    tail: readonly string[] | undefined;
  };
  const walks = new Map<string, Walk>();
  for (const chain of chains) {
    const out: AppendedRow[] = [];
    appended.push(out);
    const { seq, hash, tail } = heads.get(chain) as ChainHead;
    walks.set(chain, {
      chain,
      seq,
      prev: hash,
      out,
      field: copyField(chain),
      tail: tail ?? (seq % TILE === 0n ? [] : undefined),
    });
  }
  const line = (walk: Walk, row: PreparedRow): string => {
    walk.seq += 1n;
    const hash = ledgerHash(HASH_VERSION, walk.chain, walk.seq, walk.prev, row.canonical);
    walk.out.push({ seq: String(walk.seq), hash, prevHash: walk.prev });
    // Digests are bytea, sent in its hex input form (\x…, its backslash doubled for COPY).
    const text = `${row.fields}\t${walk.field}\t${walk.seq}\t\\\\x${walk.prev}\t\\\\x${hash}\t${HASH_VERSION}\n`;
    walk.prev = hash;
    return text;
  };
  const order = byChain.inputOrder;
  if (order) {
    const rows = new Map(chains.map((c) => [c, (byChain.get(c) as RowsOf)[Symbol.iterator]()]));
    for (const chain of order) {
      const next = rows.get(chain)?.next();
      if (!next || next.done) throw new Error(`inputOrder names more rows of ${chain} than it has`);
      yield line(walks.get(chain) as Walk, next.value);
    }
  } else {
    for (const chain of chains)
      for (const row of byChain.get(chain) as RowsOf) yield line(walks.get(chain) as Walk, row);
  }
  for (const [chain, walk] of walks) {
    const head: ChainHead = { seq: walk.seq, hash: walk.prev };
    const rest = Number(walk.seq % TILE);
    if (walk.tail) {
      const leaves = [...walk.tail, ...walk.out.map((r) => r.hash)];
      const done = leaves.length - rest;
      if (tiles)
        for (let i = 0; i < done; i += TILE_WIDTH) {
          const root = tileRoot(leaves.slice(i, i + TILE_WIDTH).map((h) => Buffer.from(h, 'hex')));
          tiles.push({
            chain,
            idx: (walk.seq - BigInt(rest) - BigInt(done - i)) / TILE,
            hash: Buffer.from(root).toString('hex'),
          });
        }
      head.tail = leaves.slice(done);
    } else if (rest === 0) head.tail = [];
    heads.set(chain, head);
  }
}

/**
 * Rows hashed and encoded before their append, from the heads their writer expects the chains
 * to have by then (an import does this for one chunk while the server loads the one before).
 * appendToChains uses them only if the chains' heads, read under their locks, are those.
 */
export type HashedRows = {
  from: Map<string, ChainHead>;
  to: Map<string, ChainHead>;
  appended: AppendedRow[][];
  data: Uint8Array[];
  /** The Merkle tiles the rows complete, where the chains' tails were known. */
  tiles: TileRoot[];
};

const TILE = BigInt(TILE_WIDTH);

/** Whether the rows of a chain's incomplete tile are known from its head (none, at a boundary). */
const tailKnown = (head: ChainHead) => head.tail !== undefined || head.seq % TILE === 0n;

/** Hashes rows on the given heads; undefined unless every chain they go to has one. */
export function hashRows(
  byChain: ChainBatch,
  heads: ReadonlyMap<string, ChainHead>,
): HashedRows | undefined {
  const chains = lockOrder(byChain);
  if (!chains.every((c) => heads.has(c))) return undefined;
  const from = new Map(chains.map((c) => [c, heads.get(c) as ChainHead]));
  const to = new Map(from);
  const appended: AppendedRow[][] = [];
  const tiles: TileRoot[] = [];
  const data = encodeLines(chainLines(chains, byChain, to, appended, tiles));
  return { from, to, appended, data, tiles };
}

/** Whether two heads are the same position and hash (either may be unknown). */
export const sameHead = (a: ChainHead | undefined, b: ChainHead | undefined) =>
  a !== undefined && b !== undefined && a.seq === b.seq && a.hash === b.hash;

/**
 * Appends prepared rows to several chains of one ledger table at once: takes the chains'
 * transaction-scoped locks in name order (so concurrent writers cannot deadlock) and reads
 * their heads, one statement each; then hashes every row and loads them all with one COPY,
 * fed as the rows are hashed, so Node and the server work at once. Returns the appended rows,
 * chain by chain in name order.
 *
 * A caller appending several times in one transaction passes `heads`: the chains this
 * transaction has locked, with their heads. A chain found there is neither locked nor read
 * again (the lock is held until the transaction ends, so its head cannot move); the others
 * are, and the map is kept up to date. A caller that hashed the rows ahead passes them as
 * `hashed`; they are sent as they are if they were hashed on the heads found, else hashed again.
 */
export async function appendToChains(
  trx: Knex.Transaction,
  target: LedgerTable,
  byChain: ChainBatch,
  heads: Map<string, ChainHead> = new Map(),
  hashed?: HashedRows,
): Promise<AppendedRow[][]> {
  const chains = lockOrder(byChain);
  if (chains.length === 0) return [];
  const t = target.table;
  const unknown = chains.filter((c) => !heads.has(c));
  if (unknown.length) {
    await lockChains(trx, t, unknown);
    const read = (
      await trx.raw<{ rows: Array<{ chain: string; seq: string | null; hash: string | null }> }>(
        `select c.chain, h.seq, h.hash from unnest(?::text[]) as c (chain)
           left join lateral (
             select seq, encode(hash, 'hex') as hash from ${qualified(t)} where chain = c.chain order by seq desc limit 1
           ) h on true`,
        [unknown],
      )
    ).rows;
    for (const r of read) {
      heads.set(r.chain, {
        seq: r.seq === null ? 0n : BigInt(r.seq),
        hash: r.hash ?? GENESIS_HASH,
      });
    }
  }
  const columns = [...target.columns.map((c) => c.name), ...INTEGRITY_COLUMNS];
  if (
    hashed &&
    hashed.from.size === chains.length &&
    chains.every((c) => sameHead(heads.get(c), hashed.from.get(c)))
  ) {
    await writeTiles(
      trx,
      t,
      chains.map((chain, i) => ({
        chain,
        from: (hashed.from.get(chain) as ChainHead).seq,
        hashes: (hashed.appended[i] ?? []).map((r) => r.hash),
        tiles: tailKnown(hashed.from.get(chain) as ChainHead)
          ? hashed.tiles.filter((x) => x.chain === chain)
          : undefined,
      })),
    );
    await copyRows(trx, qualified(t), columns, hashed.data);
    for (const [chain, head] of hashed.to) heads.set(chain, head);
    return hashed.appended;
  }
  const appended: AppendedRow[][] = [];
  await copyRows(trx, qualified(t), columns, chainLines(chains, byChain, heads, appended));
  return appended;
}
