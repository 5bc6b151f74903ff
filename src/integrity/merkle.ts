import { createHash, hash } from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing and proof verification, as transparency logs
 * (Certificate Transparency, Go's checksum database, Sigstore's Rekor) define it, so that their
 * verifiers and cos-db's agree. Indices and sizes are BigInt: a tree may pass 2^53 leaves.
 * Nothing here touches a database: it is what checks a proof offline.
 */

export const HASH_BYTES = 32;

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

// verify hashes two of these per row: one-shot hashing of a buffer kept for the purpose is
// quicker than a Hash object per call (docs/performance.md).
const leafInput = Buffer.alloc(1 + HASH_BYTES);
const nodeInput = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeInput[0] = 0x01;

const prefixed = (prefix: number, parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256').update(Uint8Array.of(prefix));
  for (const part of parts) h.update(part);
  return h.digest();
};

/** A leaf's hash: SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Buffer {
  if (data.length !== HASH_BYTES) return prefixed(0x00, [data]);
  leafInput.set(data, 1);
  return hash('sha256', leafInput, 'buffer') as unknown as Buffer;
}

/** An interior node's hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES)
    return prefixed(0x01, [left, right]);
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_BYTES);
  return hash('sha256', nodeInput, 'buffer') as unknown as Buffer;
}

const lsb = (n: bigint) => (n & 1n) === 1n;
const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * The root an inclusion proof leads to from the leaf at `index` of a tree of `size` (RFC 9162
 * 2.1.3.2), or undefined when the proof cannot be one for that position (too short or too long,
 * an index outside the tree, a leaf hash of the wrong length).
 */
export function rootFromInclusion(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
): Buffer | undefined {
  if (index < 0n || index >= size || leaf.length !== HASH_BYTES) return undefined;
  let fn = index;
  let sn = size - 1n;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0n) return undefined;
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else r = nodeHash(r, p);
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return sn === 0n ? r : undefined;
}

/** Whether the path proves the leaf is at `index` in the tree of `size` whose root is `root`. */
export function verifyInclusion(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusion(index, size, leaf, path);
  return computed !== undefined && equal(computed, root);
}

/**
 * Whether the path proves the tree of size1 (root1) is a prefix of the tree of size2 (root2)
 * (RFC 9162 2.1.4.2). As transparency-dev/merkle has it: equal sizes need an empty path, and a
 * proof from the empty tree is refused (it would prove nothing).
 */
export function verifyConsistency(
  size1: bigint,
  size2: bigint,
  path: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (size1 <= 0n || size2 < size1) return false;
  if (size1 === size2) return path.length === 0 && equal(root1, root2);
  if (path.length === 0) return false;
  // A first tree that is a perfect subtree of the second is not in the path: its root is.
  const nodes = (size1 & (size1 - 1n)) === 0n ? [root1, ...path] : path;
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while (lsb(fn)) [fn, sn] = [fn >> 1n, sn >> 1n];
  let fr: Buffer = Buffer.from(nodes[0] as Uint8Array);
  let sr: Buffer = fr;
  for (const c of nodes.slice(1)) {
    if (sn === 0n) return false;
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else sr = nodeHash(sr, c);
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return sn === 0n && equal(fr, root1) && equal(sr, root2);
}
