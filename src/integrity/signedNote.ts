import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { HASH_BYTES } from './merkle.js';

/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519, and the tlog checkpoint they carry
 * (c2sp.org/tlog-checkpoint): the formats Go's checksum database and other transparency logs
 * sign their tree heads in, so their tools can check cos-db's. Byte for byte what Go's
 * golang.org/x/mod/sumdb/note writes and accepts (test/unit/signedNote.test.ts holds it to
 * that package's vectors).
 */

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;
/** PKCS#8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SubjectPublicKeyInfo DER of an Ed25519 public key, before its 32 bytes. */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export type NoteVerifier = { name: string; keyId: number; key: KeyObject };
export type NoteSigner = NoteVerifier & { privateKey: KeyObject };
export type NoteSignature = { name: string; keyId: number; base64: string };
export type OpenedNote = {
  text: string;
  /** Signatures by a known key, each checked. */
  signatures: NoteSignature[];
  /** Signatures by keys not known here: ignored, as the spec requires. */
  unverified: NoteSignature[];
};

/** Why a note was refused. */
export class NoteError extends Error {
  constructor(
    readonly kind: 'malformed' | 'unverified' | 'bad-signature' | 'bad-key',
    message: string,
  ) {
    super(message);
  }
}

/** A key name: not empty, no white space, no "+". */
function isValidName(name: string): boolean {
  return name !== '' && !/[\s+]/u.test(name) && !name.includes('\ufffd');
}

/** The key ID: the first 4 bytes of SHA-256(name ‖ "\n" ‖ algorithm byte ‖ public key). */
export function keyIdOf(name: string, key: Uint8Array): number {
  return createHash('sha256').update(name).update('\n').update(key).digest().readUInt32BE(0);
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

const rawPublicKey = (key: KeyObject): Buffer =>
  key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);

/** An Ed25519 public key as a note's key ID covers it: the algorithm byte, then the key. */
export const noteKeyBytes = (publicKey: KeyObject): Buffer =>
  Buffer.concat([Uint8Array.of(ALG_ED25519), rawPublicKey(publicKey)]);

/** A verifier key string, "<name>+<key ID, 8 hex>+<base64(0x01 ‖ public key)>". */
export function verifierKey(name: string, publicKey: KeyObject): string {
  const key = Buffer.concat([Uint8Array.of(ALG_ED25519), rawPublicKey(publicKey)]);
  return `${name}+${hex8(keyIdOf(name, key))}+${key.toString('base64')}`;
}

/** A signer key string, "PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ seed)>". */
export function signerKey(name: string, privateKey: KeyObject): string {
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  const publicKey = Buffer.concat([
    Uint8Array.of(ALG_ED25519),
    rawPublicKey(createPublicKey(privateKey)),
  ]);
  return `PRIVATE+KEY+${name}+${hex8(keyIdOf(name, publicKey))}+${Buffer.concat([Uint8Array.of(ALG_ED25519), seed]).toString('base64')}`;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 as Go's StdEncoding reads it: padded, no other characters; undefined if not. */
function decodeBase64(text: string): Buffer | undefined {
  if (!STRICT_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Non-canonical trailing bits are refused, as Go's strict decoding does.
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** Splits at the first parts - 1 "+" signs, as Go's strings.Cut does: base64 holds "+" too. */
function cut(text: string, parts: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (out.length < parts - 1) {
    const at = rest.indexOf('+');
    if (at < 0) break;
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...out, rest];
}

/** Parses "<name>+<id>+<key>"; the key ID must be the hash of name and key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const bad = (why: string) => new NoteError('bad-key', `not a verifier key: ${why}`);
  const [name = '', id = '', key64 = ''] = cut(vkey, 3);
  const key = decodeBase64(key64);
  if (!/^[0-9a-f]{8}$/i.test(id) || !key || !isValidName(name) || !key.length)
    throw bad('expected NAME+KEYID+KEY');
  if (Number.parseInt(id, 16) !== keyIdOf(name, key)) throw bad('its key ID does not match');
  if (key[0] !== ALG_ED25519) throw bad('unknown algorithm');
  if (key.length !== 33) throw bad('an Ed25519 key has 32 bytes');
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_ED25519, key.subarray(1)]),
    format: 'der',
    type: 'spki',
  });
  return { name, keyId: keyIdOf(name, key), key: publicKey };
}

/** Parses "PRIVATE+KEY+<name>+<id>+<seed>"; the key ID must be the public key's. */
export function parseSignerKey(skey: string): NoteSigner {
  const bad = (why: string) => new NoteError('bad-key', `not a signer key: ${why}`);
  const [p = '', k = '', name = '', id = '', key64 = ''] = cut(skey, 5);
  const seed = decodeBase64(key64);
  if (p !== 'PRIVATE' || k !== 'KEY' || !isValidName(name) || !seed)
    throw bad('expected PRIVATE+KEY+NAME+KEYID+KEY');
  if (!/^[0-9a-f]{8}$/i.test(id)) throw bad('expected PRIVATE+KEY+NAME+KEYID+KEY');
  if (seed[0] !== ALG_ED25519 || seed.length !== 33) throw bad('not an Ed25519 seed');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed.subarray(1)]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const raw = Buffer.concat([Uint8Array.of(ALG_ED25519), rawPublicKey(publicKey)]);
  const keyId = keyIdOf(name, raw);
  if (Number.parseInt(id, 16) !== keyId) throw bad('its key ID does not match');
  return { name, keyId, key: publicKey, privateKey };
}

/** The text of a note: valid UTF-8, no control characters but newline, ending in a newline. */
function checkText(text: string): void {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!text.endsWith('\n') || /[\x00-\x09\x0b-\x1f\ufffd]/.test(text))
    throw new NoteError('malformed', 'malformed note');
}

/** The note signed: its text, a blank line, and one signature line per signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  const lines = signers.map((s) => {
    const keyId = Buffer.alloc(4);
    keyId.writeUInt32BE(s.keyId);
    const signature = sign(null, Buffer.from(text, 'utf8'), s.privateKey);
    return `${SIG_PREFIX}${s.name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * Opens a signed note: every signature by a known key must verify (else bad-signature), at least
 * one must be by a known key (else unverified); signatures by other keys are kept aside.
 */
export function openNote(message: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const malformed = () => new NoteError('malformed', 'malformed note');
  // eslint-disable-next-line no-control-regex -- as checkText
  if (/[\x00-\x09\x0b-\x1f\ufffd]/.test(message)) throw malformed();
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw malformed();
  const text = message.slice(0, split + 1);
  const sigs = message.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) throw malformed();
  const note: OpenedNote = { text, signatures: [], unverified: [] };
  const seen = new Set<string>();
  let count = 0;
  for (const line of sigs.slice(0, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX)) throw malformed();
    const body = line.slice(SIG_PREFIX.length);
    const space = body.indexOf(' ');
    const name = space < 0 ? body : body.slice(0, space);
    const base64 = space < 0 ? '' : body.slice(space + 1);
    const raw = decodeBase64(base64);
    if (!raw || !isValidName(name) || base64 === '' || raw.length < 5) throw malformed();
    if (++count > MAX_SIGNATURES) throw malformed();
    const keyId = raw.readUInt32BE(0);
    const signature: NoteSignature = { name, keyId, base64 };
    const matching = verifiers.filter((v) => v.name === name && v.keyId === keyId);
    if (matching.length === 0) {
      if (!seen.has(`?${line}`)) note.unverified.push(signature);
      seen.add(`?${line}`);
      continue;
    }
    if (matching.length > 1) throw new NoteError('bad-key', `ambiguous key ${name}+${hex8(keyId)}`);
    if (seen.has(`${name}+${keyId}`)) continue;
    seen.add(`${name}+${keyId}`);
    if (
      !verify(null, Buffer.from(text, 'utf8'), (matching[0] as NoteVerifier).key, raw.subarray(4))
    )
      throw new NoteError('bad-signature', `invalid signature for key ${name}+${hex8(keyId)}`);
    note.signatures.push(signature);
  }
  if (note.signatures.length === 0)
    throw new NoteError('unverified', 'note has no verifiable signatures');
  return note;
}

/** A tlog checkpoint's body: origin, tree size, root hash, then any extension lines. */
export type Checkpoint = { origin: string; size: bigint; root: Buffer; extensions: string[] };

export function checkpointText(c: Checkpoint): string {
  return [c.origin, c.size.toString(), c.root.toString('base64'), ...c.extensions, ''].join('\n');
}

/** A checkpoint from a note's text, or a malformed-note error. */
export function parseCheckpoint(text: string): Checkpoint {
  const malformed = () => new NoteError('malformed', 'not a tlog checkpoint');
  if (!text.endsWith('\n')) throw malformed();
  const [origin = '', size = '', root64 = '', ...extensions] = text.slice(0, -1).split('\n');
  const root = decodeBase64(root64);
  if (origin === '' || !/^(0|[1-9][0-9]*)$/.test(size) || !root || root.length !== HASH_BYTES)
    throw malformed();
  if (extensions.some((e) => e === '')) throw malformed();
  return { origin, size: BigInt(size), root, extensions };
}
