import { isoTimeSql } from './isoTimeSql.js';

/** An archived event's columns, in the order of its record (query, export, bundles). */
export const EVENT_RECORD_COLUMNS = [
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
  'redaction',
  'chain',
  'seq',
  'prev_hash',
  'hash',
];

/** An archived PRD version's columns without its text (front_matter, content). */
export const PRD_RECORD_COLUMNS = [
  'prd_id',
  'version',
  'title',
  'status',
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

const TIMES = new Set(['archived_at', 'occurred_at', 'recorded_at']);
const DIGESTS = new Set(['content_sha256', 'prev_hash', 'hash']);

/**
 * A select list that gives records as the contract writes them, made by the server: times in
 * JavaScript's ISO form (no Date per value in Node), seq as text (int8, as the drivers return
 * it), digests (bytea) as lowercase hex — or as they are in a 0.x store, which held them as hex.
 */
export function recordSelect(columns: readonly string[], legacy = false): string {
  return columns
    .map((c) =>
      c === 'redaction'
        ? legacy
          ? 'null::jsonb as redaction'
          : // Only an erased payload has one: one probe of cc.redactions for those rows alone.
            'case when payload is null then cc.event_redaction(event_id) end as redaction'
        : TIMES.has(c)
          ? `${isoTimeSql(c)} as ${c}`
          : c === 'seq'
            ? 'seq::text as seq'
            : DIGESTS.has(c) && !legacy
              ? `encode(${c}, 'hex') as ${c}`
              : c,
    )
    .join(', ');
}
