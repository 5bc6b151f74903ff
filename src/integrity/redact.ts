import type { Knex } from 'knex';
import { integrityError, notFoundError, usageError } from '../errors.js';
import { uuidv7 } from '../uuidv7.js';
import { commitmentOf, contentColumns } from './contentColumns.js';
import { lockChain, prepareLedgerRow, withLedgerTransaction } from './ledger.js';
import { GENESIS_HASH, HASH_VERSION, ledgerHash } from './ledgerHash.js';
import { REDACTIONS_CHAIN } from './ledgerCatalog.js';
import { hashMatches, storedRowSelect, type StoredLedgerRow } from './storedRows.js';

export const REDACTIONS_TABLE = { schema: 'cc', table: 'redactions' } as const;
const EVENTS_TABLE = { schema: 'cc', table: 'events' } as const;
/** What an event has that can be erased: its payload (with its salt and original text). */
export const REDACTABLE_FIELDS = ['payload'] as const;

/** A redaction as it is recorded (a ledger row of the redactions chain). */
export type RedactionRecord = {
  redaction_id: string;
  event_id: string;
  field: 'payload';
  reason: string;
  requested_by: string;
  redacted_at: string;
  seq: string;
  hash: string;
};

export type RedactReport = {
  dry_run: boolean;
  field: 'payload';
  /** Values erased (or, with dry_run, that would be). */
  redacted: number;
  /** Events named whose value was already erased: nothing to do. */
  already_redacted: string[];
  /** The redactions made (or the events that would be redacted), the first REDACTIONS_LISTED. */
  redactions: Array<Pick<RedactionRecord, 'event_id'> & Partial<RedactionRecord>>;
  batches: number;
};

export const REDACTIONS_LISTED = 100;

export type Requester = { reason: string; actor: string; dryRun?: boolean | undefined };

function checkReason(reason: string): string {
  const r = reason.trim();
  if (r.length < 1 || r.length > 2000)
    throw usageError(
      '--reason must say why, in 1 to 2000 characters (e.g. "GDPR art. 17 request #812")',
    );
  return r;
}

type EventRow = StoredLedgerRow & { event_id: string; payload_salt: string | null };

async function readEvents(knex: Knex, ids: string[]): Promise<EventRow[]> {
  const columns = await contentColumns(knex, EVENTS_TABLE);
  return (
    await knex.raw<{ rows: EventRow[] }>(
      `select ${storedRowSelect(columns)} from cc.events where event_id = any(?) order by chain, seq`,
      [ids],
    )
  ).rows;
}

/**
 * Erases the payloads of these events (those still there) in the transaction given, which holds
 * the redactions chain's lock from here on: each row must still verify, its commitment is copied
 * into a redaction record hashed onto the chain, then the value goes (cc.redact, the only path).
 */
async function redactInTransaction(
  trx: Knex.Transaction,
  ids: string[],
  who: Requester,
): Promise<{ done: RedactionRecord[]; already: string[] }> {
  await lockChain(trx, REDACTIONS_TABLE, REDACTIONS_CHAIN);
  const eventColumns = await contentColumns(trx, EVENTS_TABLE);
  const rows = await readEvents(trx, ids);
  const already: string[] = [];
  const todo: Array<{ id: string; commitment: string }> = [];
  for (const row of rows) {
    if (row.payload_salt === null) {
      already.push(row.event_id);
      continue;
    }
    if (!hashMatches(eventColumns, row))
      throw integrityError(
        `event ${row.event_id} does not verify (its content no longer matches its hash); refusing to redact a row that was altered`,
        { hint: 'run `cos-db verify` and investigate before erasing anything' },
      );
    todo.push({ id: row.event_id, commitment: commitmentOf(eventColumns, row) as string });
  }
  if (todo.length === 0) return { done: [], already };
  const columns = await contentColumns(trx, REDACTIONS_TABLE);
  const head = (
    await trx.raw<{ rows: Array<{ seq: string; hash: string }> }>(
      `select seq::text as seq, encode(hash, 'hex') as hash from cc.redactions r where r.chain = ? order by r.seq desc limit 1`,
      [REDACTIONS_CHAIN],
    )
  ).rows[0];
  let seq = head ? BigInt(head.seq) : 0n;
  let prev = head?.hash ?? GENESIS_HASH;
  const at = new Date().toISOString();
  const done: RedactionRecord[] = [];
  const sent: Array<Record<string, unknown>> = [];
  for (const t of todo) {
    const content = {
      redaction_id: uuidv7(),
      event_id: t.id,
      field: 'payload' as const,
      commitment: `\\x${t.commitment}`,
      reason: who.reason,
      requested_by: who.actor,
      redacted_at: at,
    };
    seq += 1n;
    const hash = ledgerHash(
      HASH_VERSION,
      REDACTIONS_CHAIN,
      seq,
      prev,
      prepareLedgerRow(columns, content).canonical,
    );
    sent.push({
      ...content,
      commitment: t.commitment,
      chain: REDACTIONS_CHAIN,
      seq: String(seq),
      prev_hash: prev,
      hash,
      hash_version: HASH_VERSION,
    });
    done.push({
      redaction_id: content.redaction_id,
      event_id: t.id,
      field: 'payload',
      reason: who.reason,
      requested_by: who.actor,
      redacted_at: at,
      seq: String(seq),
      hash,
    });
    prev = hash;
  }
  await trx.raw('select cc.redact(?::jsonb)', [JSON.stringify(sent)]);
  return { done, already };
}

/**
 * Erases the payload of each event named, with the reason on record. Every id must be archived
 * (else exit 3, nothing done); one already erased is reported, not erased again. One transaction.
 */
export async function redactEvents(
  knex: Knex,
  ids: string[],
  who: Requester,
): Promise<RedactReport> {
  const reason = who.dryRun ? who.reason.trim() : checkReason(who.reason);
  const unique = [...new Set(ids)];
  const found = await readEvents(knex, unique);
  const missing = unique.filter((id) => !found.some((r) => r.event_id === id));
  if (missing.length)
    throw notFoundError(`no event ${missing.join(', ')}; nothing was redacted`, {
      hint: 'list events with `cos-db query events`',
    });
  if (who.dryRun) {
    const present = found.filter((r) => r.payload_salt !== null);
    return {
      dry_run: true,
      field: 'payload',
      redacted: present.length,
      already_redacted: found.filter((r) => r.payload_salt === null).map((r) => r.event_id),
      redactions: present.slice(0, REDACTIONS_LISTED).map((r) => ({ event_id: r.event_id })),
      batches: 0,
    };
  }
  const { done, already } = await withLedgerTransaction(knex, (trx) =>
    redactInTransaction(trx, unique, { ...who, reason }),
  );
  return {
    dry_run: false,
    field: 'payload',
    redacted: done.length,
    already_redacted: already,
    redactions: done.slice(0, REDACTIONS_LISTED),
    batches: done.length ? 1 : 0,
  };
}

export type RetentionPolicy = {
  /** Events that occurred before this time (ISO). */
  before: string;
  type: string;
  module?: string | undefined;
  batchSize?: number | undefined;
};

/**
 * Scheduled erasure: the payloads of every event of a type (and module) older than a time, in
 * batches of one transaction each, so a run stopped anywhere resumes where it was on the next:
 * each value is erased, and its redaction recorded, once.
 */
export async function redactByPolicy(
  knex: Knex,
  policy: RetentionPolicy,
  who: Requester,
  onProgress?: (redacted: number) => void,
): Promise<RedactReport> {
  const batchSize = policy.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw usageError('--batch-size must be between 1 and 10000');
  const reason = who.dryRun ? who.reason.trim() : checkReason(who.reason);
  const where = ['occurred_at < ?', 'type = ?', 'payload is not null'];
  const bindings: unknown[] = [policy.before, policy.type];
  if (policy.module !== undefined) {
    where.push('chain = ?', 'module = ?');
    bindings.push(policy.module, policy.module);
  }
  const report: RedactReport = {
    dry_run: Boolean(who.dryRun),
    field: 'payload',
    redacted: 0,
    already_redacted: [],
    redactions: [],
    batches: 0,
  };
  if (who.dryRun) {
    const rows = (
      await knex.raw<{ rows: Array<{ event_id: string; n: string }> }>(
        `select event_id, count(*) over ()::text as n from cc.events where ${where.join(' and ')}
          order by occurred_at, event_id limit ${REDACTIONS_LISTED}`,
        bindings as Knex.RawBinding[],
      )
    ).rows;
    report.redacted = Number(rows[0]?.n ?? 0);
    report.redactions = rows.map((r) => ({ event_id: r.event_id }));
    return report;
  }
  // Keyset over (occurred_at, event_id): each batch starts past the last, so erased rows are not
  // read again within a run; a new run starts over and finds only what is left.
  let after: { at: string; id: string } | undefined;
  for (;;) {
    const page = (
      await knex.raw<{ rows: Array<{ event_id: string; at: string }> }>(
        `select event_id, occurred_at::text as at from cc.events
          where ${[...where, ...(after ? ['(occurred_at, event_id) > (?::timestamptz, ?)'] : [])].join(' and ')}
          order by occurred_at, event_id limit ${batchSize}`,
        [...bindings, ...(after ? [after.at, after.id] : [])] as Knex.RawBinding[],
      )
    ).rows;
    const last = page[page.length - 1];
    if (!last) break;
    after = { at: last.at, id: last.event_id };
    const { done } = await withLedgerTransaction(knex, (trx) =>
      redactInTransaction(
        trx,
        page.map((r) => r.event_id),
        { ...who, reason },
      ),
    );
    report.redacted += done.length;
    report.batches += 1;
    for (const d of done)
      if (report.redactions.length < REDACTIONS_LISTED) report.redactions.push(d);
    onProgress?.(report.redacted);
  }
  return report;
}
