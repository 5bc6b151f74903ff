import { isoTimeSql } from '../db/isoTimeSql.js';
import { quoteIdent } from '../db/quoteIdent.js';
import { canonicalRow, type ContentColumn } from './contentColumns.js';
import { ledgerHash } from './ledgerHash.js';

/** A ledger row as read back: its content columns and its integrity columns. */
export type StoredLedgerRow = Record<string, unknown> & {
  chain: string;
  seq: string;
  prev_hash: string;
  hash: string;
  hash_version: number;
};

/**
 * The select list of a ledger table's rows as verify and redact read them. Timestamps come as the
 * ISO text they are hashed in, bytea as its hex input form (\x…): no Date or Buffer per value.
 * With `erased`, an erased payload's recorded commitment comes too (as ERASED_COMMITMENT).
 */
export function storedRowSelect(columns: ContentColumn[], erased = false): string {
  return [
    ...columns.map((c) => {
      const name = quoteIdent(c.name);
      return c.type === 'timestamptz' && !c.isArray
        ? `${isoTimeSql(name)} as ${name}`
        : c.type === 'bytea' && !c.isArray
          ? `'\\x' || encode(${name}, 'hex') as ${name}`
          : name;
    }),
    'chain',
    'seq',
    "encode(prev_hash, 'hex') as prev_hash",
    "encode(hash, 'hex') as hash",
    'hash_version',
    ...(erased
      ? [
          `case when payload_salt is null then (select encode(r.commitment, 'hex') from cc.redactions r where r.event_id = ${REDACTED_TABLE}.event_id and r.field = 'payload') end as "${ERASED_COMMITMENT}"`,
        ]
      : []),
  ].join(', ');
}

/** The table whose payloads cos-db redact erases, and the column verify reads their commitment as. */
export const REDACTED_TABLE = 'cc.events';
export const ERASED_COMMITMENT = '__erased_payload_commitment';

/** Whether a stored row's hash is still the hash of its content at its place in its chain. */
export function hashMatches(
  columns: ContentColumn[],
  row: StoredLedgerRow,
  erased?: string | null,
): boolean {
  const canonical = canonicalRow(columns, row, erased);
  return ledgerHash(row.hash_version, row.chain, row.seq, row.prev_hash, canonical) === row.hash;
}
