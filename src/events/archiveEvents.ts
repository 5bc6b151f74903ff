import type { Knex } from 'knex';
import { CosError, ExitCode, notFoundError, usageError } from '../errors.js';
import { setImmediate } from 'node:timers/promises';
import { throwIfInterrupted, trackedCommit } from '../interrupt.js';
import {
  databaseError,
  isForeignKeyViolation,
  isRetryable,
  isUniqueViolation,
} from '../db/databaseError.js';
import { contentColumns, type ContentColumn } from '../integrity/contentColumns.js';
import {
  appendToChains,
  hashRows,
  type ChainBatch,
  beginTransaction,
  lockTable,
  rollbackQuietly,
  sameHead,
  withLedgerTransaction,
  type ChainHead,
  type HashedRows,
  type PreparedRow,
} from '../integrity/ledger.js';
import {
  fromOpenLineage,
  openLineageKind,
  openLineageTime,
  SCHEMAS,
  type OpenLineageEvent,
} from './openLineage.js';
import { PRD_REF } from '../integrity/prdRef.js';
import { findUnstorable } from '../integrity/storable.js';
import { isoTimeSql } from '../db/isoTimeSql.js';
import { canonicalJson } from '../integrity/canonicalJson.js';
import { eventRowMaker } from './eventLedgerRow.js';
import {
  normalizeEvent,
  parseEvent,
  sameEvent,
  storedForm,
  type NormalizedEvent,
  type StoredEvent,
} from './eventSchema.js';
import type { JsonRecord } from './readJsonRecords.js';

export const EVENTS_TABLE = { schema: 'cc', table: 'events' } as const;

export type ArchiveEventsOptions = {
  format: 'cos' | 'openlineage';
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

/** An input record left out by skipInvalid: where it was and why. */
export type SkippedRecord = { line: number; index?: number; message: string };

export type ArchiveEventsResult = {
  new: number;
  already_archived: number;
  /** The new events' ids; null past 10,000 (counts only). */
  ids: string[] | null;
  batches: number;
  /** With skipInvalid: the records left out, in input order (the first 1,000). */
  skipped?: SkippedRecord[];
  skipped_count?: number;
};

const ID_LIMIT = 10_000;

/**
 * Events read, prepared and written at a time. A batch (a transaction) is written as chunks,
 * so memory follows the chunk, not the batch, and the next chunk is prepared while one is
 * written. 1M events took 54–55 s with 169–178 MB at peak in chunks of 2,000; 56 s and 161 MB
 * in chunks of 1,000; 53 s and 184–188 MB in chunks of 2,500 (runs alternated, same hour).
 */
const CHUNK = 2000;

/** The transaction a batch is written in, and the chains it has locked with their heads. */
type Batch = {
  trx: Knex.Transaction;
  /** Opened here, so committed here when the batch is full; else the caller's (or --atomic's). */
  own: boolean;
  events: number;
  heads: Map<string, ChainHead>;
  /** The chunks written in it, to write again if it fails before its commit is known. */
  chunks: PreparedChunk[];
  /** What its chunks added to the result, taken back if it fails. */
  counted: { fresh: number; already: number; ids: number };
};

const newBatch = (trx: Knex.Transaction, own: boolean): Batch => ({
  trx,
  own,
  events: 0,
  heads: new Map(),
  chunks: [],
  counted: { fresh: 0, already: 0, ids: 0 },
});

function where(label: string, e: Pick<NormalizedEvent, 'line'>): string {
  return `${label}:${e.line}`;
}

function formatIssues(issues: Array<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

const KIND_NAMES = { run: 'RunEvent', job: 'JobEvent', dataset: 'DatasetEvent' } as const;

function fieldOf(issues: Array<{ path: PropertyKey[] }>): string | undefined {
  const path = issues[0]?.path;
  return path?.length ? path.map(String).join('.') : undefined;
}

/** One input record, validated and settled. Malformed records are usage errors naming the line. */
export function toEvent(
  record: JsonRecord,
  format: ArchiveEventsOptions['format'],
  label: string,
): NormalizedEvent {
  const at = () =>
    `${label}:${record.line}${record.index !== undefined ? ` (element ${record.index})` : ''}`;
  if (record.malformed !== undefined)
    throw usageError(record.malformed, { details: { line: record.line } });
  // Before anything else: the hash covers the values as given, so they must be stored as given.
  const bad = findUnstorable(record.value, '');
  if (bad)
    throw usageError(`${at()}: ${bad.path || 'the event'} ${bad.reason}`, {
      hint: 'fix the producer: a record is hashed as sent and must read back identical',
      details: { line: record.line, field: bad.path },
    });
  if (format === 'openlineage') {
    const kind = openLineageKind(record.value);
    if (!kind)
      throw usageError(
        `${at()}: not an OpenLineage event (a RunEvent has run and job, a JobEvent job, a DatasetEvent dataset)`,
        { details: { line: record.line } },
      );
    const parsed = SCHEMAS[kind].safeParse(record.value);
    if (!parsed.success)
      throw usageError(
        `${at()}: not a valid OpenLineage ${KIND_NAMES[kind]}: ${formatIssues(parsed.error.issues)}`,
        { details: { line: record.line, field: fieldOf(parsed.error.issues) } },
      );
    const time = openLineageTime(parsed.data.eventTime);
    if (!time)
      throw usageError(`${at()}: eventTime "${parsed.data.eventTime}" is not a time`, {
        details: { line: record.line, field: 'eventTime' },
      });
    return fromOpenLineage(
      { kind, event: parsed.data } as OpenLineageEvent,
      record.text ?? JSON.stringify(record.value),
      time,
      record.line,
      record.value,
    );
  }
  const parsed = parseEvent(record.value);
  if (!parsed.success)
    throw usageError(`${at()}: invalid event: ${formatIssues(parsed.error.issues)}`, {
      details: { line: record.line },
    });
  return normalizeEvent(parsed.data, record.line);
}

/** Events read and validated, with their ledger rows made ready outside any lock. */
type PreparedChunk = {
  events: NormalizedEvent[];
  /** Each event's ledger row, in the same order. */
  rows: PreparedRow[];
  /** The rows hashed ahead, on the heads the chunk before was expected to leave. */
  hashed?: HashedRows | undefined;
};

/**
 * Which of the given ids are archived; for those among `compare` (the chunk's own events), the
 * stored event, to tell the same event sent again from a conflict.
 */
async function storedEvents(
  trx: Knex.Transaction,
  ids: string[],
  compare: Set<string>,
): Promise<Map<string, StoredEvent | true>> {
  const rows = (
    await trx.raw<{ rows: Array<{ event_id: string; event: StoredEvent | null }> }>(
      `select event_id, case when event_id = any(?) then json_build_object(
                'type', type, 'module', module, 'actor', actor, 'task_id', task_id,
                'run_id', run_id, 'occurred_at', ${isoTimeSql('occurred_at')},
                'parents', parents, 'inputs', inputs, 'payload', payload) end as event
         from cc.events where event_id = any(?)`,
      [[...compare].filter((id) => ids.includes(id)), ids],
    )
  ).rows;
  return new Map(
    rows.map((r) => [
      r.event_id,
      r.event
        ? {
            ...r.event,
            payload: r.event.payload === null ? null : canonicalJson(r.event.payload),
          }
        : true,
    ]),
  );
}

/** The rows of a chunk's events by chain: one chain per module. */
function byChainOf(events: NormalizedEvent[], rows: PreparedRow[]): ChainBatch {
  const byChain = new Map<string, PreparedRow[]>();
  for (const [i, e] of events.entries()) {
    const chain = e.module ?? 'core';
    let list = byChain.get(chain);
    if (!list) byChain.set(chain, (list = []));
    list.push(rows[i] as PreparedRow);
  }
  return Object.assign(byChain, { inputOrder: events.map((e) => e.module ?? 'core') });
}

/**
 * Writes a chunk's new events: their rows on each module's chain (one COPY for all of them).
 * Their lineage is part of the rows (parents, inputs, the OpenLineage event); the database
 * derives the edge tables from them. `hashed` is the same rows hashed ahead, if they were.
 */
async function writeChunk(
  trx: Knex.Transaction,
  fresh: NormalizedEvent[],
  freshRows: PreparedRow[],
  heads: Map<string, ChainHead>,
  columns: ContentColumn[],
  hashed?: HashedRows,
): Promise<void> {
  const byChain = byChainOf(fresh, freshRows);
  await appendToChains(trx, { table: EVENTS_TABLE, columns }, byChain, heads, hashed);
}

/** What archiving a chunk needs besides the chunk. */
type ChunkContext = {
  label: string;
  recordedAt: string;
  columns: ContentColumn[];
  rowOf: ReturnType<typeof eventRowMaker>;
  heads: Map<string, ChainHead>;
  /** Whether to try writing the chunk before looking anything up (see archiveChunk). */
  optimistic: boolean;
};

/**
 * Archives one chunk inside trx: skips events already archived, checks parents and inputs,
 * appends to each module's chain and writes the edges. Returns the events that were new.
 *
 * Most chunks of an import are new events whose parents are archived or earlier in the chunk.
 * Such a chunk is written straight away, under a savepoint: the events' unique key and the
 * statement-level parents check prove it, and the look-up of every id (a tenth of an import's
 * time) is saved. If the database refuses it (an event already archived, a parent that is not),
 * the chunk is rolled back to the savepoint and goes the careful way, which looks everything up
 * first and says exactly what is wrong.
 */
async function archiveChunk(
  trx: Knex.Transaction,
  prepared: PreparedChunk,
  context: ChunkContext,
): Promise<{ fresh: NormalizedEvent[]; already: number }> {
  const rows = prepared.rows;
  if (context.optimistic && writableAtOnce(prepared.events)) {
    await trx.raw('savepoint cos_chunk');
    try {
      await writeChunk(trx, prepared.events, rows, context.heads, context.columns, prepared.hashed);
      await trx.raw('release savepoint cos_chunk');
      return { fresh: prepared.events, already: 0 };
    } catch (error) {
      if (!refusedChunk(error)) throw error;
      await trx.raw('rollback to savepoint cos_chunk');
      // The heads moved past rows that are gone: read again (the chains' locks are still held).
      context.heads.clear();
    }
  }
  return archiveChunkCarefully(trx, prepared, context);
}

/** A chunk the database refused for a reason the careful path can name: a known id, a missing parent. */
function refusedChunk(error: unknown): boolean {
  return isUniqueViolation(error, 'events_event_id_key') || isForeignKeyViolation(error);
}

/**
 * Whether a chunk can be written before looking anything up: no id comes twice (the second is
 * "already archived", or a conflict) and no event names itself or a parent later in the chunk
 * (the statement-level check would let that pass; the careful path decides, knowing whether that
 * parent was archived already).
 */
function writableAtOnce(events: NormalizedEvent[]): boolean {
  const position = new Map<string, number>();
  for (const [i, e] of events.entries()) {
    if (position.has(e.event_id)) return false;
    position.set(e.event_id, i);
  }
  return events.every((event, i) =>
    event.parents.every((parent) => (position.get(parent) ?? -1) < i),
  );
}

/** archiveChunk the careful way: everything looked up first. */
async function archiveChunkCarefully(
  trx: Knex.Transaction,
  prepared: PreparedChunk,
  context: ChunkContext,
): Promise<{ fresh: NormalizedEvent[]; already: number }> {
  const { label } = context;
  const batch = prepared.events;
  // One look-up for the chunk's events (already archived?) and the parents they name.
  const wanted = new Set<string>();
  for (const e of batch) {
    wanted.add(e.event_id);
    for (const p of e.parents) wanted.add(p);
  }
  const stored = await storedEvents(trx, [...wanted], new Set(batch.map((e) => e.event_id)));
  const fresh: NormalizedEvent[] = [];
  const freshRows: PreparedRow[] = [];
  const freshIndex = new Map<string, NormalizedEvent>();
  let already = 0;
  for (const [i, event] of batch.entries()) {
    const earlier = freshIndex.get(event.event_id);
    const known = stored.get(event.event_id) ?? (earlier && storedForm(earlier));
    if (known !== undefined) {
      if (known === true || !sameEvent(event, known)) {
        throw new CosError(
          ExitCode.integrity,
          earlier
            ? `${where(label, event)}: event ${event.event_id} comes twice in the input with different content (first at line ${earlier.line})`
            : `${where(label, event)}: event ${event.event_id} is already archived with other content`,
          {
            hint: 'an event is immutable: give the new one its own event_id',
            details: { line: event.line, event_id: event.event_id },
          },
        );
      }
      already += 1;
      continue;
    }
    fresh.push(event);
    freshRows.push(prepared.rows[i] as PreparedRow);
    freshIndex.set(event.event_id, event);
  }
  if (fresh.length === 0) return { fresh, already };

  // Parents: archived already (committed, or written earlier in this transaction), or earlier
  // in this chunk. So lineage can never form a cycle.
  const position = new Map(fresh.map((e, i) => [e.event_id, i]));
  for (const [i, event] of fresh.entries()) {
    for (const parent of event.parents) {
      const at = position.get(parent);
      if (parent === event.event_id)
        throw usageError(
          `${where(label, event)}: event ${event.event_id} names itself as a parent`,
        );
      if (at !== undefined ? at >= i : !stored.has(parent)) {
        throw notFoundError(
          `${where(label, event)}: parent ${parent} of event ${event.event_id} is not archived${at !== undefined ? ' before it (it comes later in the input)' : ''}`,
          {
            hint: 'archive the parent first, or put it earlier in the input',
            details: { line: event.line, event_id: event.event_id, parent },
          },
        );
      }
    }
  }
  const refs = [...new Set(fresh.flatMap((e) => e.inputs))].map((ref) => {
    const m = PRD_REF.exec(ref) as RegExpExecArray;
    return { ref, prdId: m[1] as string, version: Number(m[2]) };
  });
  if (refs.length) {
    const known = new Set(
      (
        await trx.raw<{ rows: Array<{ prd_id: string; version: number }> }>(
          'select prd_id, version from cc.prd_versions where (prd_id, version) in (select * from unnest(?::text[], ?::int[]))',
          [refs.map((r) => r.prdId), refs.map((r) => r.version)],
        )
      ).rows.map((r) => `prd:${r.prd_id}@${r.version}`),
    );
    const missing = refs.find((r) => !known.has(r.ref));
    if (missing) {
      const event = fresh.find((e) => e.inputs.includes(missing.ref)) as NormalizedEvent;
      throw notFoundError(
        `${where(label, event)}: input ${missing.ref} of event ${event.event_id} is not an archived PRD version`,
        {
          hint: 'archive the PRD first (cos-db archive prd), or check the id and version (cos-db query prd)',
          details: { line: event.line, event_id: event.event_id, input: missing.ref },
        },
      );
    }
  }

  // Nothing skipped: the rows hashed ahead are these rows.
  const hashed = fresh.length === batch.length ? prepared.hashed : undefined;
  await writeChunk(trx, fresh, freshRows, context.heads, context.columns, hashed);
  return { fresh, already };
}

/**
 * Archives events from a stream of JSON records (one at a time, or as read together), in batches: each batch is written whole or not
 * at all (with atomic, the whole input). Memory stays flat: only one batch is held at a time.
 */
export async function archiveEvents(
  knex: Knex,
  records: AsyncIterable<JsonRecord | JsonRecord[]>,
  options: ArchiveEventsOptions,
): Promise<ArchiveEventsResult> {
  const batchSize = options.batchSize ?? 2000;
  const retries = options.atomic || knex.isTransaction ? 0 : (options.retries ?? 2);
  const chunkSize = Math.min(batchSize, CHUNK);
  const result: ArchiveEventsResult = { new: 0, already_archived: 0, ids: [], batches: 0 };
  const recordedAt = new Date().toISOString();
  // Inside a caller's transaction (a seed) work there; --atomic makes the input one transaction.
  const outer = knex.isTransaction ? (knex as Knex.Transaction) : undefined;
  let open: Batch | undefined;
  let done = 0;
  // The chains' heads as the chunks written so far have left them.
  const written = new Map<string, ChainHead>();
  const columns = await contentColumns(outer ?? knex, EVENTS_TABLE);
  const rowOf = eventRowMaker(columns);

  // Batches before the last commit without waiting for their WAL to reach disk; the last one
  // waits, and as WAL is flushed in order, that covers every batch before it. So a finished run
  // is as durable as one that flushed every batch, without a disk flush a batch. (A run that is
  // cut short may lose its last batches in a server crash; archiving again fills them in.)
  let unflushed = false;
  // What the committed batches hold, to say how far a failed run got and to go back to on a retry.
  const committed = { events: 0, line: 0, heads: new Map<string, ChainHead>() };
  const begin = async (): Promise<Batch> => {
    if (outer) return newBatch(outer, false);
    const trx = await beginTransaction(knex);
    // One round trip for both (no bindings: the simple protocol takes several statements).
    await trx.raw(
      'set transaction isolation level read committed; set local synchronous_commit = off',
    );
    return newBatch(trx, true);
  };
  const commit = async (last = false) => {
    const batch = open;
    if (batch?.own) {
      if (last) await batch.trx.raw('set local synchronous_commit = on');
      await trackedCommit(() => batch.trx.commit());
      unflushed = !last;
    } else if (last && unflushed) {
      // The last batch was committed as full: one transaction with an id, committed waiting.
      await knex.transaction(async (trx) => {
        await trx.raw('select txid_current()');
      });
    }
    // Forgotten only once committed: a batch whose commit failed is retried whole.
    open = undefined;
    if (batch && batch.events > 0) {
      result.batches += 1;
      committed.events += batch.events;
      committed.line = batch.chunks.at(-1)?.events.at(-1)?.line ?? committed.line;
      committed.heads = new Map(written);
    }
  };
  const writeOne = async (prepared: PreparedChunk) => {
    const chains = chainsOf(prepared.events);
    // Chains are locked in name order within a transaction, so concurrent importers cannot
    // deadlock: a chunk that needs a chain sorting before one already held starts a new batch.
    if (open?.own && open.events > 0) {
      const held = [...open.heads.keys()];
      if ([...chains].some((c) => !open?.heads.has(c) && held.some((h) => h > c))) await commit();
    }
    open ??= await begin();
    const batch = open;
    // Kept for a retry only where there can be one: an --atomic input is not held in memory.
    if (batch.own) batch.chunks.push(prepared);
    const { fresh, already } = await archiveChunk(batch.trx, prepared, {
      label: options.label,
      recordedAt,
      columns,
      rowOf,
      heads: batch.heads,
      // Savepoints, one a chunk, only in batches of bounded size: not in one --atomic transaction.
      optimistic: batch.own,
    });
    batch.events += prepared.events.length;
    for (const [chain, head] of batch.heads) written.set(chain, head);
    if (batch.own && batch.events >= batchSize) await commit();
    result.new += fresh.length;
    result.already_archived += already;
    batch.counted.fresh += fresh.length;
    batch.counted.already += already;
    if (result.ids) {
      result.ids.push(...fresh.map((e) => e.event_id));
      batch.counted.ids += fresh.length;
      if (result.ids.length > ID_LIMIT) result.ids = null;
    }
    done += prepared.events.length;
    options.onProgress?.(done);
  };
  /** A batch that failed is forgotten: its counts taken back, the chains' heads as committed. */
  const discard = async (batch: Batch) => {
    open = undefined;
    await rollbackQuietly(batch.trx);
    result.new -= batch.counted.fresh;
    result.already_archived -= batch.counted.already;
    if (result.ids) result.ids.length -= batch.counted.ids;
    done -= batch.counted.fresh + batch.counted.already;
    written.clear();
    for (const [chain, head] of committed.heads) written.set(chain, head);
  };
  /**
   * Writes a chunk; if the connection is lost (or the server breaks a deadlock) it reconnects
   * and writes the failed batch again from its first chunk, up to `retries` times with backoff.
   * That is safe whether or not the failed commit went through: an event archived already is
   * skipped. Not with --atomic or inside a caller's transaction: there the whole is one unit.
   */
  const write = async (prepared: PreparedChunk) => {
    let pending = [prepared];
    for (let attempt = 1; ; attempt += 1) {
      try {
        for (const chunk of pending) await writeOne(chunk);
        return;
      } catch (error) {
        const failed = open;
        if (failed && !failed.own) throw error;
        if (failed) {
          pending = [...failed.chunks, ...pending.filter((c) => !failed.chunks.includes(c))];
          await discard(failed);
        }
        if (attempt > retries || !isRetryable(error)) throw error;
        for (const chunk of pending) chunk.hashed = undefined;
        const delayMs = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
        options.onRetry?.({ attempt, of: retries, delayMs, error });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        throwIfInterrupted();
      }
    }
  };

  const run = async () => {
    // Pipelined: while one chunk is written, the next is read, validated, canonicalized and
    // hashed. Chunks are written in order, each after the one before it, so a chunk's parents
    // are checked against everything before it in the input.
    let chunk: NormalizedEvent[] = [];
    let rows: PreparedRow[] = [];
    let inFlight: Promise<void> | undefined;
    // The chains' heads as the chunks handed to write will leave them, where known.
    let expected = new Map<string, ChainHead>();
    const flush = async () => {
      // Ctrl-C takes effect between chunks: the batch in flight is rolled back whole.
      throwIfInterrupted();
      if (chunk.length === 0) return;
      const prepared: PreparedChunk = { events: chunk, rows };
      chunk = [];
      rows = [];
      // Hashed while the server loads the chunk before: done when writing, hashing (4.6 s) and
      // encoding (5.2 s) kept the server waiting through a sixth of a 1M import. Hashed again
      // if that chunk did not leave the heads expected (some of it was archived already), or
      // they were not known yet.
      const byChain = byChainOf(prepared.events, prepared.rows);
      prepared.hashed = hashRows(byChain, expected);
      if (inFlight) await inFlight;
      const from = prepared.hashed?.from;
      if (!from || [...from].some(([c, h]) => !sameHead(written.get(c), h)))
        prepared.hashed = hashRows(byChain, written);
      expected = new Map(written);
      for (const chain of byChain.keys()) expected.delete(chain);
      for (const [chain, head] of prepared.hashed?.to ?? []) expected.set(chain, head);
      inFlight = write(prepared);
      // Its failure is awaited (and reported) at the next flush or at the end, not lost.
      inFlight.catch(() => undefined);
    };
    try {
      for await (const item of records) {
        for (const record of Array.isArray(item) ? item : [item]) {
          const event = options.skipInvalid
            ? orSkipped(record, options, result)
            : toEvent(record, options.format, options.label);
          if (!event) continue;
          chunk.push(event);
          rows.push(rowOf(event, recordedAt));
          if (chunk.length >= chunkSize) await flush();
          // Let the chunk being written go on (its next statement) while this one is read.
          else if (chunk.length % 25 === 0) await setImmediate();
        }
      }
      await flush();
    } catch (error) {
      // A chunk still being written comes first in the input: its outcome, then this error.
      if (inFlight) await inFlight;
      throw error;
    }
    if (inFlight) await inFlight;
    await commit(true);
  };

  try {
    if (options.atomic && !outer) {
      await withLedgerTransaction(knex, async (trx) => {
        // Chunks lock their chains as the input names them, in no set order: the events table
        // is this transaction's alone until it ends, so a concurrent import cannot deadlock it.
        await lockTable(trx, EVENTS_TABLE);
        open = newBatch(trx, false);
        await run();
      });
    } else await run();
  } catch (error) {
    // The batch being written is rolled back: each batch is written whole or not at all.
    if (open?.own) await rollbackQuietly(open.trx);
    throw howFar(databaseError(error), error, committed, options);
  }
  if (result.new === 0 && result.already_archived === 0 && !result.skipped_count) {
    throw usageError(`${options.label}: no events in the input`);
  }
  return result;
}

const SKIPPED_LISTED = 1000;

/** toEvent, or with skipInvalid undefined for an invalid record, which is reported in the result. */
function orSkipped(
  record: JsonRecord,
  options: ArchiveEventsOptions,
  result: ArchiveEventsResult,
): NormalizedEvent | undefined {
  try {
    return toEvent(record, options.format, options.label);
  } catch (error) {
    if (!(error instanceof CosError) || error.exitCode !== ExitCode.usage) throw error;
    result.skipped ??= [];
    result.skipped_count = (result.skipped_count ?? 0) + 1;
    if (result.skipped.length < SKIPPED_LISTED)
      result.skipped.push({
        line: record.line,
        ...(record.index !== undefined ? { index: record.index } : {}),
        message: error.message,
      });
    return undefined;
  }
}

/** A database fault, told with how far the run got: what was committed stays. */
function howFar(
  known: CosError | undefined,
  error: unknown,
  committed: { events: number; line: number },
  options: ArchiveEventsOptions,
): unknown {
  if (!known) return error;
  const got =
    committed.events === 0 || options.atomic
      ? 'nothing was archived'
      : `${committed.events.toLocaleString('en-US')} events up to ${options.label}:${committed.line} were archived in committed batches, and stay`;
  return new CosError(known.exitCode, `${known.message}; ${got}`, {
    hint: known.hint ?? '',
    cause: error,
    details: { ...known.details, archived: options.atomic ? 0 : committed.events },
  });
}

/** The chains (modules) a chunk's events go to. */
function chainsOf(events: NormalizedEvent[]): Set<string> {
  return new Set(events.map((e) => e.module ?? 'core'));
}
