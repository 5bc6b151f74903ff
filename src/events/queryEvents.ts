import type { Knex } from 'knex';
import { notFoundError, usageError } from '../errors.js';
import { listLinks, type MemoryLink } from '../links/memoryLinks.js';
import { EVENT_RECORD_COLUMNS, recordSelect } from '../db/recordSelect.js';

export type EventFilters = {
  type?: string | undefined;
  module?: string | undefined;
  actor?: string | undefined;
  task?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Keyset pagination: events after this one (in time order). */
  after?: string | undefined;
  limit?: number | undefined;
};

/** An archived event: the one shape of an event record in every output (query, export, bundle). */
export type EventRecord = {
  event_id: string;
  type: string;
  module: string | null;
  actor: string | null;
  task_id: string | null;
  run_id: string | null;
  occurred_at: string;
  recorded_at: string;
  parents: string[];
  inputs: string[];
  /** null once erased. */
  payload: Record<string, unknown> | null;
  /** Who erased the payload, when and why (cos-db redact); null while it is there. */
  redaction: {
    redaction_id: string;
    field: 'payload';
    reason: string;
    requested_by: string;
    redacted_at: string;
  } | null;
  chain: string;
  seq: string;
  prev_hash: string;
  hash: string;
};

const EVENT_RECORD_SQL = recordSelect(EVENT_RECORD_COLUMNS);

/** The WHERE clause for the filters, shared by query and export. */
export async function eventWhere(
  knex: Knex,
  filters: EventFilters,
): Promise<{ sql: string; bindings: unknown[] }> {
  const where: string[] = [];
  const bindings: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    bindings.push(value);
  };
  if (filters.type) add('type = ?', filters.type);
  // An event's chain is its module: the (chain, seq) key finds a module's events.
  if (filters.module) {
    add('chain = ?', filters.module);
    add('module = ?', filters.module);
  }
  if (filters.actor) add('actor = ?', filters.actor);
  if (filters.task) add('task_id = ?', filters.task);
  if (filters.since) add('occurred_at >= ?', filters.since);
  if (filters.until) add('occurred_at < ?', filters.until);
  if (filters.after) {
    const anchor = (
      await knex.raw<{ rows: Array<{ occurred_at: Date }> }>(
        'select occurred_at from cc.events where event_id = ?',
        [filters.after],
      )
    ).rows[0];
    if (!anchor) throw notFoundError(`--after: no event ${filters.after}`);
    where.push('(occurred_at, event_id) > (?, ?)');
    bindings.push(new Date(anchor.occurred_at).toISOString(), filters.after);
  }
  return { sql: where.length ? `where ${where.join(' and ')}` : '', bindings };
}

/** Events in time order, filtered, at most `limit` (default 100); page on with --after the last id. */
export async function queryEvents(
  knex: Knex,
  filters: EventFilters,
): Promise<{ events: EventRecord[]; next: string | null }> {
  const limit = filters.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw usageError('--limit must be between 1 and 100000');
  const { sql, bindings } = await eventWhere(knex, filters);
  const rows = (
    await knex.raw<{ rows: EventRecord[] }>(
      // The table's columns, named by the table: the select list's occurred_at is text.
      `select ${EVENT_RECORD_SQL} from cc.events ${sql} order by cc.events.occurred_at, cc.events.event_id limit ${limit + 1}`,
      bindings as Knex.RawBinding[],
    )
  ).rows;
  const events = rows.slice(0, limit);
  return {
    events,
    next: rows.length > limit ? (events[events.length - 1]?.event_id ?? null) : null,
  };
}

export type EventDetail = EventRecord & {
  derived_parents: string[];
  children: string[];
  links: MemoryLink[];
};

/** One event whole, with its parents, children and inputs. Unknown id: exit 3. */
export async function eventDetail(knex: Knex, eventId: string): Promise<EventDetail> {
  type Row = EventRecord & { derived: string[] | null; children: string[] };
  const row = (
    await knex.raw<{ rows: Row[] }>(
      // @> with a one-element array: what the GIN index on parents answers. An OpenLineage
      // event's lineage is derived from runs and datasets when asked (cc.openlineage_parents).
      `select ${EVENT_RECORD_SQL},
              (select array(select jsonb_array_elements_text(
                 cc.openlineage_parents(e.event_id, e.run_id, e.occurred_at, e.type, e.payload)))
                where e.module = 'openlineage') as derived,
              array(select c from (
                select x.event_id as c from cc.events x where x.parents @> jsonb_build_array(e.event_id)
                union
                select k from cc.openlineage_children(e.event_id, e.run_id, e.occurred_at, e.type, e.payload) as k
                 where e.module = 'openlineage') y order by c) as children
         from cc.events e where e.event_id = ?`,
      [eventId],
    )
  ).rows[0];
  if (!row)
    throw notFoundError(`no event ${eventId}`, { hint: 'list events with `cos-db query events`' });
  const { derived, children, ...record } = row;
  return {
    ...record,
    derived_parents: (derived ?? []).filter((p) => !record.parents.includes(p)),
    children,
    links: await listLinks(knex, [eventId]),
  };
}
