import {
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify as verifySignature,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { prepareOutputFile, writeWholeFile } from '../outputFile.js';
import type { Knex } from 'knex';
import { CosError, ExitCode, integrityError, usageError } from '../errors.js';
import { canonicalJson } from './canonicalJson.js';
import { qualified } from './contentColumns.js';
import { splitTable, storeOrigin } from './ledgerCatalog.js';
import type { TreeHead } from './treeHeads.js';
import type { VerifyReport } from './verify.js';

export const CHECKPOINT_FORMAT = 'cos-db-checkpoint/2';

export type CheckpointBody = {
  format: typeof CHECKPOINT_FORMAT;
  origin: string;
  database: string;
  created_at: string;
  chains: Array<{ table: string; chain: string; size: number; head: string }>;
  /** The same heads as C2SP signed checkpoints (absent from checkpoints of stores without trees). */
  tree_heads?: Array<{ table: string; chain: string; size: string; root: string; note: string }>;
  public_key: string;
};

export type Checkpoint = CheckpointBody & { signature: string };

export function keygen(path: string, force = false): { private_key: string; public_key: string } {
  const publicPath = `${path}.pub`;
  prepareOutputFile(path, { label: 'keygen --out', createFolder: true });
  prepareOutputFile(publicPath, { label: 'keygen --out' });
  if (!force && (existsSync(path) || existsSync(publicPath))) {
    throw usageError(`${path} already exists; not overwriting a signing key`, {
      hint: 'choose another path, or --force',
    });
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return { private_key: path, public_key: publicPath };
}

/** Signs every chain's size and head, with the store's identity and the time. */
export async function makeCheckpoint(
  knex: Knex,
  report: VerifyReport,
  key: KeyObject,
  treeHeads: readonly TreeHead[] = [],
): Promise<Checkpoint> {
  const origin = report.origin ?? (await storeOrigin(knex));
  if (!origin)
    throw new CosError(ExitCode.drift, 'this database has no ledger yet', {
      hint: 'run `cos-db migrate` first',
    });
  const database =
    (await knex.raw<{ rows: Array<{ d: string }> }>('select current_database() as d')).rows[0]?.d ??
    '';
  const body: CheckpointBody = {
    format: CHECKPOINT_FORMAT,
    origin,
    database,
    created_at: new Date().toISOString(),
    chains: report.chains
      .filter((c) => c.head !== null)
      .map((c) => ({ table: c.table, chain: c.chain, size: c.size, head: c.head as string })),
    ...(treeHeads.length
      ? {
          tree_heads: treeHeads.map(({ table, chain, size, root, note }) => ({
            table,
            chain,
            size,
            root,
            note,
          })),
        }
      : {}),
    public_key: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
  };
  const signature = sign(null, Buffer.from(canonicalJson(body)), key).toString('base64');
  return { ...body, signature };
}

export function writeCheckpointFile(path: string, checkpoint: Checkpoint): void {
  writeWholeFile(path, `${JSON.stringify(checkpoint, null, 2)}\n`, '--write-checkpoint');
}

export function readCheckpointFile(path: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw usageError(`cannot read checkpoint ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  let parsed: Checkpoint;
  try {
    parsed = JSON.parse(text) as Checkpoint;
  } catch (error) {
    throw usageError(`checkpoint ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (
    parsed?.format !== CHECKPOINT_FORMAT ||
    !Array.isArray(parsed.chains) ||
    typeof parsed.signature !== 'string'
  ) {
    throw usageError(`${path} is not a cos-db checkpoint (format ${CHECKPOINT_FORMAT})`);
  }
  return parsed;
}

export type CheckpointCheck = {
  signed_by: 'trusted key' | 'key inside the checkpoint';
  created_at: string;
  chains: Array<{
    table: string;
    chain: string;
    size: number;
    head: string;
    status: 'extends' | 'rewritten' | 'truncated';
  }>;
  ok: boolean;
};

/**
 * Checks the signature, that the checkpoint is this store's, and that each chain still extends
 * it: the row at the checkpoint's size still has the checkpoint's head hash. A history rewritten
 * from scratch is consistent in itself but fails here.
 */
export async function checkCheckpoint(
  knex: Knex,
  checkpoint: Checkpoint,
  trusted: KeyObject | undefined,
): Promise<CheckpointCheck> {
  const { signature, ...body } = checkpoint;
  let key: KeyObject;
  try {
    key = trusted ?? createPublicKey(body.public_key);
  } catch {
    throw integrityError('the checkpoint holds no usable public key');
  }
  const valid = verifySignature(
    null,
    Buffer.from(canonicalJson(body)),
    key,
    Buffer.from(signature, 'base64'),
  );
  if (!valid) {
    throw integrityError(
      'the checkpoint signature is not valid: the file was altered, or signed by another key',
      {
        hint: trusted ? 'check that --key names the key that signed it' : undefined,
      },
    );
  }
  const origin = await storeOrigin(knex);
  if (origin !== body.origin) {
    throw integrityError(
      `the checkpoint is from another store (origin ${body.origin}, database ${body.database}); this store is ${origin ?? 'not initialised'}`,
      {
        hint: 'check it against the database it was written for',
      },
    );
  }
  const result: CheckpointCheck = {
    signed_by: trusted ? 'trusted key' : 'key inside the checkpoint',
    created_at: body.created_at,
    chains: [],
    ok: true,
  };
  for (const c of body.chains) {
    const rows = (
      await knex.raw<{ rows: Array<{ hash: string }> }>(
        `select encode(hash, 'hex') as hash from ${qualified(splitTable(c.table))} where chain = ? and seq = ?`,
        [c.chain, c.size],
      )
    ).rows;
    const status =
      rows.length === 0 ? 'truncated' : rows[0]?.hash === c.head ? 'extends' : 'rewritten';
    if (status !== 'extends') result.ok = false;
    result.chains.push({ ...c, status });
  }
  return result;
}
