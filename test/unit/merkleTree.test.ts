import { describe, expect, it } from 'vitest';
import {
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/integrity/merkle.js';
import {
  TreeBuilder,
  TreeIncompleteError,
  TreeReader,
  type TreeSource,
} from '../../src/integrity/merkleTree.js';
import { leavesOf, ReferenceTree } from '../support/referenceTree.js';

/**
 * A store's tree in memory: the leaves, and every complete tile of every stratum taken from the
 * reference tree (never from the code under test), counting the reads a proof costs.
 */
function source(leaves: Buffer[], tree: ReferenceTree, tileHeight: number, drop?: string) {
  const reads = { calls: 0, hashes: 0 };
  const count = <T>(list: T[]) => {
    reads.calls += 1;
    reads.hashes += list.length;
    return Promise.resolve(list);
  };
  const src: TreeSource = {
    leaves: (from, to) => count(leaves.slice(Number(from), Number(to))),
    tiles: (stratum, from, to) => {
      const width = 2 ** (stratum * tileHeight);
      const out: Buffer[] = [];
      for (let i = Number(from); i < Number(to); i += 1) {
        if ((i + 1) * width > leaves.length || drop === `${stratum}/${i}`) break;
        out.push(tree.mth(i * width, (i + 1) * width));
      }
      return count(out);
    },
  };
  return { src, reads };
}

describe('proofs from stored tiles (TreeReader)', () => {
  const hex = (list: Uint8Array[]) => list.map((b) => Buffer.from(b).toString('hex')).join();
  // Tiles of 2, 4 and 8 leaves: every stratum up to 6 is exercised; the store's 2^8 is the same code.
  for (const tileHeight of [1, 2, 3]) {
    it(`gives the RFC's PATH and PROOF for every index and pair of sizes up to 100 (tiles of 2^${tileHeight})`, async () => {
      const N = 100;
      const leaves = leavesOf(N);
      const tree = new ReferenceTree(leaves);
      const { src } = source(leaves, tree, tileHeight);
      const reader = new TreeReader(src, tileHeight);
      for (let size = 1; size <= N; size += 1) {
        const root = tree.mth(0, size);
        expect(Buffer.from(await reader.root(0n, BigInt(size)))).toEqual(root);
        for (let i = 0; i < size; i += 1) {
          const path = await reader.inclusion(BigInt(i), BigInt(size));
          const leaf = leafHash(leaves[i] as Buffer);
          if (
            hex(path) !== hex(tree.path(i, 0, size)) ||
            !verifyInclusion(BigInt(i), BigInt(size), leaf, path, root)
          )
            throw new Error(`inclusion of ${i} in ${size}`);
        }
        for (let m = 1; m <= size; m += 1) {
          const proof = await reader.consistency(BigInt(m), BigInt(size));
          if (
            hex(proof) !== hex(tree.consistency(m, size)) ||
            !verifyConsistency(BigInt(m), BigInt(size), proof, tree.mth(0, m), root)
          )
            throw new Error(`consistency of ${m} with ${size}`);
        }
      }
    });
  }

  it('reads a few tiles per level, not the rows: 2^20 leaves, tiles of 2^8', async () => {
    // A tree too large to hold in the reference: its tiles are counted, not compared.
    const width = 256;
    const leaf = (i: number) => Buffer.from(`leaf ${i}`);
    const reads = { calls: 0, hashes: 0 };
    const reader = new TreeReader({
      leaves: (from, to) => {
        reads.calls += 1;
        reads.hashes += Number(to - from);
        return Promise.resolve(
          Array.from({ length: Number(to - from) }, (_, k) => leaf(Number(from) + k)),
        );
      },
      tiles: (stratum, from, to) => {
        reads.calls += 1;
        reads.hashes += Number(to - from);
        return Promise.resolve(
          Array.from({ length: Number(to - from) }, (_, k) =>
            leafHash(Buffer.from(`tile ${stratum}/${Number(from) + k}`)),
          ),
        );
      },
    });
    const size = 2n ** 20n + 12_345n;
    const path = await reader.inclusion(777_777n, size);
    expect(path.length).toBe(21);
    // At most one read per level of the path, each of at most 2^8 hashes.
    expect(reads.calls).toBeLessThanOrEqual(2 * path.length);
    expect(reads.hashes).toBeLessThanOrEqual(path.length * width);
  });

  it('works past 2^31 and 2^53 leaves: paths and consistency proofs that verify by the RFC', async () => {
    // A tree of identical leaves: every perfect subtree's root depends on its height alone, so a
    // store of any size can be stood in for, consistently; the right edge of a tree that is not
    // perfect still differs from it, so a wrong split or index is refused.
    const leaf = Buffer.from('the same leaf');
    const perfect = [leafHash(leaf)];
    for (let h = 1; h < 70; h += 1)
      perfect.push(nodeHash(perfect[h - 1] as Buffer, perfect[h - 1] as Buffer));
    const same: TreeSource = {
      leaves: (from, to) => Promise.resolve(Array.from({ length: Number(to - from) }, () => leaf)),
      tiles: (stratum, from, to) =>
        Promise.resolve(
          Array.from({ length: Number(to - from) }, () => perfect[stratum * 8] as Buffer),
        ),
    };
    const reader = new TreeReader(same);
    for (const size of [2n ** 31n + 3n, 2n ** 40n + 12_345n, 2n ** 53n + 5n, 2n ** 63n + 3n]) {
      const root = await reader.root(0n, size);
      for (const index of [0n, size / 3n, 2n ** 31n + 1n, size - 1n]) {
        const path = await reader.inclusion(index, size);
        expect(verifyInclusion(index, size, leafHash(leaf), path, root)).toBe(true);
        // One level short: refused.
        expect(verifyInclusion(index, size, leafHash(leaf), path.slice(1), root)).toBe(false);
      }
      const older = size / 2n + 7n;
      const proof = await reader.consistency(older, size);
      expect(verifyConsistency(older, size, proof, await reader.root(0n, older), root)).toBe(true);
      expect(verifyConsistency(older + 1n, size, proof, await reader.root(0n, older), root)).toBe(
        false,
      );
    }
  });

  it('says the tree is behind its rows when a tile it needs is not stored', async () => {
    const leaves = leavesOf(64);
    const tree = new ReferenceTree(leaves);
    const { src } = source(leaves, tree, 2, '1/3');
    await expect(new TreeReader(src, 2).inclusion(0n, 64n)).rejects.toBeInstanceOf(
      TreeIncompleteError,
    );
  });

  it('refuses positions outside the tree', async () => {
    const leaves = leavesOf(5);
    const reader = new TreeReader(source(leaves, new ReferenceTree(leaves), 2).src, 2);
    await expect(reader.inclusion(5n, 5n)).rejects.toThrow(RangeError);
    await expect(reader.consistency(0n, 5n)).rejects.toThrow(RangeError);
    await expect(reader.consistency(6n, 5n)).rejects.toThrow(RangeError);
  });
});

describe('folding rows into the tree (TreeBuilder)', () => {
  it("gives every prefix's root and each tile as it completes, as the RFC defines them", () => {
    const N = 300;
    const leaves = leavesOf(N);
    const tree = new ReferenceTree(leaves);
    for (const tileHeight of [1, 2, 8]) {
      const tiles: string[] = [];
      const builder = new TreeBuilder((stratum, index, hash) => {
        const width = 2 ** (stratum * tileHeight);
        expect(Buffer.from(hash)).toEqual(
          tree.mth(Number(index) * width, (Number(index) + 1) * width),
        );
        tiles.push(`${stratum}/${index}`);
      }, tileHeight);
      expect(Buffer.from(builder.root())).toEqual(tree.mth(0, 0));
      for (let i = 0; i < N; i += 1) {
        builder.push(leaves[i] as Buffer);
        expect(Buffer.from(builder.root())).toEqual(tree.mth(0, i + 1));
      }
      // Every complete tile of every stratum, once each.
      let expected = 0;
      for (let s = 1; 2 ** (s * tileHeight) <= N; s += 1)
        expected += Math.floor(N / 2 ** (s * tileHeight));
      expect(new Set(tiles).size).toBe(expected);
      expect(tiles.length).toBe(expected);
    }
  });
});
