import type { Knex } from 'knex';
import { setImmediate } from 'node:timers/promises';
import { usageError } from '../errors.js';
import { throwIfInterrupted } from '../interrupt.js';
import { contentColumns, type ContentColumn } from '../integrity/contentColumns.js';
import {
  hashRows,
  lockTable,
  withLedgerTransaction,
  type PreparedRow,
} from '../integrity/ledger.js';
import { byChainOf, EVENTS_TABLE, type PreparedChunk } from './archiveChunk.js';
import { BatchWriter, type WrittenCounts } from './batchWriter.js';
import { ChainHeads } from './chainHeads.js';
import { eventRowMaker } from './eventLedgerRow.js';
import type { NormalizedEvent } from './eventSchema.js';
import type { JsonRecord } from './readJsonRecords.js';
import {
  toEvent,
  toEventOrSkip,
  type EventFormat,
  type Skipped,
  type SkippedRecord,
} from './toEvent.js';

export type ArchiveEventsOptions = {
  format: EventFormat;
  /** Events per transaction (default 2000); ignored with atomic. */
  batchSize?: number;
  /** The whole input in one transaction. */
  atomic?: boolean;
  label: string;
  onProgress?: (done: number) => void;
  /** Times a batch is written again after a lost connection or a deadlock (default 2). */
  retries?: number;
  onRetry?: (retry: { attempt: number; of: number; delayMs: number; error: unknown }) => void;
  /** Invalid events are left out and reported (result.skipped) instead of refusing the input. */
  skipInvalid?: boolean;
};

export type ArchiveEventsResult = WrittenCounts & {
  /** With skipInvalid: the records left out, in input order (the first 1,000). */
  skipped?: SkippedRecord[];
  skipped_count?: number;
};

/**
 * Events read, prepared and written at a time. A batch (a transaction) is written as chunks, so
 * memory follows the chunk, not the batch, and the next chunk is prepared while one is written
 * (chunk sizes measured: docs/performance.md).
 */
const CHUNK = 2000;

/**
 * Reading, chunking and hashing ahead: records become events and ledger rows, gathered into
 * chunks; each chunk is hashed on the heads the chunk before it is expected to leave, while that
 * one is being written, and handed to the writer in input order.
 */
class ChunkPipeline {
  private events: NormalizedEvent[] = [];
  private rows: PreparedRow[] = [];
  private inFlight: Promise<void> | undefined;
  /** The chains' heads as the chunks handed to the writer will leave them, where known. */
  private expected = new ChainHeads();

  constructor(
    private readonly writer: BatchWriter,
    private readonly rowOf: (e: NormalizedEvent, recordedAt: string) => PreparedRow,
    private readonly recordedAt: string,
    private readonly chunkSize: number,
  ) {}

  /** Takes one event; a full chunk goes to the writer. */
  async push(event: NormalizedEvent): Promise<void> {
    this.events.push(event);
    this.rows.push(this.rowOf(event, this.recordedAt));
    if (this.events.length >= this.chunkSize) await this.flush();
    // Let the chunk being written go on (its next statement) while this one is read.
    else if (this.events.length % 25 === 0) await setImmediate();
  }

  /** Hands the chunk gathered so far to the writer, once the one before it is written. */
  async flush(): Promise<void> {
    // Ctrl-C takes effect between chunks: the batch in flight is rolled back whole.
    throwIfInterrupted();
    if (this.events.length === 0) return;
    const prepared: PreparedChunk = { events: this.events, rows: this.rows };
    this.events = [];
    this.rows = [];
    // Hashed while the server loads the chunk before (see docs/performance.md); hashed again
    // if that chunk did not leave the heads expected (some of it was archived already), or
    // they were not known yet.
    const byChain = byChainOf(prepared.events, prepared.rows);
    prepared.hashed = hashRows(byChain, this.expected);
    if (this.inFlight) await this.inFlight;
    const { written } = this.writer;
    const from = prepared.hashed?.from;
    if (!from || !written.agreeWith(from)) prepared.hashed = hashRows(byChain, written);
    this.expected = written.copy();
    for (const chain of byChain.keys()) this.expected.delete(chain);
    for (const [chain, head] of prepared.hashed?.to ?? []) this.expected.set(chain, head);
    this.inFlight = this.writer.write(prepared);
    // Its failure is awaited (and reported) at the next flush or at the end, not lost.
    this.inFlight.catch(() => undefined);
  }

  /** Waits for the chunk being written, and reports its failure. */
  async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
  }
}

/**
 * Archives events from a stream of JSON records (one at a time, or as read together), in
 * batches: each batch is written whole or not at all (with atomic, the whole input). Memory
 * stays flat: only the chunks being prepared and written are held.
 */
export async function archiveEvents(
  knex: Knex,
  records: AsyncIterable<JsonRecord | JsonRecord[]>,
  options: ArchiveEventsOptions,
): Promise<ArchiveEventsResult> {
  const skipped: Skipped = { listed: [], count: 0 };
  async function* events(): AsyncGenerator<NormalizedEvent> {
    for await (const item of records) {
      for (const record of Array.isArray(item) ? item : [item]) {
        const event = options.skipInvalid
          ? toEventOrSkip(record, options.format, options.label, skipped)
          : toEvent(record, options.format, options.label);
        if (event) yield event;
      }
    }
  }
  const result: ArchiveEventsResult = await archiveNormalizedEvents(knex, events(), options);
  if (skipped.count) {
    result.skipped = skipped.listed;
    result.skipped_count = skipped.count;
  }
  if (result.new === 0 && result.already_archived === 0 && !result.skipped_count) {
    throw usageError(`${options.label}: no events in the input`);
  }
  return result;
}

/**
 * archiveEvents for events validated already (toEvent): the agent endpoint validates each
 * request's events itself, then writes those of requests that arrive together in one batch.
 */
export async function archiveNormalizedEvents(
  knex: Knex,
  events: AsyncIterable<NormalizedEvent> | Iterable<NormalizedEvent>,
  options: Omit<ArchiveEventsOptions, 'format' | 'skipInvalid'> & {
    /** cc.events' content columns, if the caller has read them already. */
    columns?: ContentColumn[];
    /** false: return once committed, without waiting for the WAL to reach disk (see BatchWriter). */
    flush?: boolean;
  },
): Promise<WrittenCounts> {
  const batchSize = options.batchSize ?? 2000;
  // Inside a caller's transaction (a seed) work there; --atomic makes the input one transaction.
  const outer = knex.isTransaction ? (knex as Knex.Transaction) : undefined;
  const atomic = options.atomic === true;
  const columns = options.columns ?? (await contentColumns(outer ?? knex, EVENTS_TABLE));
  const writer = new BatchWriter(
    knex,
    columns,
    {
      label: options.label,
      batchSize,
      // Inside one transaction the whole is one unit: nothing to write again.
      retries: atomic || outer ? 0 : (options.retries ?? 2),
      onProgress: options.onProgress,
      onRetry: options.onRetry,
      flush: options.flush,
    },
    outer,
  );
  const pipeline = new ChunkPipeline(
    writer,
    eventRowMaker(columns),
    new Date().toISOString(),
    Math.min(batchSize, CHUNK),
  );

  const run = async () => {
    try {
      for await (const event of events) await pipeline.push(event);
      await pipeline.flush();
    } catch (error) {
      // A chunk still being written comes first in the input: its outcome, then this error.
      await pipeline.settle();
      throw error;
    }
    await pipeline.settle();
    await writer.finish();
  };

  try {
    if (atomic && !outer) {
      await withLedgerTransaction(knex, async (trx) => {
        // Chunks lock their chains as the input names them, in no set order: the events table
        // is this transaction's alone until it ends, so a concurrent import cannot deadlock it.
        await lockTable(trx, EVENTS_TABLE);
        writer.adopt(trx);
        await run();
      });
    } else await run();
  } catch (error) {
    await writer.abort();
    throw writer.howFar(error, atomic);
  }
  return { ...writer.counts };
}
