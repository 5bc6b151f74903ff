import type { Knex } from 'knex';
import { qualified, type QualifiedTable } from './contentColumns.js';
import { TILE_WIDTH, tileRoot } from './merkleTree.js';

/** A complete tile of a chain: its index and root (hex), hashed ahead by the writer. */
export type TileRoot = { chain: string; idx: bigint; hash: string };

/**
 * Rows about to be appended to one chain: the head they follow, their hashes (hex), and the
 * tiles they complete when the writer knew the chain's incomplete tile (else read here).
 */
export type ChainAppend = {
  chain: string;
  from: bigint;
  hashes: readonly string[];
  tiles?: readonly TileRoot[] | undefined;
};

/** Whether this connection's role may write tiles to a store that has them, asked once. */
const writable = new WeakMap<object, Promise<boolean>>();

const WIDTH = BigInt(TILE_WIDTH);

/**
 * Writes the stratum-1 Merkle tiles that rows hashed ahead will complete, before the rows are
 * sent, in their transaction: hashed in Node with the rows (from each chain's incomplete tile,
 * carried in its head, or else read here), several times cheaper than the database's trigger
 * doing it in SQL (docs/performance.md). The trigger, seeing a chain's tiles
 * in step with its rows, then only adds the tiles above them. A chain whose stored tiles are not
 * in step with its head, or a role that may not write tiles, is left to the trigger.
 */
export async function writeTiles(
  trx: Knex.Transaction,
  t: QualifiedTable,
  appends: readonly ChainAppend[],
): Promise<void> {
  const crossing = appends.filter(
    (a) => (a.from + BigInt(a.hashes.length)) / WIDTH > a.from / WIDTH,
  );
  if (crossing.length === 0) return;
  const client = trx.client as object;
  let may = writable.get(client);
  if (!may) {
    may = trx
      .raw<{ rows: Array<{ may: boolean }> }>(
        `select case when to_regclass('cc.merkle_tiles') is null then false
                     else has_table_privilege('cc.merkle_tiles', 'insert') end as may`,
      )
      .then((r) => r.rows[0]?.may === true);
    writable.set(client, may);
    // A failed question is asked again next time, not remembered.
    may.catch(() => writable.delete(client));
  }
  if (!(await may)) return;
  const table = `${t.schema}.${t.table}`;
  const unknown = crossing.filter((a) => a.tiles === undefined);
  // For chains whose incomplete tile the writer did not know: the rows of it before these.
  const known = unknown.length
    ? (
        await trx.raw<{ rows: Array<{ chain: string; before: string[] | null }> }>(
          `select r.c as chain,
                  (select array_agg(encode(x.hash, 'hex') order by x.seq) from ${qualified(t)} x
                    where x.chain = r.c and x.seq > r.lo and x.seq <= r.hi) as before
             from unnest(?::text[], ?::bigint[], ?::bigint[]) as r (c, lo, hi)`,
          [
            unknown.map((a) => a.chain),
            unknown.map((a) => String((a.from / WIDTH) * WIDTH)),
            unknown.map((a) => String(a.from)),
          ],
        )
      ).rows
    : [];
  const tiles = {
    chain: [] as string[],
    idx: [] as string[],
    hash: [] as string[],
    first: [] as string[],
  };
  const add = (chain: string, idx: bigint, hash: string, first: bigint) => {
    tiles.chain.push(chain);
    tiles.idx.push(String(idx));
    tiles.hash.push(hash);
    tiles.first.push(String(first));
  };
  for (const a of crossing) {
    const first = a.from / WIDTH;
    if (a.tiles) {
      for (const tile of a.tiles) add(a.chain, tile.idx, tile.hash, first);
      continue;
    }
    const before = known.find((r) => r.chain === a.chain)?.before ?? [];
    if (BigInt(before.length) !== a.from - first * WIDTH) continue;
    const leaves = [...before, ...a.hashes];
    for (let i = 0; i + TILE_WIDTH <= leaves.length; i += TILE_WIDTH) {
      const root = tileRoot(leaves.slice(i, i + TILE_WIDTH).map((h) => Buffer.from(h, 'hex')));
      add(a.chain, first + BigInt(i / TILE_WIDTH), Buffer.from(root).toString('hex'), first);
    }
  }
  if (tiles.idx.length === 0) return;
  // Only where the chain's stored tiles end where these begin: else the trigger catches it up.
  await trx.raw(
    `insert into cc.merkle_tiles (table_name, chain, stratum, idx, hash)
     select ?, u.c, 1, u.i, decode(u.h, 'hex')
       from unnest(?::text[], ?::bigint[], ?::text[], ?::bigint[]) as u (c, i, h, f)
      where u.f = (select coalesce(max(m.idx) + 1, 0) from cc.merkle_tiles m
                    where m.table_name = ? and m.chain = u.c and m.stratum = 1)`,
    [table, tiles.chain, tiles.idx, tiles.hash, tiles.first, table],
  );
}
