import { EMPTY_ROOT, leafHash, nodeHash } from '../../src/integrity/merkle.js';

/**
 * A reference tree, written from RFC 6962 section 2.1 as it reads: MTH, PATH and SUBPROOF by
 * their recursive definitions (memoized by range), for the tests only.
 */
export class ReferenceTree {
  private readonly memo = new Map<string, Buffer>();
  constructor(private readonly leaves: Buffer[]) {}

  /** MTH(D[lo:hi]). */
  mth(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (n === 0) return EMPTY_ROOT;
    if (n === 1) return leafHash(this.leaves[lo] as Buffer);
    const key = `${lo}:${hi}`;
    let h = this.memo.get(key);
    if (!h) {
      const k = splitOf(n);
      h = nodeHash(this.mth(lo, lo + k), this.mth(lo + k, hi));
      this.memo.set(key, h);
    }
    return h;
  }

  /** PATH(m, D[lo:hi]). */
  path(m: number, lo: number, hi: number): Buffer[] {
    const n = hi - lo;
    if (n <= 1) return [];
    const k = splitOf(n);
    return m < k
      ? [...this.path(m, lo, lo + k), this.mth(lo + k, hi)]
      : [...this.path(m - k, lo + k, hi), this.mth(lo, lo + k)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true). */
  consistency(m: number, n: number): Buffer[] {
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, lo: number, hi: number, complete: boolean): Buffer[] {
    const n = hi - lo;
    if (m === n) return complete ? [] : [this.mth(lo, hi)];
    const k = splitOf(n);
    return m <= k
      ? [...this.subproof(m, lo, lo + k, complete), this.mth(lo + k, hi)]
      : [...this.subproof(m - k, lo + k, hi, false), this.mth(lo, lo + k)];
  }
}

/** The largest power of two smaller than n (n > 1). */
function splitOf(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export const leavesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i}`));
