import { hash, randomFillSync } from 'node:crypto';

/** Bytes of a commitment's salt: 128 random bits, so no guessed value can be confirmed. */
export const SALT_BYTES = 16;

/**
 * What a ledger row's hash covers in place of a salted column: sha256 over the salt in lowercase
 * hex (32 characters) followed by the canonical JSON of the value (UTF-8), itself lowercase hex.
 * The value can later be erased (with its salt) and the row still verifies from the commitment;
 * while the value is there, anyone holding it and its salt can check it against the commitment.
 * The salt goes in as hex so the whole input is one string, hashed in one call, which is
 * quicker than feeding a hash its bytes and the text in turn.
 */
export function commitment(saltHex: string, canonical: string): string {
  return hash('sha256', saltHex + canonical);
}

let pool = Buffer.alloc(0);
let used = 0;

/** A fresh random salt. Drawn from a pool refilled 4,096 salts at a time: one call per event is slow. */
export function newSalt(): Buffer {
  if (used + SALT_BYTES > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(SALT_BYTES * 4096));
    used = 0;
  }
  const salt = pool.subarray(used, used + SALT_BYTES);
  used += SALT_BYTES;
  return salt;
}

/** A salt as normalized ledger values hold bytea: PostgreSQL's hex input form. */
export const saltText = (salt: Buffer): string => `\\x${salt.toString('hex')}`;

/** The salt of a normalized value (\x…) in hex, or null. */
export function saltHexOf(value: unknown): string | null {
  return typeof value === 'string' && value.startsWith('\\x') ? value.slice(2) : null;
}
