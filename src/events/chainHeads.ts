import { sameHead, type ChainHead } from '../integrity/ledger.js';

/**
 * The heads of some chains (module → last seq and hash), as some point of an import leaves them:
 * what a batch has locked and read, what the chunks written so far left, what the last commit
 * left, what the chunks handed on will leave. One type, so the copies are made one way.
 */
export class ChainHeads extends Map<string, ChainHead> {
  /** A copy of these heads, to keep as they are now. */
  copy(): ChainHeads {
    return new ChainHeads(this);
  }

  /** These heads become exactly `other`'s. */
  resetTo(other: ReadonlyMap<string, ChainHead>): void {
    this.clear();
    for (const [chain, head] of other) this.set(chain, head);
  }

  /** Whether each of the given heads is the one held here for its chain. */
  agreeWith(heads: ReadonlyMap<string, ChainHead>): boolean {
    return [...heads].every(([chain, head]) => sameHead(this.get(chain), head));
  }
}
