import { copyField } from '../db/copyRows.js';
import { commitment, newSalt, saltText } from '../integrity/commitment.js';
import type { ContentColumn } from '../integrity/contentColumns.js';
import { prepareLedgerRow, type PreparedRow } from '../integrity/ledger.js';
import type { NormalizedEvent } from './eventSchema.js';

/**
 * An event as the content of its ledger row (cc.events' content columns), with a fresh salt for
 * its payload's commitment.
 */
export function ledgerRowOf(
  e: NormalizedEvent,
  recordedAt: string,
  salt: Buffer = newSalt(),
): Record<string, unknown> {
  return {
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
    payload: e.payloadJson,
    payload_salt: saltText(salt),
    payload_original: e.payloadOriginal ?? null,
  };
}

/**
 * cc.events' content columns as the migrations make them, in order: the one statement of the
 * layout the fast path below writes out (a test holds it to a migrated store's catalog).
 */
export const EVENT_CONTENT_COLUMNS: ReadonlyArray<readonly [name: string, type: string]> = [
  ['event_id', 'text'],
  ['type', 'text'],
  ['module', 'text'],
  ['actor', 'text'],
  ['task_id', 'text'],
  ['run_id', 'text'],
  ['occurred_at', 'timestamptz'],
  ['recorded_at', 'timestamptz'],
  ['parents', 'jsonb'],
  ['inputs', 'jsonb'],
  ['payload', 'jsonb'],
  ['payload_salt', 'bytea'],
  ['payload_original', 'text'],
];

const layoutOf = (columns: ReadonlyArray<readonly [string, string]>) =>
  columns.map(([name, type]) => `${name} ${type}`).join(',');
const KNOWN_LAYOUT = layoutOf(EVENT_CONTENT_COLUMNS);

/** Whether a table's content columns are cc.events' as the migrations make them. */
export function isKnownEventLayout(columns: ContentColumn[]): boolean {
  return (
    layoutOf(columns.map((c) => [c.name, c.isArray ? `${c.type}[]` : c.type] as const)) ===
    KNOWN_LAYOUT
  );
}

const j = JSON.stringify;
const field = (v: string | null) => copyField(v);

/**
 * Makes events' ledger rows. For the table as the migrations make it, each row is written out
 * directly — its canonical JSON in key order, its COPY fields in column order — from values
 * already normalized (times in toISOString's form, lists of strings, the payload canonical),
 * without the generic path's per-column normalizing and object building, which is a large part
 * of an import's client work (docs/performance.md). A test holds the two to the same bytes.
 * Any other layout (a column added by a later migration, say) takes the generic path.
 */
export function eventRowMaker(
  columns: ContentColumn[],
): (e: NormalizedEvent, recordedAt: string, salt?: Buffer) => PreparedRow {
  if (!isKnownEventLayout(columns))
    return (e, recordedAt, salt) =>
      flatRow(prepareLedgerRow(columns, ledgerRowOf(e, recordedAt, salt)));
  return (e, recordedAt, salt = newSalt()) => {
    const parents = j(e.parents);
    const inputs = j(e.inputs);
    const payload = e.payloadJson.text;
    const original = e.payloadOriginal ?? null;
    const hex = salt.toString('hex');
    return flatRow({
      canonical: `{"actor":${j(e.actor)},"event_id":${j(e.event_id)},"inputs":${inputs},"module":${j(e.module)},"occurred_at":${j(e.occurred_at)},"parents":${parents},"payload_commitment":"${commitment(hex, original ?? payload)}","recorded_at":${j(recordedAt)},"run_id":${j(e.run_id)},"task_id":${j(e.task_id)},"type":${j(e.type)}}`,
      fields: `${field(e.event_id)}\t${field(e.type)}\t${field(e.module)}\t${field(e.actor)}\t${field(e.task_id)}\t${field(e.run_id)}\t${e.occurred_at}\t${recordedAt}\t${field(parents)}\t${field(inputs)}\t${field(payload)}\t\\\\x${hex}\t${field(original)}`,
    });
  };
}

/**
 * The row with its two strings made flat. Built by concatenation, each is a tree of a few
 * dozen pieces until something reads it whole; an import holds a chunk's rows until they are
 * written, so every garbage collection in between copied the trees. Flat, a row is two strings
 * (the collector's pauses it saves: docs/performance.md).
 */
function flatRow(row: PreparedRow): PreparedRow {
  flatten(row.canonical);
  flatten(row.fields);
  return row;
}

/** V8 flattens a string to read it as a number; the tree it was is then garbage. */
function flatten(text: string): void {
  Number(text);
}
