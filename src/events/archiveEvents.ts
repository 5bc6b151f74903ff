import type { Knex } from 'knex';
import { CosError, ExitCode, notFoundError, usageError } from '../errors.js';
import { appendToChain, withLedgerTransaction } from '../integrity/ledger.js';
import {
  fromRunEvent,
  openLineageTime,
  parentRunId,
  runEventSchema,
  type RunEvent,
} from '../lineage/openLineage.js';
import { eventSchema, normalizeEvent, PRD_REF, type NormalizedEvent } from './eventSchema.js';
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
};

export type ArchiveEventsResult = {
  new: number;
  alreadyArchived: number;
  /** The new events' ids; null past 10,000 (counts only). */
  ids: string[] | null;
  batches: number;
};

const ID_LIMIT = 10_000;

function where(label: string, e: Pick<NormalizedEvent, 'line'>): string {
  return `${label}:${e.line}`;
}

function formatIssues(issues: Array<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

/** One input record, validated and settled. Malformed records are usage errors naming the line. */
export function toEvent(
  record: JsonRecord,
  format: ArchiveEventsOptions['format'],
  label: string,
): NormalizedEvent {
  const at = `${label}:${record.line}${record.index !== undefined ? ` (element ${record.index})` : ''}`;
  if (format === 'openlineage') {
    const parsed = runEventSchema.safeParse(record.value);
    if (!parsed.success)
      throw usageError(`${at}: not an OpenLineage RunEvent: ${formatIssues(parsed.error.issues)}`, {
        details: { line: record.line },
      });
    const time = openLineageTime(parsed.data.eventTime);
    if (!time)
      throw usageError(`${at}: eventTime "${parsed.data.eventTime}" is not a time`, {
        details: { line: record.line },
      });
    return fromRunEvent(parsed.data as RunEvent, time, record.line);
  }
  const parsed = eventSchema.safeParse(record.value);
  if (!parsed.success)
    throw usageError(`${at}: invalid event: ${formatIssues(parsed.error.issues)}`, {
      details: { line: record.line },
    });
  return normalizeEvent(parsed.data, record.line);
}

async function latestBefore(
  trx: Knex.Transaction,
  sql: string,
  bindings: unknown[],
): Promise<string | undefined> {
  return (await trx.raw<{ rows: Array<{ event_id: string }> }>(sql, bindings as Knex.RawBinding[]))
    .rows[0]?.event_id;
}

/**
 * OpenLineage lineage: the run's previous event, the parent run's latest event (when that run is
 * archived; otherwise the reference stays in the payload), and for each input dataset the latest
 * event whose run wrote it. "Latest" is latest before this event, from the store or earlier in
 * this batch, so a run reading a published artifact becomes a child of the run that made it.
 */
async function resolveOpenLineage(trx: Knex.Transaction, batch: NormalizedEvent[]): Promise<void> {
  const runLatest = new Map<string, { id: string; at: string }>();
  const datasetLatest = new Map<string, { id: string; at: string }>();
  const fromBatch = (m: Map<string, { id: string; at: string }>, key: string, at: string) => {
    const hit = m.get(key);
    return hit && hit.at <= at ? hit.id : undefined;
  };
  for (const event of batch) {
    if (event.module !== 'openlineage' || !event.run_id) continue;
    const parents: string[] = [];
    const previous =
      fromBatch(runLatest, event.run_id, event.occurred_at) ??
      (await latestBefore(
        trx,
        'select event_id from cc.events where run_id = ? and occurred_at <= ? and event_id <> ? order by occurred_at desc, event_id desc limit 1',
        [event.run_id, event.occurred_at, event.event_id],
      ));
    if (previous) parents.push(previous);
    const parentRun = parentRunId((event.payload as { openlineage: RunEvent }).openlineage);
    if (parentRun) {
      const parent =
        fromBatch(runLatest, parentRun, event.occurred_at) ??
        (await latestBefore(
          trx,
          'select event_id from cc.events where run_id = ? and occurred_at <= ? order by occurred_at desc, event_id desc limit 1',
          [parentRun, event.occurred_at],
        ));
      if (parent) parents.push(parent);
    }
    for (const d of event.datasets.filter((x) => x.role === 'input')) {
      const writer =
        fromBatch(datasetLatest, d.dataset, event.occurred_at) ??
        (await latestBefore(
          trx,
          `select d.event_id from cc.event_datasets d join cc.events e on e.event_id = d.event_id
            where d.dataset = ? and d.role = 'output' and e.occurred_at <= ? and e.run_id <> ?
            order by e.occurred_at desc, e.event_id desc limit 1`,
          [d.dataset, event.occurred_at, event.run_id],
        ));
      if (writer && writer !== previous) parents.push(writer);
    }
    event.parents = [...new Set(parents)];
    runLatest.set(event.run_id, { id: event.event_id, at: event.occurred_at });
    for (const d of event.datasets.filter((x) => x.role === 'output'))
      datasetLatest.set(d.dataset, { id: event.event_id, at: event.occurred_at });
  }
}

async function insertJson(trx: Knex.Transaction, table: string, rows: unknown[]): Promise<void> {
  if (rows.length === 0) return;
  await trx.raw(
    `insert into ${table} select * from json_populate_recordset(null::${table}, ?::text::json)`,
    [JSON.stringify(rows)],
  );
}

/** Archives one batch inside trx. Returns the events that were new. */
async function archiveBatch(
  trx: Knex.Transaction,
  batch: NormalizedEvent[],
  label: string,
  recordedAt: string,
): Promise<{ fresh: NormalizedEvent[]; already: number }> {
  const ids = [...new Set(batch.map((e) => e.event_id))];
  const existing = new Map(
    (
      await trx.raw<{ rows: Array<{ event_id: string; content_sha256: string }> }>(
        'select event_id, content_sha256 from cc.events where event_id = any(?)',
        [ids],
      )
    ).rows.map((r) => [r.event_id, r.content_sha256]),
  );
  const fresh: NormalizedEvent[] = [];
  const freshIndex = new Map<string, NormalizedEvent>();
  let already = 0;
  for (const event of batch) {
    const known = existing.get(event.event_id) ?? freshIndex.get(event.event_id)?.content_sha256;
    if (known !== undefined) {
      if (known !== event.content_sha256) {
        throw new CosError(
          ExitCode.integrity,
          `${where(label, event)}: event ${event.event_id} is already archived with other content`,
          {
            hint: 'an event is immutable: give the new one its own event_id',
            details: { line: event.line, eventId: event.event_id },
          },
        );
      }
      already += 1;
      continue;
    }
    fresh.push(event);
    freshIndex.set(event.event_id, event);
  }
  if (fresh.length === 0) return { fresh, already };

  await resolveOpenLineage(trx, fresh);

  // Parents: archived already, or earlier in this batch (earlier batches are committed already,
  // or, with --atomic, in this same transaction). So lineage can never form a cycle.
  const position = new Map(fresh.map((e, i) => [e.event_id, i]));
  const outside = [...new Set(fresh.flatMap((e) => e.parents).filter((p) => !position.has(p)))];
  const found = new Set(
    outside.length
      ? (
          await trx.raw<{ rows: Array<{ event_id: string }> }>(
            'select event_id from cc.events where event_id = any(?)',
            [outside],
          )
        ).rows.map((r) => r.event_id)
      : [],
  );
  for (const [i, event] of fresh.entries()) {
    for (const parent of event.parents) {
      const at = position.get(parent);
      if (parent === event.event_id)
        throw usageError(
          `${where(label, event)}: event ${event.event_id} names itself as a parent`,
        );
      if (at !== undefined ? at >= i : !found.has(parent)) {
        throw notFoundError(
          `${where(label, event)}: parent ${parent} of event ${event.event_id} is not archived${at !== undefined ? ' before it (it comes later in the input)' : ''}`,
          {
            hint: 'archive the parent first, or put it earlier in the input',
            details: { line: event.line, eventId: event.event_id, parent },
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
          details: { line: event.line, eventId: event.event_id, input: missing.ref },
        },
      );
    }
  }

  // One chain per module; chains taken in name order so concurrent importers cannot deadlock.
  const byChain = new Map<string, NormalizedEvent[]>();
  for (const e of fresh) {
    const chain = e.module ?? 'core';
    byChain.set(chain, [...(byChain.get(chain) ?? []), e]);
  }
  for (const chain of [...byChain.keys()].sort()) {
    const events = byChain.get(chain) as NormalizedEvent[];
    await appendToChain(
      trx,
      EVENTS_TABLE,
      chain,
      events.map((e) => ({
        event_id: e.event_id,
        type: e.type,
        module: e.module,
        actor: e.actor,
        task_id: e.task_id,
        run_id: e.run_id,
        occurred_at: e.occurred_at,
        recorded_at: recordedAt,
        parents: e.parents,
        inputs: e.inputs,
        payload: e.payload,
        content_sha256: e.content_sha256,
      })),
    );
  }
  await insertJson(
    trx,
    'cc.event_parents',
    fresh.flatMap((e) => e.parents.map((p) => ({ event_id: e.event_id, parent_id: p }))),
  );
  await insertJson(
    trx,
    'cc.event_inputs',
    fresh.flatMap((e) =>
      e.inputs.map((ref) => {
        const m = PRD_REF.exec(ref) as RegExpExecArray;
        return { event_id: e.event_id, prd_id: m[1], version: Number(m[2]) };
      }),
    ),
  );
  await insertJson(
    trx,
    'cc.event_datasets',
    fresh.flatMap((e) =>
      e.datasets.map((d) => ({ event_id: e.event_id, dataset: d.dataset, role: d.role })),
    ),
  );
  return { fresh, already };
}

/**
 * Archives events from a stream of JSON records, in batches: each batch is written whole or not
 * at all (with atomic, the whole input). Memory stays flat: only one batch is held at a time.
 */
export async function archiveEvents(
  knex: Knex,
  records: AsyncIterable<JsonRecord>,
  options: ArchiveEventsOptions,
): Promise<ArchiveEventsResult> {
  const batchSize = options.batchSize ?? 2000;
  const result: ArchiveEventsResult = { new: 0, alreadyArchived: 0, ids: [], batches: 0 };
  const recordedAt = new Date().toISOString();
  let done = 0;
  const run = async (trx?: Knex.Transaction) => {
    let batch: NormalizedEvent[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      const write = (t: Knex.Transaction) => archiveBatch(t, current, options.label, recordedAt);
      const { fresh, already } = trx ? await write(trx) : await withLedgerTransaction(knex, write);
      result.new += fresh.length;
      result.alreadyArchived += already;
      result.batches += 1;
      if (result.ids) {
        result.ids.push(...fresh.map((e) => e.event_id));
        if (result.ids.length > ID_LIMIT) result.ids = null;
      }
      done += current.length;
      options.onProgress?.(done);
    };
    for await (const record of records) {
      batch.push(toEvent(record, options.format, options.label));
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  };
  // Inside a caller's transaction (a seed) work there; --atomic makes the input one transaction.
  if (knex.isTransaction) await run(knex as Knex.Transaction);
  else if (options.atomic) await withLedgerTransaction(knex, (trx) => run(trx));
  else await run();
  if (result.batches === 0 && result.new === 0 && result.alreadyArchived === 0) {
    throw usageError(`${options.label}: no events in the input`);
  }
  return result;
}
