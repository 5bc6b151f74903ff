import { hash } from 'node:crypto';

export const HASH_VERSION = 1;
/** The previous hash of a chain's first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** A netstring: the field's length in UTF-8 bytes, a colon, the field, a comma. */
function framed(field: string): string {
  return `${Buffer.byteLength(field, 'utf8')}:${field},`;
}

/** From this many UTF-16 units, content is encoded into the reused buffer (measured: below, slower). */
const LONG = 2048;

/** Room kept before the content for the framed fields that precede it (grown when short). */
let room = 512;
let scratch = Buffer.allocUnsafe(1 << 16);

/**
 * sha256 over the hash version, the chain, the position, the previous hash and the canonical
 * JSON of the row's content (canonicalJson / canonicalContent), each framed with its length in
 * bytes (a netstring) so no two field lists can produce the same input. Content comes already
 * canonical: a writer canonicalizes before it takes the chain's lock.
 *
 * Long content (a PRD's markdown) is encoded once, into a reused buffer, with the framing written
 * in front of it once its length is known, instead of measured and then encoded again to hash.
 */
export function ledgerHash(
  version: number,
  chain: string,
  seq: number | bigint | string,
  prevHash: string,
  canonical: string,
): string {
  const head = framed(String(version)) + framed(chain) + framed(String(seq)) + framed(prevHash);
  // A short text is measured and hashed as a string: the buffer's bookkeeping costs more there.
  if (canonical.length < LONG) return hash('sha256', head + framed(canonical));
  const headBytes = Buffer.byteLength(head, 'utf8') + 12; // and the content's "length:"
  if (headBytes > room) room = headBytes * 2;
  // At most 3 bytes per UTF-16 unit, and the closing comma.
  const need = room + canonical.length * 3 + 1;
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  const n = scratch.write(canonical, room, 'utf8');
  scratch[room + n] = 0x2c; // ,
  const length = `${head}${n}:`;
  const start = room - Buffer.byteLength(length, 'utf8');
  scratch.write(length, start, 'utf8');
  return hash('sha256', scratch.subarray(start, room + n + 1));
}
