import type { Knex } from 'knex';
import { CosError, ExitCode, integrityError, notFoundError, usageError } from '../errors.js';
import { canonicalJson } from './canonicalJson.js';
import { saltHexOf } from './commitment.js';
import { canonicalRow, contentColumns, qualified } from './contentColumns.js';
import { hasRedactions, splitTable, storeOrigin } from './ledgerCatalog.js';
import { TreeIncompleteError, TreeReader, type TreeSource } from './merkleTree.js';
import { ERASED_COMMITMENT, REDACTED_TABLE, storedRowSelect } from './storedRows.js';
import {
  formatConsistencyProof,
  formatInclusionProof,
  LEAF_FORMAT,
  type LeafMaterial,
} from './tlogProof.js';
import { hasMerkleTrees, storedTreeHead, type TreeHead } from './treeHeads.js';
import { parseCheckpoint, NoteError } from './signedNote.js';

/** A chain's tree as the store keeps it: its rows' hashes and its tiles' roots. */
export function storedTree(knex: Knex, table: string, chain: string): TreeSource {
  const t = qualified(splitTable(table));
  const hashes = async (sql: string, bindings: Knex.RawBinding[]) =>
    (await knex.raw<{ rows: Array<{ h: string }> }>(sql, bindings)).rows.map((r) =>
      Buffer.from(r.h, 'hex'),
    );
  return {
    leaves: (from, to) =>
      hashes(
        `select encode(hash, 'hex') as h from ${t} where chain = ? and seq > ?::bigint and seq <= ?::bigint order by seq`,
        [chain, String(from), String(to)],
      ),
    tiles: (stratum, from, to) =>
      hashes(
        `select encode(hash, 'hex') as h from cc.merkle_tiles
          where table_name = ? and chain = ? and stratum = ? and idx >= ?::bigint and idx < ?::bigint order by idx`,
        [table, chain, stratum, String(from), String(to)],
      ),
  };
}

/** Where a record is in the ledger, and what its row's hash covers. */
export type Leaf = { table: string; chain: string; seq: bigint; material: LeafMaterial };

const PRD_REF = /^prd:([a-z0-9][a-z0-9._-]*)(?:@([1-9][0-9]{0,8}))?$/;

/**
 * An event (its id) or a PRD version (prd:ID@VERSION, or prd:ID for the latest), as a leaf; with
 * `withPayload`, its salted value (an event's payload) and salt too, while they are there.
 */
export async function findLeaf(knex: Knex, ref: string, withPayload = false): Promise<Leaf> {
  const prd = ref.startsWith('prd:') ? PRD_REF.exec(ref) : null;
  if (ref.startsWith('prd:') && !prd)
    throw usageError(`"${ref}" is not a PRD version reference`, {
      hint: 'write prd:ID@VERSION, or prd:ID for its latest version',
    });
  const table = prd ? 'cc.prd_versions' : REDACTED_TABLE;
  const t = splitTable(table);
  const columns = await contentColumns(knex, t);
  const erased = table === REDACTED_TABLE && (await hasRedactions(knex));
  const where = prd
    ? prd[2]
      ? ['prd_id = ? and version = ?', [prd[1], Number(prd[2])]]
      : ['prd_id = ? order by version desc limit 1', [prd[1]]]
    : ['event_id = ?', [ref]];
  const row = (
    await knex.raw<{ rows: Array<Record<string, unknown>> }>(
      `select ${storedRowSelect(columns, erased)} from ${qualified(t)} where ${where[0] as string}`,
      where[1] as Knex.RawBinding[],
    )
  ).rows[0];
  if (!row)
    throw notFoundError(`${prd ? 'PRD version' : 'event'} ${ref} is not archived`, {
      hint: prd ? 'see `cos-db query prd`' : 'see `cos-db query events`',
    });
  const commitmentOnRecord = row[ERASED_COMMITMENT] as string | null | undefined;
  // A salted value still there, opened if asked for: the verifier checks it against its commitment.
  const salted = withPayload
    ? columns.find((c) => saltHexOf(row[`${c.name}_salt`]) !== null)
    : undefined;
  const opening = salted
    ? {
        field: salted.name,
        salt: saltHexOf(row[`${salted.name}_salt`]) as string,
        text:
          typeof row[`${salted.name}_original`] === 'string'
            ? (row[`${salted.name}_original`] as string)
            : canonicalJson(salted.normalize(row[salted.name])),
      }
    : null;
  return {
    table,
    chain: row.chain as string,
    seq: BigInt(row.seq as string),
    material: {
      format: LEAF_FORMAT,
      table,
      chain: row.chain as string,
      seq: row.seq as string,
      hash_version: row.hash_version as number,
      prev_hash: row.prev_hash as string,
      content: canonicalRow(columns, row, commitmentOnRecord),
      opening,
    },
  };
}

export type InclusionProof = {
  kind: 'inclusion';
  ref: string;
  table: string;
  chain: string;
  seq: string;
  index: string;
  checkpoint: TreeHead;
  proof: string;
};

export type ConsistencyProof = {
  kind: 'consistency';
  table: string;
  chain: string;
  from: TreeHead;
  to: TreeHead;
  proof: string;
};

async function requireTrees(knex: Knex): Promise<void> {
  if (!(await hasMerkleTrees(knex)))
    throw new CosError(ExitCode.drift, 'this store keeps no Merkle trees yet', {
      hint: 'run `cos-db migrate` (migration 20261208000000_merkle)',
    });
}

function treeBehind(error: unknown, table: string, chain: string): never {
  if (error instanceof TreeIncompleteError)
    throw new CosError(ExitCode.integrity, `chain ${chain} of ${table}: ${error.message}`, {
      hint: 'run `cos-db verify`: it names what is wrong with the chain and its tree',
    });
  throw error;
}

/**
 * A C2SP tlog-proof that the record is in its chain: the audit path to the root of the newest
 * signed tree head that covers it, with the record's hashed material as extra data (its payload
 * as the commitment the hash covers; the payload itself and its salt with `withPayload`, so the
 * proof grows with it).
 */
export async function proveInclusion(
  knex: Knex,
  ref: string,
  options: { withPayload?: boolean } = {},
): Promise<InclusionProof> {
  await requireTrees(knex);
  const leaf = await findLeaf(knex, ref, options.withPayload === true);
  const head = await storedTreeHead(knex, leaf.table, leaf.chain, { min: leaf.seq });
  if (!head)
    throw notFoundError(`no signed checkpoint of chain ${leaf.chain} covers ${ref} yet`, {
      hint: 'sign one with `cos-db verify --write-checkpoint FILE --key KEY`',
      details: { table: leaf.table, chain: leaf.chain, seq: String(leaf.seq) },
    });
  const index = leaf.seq - 1n;
  let path: Uint8Array[];
  try {
    path = await new TreeReader(storedTree(knex, leaf.table, leaf.chain)).inclusion(
      index,
      BigInt(head.size),
    );
  } catch (error) {
    treeBehind(error, leaf.table, leaf.chain);
  }
  return {
    kind: 'inclusion',
    ref,
    table: leaf.table,
    chain: leaf.chain,
    seq: String(leaf.seq),
    index: String(index),
    checkpoint: head,
    proof: formatInclusionProof(leaf.material, index, path, head.note),
  };
}

/** The table and chain a tlog origin names, with the store it is of. */
function chainOfOrigin(origin: string): { store: string; table: string; chain: string } {
  const m = /^cos-db\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(origin);
  if (!m) throw usageError(`"${origin}" is not the origin of a cos-db chain`);
  return {
    store: m[1] as string,
    table: decodeURIComponent(m[2] as string),
    chain: decodeURIComponent(m[3] as string),
  };
}

/**
 * A consistency proof from an older signed tree head of a chain (a checkpoint note someone kept,
 * or the stored one of that size) to the newest stored one.
 */
export async function proveConsistency(
  knex: Knex,
  from: { note: string } | { table: string; chain: string; size: bigint },
): Promise<ConsistencyProof> {
  await requireTrees(knex);
  let older: TreeHead;
  if ('note' in from) {
    let checkpoint;
    try {
      checkpoint = parseCheckpoint(from.note.slice(0, from.note.indexOf('\n\n') + 1));
    } catch (error) {
      if (error instanceof NoteError) throw usageError('--from holds no tlog checkpoint');
      throw error;
    }
    const { store, table, chain } = chainOfOrigin(checkpoint.origin);
    const origin = await storeOrigin(knex);
    if (store !== origin)
      throw integrityError(
        `the checkpoint is of another store (${store}); this store is ${origin ?? 'not initialised'}`,
        { hint: 'prove it against the database it was signed for' },
      );
    older = {
      table,
      chain,
      size: String(checkpoint.size),
      root: checkpoint.root.toString('base64'),
      note: from.note,
      created_at: '',
    };
  } else {
    const stored = await storedTreeHead(knex, from.table, from.chain, { exact: from.size });
    if (!stored)
      throw notFoundError(
        `no signed checkpoint of chain ${from.chain} of ${from.table} has size ${from.size}`,
        { hint: 'name a size a checkpoint was signed at, or pass the checkpoint file itself' },
      );
    older = stored;
  }
  const newer = await storedTreeHead(knex, older.table, older.chain, { min: BigInt(older.size) });
  if (!newer)
    throw notFoundError(`no signed checkpoint of chain ${older.chain} of ${older.table}`, {
      hint: 'sign one with `cos-db verify --write-checkpoint FILE --key KEY`',
    });
  let path: Uint8Array[];
  try {
    path = await new TreeReader(storedTree(knex, older.table, older.chain)).consistency(
      BigInt(older.size),
      BigInt(newer.size),
    );
  } catch (error) {
    treeBehind(error, older.table, older.chain);
  }
  return {
    kind: 'consistency',
    table: older.table,
    chain: older.chain,
    from: older,
    to: newer,
    proof: formatConsistencyProof(path, older.note, newer.note),
  };
}
