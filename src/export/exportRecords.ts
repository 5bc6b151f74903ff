import type { Knex } from 'knex';
import type { Database } from '../db/withDatabase.js';
import { usageError } from '../errors.js';
import { eventWhere, type EventFilters } from '../events/queryEvents.js';
import { prdFilterSql } from '../prd/queryPrds.js';
import { csvLine, EXPORT_FORMATS, openLineageLine, plain, type ExportFormat } from './formats.js';
import type { RowQuery } from '../db/driver.js';
import { driverOf } from '../db/driverOf.js';
import { quoteIdent } from '../db/quoteIdent.js';
import type { Sink } from './sink.js';
import { EVENT_RECORD_COLUMNS, PRD_RECORD_COLUMNS, recordSelect } from '../db/recordSelect.js';

export const EXPORT_KINDS = ['prd', 'events', 'lineage'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export type ExportFilters = EventFilters & { status?: string | undefined; id?: string | undefined };

const PRD_COLUMNS = [...PRD_RECORD_COLUMNS, 'front_matter', 'content'];
const EVENT_COLUMNS = EVENT_RECORD_COLUMNS;
const LINEAGE_COLUMNS = ['from_id', 'to_id', 'kind'];

async function queryFor(
  db: Database,
  kind: ExportKind,
  filters: ExportFilters,
  legacy: boolean,
  format?: ExportFormat,
): Promise<{ query: RowQuery; columns: string[] }> {
  if (kind === 'prd') {
    const { where, bindings } = prdFilterSql(filters);
    return {
      query: {
        sql: `select ${recordSelect(PRD_COLUMNS, legacy)} from cc.prd_versions ${where.length ? `where ${where.join(' and ')}` : ''}`,
        bindings,
        keyset: ['prd_id', 'version'],
      },
      columns: PRD_COLUMNS,
    };
  }
  const { sql, bindings } = await eventWhere(db.knex, filters);
  if (kind === 'events') {
    return {
      query: {
        // OpenLineage events are written as they were received (payload_original, 1.0's).
        sql: `select ${recordSelect(EVENT_COLUMNS, legacy)}${format === 'openlineage' && !legacy ? ', payload_original' : ''} from cc.events ${sql}`,
        bindings,
        keyset: ['occurred_at', 'event_id'],
      },
      columns: EVENT_COLUMNS,
    };
  }
  // Lineage: every edge whose child event passes the filters, parent edges (named, and derived
  // for OpenLineage events) and PRD inputs alike.
  const derived = legacy
    ? ''
    : `union
            select p.parent_id, e.event_id, 'parent'
              from (select event_id, type, module, run_id, occurred_at, payload from cc.events ${sql}) e
              cross join lateral jsonb_array_elements_text(
                cc.openlineage_parents(e.event_id, e.run_id, e.occurred_at, e.type, e.payload)) as p (parent_id)
             where e.module = 'openlineage'`;
  return {
    query: {
      sql: `select p.parent_id as from_id, e.event_id as to_id, 'parent' as kind
              from (select event_id, parents from cc.events ${sql}) e
              cross join lateral jsonb_array_elements_text(e.parents) as p (parent_id)
            ${derived}
            union all
            select 'prd:' || i.prd_id || '@' || i.version, i.event_id, 'input'
              from cc.event_inputs i where i.event_id in (select event_id from cc.events ${sql})`,
      bindings: legacy ? [...bindings, ...bindings] : [...bindings, ...bindings, ...bindings],
      keyset: ['to_id', 'from_id'],
    },
    columns: LINEAGE_COLUMNS,
  };
}

/**
 * NDJSON from a server: COPY (select row_to_json(...)) TO STDOUT, so the server encodes the rows
 * as psql would and Node only passes bytes on. CSV mode with a quote and a delimiter that JSON
 * output never contains (control characters are always escaped in JSON) keeps each line raw —
 * COPY's text mode would double every backslash. COPY takes no parameters, so the filters are
 * inlined with knex's own escaping. Undefined where the engine cannot stream COPY out.
 */
async function copyNdjson(
  db: Database,
  query: RowQuery,
  sink: Sink,
  onProgress?: (n: number) => void,
): Promise<number | undefined> {
  const { copyOut } = driverOf(db.knex);
  if (!copyOut) return undefined;
  const { StringDecoder } = await import('node:string_decoder');
  const order = query.keyset.map(quoteIdent).join(', ');
  const select = db.knex
    .raw(`select * from (${query.sql}) q order by ${order}`, query.bindings as Knex.RawBinding[])
    .toQuery();
  const sql = `copy (select row_to_json(r) from (${select}) r) to stdout with (format csv, quote e'\\x01', delimiter e'\\x02')`;
  const decoder = new StringDecoder('utf8');
  let n = 0;
  for await (const chunk of copyOut(db.knex, sql)) {
    const text = decoder.write(chunk);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n += 1;
    await sink.write(text);
    if (n % 10_000 < 100) onProgress?.(n);
  }
  await sink.write(decoder.end());
  return n;
}

/** Streams one kind of record to the sink in the chosen format. Returns how many were written. */
export async function exportRecords(
  db: Database,
  kind: ExportKind,
  format: ExportFormat,
  filters: ExportFilters,
  sink: Sink,
  onProgress?: (n: number) => void,
  /** Given, the rows are counted first and the count passed to it (for progress). */
  onTotal?: (total: number) => void,
): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw usageError(`unknown --format "${format}"; valid: ${EXPORT_FORMATS.join(', ')}`);
  if (format === 'openlineage' && kind !== 'events')
    throw usageError(`--format openlineage is for events; for ${kind} use json, ndjson or csv`);
  // A store made by cos-db 0.x (db.legacy) holds digests as hex text: read it all the same.
  const { query, columns } = await queryFor(db, kind, filters, db.legacy, format);
  if (onTotal) {
    const counted = await db.knex.raw<{ rows: Array<{ n: string }> }>(
      `select count(*) as n from (${query.sql}) q`,
      query.bindings as Knex.RawBinding[],
    );
    onTotal(Number(counted.rows[0]?.n ?? 0));
  }
  if (format === 'ndjson') {
    const copied = await copyNdjson(db, query, sink, onProgress);
    if (copied !== undefined) return copied;
  }
  let n = 0;
  if (format === 'json') await sink.write('[');
  if (format === 'csv') await sink.write(csvLine(columns));
  for await (const row of driverOf(db.knex).streamRows(db.knex, query)) {
    switch (format) {
      case 'json':
        await sink.write(`${n ? ',' : ''}\n${JSON.stringify(plain(row))}`);
        break;
      case 'ndjson':
        await sink.write(`${JSON.stringify(plain(row))}\n`);
        break;
      case 'csv':
        await sink.write(
          csvLine(
            columns.map((c) => (row[c] instanceof Date ? (row[c] as Date).toISOString() : row[c])),
          ),
        );
        break;
      case 'openlineage':
        await sink.write(`${openLineageLine(row)}\n`);
        break;
    }
    n += 1;
    if (n % 10_000 === 0) onProgress?.(n);
  }
  if (format === 'json') await sink.write(n ? '\n]\n' : ']\n');
  return n;
}
