import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Knex } from 'knex';
import { CosError, ExitCode } from '../errors.js';
import { checkpointText, keyIdOf, noteKeyBytes, signNote, type NoteSigner } from './signedNote.js';
import { hasTable, storeOrigin } from './ledgerCatalog.js';
import { tlogKeyName, tlogOrigin } from './tlogProof.js';

/** A signed tree head of one chain, as cc.tlog_checkpoints keeps it. */
export type TreeHead = {
  table: string;
  chain: string;
  size: string;
  /** The root, base64 as the checkpoint has it. */
  root: string;
  /** The C2SP signed note: checkpoint text, blank line, signature. */
  note: string;
  created_at: string;
};

/** The signer of a store's checkpoints: its Ed25519 key under the store's log name. */
export function noteSigner(origin: string, privateKey: KeyObject): NoteSigner {
  const publicKey = createPublicKey(privateKey);
  const name = tlogKeyName(origin);
  return { name, keyId: keyIdOf(name, noteKeyBytes(publicKey)), key: publicKey, privateKey };
}

/** Whether the store keeps Merkle trees (migration 20261208000000). */
export const hasMerkleTrees = (knex: Knex) => hasTable(knex, 'cc.merkle_tiles');

/**
 * Signs each chain's verified size and root as a C2SP checkpoint and keeps it in the store's
 * history (cc.tlog_checkpoints), in one transaction.
 */
export async function signTreeHeads(
  knex: Knex,
  chains: ReadonlyArray<{ table: string; chain: string; size: number; root: string | null }>,
  privateKey: KeyObject,
): Promise<TreeHead[]> {
  const origin = await storeOrigin(knex);
  if (!origin)
    throw new CosError(ExitCode.drift, 'this database has no ledger yet', {
      hint: 'run `cos-db migrate` first',
    });
  const signer = noteSigner(origin, privateKey);
  const heads = chains
    .filter((c) => c.size > 0 && c.root !== null)
    .map((c) => {
      const root = Buffer.from(c.root as string, 'hex');
      const note = signNote(
        checkpointText({
          origin: tlogOrigin(origin, c.table, c.chain),
          size: BigInt(c.size),
          root,
          extensions: [],
        }),
        [signer],
      );
      return { table: c.table, chain: c.chain, size: String(c.size), root, note };
    });
  if (heads.length === 0) return [];
  const rows = (
    await knex.raw<{ rows: Array<{ created_at: Date | string }> }>(
      `insert into cc.tlog_checkpoints (table_name, chain, size, root, note)
       select u.t, u.c, u.s, decode(u.r, 'hex'), u.n
         from unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[]) as u (t, c, s, r, n)
       returning created_at`,
      [
        heads.map((h) => h.table),
        heads.map((h) => h.chain),
        heads.map((h) => h.size),
        heads.map((h) => h.root.toString('hex')),
        heads.map((h) => h.note),
      ],
    )
  ).rows;
  const at = new Date(rows[0]?.created_at ?? Date.now()).toISOString();
  return heads.map((h) => ({ ...h, root: h.root.toString('base64'), created_at: at }));
}

/**
 * The newest signed tree head of a chain covering at least `minSize` rows (or of exactly
 * `exactSize`), or undefined.
 */
export async function storedTreeHead(
  knex: Knex,
  table: string,
  chain: string,
  size: { min?: bigint; exact?: bigint },
): Promise<TreeHead | undefined> {
  const row = (
    await knex.raw<{
      rows: Array<{ size: string; root: string; note: string; created_at: Date | string }>;
    }>(
      // Ordered by the column, not by the select list's text of it.
      `select c.size::text as size, encode(c.root, 'base64') as root, c.note, c.created_at
         from cc.tlog_checkpoints c
        where c.table_name = ? and c.chain = ? and c.size >= ?::bigint
          and (?::bigint is null or c.size = ?::bigint)
        order by c.size desc, c.id desc limit 1`,
      [
        table,
        chain,
        String(size.min ?? 1n),
        size.exact === undefined ? null : String(size.exact),
        size.exact === undefined ? null : String(size.exact),
      ],
    )
  ).rows[0];
  if (!row) return undefined;
  return {
    table,
    chain,
    size: row.size,
    root: row.root,
    note: row.note,
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** Where an appended record will be proved: its chain's log and its leaf index there. */
export type Receipt = { log: string; index: string; proof: string };

/**
 * A receipt for an event just appended: no signed checkpoint can cover it yet, so it names the
 * log and index the next one will, and where its proof will be served.
 */
export function eventReceipt(
  origin: string,
  event: { event_id: string; chain: string; seq: string },
): Receipt {
  return {
    log: tlogOrigin(origin, 'cc.events', event.chain),
    index: String(BigInt(event.seq) - 1n),
    proof: `/v1/proofs/inclusion/${encodeURIComponent(event.event_id)}`,
  };
}
