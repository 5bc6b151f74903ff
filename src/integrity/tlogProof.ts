import { createPublicKey, type KeyObject } from 'node:crypto';
import { commitment } from './commitment.js';
import { ledgerHash } from './ledgerHash.js';
import { HASH_BYTES, leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import {
  keyIdOf,
  NoteError,
  noteKeyBytes,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  type Checkpoint,
  type NoteVerifier,
} from './signedNote.js';

/**
 * cos-db's receipts in the formats transparency logs use: an inclusion proof is a C2SP
 * tlog-proof (c2sp.org/tlog-proof) whose extra data is the ledger row's hashed material, so the
 * verifier recomputes the leaf itself; a consistency proof (which C2SP gives no file format) is
 * the same shape with both signed checkpoints. Everything here works offline.
 */

export const PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
export const CONSISTENCY_HEADER = 'cos-db.dev/tlog-consistency@v1';
export const LEAF_FORMAT = 'cos-db-leaf/1';

/** A chain's log name in checkpoints: the store, the table and the chain. */
export function tlogOrigin(storeOrigin: string, table: string, chain: string): string {
  return `cos-db/${storeOrigin}/${encodeURIComponent(table)}/${encodeURIComponent(chain)}`;
}

/** The name a store's checkpoints are signed under (a signed note's key name). */
export const tlogKeyName = (storeOrigin: string) => `cos-db/${storeOrigin}`;

/** What a ledger row's hash covers, carried as a proof's extra data. */
export type LeafMaterial = {
  format: typeof LEAF_FORMAT;
  table: string;
  chain: string;
  seq: string;
  hash_version: number;
  prev_hash: string;
  /** The row's canonical content, exactly as hashed (a salted value as its commitment). */
  content: string;
  /** A salted value and its salt, while it is there: the commitment in content can be checked. */
  opening: { field: string; salt: string; text: string } | null;
};

/** The row hash the material gives (the leaf's data), lowercase hex. */
export const rowHashOf = (m: LeafMaterial) =>
  ledgerHash(m.hash_version, m.chain, m.seq, m.prev_hash, m.content);

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export function formatInclusionProof(
  material: LeafMaterial,
  index: bigint,
  path: readonly Uint8Array[],
  signedCheckpoint: string,
): string {
  const extra = Buffer.from(JSON.stringify(material)).toString('base64');
  return [
    PROOF_HEADER,
    `extra ${extra}`,
    `index ${index}`,
    ...path.map(b64),
    '',
    signedCheckpoint,
  ].join('\n');
}

export function formatConsistencyProof(
  path: readonly Uint8Array[],
  olderCheckpoint: string,
  newerCheckpoint: string,
): string {
  return `${[CONSISTENCY_HEADER, ...path.map(b64), ''].join('\n')}\n${olderCheckpoint}${newerCheckpoint}`;
}

/** Why a proof failed; `malformed` is a file that is no proof at all (exit 2), the rest exit 4. */
export class ProofError extends Error {
  constructor(
    readonly kind:
      'malformed' | 'signature' | 'origin' | 'leaf' | 'commitment' | 'path' | 'consistency',
    message: string,
  ) {
    super(message);
  }
}

const BASE64_HASH = /^[A-Za-z0-9+/]{43}=$/;

function decodeHash(line: string): Buffer {
  const bytes = Buffer.from(line, 'base64');
  if (!BASE64_HASH.test(line) || bytes.length !== HASH_BYTES || b64(bytes) !== line)
    throw new ProofError('malformed', `"${line.slice(0, 60)}" is not a base64 SHA-256 hash`);
  return bytes;
}

/** Splits signed notes laid end to end: each is its text, a blank line, then signature lines. */
function splitNotes(text: string): string[] {
  const notes: string[][] = [];
  let current: string[] = [];
  let inSignatures = false;
  for (const line of (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n')) {
    if (inSignatures && !line.startsWith('\u2014 ')) {
      notes.push(current);
      current = [];
      inSignatures = false;
    }
    if (!inSignatures && line === '') inSignatures = true;
    current.push(line);
  }
  notes.push(current);
  return notes.map((n) => `${n.join('\n')}\n`);
}

/**
 * The verifiers a key gives for a note: a verifier key string (name+id+key) as Go's note package
 * writes it, or an Ed25519 public key (PEM), then under each name the note's signatures use.
 */
export function verifiersFor(key: string | KeyObject, note: string): NoteVerifier[] {
  if (typeof key === 'string') return [parseVerifierKey(key.trim())];
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  const raw = noteKeyBytes(publicKey);
  const names = new Set(
    [...note.matchAll(/^\u2014 (\S+) /gmu)].map((m) => m[1]).filter((n) => n !== undefined),
  );
  return [...names].map((name) => ({ name, keyId: keyIdOf(name, raw), key: publicKey }));
}

/** Opens a signed checkpoint with the key: the checkpoint, or a ProofError saying why not. */
export function openCheckpoint(note: string, key: string | KeyObject): Checkpoint {
  let verifiers: NoteVerifier[];
  try {
    verifiers = verifiersFor(key, note);
  } catch (error) {
    throw new ProofError('malformed', (error as Error).message);
  }
  try {
    return parseCheckpoint(openNote(note, verifiers).text);
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
    if (error.kind === 'malformed')
      throw new ProofError('malformed', `the checkpoint is a ${error.message}`);
    throw new ProofError(
      'signature',
      error.kind === 'unverified'
        ? 'the checkpoint carries no signature by this key'
        : `the checkpoint's signature does not verify (${error.message})`,
    );
  }
}

export type InclusionResult = {
  kind: 'inclusion';
  origin: string;
  table: string;
  chain: string;
  seq: string;
  index: string;
  size: string;
  root: string;
  /** The salted value's text, checked against its commitment, if the proof carries it. */
  opened: boolean;
};

export type ConsistencyResult = {
  kind: 'consistency';
  origin: string;
  from_size: string;
  to_size: string;
  from_root: string;
  to_root: string;
};

function parseMaterial(extra: string): LeafMaterial {
  let m: LeafMaterial;
  try {
    m = JSON.parse(Buffer.from(extra, 'base64').toString('utf8')) as LeafMaterial;
  } catch {
    throw new ProofError('malformed', 'its extra data is not the record cos-db writes there');
  }
  const ok =
    m?.format === LEAF_FORMAT &&
    typeof m.table === 'string' &&
    typeof m.chain === 'string' &&
    typeof m.seq === 'string' &&
    /^[1-9][0-9]*$/.test(m.seq) &&
    typeof m.hash_version === 'number' &&
    typeof m.prev_hash === 'string' &&
    typeof m.content === 'string';
  if (!ok) throw new ProofError('malformed', `its extra data is not a ${LEAF_FORMAT} record`);
  return m;
}

/** Checks an inclusion proof offline: the leaf from the record, the root from the path, the signature. */
function verifyInclusionProof(text: string, key: string | KeyObject): InclusionResult {
  const [head, ...rest] = text.split('\n');
  const blank = rest.indexOf('');
  if (head !== PROOF_HEADER || blank < 0)
    throw new ProofError('malformed', `not a ${PROOF_HEADER} file`);
  const lines = rest.slice(0, blank);
  const extra = lines[0]?.startsWith('extra ') ? lines.shift()?.slice(6) : undefined;
  const indexLine = lines.shift() ?? '';
  if (!/^index (0|[1-9][0-9]*)$/.test(indexLine))
    throw new ProofError('malformed', 'no "index N" line');
  if (extra === undefined)
    throw new ProofError('malformed', 'no record (extra data): the leaf cannot be recomputed');
  const index = BigInt(indexLine.slice(6));
  const path = lines.map(decodeHash);
  const checkpoint = openCheckpoint(rest.slice(blank + 1).join('\n'), key);
  const m = parseMaterial(extra);
  const origin = checkpoint.origin;
  const suffix = `/${encodeURIComponent(m.table)}/${encodeURIComponent(m.chain)}`;
  if (!origin.startsWith('cos-db/') || !origin.endsWith(suffix))
    throw new ProofError(
      'origin',
      `the checkpoint is for log ${origin}, not chain ${m.chain} of ${m.table}`,
    );
  if (BigInt(m.seq) - 1n !== index)
    throw new ProofError('leaf', `the record is at position ${m.seq}, not at index ${index}`);
  if (m.opening) {
    let content: Record<string, unknown>;
    try {
      content = JSON.parse(m.content) as Record<string, unknown>;
    } catch {
      throw new ProofError('malformed', "the record's content is not JSON");
    }
    if (commitment(m.opening.salt, m.opening.text) !== content[`${m.opening.field}_commitment`])
      throw new ProofError(
        'commitment',
        `the record's ${m.opening.field} is not the value its hash commits to`,
      );
  }
  const leaf = leafHash(Buffer.from(rowHashOf(m), 'hex'));
  if (!verifyInclusion(index, checkpoint.size, leaf, path, checkpoint.root))
    throw new ProofError(
      'path',
      index >= checkpoint.size
        ? `index ${index} is outside the checkpoint's tree of ${checkpoint.size}`
        : "the record and its audit path do not lead to the checkpoint's root: the record, the path or the checkpoint was changed",
    );
  return {
    kind: 'inclusion',
    origin,
    table: m.table,
    chain: m.chain,
    seq: m.seq,
    index: String(index),
    size: String(checkpoint.size),
    root: b64(checkpoint.root),
    opened: m.opening !== null,
  };
}

function verifyConsistencyProof(text: string, key: string | KeyObject): ConsistencyResult {
  const [head, ...rest] = text.split('\n');
  const blank = rest.indexOf('');
  if (head !== CONSISTENCY_HEADER || blank < 0)
    throw new ProofError('malformed', `not a ${CONSISTENCY_HEADER} file`);
  const path = rest.slice(0, blank).map(decodeHash);
  const notes = splitNotes(rest.slice(blank + 1).join('\n'));
  if (notes.length !== 2)
    throw new ProofError('malformed', 'it should hold two signed checkpoints');
  const older = openCheckpoint(notes[0] as string, key);
  const newer = openCheckpoint(notes[1] as string, key);
  if (older.origin !== newer.origin)
    throw new ProofError(
      'origin',
      `the checkpoints are of two logs (${older.origin}, ${newer.origin})`,
    );
  if (!verifyConsistency(older.size, newer.size, path, older.root, newer.root))
    throw new ProofError(
      'consistency',
      `the tree of ${newer.size} does not extend the tree of ${older.size}: the log was rewritten, or the proof changed`,
    );
  return {
    kind: 'consistency',
    origin: older.origin,
    from_size: String(older.size),
    to_size: String(newer.size),
    from_root: b64(older.root),
    to_root: b64(newer.root),
  };
}

/** Checks either kind of proof with no database: what it proves, or a ProofError. */
export function verifyProofText(
  text: string,
  key: string | KeyObject,
): InclusionResult | ConsistencyResult {
  if (text.startsWith(`${PROOF_HEADER}\n`)) return verifyInclusionProof(text, key);
  if (text.startsWith(`${CONSISTENCY_HEADER}\n`)) return verifyConsistencyProof(text, key);
  throw new ProofError(
    'malformed',
    `not a proof cos-db writes (its first line is neither ${PROOF_HEADER} nor ${CONSISTENCY_HEADER})`,
  );
}
