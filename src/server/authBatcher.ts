import type { Knex } from 'knex';
import { authenticateAll, type Identity } from '../tokens/apiTokens.js';

type Waiter = { resolve: (identity: Identity | null) => void; reject: (error: unknown) => void };

/**
 * Token look-ups of requests that arrive together, made in one statement: at 32 agents a
 * round trip per request was much of what the server waited on (docs/performance.md). Each
 * request still looks its token up, so a revocation takes effect at once.
 */
export class AuthBatcher {
  private pending = new Map<string, Waiter[]>();

  constructor(private readonly knex: Knex) {}

  identify(token: string): Promise<Identity | null> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => void this.flush());
      const waiters = this.pending.get(token) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(token, waiters);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    try {
      const found = await authenticateAll(this.knex, [...batch.keys()]);
      for (const [token, waiters] of batch)
        for (const w of waiters) w.resolve(found.get(token) ?? null);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  }
}
