import { EMPTY_ROOT, leafHash, nodeHash } from './merkle.js';

/**
 * Building RFC 6962 trees and their proofs from what the store keeps (migration
 * 20261208000000): the roots of complete tiles, 2^8 leaves wide (stratum 1), 2^16 (stratum 2) and
 * so on, plus the row hashes themselves. The tile height is a parameter only so tests can
 * exercise many strata on small trees; the store's is TILE_HEIGHT.
 */
export const TILE_HEIGHT = 8;

/** Leaves in a complete tile. */
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

/** Where a tree's hashes come from. Indices are 0-based leaf (or tile) numbers, `to` exclusive. */
export type TreeSource = {
  /** The leaves' data (a ledger row's hash) of leaves from..to-1, in order. */
  leaves(from: bigint, to: bigint): Promise<Uint8Array[]>;
  /** The stored roots of the tiles from..to-1 of a stratum (1: 2^h leaves each, 2: 2^2h …). */
  tiles(stratum: number, from: bigint, to: bigint): Promise<Uint8Array[]>;
};

/** Thrown when the store lacks a tile or row a proof needs: its tree is behind its rows. */
export class TreeIncompleteError extends Error {}

/** The largest power of two smaller than n (n ≥ 2). */
function splitPoint(n: bigint): bigint {
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

const log2 = (n: bigint): number => n.toString(2).length - 1;
const isPowerOfTwo = (n: bigint) => n > 0n && (n & (n - 1n)) === 0n;

function fold(level: Uint8Array[]): Uint8Array {
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    level = next;
  }
  return level[0] as Uint8Array;
}

/** The root of a complete tile from its leaves' data (row hashes), as the store keeps it. */
export const tileRoot = (leafData: readonly Uint8Array[]): Uint8Array =>
  fold(leafData.map((l) => leafHash(l)));

/**
 * Computes tree hashes from a source, each perfect subtree from at most 2^tileHeight hashes of
 * one stratum, read in one call.
 */
export class TreeReader {
  constructor(
    private readonly source: TreeSource,
    private readonly tileHeight = TILE_HEIGHT,
  ) {}

  /** The root of the perfect subtree of 2^height leaves starting at leaf `start`. */
  private async perfect(start: bigint, height: number): Promise<Uint8Array> {
    const stratum = Math.floor(height / this.tileHeight);
    const count = 1n << BigInt(height % this.tileHeight);
    const first = start >> BigInt(stratum * this.tileHeight);
    const hashes =
      stratum === 0
        ? (await this.source.leaves(first, first + count)).map((l) => leafHash(l))
        : await this.source.tiles(stratum, first, first + count);
    if (BigInt(hashes.length) !== count)
      throw new TreeIncompleteError(
        `the stored tree lacks ${stratum === 0 ? 'rows' : `stratum-${stratum} tiles`} from ${first} (it is behind its rows)`,
      );
    return fold(hashes);
  }

  /** MTH of leaves lo..hi-1 (RFC 6962 2.1): as the RFC splits it, every part is aligned. */
  async root(lo: bigint, hi: bigint): Promise<Uint8Array> {
    const n = hi - lo;
    if (n === 0n) return EMPTY_ROOT;
    if (isPowerOfTwo(n)) return this.perfect(lo, log2(n));
    const k = splitPoint(n);
    return nodeHash(await this.root(lo, lo + k), await this.root(lo + k, hi));
  }

  /** RFC 6962 PATH(index, D[size]): the audit path, from the leaf's sibling up. */
  async inclusion(index: bigint, size: bigint): Promise<Uint8Array[]> {
    if (index < 0n || index >= size)
      throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
    const path: Uint8Array[] = [];
    let [lo, hi, m] = [0n, size, index];
    while (hi - lo > 1n) {
      const k = splitPoint(hi - lo);
      if (m < k) {
        path.push(await this.root(lo + k, hi));
        hi = lo + k;
      } else {
        path.push(await this.root(lo, lo + k));
        lo += k;
        m -= k;
      }
    }
    return path.reverse();
  }

  /** RFC 6962 PROOF(size1, D[size2]): the consistency proof, from the bottom up. */
  async consistency(size1: bigint, size2: bigint): Promise<Uint8Array[]> {
    if (size1 <= 0n || size1 > size2)
      throw new RangeError(`no consistency proof from ${size1} to ${size2}`);
    const path: Uint8Array[] = [];
    let [lo, hi, m, whole] = [0n, size2, size1, true];
    for (;;) {
      if (m === hi - lo) {
        if (!whole) path.push(await this.root(lo, hi));
        break;
      }
      const k = splitPoint(hi - lo);
      if (m <= k) {
        path.push(await this.root(lo + k, hi));
        hi = lo + k;
      } else {
        path.push(await this.root(lo, lo + k));
        lo += k;
        m -= k;
        whole = false;
      }
    }
    return path.reverse();
  }
}

/**
 * Folds leaves in order into the tree's frontier (one perfect subtree per set bit of the size),
 * reporting each tile root as it completes: what verify checks the stored tiles against, and the
 * root of the whole chain at the end.
 */
export class TreeBuilder {
  private readonly stack: Array<{ height: number; hash: Uint8Array }> = [];
  /** Leaves pushed so far: a number, as no walk of rows reaches 2^53 of them. */
  private count = 0;

  constructor(
    private readonly onTile: (stratum: number, index: bigint, hash: Uint8Array) => void = () => {},
    private readonly tileHeight = TILE_HEIGHT,
  ) {}

  get size(): bigint {
    return BigInt(this.count);
  }

  push(leafData: Uint8Array): void {
    let node = { height: 0, hash: leafHash(leafData) };
    const index = this.count;
    this.count += 1;
    for (let top = this.stack.at(-1); top?.height === node.height; top = this.stack.at(-1)) {
      this.stack.pop();
      node = { height: node.height + 1, hash: nodeHash(top.hash, node.hash) };
      if (node.height % this.tileHeight === 0)
        this.onTile(
          node.height / this.tileHeight,
          BigInt(Math.floor(index / 2 ** node.height)),
          node.hash,
        );
    }
    this.stack.push(node);
  }

  /** MTH of every leaf pushed so far. */
  root(): Uint8Array {
    let root: Uint8Array | undefined;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const { hash } = this.stack[i] as { hash: Uint8Array };
      root = root === undefined ? hash : nodeHash(hash, root);
    }
    return root ?? EMPTY_ROOT;
  }
}
