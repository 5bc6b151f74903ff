import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  leafHash,
  nodeHash,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
} from '../../src/integrity/merkle.js';

import { leavesOf, ReferenceTree } from '../support/referenceTree.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/merkle');

/** The probe files of one kind, read as Go reads them: numbers as uint64, bytes as base64. */
function probes(kind: 'inclusion' | 'consistency'): Array<Record<string, unknown>> {
  const files = (readdirSync(join(FIXTURES, kind), { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.json'),
  );
  return files.map((file) => {
    // Sizes up to 2^64 - 1: read as text, so none loses its low bits.
    const text = readFileSync(join(FIXTURES, kind, file), 'utf8').replace(
      /"(leafIdx|treeSize|size1|size2)": (\d+)/g,
      '"$1": "$2"',
    );
    return { file, ...(JSON.parse(text) as Record<string, unknown>) };
  });
}
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : '', 'base64');
const path = (v: unknown) => (Array.isArray(v) ? v.map(bytes) : []);

const flipped = (b: Buffer) => {
  const c = Buffer.from(b);
  c[c.length - 1] = (c[c.length - 1] as number) ^ 1;
  return c;
};

describe('RFC 6962 hashing', () => {
  it('hashes the empty tree, a leaf and a node as the RFC says', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    // transparency-dev/merkle's rfc6962_test.go: the leaf "" and the node of "N123", "N456".
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(nodeHash(Buffer.from('N123'), Buffer.from('N456')).toString('hex')).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
  });
});

describe("transparency-dev/merkle's probes", () => {
  const check: Record<'inclusion' | 'consistency', (p: Record<string, unknown>) => boolean> = {
    inclusion: (p) =>
      verifyInclusion(
        BigInt(p.leafIdx as string),
        BigInt(p.treeSize as string),
        bytes(p.leafHash),
        path(p.proof),
        bytes(p.root),
      ),
    consistency: (p) =>
      verifyConsistency(
        BigInt(p.size1 as string),
        BigInt(p.size2 as string),
        path(p.proof),
        bytes(p.root1),
        bytes(p.root2),
      ),
  };
  for (const kind of ['inclusion', 'consistency'] as const)
    it(`every ${kind} probe: accepted when it should be, refused when it should not`, () => {
      const all = probes(kind);
      expect(all.length).toBeGreaterThan(80);
      for (const p of all) expect(check[kind](p), `${p.file}: ${String(p.desc)}`).toBe(!p.wantErr);
    });
});

describe('every tree from 1 to 300 leaves, against the reference', () => {
  const N = 300;
  const tree = new ReferenceTree(leavesOf(N));

  it('every index of every size: the path proves the leaf; a changed path, leaf or root does not', () => {
    for (let size = 1; size <= N; size += 1) {
      const root = tree.mth(0, size);
      for (let i = 0; i < size; i += 1) {
        const leaf = leafHash(Buffer.from(`leaf ${i}`));
        const p = tree.path(i, 0, size);
        const [n, s] = [BigInt(i), BigInt(size)];
        if (!verifyInclusion(n, s, leaf, p, root)) throw new Error(`${i} of ${size} refused`);
        // Tampered (in every tree up to 64 leaves; the shapes repeat above): the root, the leaf,
        // the index, each node of the path in turn, a longer path.
        if (size > 64) continue;
        if (verifyInclusion(n, s, leaf, p, flipped(root))) throw new Error('a wrong root passed');
        if (verifyInclusion(n, s, flipped(leaf), p, root)) throw new Error('a wrong leaf passed');
        if (size > 1 && verifyInclusion((n + 1n) % s, s, leaf, p, root))
          throw new Error(`${i} of ${size} passed at another index`);
        for (let j = 0; j < p.length; j += 1) {
          const bad = p.map((x, k) => (k === j ? flipped(x) : x));
          if (verifyInclusion(n, s, leaf, bad, root)) throw new Error('a changed path passed');
        }
        if (verifyInclusion(n, s, leaf, [...p, root], root)) throw new Error('a longer path');
      }
    }
  });

  it('every pair of sizes: the proof shows the first tree is a prefix of the second', () => {
    for (let n = 1; n <= N; n += 1) {
      const root2 = tree.mth(0, n);
      for (let m = 1; m <= n; m += 1) {
        const root1 = tree.mth(0, m);
        const p = tree.consistency(m, n);
        const [a, b] = [BigInt(m), BigInt(n)];
        if (!verifyConsistency(a, b, p, root1, root2)) throw new Error(`${m}→${n} refused`);
        if (n > 64) continue;
        if (verifyConsistency(a, b, p, flipped(root1), root2)) throw new Error('root1 changed');
        if (verifyConsistency(a, b, p, root1, flipped(root2))) throw new Error('root2 changed');
        for (let j = 0; j < p.length; j += 1) {
          const bad = p.map((x, k) => (k === j ? flipped(x) : x));
          if (verifyConsistency(a, b, bad, root1, root2)) throw new Error('a changed proof');
        }
        if (m < n && verifyConsistency(a, b, p.slice(0, -1), root1, root2))
          throw new Error('a shorter proof');
      }
    }
  });

  it('refuses what proves nothing: the empty tree, a second tree smaller than the first', () => {
    const root = tree.mth(0, 5);
    expect(verifyConsistency(0n, 5n, [], EMPTY_ROOT, root)).toBe(false);
    expect(verifyConsistency(5n, 4n, tree.consistency(4, 5), root, tree.mth(0, 4))).toBe(false);
    expect(rootFromInclusion(5n, 5n, leafHash(Buffer.from('x')), [])).toBeUndefined();
    expect(rootFromInclusion(0n, 1n, Buffer.alloc(31), [])).toBeUndefined();
  });
});

describe('trees past 2^53 leaves, by arithmetic', () => {
  // Every leaf the same: a subtree's root then depends on its size alone, so a reference root
  // and path exist for any size, computed in BigInt.
  const leaf = leafHash(Buffer.from('same'));
  const roots = new Map<bigint, Buffer>();
  const mth = (n: bigint): Buffer => {
    if (n === 1n) return leaf;
    let h = roots.get(n);
    if (!h) {
      const k = split(n);
      h = nodeHash(mth(k), mth(n - k));
      roots.set(n, h);
    }
    return h;
  };
  const split = (n: bigint) => {
    let k = 1n;
    while (k * 2n < n) k *= 2n;
    return k;
  };
  const pathOf = (m: bigint, n: bigint): Buffer[] => {
    if (n <= 1n) return [];
    const k = split(n);
    return m < k ? [...pathOf(m, k), mth(n - k)] : [...pathOf(m - k, n - k), mth(k)];
  };

  it('proves leaves of trees of 2^53 + 5 and 2^63 + 3 leaves, where a Number would round', () => {
    for (const size of [2n ** 53n + 5n, 2n ** 63n + 3n]) {
      const root = mth(size);
      for (const index of [0n, 2n ** 53n + 1n, size - 1n]) {
        const p = pathOf(index, size);
        expect(verifyInclusion(index, size, leaf, p, root)).toBe(true);
        // The same leaf in the tree one larger: another root, so refused, not rounded.
        expect(verifyInclusion(index, size + 1n, leaf, pathOf(index, size + 1n), root)).toBe(false);
      }
    }
  });
});

describe('against an independent verifier: sigstore-js (@sigstore/verify 3.1.1)', () => {
  // Its RFC 6962 inclusion check, as it checks Rekor's entries (internal to the package, so
  // reached by path); it throws on a proof it refuses.
  type Entry = {
    inclusionProof: { logIndex: string; hashes: Buffer[] };
    canonicalizedBody: Buffer;
  };
  const { verifyMerkleInclusion } = createRequire(import.meta.url)(
    '@sigstore/verify/dist/tlog/merkle',
  ) as {
    verifyMerkleInclusion(entry: Entry, checkpoint: { logSize: bigint; logHash: Buffer }): void;
  };
  const sigstoreAccepts = (
    body: Buffer,
    index: number,
    size: number,
    p: Buffer[],
    root: Buffer,
  ) => {
    try {
      verifyMerkleInclusion(
        { inclusionProof: { logIndex: String(index), hashes: p }, canonicalizedBody: body },
        { logSize: BigInt(size), logHash: root },
      );
      return true;
    } catch {
      return false;
    }
  };

  it('accepts and refuses exactly the proofs cos-db does, in every tree up to 100 leaves', () => {
    const N = 100;
    const leaves = leavesOf(N);
    const tree = new ReferenceTree(leaves);
    let agreed = 0;
    for (let size = 1; size <= N; size += 1) {
      const root = tree.mth(0, size);
      for (let i = 0; i < size; i += 1) {
        const body = leaves[i] as Buffer;
        const p = tree.path(i, 0, size);
        for (const [index, proof, r] of [
          [i, p, root],
          [(i + 1) % size, p, root],
          [i, p, flipped(root)],
          [i, p.slice(1), root],
          [i, p.length ? [flipped(p[0] as Buffer), ...p.slice(1)] : p, root],
        ] as Array<[number, Buffer[], Buffer]>) {
          const mine = verifyInclusion(BigInt(index), BigInt(size), leafHash(body), proof, r);
          if (mine !== sigstoreAccepts(body, index, size, proof, r))
            throw new Error(`disagree at ${index} of ${size}`);
          agreed += mine ? 1 : 0;
        }
      }
    }
    // Every untampered proof was accepted by both (and a few tampered ones that are equal to it:
    // a one-leaf tree has no path to tamper with).
    expect(agreed).toBeGreaterThanOrEqual((N * (N + 1)) / 2);
  });
});
