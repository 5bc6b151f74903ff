import type { Knex } from 'knex';
import { isForeignKeyViolation, isUniqueViolation } from '../db/databaseError.js';
import { isoTimeSql } from '../db/isoTimeSql.js';
import { CosError, ExitCode, notFoundError, usageError } from '../errors.js';
import { canonicalJson } from '../integrity/canonicalJson.js';
import type { ContentColumn } from '../integrity/contentColumns.js';
import {
  appendToChains,
  type ChainBatch,
  type HashedRows,
  type PreparedRow,
} from '../integrity/ledger.js';
import { PRD_REF } from '../integrity/prdRef.js';
import type { ChainHeads } from './chainHeads.js';
import { sameEvent, storedForm, type NormalizedEvent, type StoredEvent } from './eventSchema.js';

export const EVENTS_TABLE = { schema: 'cc', table: 'events' } as const;

/** "file:line" of an event: where the input gave it, for messages. */
function lineRef(label: string, e: Pick<NormalizedEvent, 'line'>): string {
  return `${label}:${e.line}`;
}

/** Events read and validated, with their ledger rows made ready outside any lock. */
export type PreparedChunk = {
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
export function byChainOf(events: NormalizedEvent[], rows: PreparedRow[]): ChainBatch {
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
  heads: ChainHeads,
  columns: ContentColumn[],
  hashed?: HashedRows,
): Promise<void> {
  const byChain = byChainOf(fresh, freshRows);
  await appendToChains(trx, { table: EVENTS_TABLE, columns }, byChain, heads, hashed);
}

/** What archiving a chunk needs besides the chunk. */
export type ChunkContext = {
  label: string;
  columns: ContentColumn[];
  /** The chains the batch has locked, with their heads; moved on as rows are appended. */
  heads: ChainHeads;
  /** Whether to try writing the chunk before looking anything up (see archiveChunk). */
  optimistic: boolean;
};

/**
 * Archives one chunk inside trx: skips events already archived, checks parents and inputs,
 * appends to each module's chain and writes the edges. Returns the events that were new.
 *
 * Most chunks of an import are new events whose parents are archived or earlier in the chunk.
 * Such a chunk is written straight away, under a savepoint: the events' unique key and the
 * statement-level parents check prove it, and the look-up of every id is saved. If the database refuses it (an event already archived, a parent that is not),
 * the chunk is rolled back to the savepoint and goes the careful way, which looks everything up
 * first and says exactly what is wrong.
 */
export async function archiveChunk(
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
            ? `${lineRef(label, event)}: event ${event.event_id} comes twice in the input with different content (first at line ${earlier.line})`
            : `${lineRef(label, event)}: event ${event.event_id} is already archived with other content`,
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
          `${lineRef(label, event)}: event ${event.event_id} names itself as a parent`,
        );
      if (at !== undefined ? at >= i : !stored.has(parent)) {
        throw notFoundError(
          `${lineRef(label, event)}: parent ${parent} of event ${event.event_id} is not archived${at !== undefined ? ' before it (it comes later in the input)' : ''}`,
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
        `${lineRef(label, event)}: input ${missing.ref} of event ${event.event_id} is not an archived PRD version`,
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
