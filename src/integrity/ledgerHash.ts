import { hash } from 'node:crypto';

/** cos-db 1.0's hash format (0.x wrote version 1, over hex digests and bare payloads). */
export const HASH_VERSION = 2;
/** The previous hash of a chain's first row (32 zero bytes), in hex as cos-db handles digests. */
export const GENESIS_HASH = '0'.repeat(64);

/** A netstring: the field's length in UTF-8 bytes, a colon, the field, a comma. */
function framed(field: string): string {
  return `${Buffer.byteLength(field, 'utf8')}:${field},`;
}

/**
 * sha256 over the hash version, the chain, the position, the previous hash (lowercase hex) and
 * the canonical JSON of the row's content, a salted column as its commitment (canonicalJson / canonicalContent), each framed with its length in
 * bytes (a netstring) so no two field lists can produce the same input. Content comes already
 * canonical: a writer canonicalizes before it takes the chain's lock.
 */
export function ledgerHash(
  version: number,
  chain: string,
  seq: number | bigint | string,
  prevHash: string,
  canonical: string,
): string {
  const preimage =
    framed(String(version)) +
    framed(chain) +
    framed(String(seq)) +
    framed(prevHash) +
    framed(canonical);
  return hash('sha256', preimage);
}
