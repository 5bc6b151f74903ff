import type { Database } from '../db/withDatabase.js';
import { usageError } from '../errors.js';
import { eventWhere, type EventFilters } from '../events/queryEvents.js';
import { csvLine, EXPORT_FORMATS, plain, toRunEvent, type ExportFormat } from './formats.js';
import { streamRows, type RowQuery } from './rowSource.js';
import type { Sink } from './sink.js';

export const EXPORT_KINDS = ['prd', 'events', 'lineage'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export type ExportFilters = EventFilters & { status?: string | undefined; id?: string | undefined };

const PRD_COLUMNS = [
  'prd_id',
  'version',
  'title',
  'status',
  'front_matter',
  'content',
  'content_sha256',
  'size_bytes',
  'source_path',
  'message',
  'archived_by',
  'archived_at',
  'chain',
  'seq',
  'prev_hash',
  'hash',
];
const EVENT_COLUMNS = [
  'event_id',
  'type',
  'module',
  'actor',
  'task_id',
  'run_id',
  'occurred_at',
  'recorded_at',
  'parents',
  'inputs',
  'payload',
  'chain',
  'seq',
  'prev_hash',
  'hash',
];
const LINEAGE_COLUMNS = ['from_id', 'to_id', 'kind'];

/**
 * Timestamps leave the server already in JavaScript's ISO form (UTC, milliseconds truncated, as a
 * Date would give them), so no Date object is made per value on the way out (about 12% of an
 * export's time). Sorting on the text is chronological for years 1000–9999.
 */
const ISO_TIMES = new Set(['archived_at', 'occurred_at', 'recorded_at']);
const selectList = (columns: string[]) =>
  columns
    .map((c) =>
      ISO_TIMES.has(c)
        ? `to_char(${c} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${c}`
        : c,
    )
    .join(', ');

async function queryFor(
  db: Database,
  kind: ExportKind,
  filters: ExportFilters,
): Promise<{ query: RowQuery; columns: string[] }> {
  if (kind === 'prd') {
    const where: string[] = [];
    const bindings: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      where.push(condition);
      bindings.push(value);
    };
    if (filters.id) add('prd_id = ?', filters.id);
    if (filters.status) add('status = ?', filters.status);
    if (filters.since) add('archived_at >= ?', filters.since);
    if (filters.until) add('archived_at < ?', filters.until);
    return {
      query: {
        sql: `select ${selectList(PRD_COLUMNS)} from cc.prd_versions ${where.length ? `where ${where.join(' and ')}` : ''}`,
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
        sql: `select ${selectList(EVENT_COLUMNS)} from cc.events ${sql}`,
        bindings,
        keyset: ['occurred_at', 'event_id'],
      },
      columns: EVENT_COLUMNS,
    };
  }
  // Lineage: every edge whose child event passes the filters, parent edges and PRD inputs alike.
  return {
    query: {
      sql: `select p.parent_id as from_id, p.event_id as to_id, 'parent' as kind
              from cc.event_parents p where p.event_id in (select event_id from cc.events ${sql})
            union all
            select 'prd:' || i.prd_id || '@' || i.version, i.event_id, 'input'
              from cc.event_inputs i where i.event_id in (select event_id from cc.events ${sql})`,
      bindings: [...bindings, ...bindings],
      keyset: ['to_id', 'from_id'],
    },
    columns: LINEAGE_COLUMNS,
  };
}

/** Streams one kind of record to the sink in the chosen format. Returns how many were written. */
export async function exportRecords(
  db: Database,
  kind: ExportKind,
  format: ExportFormat,
  filters: ExportFilters,
  sink: Sink,
  onProgress?: (n: number) => void,
): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw usageError(`unknown --format "${format}"; valid: ${EXPORT_FORMATS.join(', ')}`);
  if (format === 'openlineage' && kind !== 'events')
    throw usageError(`--format openlineage is for events; for ${kind} use json, ndjson or csv`);
  const { query, columns } = await queryFor(db, kind, filters);
  let n = 0;
  if (format === 'json') await sink.write('[');
  if (format === 'csv') await sink.write(csvLine(columns));
  for await (const row of streamRows(db, query)) {
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
        await sink.write(`${JSON.stringify(toRunEvent(row))}\n`);
        break;
    }
    n += 1;
    if (n % 10_000 === 0) onProgress?.(n);
  }
  if (format === 'json') await sink.write(n ? '\n]\n' : ']\n');
  return n;
}
