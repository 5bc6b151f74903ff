import type { Knex } from 'knex';
import { databaseError, isRetryable } from '../db/databaseError.js';
import { CosError } from '../errors.js';
import { throwIfInterrupted, trackedCommit } from '../interrupt.js';
import type { ContentColumn } from '../integrity/contentColumns.js';
import { beginTransaction, rollbackQuietly } from '../integrity/ledger.js';
import { archiveChunk, type PreparedChunk } from './archiveChunk.js';
import { ChainHeads } from './chainHeads.js';
import type { NormalizedEvent } from './eventSchema.js';

const ID_LIMIT = 10_000;

/** The transaction a batch is written in, and the chains it has locked with their heads. */
type Batch = {
  trx: Knex.Transaction;
  /** Opened here, so committed here when the batch is full; else the caller's (or --atomic's). */
  own: boolean;
  events: number;
  heads: ChainHeads;
  /** The chunks written in it, to write again if it fails before its commit is known. */
  chunks: PreparedChunk[];
  /** What its chunks added to the counts, taken back if it fails. */
  counted: { fresh: number; already: number; ids: number };
};

export type BatchWriterOptions = {
  label: string;
  batchSize: number;
  /** Times a failed batch is written again (0 inside one transaction: there it is one unit). */
  retries: number;
  onProgress?: ((done: number) => void) | undefined;
  onRetry?:
    ((retry: { attempt: number; of: number; delayMs: number; error: unknown }) => void) | undefined;
  /**
   * Whether finish() waits for the WAL to reach disk (default true). The endpoint says false and
   * waits itself, on another connection, while it writes the next group (appendQueue.ts).
   */
  flush?: boolean | undefined;
};

/** What the batches written so far hold. */
export type WrittenCounts = {
  new: number;
  already_archived: number;
  /** The new events' ids; null past 10,000 (counts only). */
  ids: string[] | null;
  batches: number;
};

/** The chains (modules) a chunk's events go to. */
const chainNames = (events: NormalizedEvent[]) => new Set(events.map((e) => e.module ?? 'core'));

/**
 * Writes prepared chunks in batches of about batchSize events, one transaction each, each
 * whole or not at all. A batch that fails on a lost connection or a deadlock is written again
 * from its first chunk, on a new connection. Inside a transaction (the caller's, or --atomic's)
 * everything goes into that one instead.
 */
export class BatchWriter {
  readonly counts: WrittenCounts = { new: 0, already_archived: 0, ids: [], batches: 0 };
  /** The chains' heads as the chunks written so far have left them. */
  readonly written = new ChainHeads();
  /** What the committed batches hold: how far a failed run got, and what a retry goes back to. */
  private readonly committed = { events: 0, line: 0, heads: new ChainHeads() };
  private open: Batch | undefined;
  private done = 0;
  // Batches before the last commit without waiting for their WAL to reach disk; the last one
  // waits, and as WAL is flushed in order, that covers every batch before it. So a finished run
  // is as durable as one that flushed every batch. (A run cut short may lose its last batches
  // in a server crash; archiving again fills them in.)
  private unflushed = false;

  constructor(
    private readonly knex: Knex,
    private readonly columns: ContentColumn[],
    private readonly options: BatchWriterOptions,
    /** The one transaction to write everything in, if there is one. */
    private readonly outer?: Knex.Transaction,
  ) {}

  /**
   * Writes a chunk; if the connection is lost (or the server breaks a deadlock) it reconnects
   * and writes the failed batch again from its first chunk, up to `retries` times with backoff.
   * That is safe whether or not the failed commit went through: an event archived already is
   * skipped.
   */
  async write(prepared: PreparedChunk): Promise<void> {
    let pending = [prepared];
    for (let attempt = 1; ; attempt += 1) {
      try {
        for (const chunk of pending) await this.writeOne(chunk);
        return;
      } catch (error) {
        const failed = this.open;
        if (failed && !failed.own) throw error;
        if (failed) {
          pending = [...failed.chunks, ...pending.filter((c) => !failed.chunks.includes(c))];
          await this.discard(failed);
        }
        if (attempt > this.options.retries || !isRetryable(error)) throw error;
        for (const chunk of pending) chunk.hashed = undefined;
        const delayMs = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.options.onRetry?.({ attempt, of: this.options.retries, delayMs, error });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        throwIfInterrupted();
      }
    }
  }

  /** Commits the last batch, waiting for it (and so every batch before it) to reach disk. */
  async finish(): Promise<void> {
    await this.commit(true);
  }

  /** The batch being written is rolled back: each batch is written whole or not at all. */
  async abort(): Promise<void> {
    if (this.open?.own) await rollbackQuietly(this.open.trx);
  }

  /** A database fault, told with how far the run got: what was committed stays. */
  howFar(error: unknown, atomic: boolean): unknown {
    const known = databaseError(error);
    if (!known) return error;
    const { events, line } = this.committed;
    const got =
      events === 0 || atomic
        ? 'nothing was archived'
        : `${events.toLocaleString('en-US')} events up to ${this.options.label}:${line} were archived in committed batches, and stay`;
    return new CosError(known.exitCode, `${known.message}; ${got}`, {
      hint: known.hint ?? '',
      cause: error,
      details: { ...known.details, archived: atomic ? 0 : events },
    });
  }

  private batchOn(trx: Knex.Transaction, own: boolean): Batch {
    return {
      trx,
      own,
      events: 0,
      heads: new ChainHeads(),
      chunks: [],
      counted: { fresh: 0, already: 0, ids: 0 },
    };
  }

  private async begin(): Promise<Batch> {
    if (this.outer) return this.batchOn(this.outer, false);
    const trx = await beginTransaction(this.knex);
    // One round trip for both (no bindings: the simple protocol takes several statements).
    await trx.raw(
      'set transaction isolation level read committed; set local synchronous_commit = off',
    );
    return this.batchOn(trx, true);
  }

  private async commit(last = false): Promise<void> {
    const batch = this.open;
    const flush = last && this.options.flush !== false;
    if (batch?.own) {
      if (flush) await batch.trx.raw('set local synchronous_commit = on');
      await trackedCommit(() => batch.trx.commit());
      this.unflushed = !flush;
    } else if (flush && this.unflushed) {
      // The last batch was committed as full: one transaction with an id, committed waiting.
      await this.knex.transaction(async (trx) => {
        await trx.raw('select txid_current()');
      });
    }
    // Forgotten only once committed: a batch whose commit failed is retried whole.
    this.open = undefined;
    if (batch && batch.events > 0) {
      this.counts.batches += 1;
      this.committed.events += batch.events;
      this.committed.line = batch.chunks.at(-1)?.events.at(-1)?.line ?? this.committed.line;
      this.committed.heads = this.written.copy();
    }
  }

  private async writeOne(prepared: PreparedChunk): Promise<void> {
    const chains = chainNames(prepared.events);
    // Chains are locked in name order within a transaction, so concurrent importers cannot
    // deadlock: a chunk that needs a chain sorting before one already held starts a new batch.
    const current = this.open;
    if (current?.own && current.events > 0) {
      const held = [...current.heads.keys()];
      if ([...chains].some((c) => !current.heads.has(c) && held.some((h) => h > c)))
        await this.commit();
    }
    this.open ??= await this.begin();
    const batch = this.open;
    // Kept for a retry only where there can be one: an --atomic input is not held in memory.
    if (batch.own) batch.chunks.push(prepared);
    const { fresh, already } = await archiveChunk(batch.trx, prepared, {
      label: this.options.label,
      columns: this.columns,
      heads: batch.heads,
      // Savepoints, one a chunk, only in batches of bounded size: not in one --atomic transaction.
      optimistic: batch.own,
    });
    batch.events += prepared.events.length;
    for (const [chain, head] of batch.heads) this.written.set(chain, head);
    if (batch.own && batch.events >= this.options.batchSize) await this.commit();
    const counts = this.counts;
    counts.new += fresh.length;
    counts.already_archived += already;
    batch.counted.fresh += fresh.length;
    batch.counted.already += already;
    if (counts.ids) {
      counts.ids.push(...fresh.map((e) => e.event_id));
      batch.counted.ids += fresh.length;
      if (counts.ids.length > ID_LIMIT) counts.ids = null;
    }
    this.done += prepared.events.length;
    this.options.onProgress?.(this.done);
  }

  /** A batch that failed is forgotten: its counts taken back, the chains' heads as committed. */
  private async discard(batch: Batch): Promise<void> {
    this.open = undefined;
    await rollbackQuietly(batch.trx);
    this.counts.new -= batch.counted.fresh;
    this.counts.already_archived -= batch.counted.already;
    if (this.counts.ids) this.counts.ids.length -= batch.counted.ids;
    this.done -= batch.counted.fresh + batch.counted.already;
    this.written.resetTo(this.committed.heads);
  }

  /** --atomic: the whole input is written in trx, which the caller commits. */
  adopt(trx: Knex.Transaction): void {
    this.open = this.batchOn(trx, false);
  }
}
