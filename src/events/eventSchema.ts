import { z } from 'zod';
import { Canonical, canonicalJson } from '../integrity/canonicalJson.js';
import { isoTime, strictTime } from '../integrity/isoTime.js';
import { PRD_REF } from '../integrity/prdRef.js';
import { uuidv7 } from '../uuidv7.js';

const timeString = z.string().refine((v) => strictTime(v) !== undefined, {
  message:
    'is not an RFC 3339 date-time with a zone, in range (e.g. 2026-12-01T09:30:00Z; no 24:00, no leap second, years 0001-9999)',
});

const text = (max: number) => z.string().min(1).max(max);
/** A field an archived event record has (null when empty), accepted as absent when null. */
const orNull = <T extends z.ZodType>(t: T) => t.nullable().optional();

/**
 * An event as producers send it. Only `type` is required. An archived event record (query
 * events, export events) is accepted as it is: its empty fields are null, and its place in the
 * chain it came from (recorded_at, chain, seq, prev_hash, hash) is ignored — the event gets a
 * place of its own in this store.
 */
export const eventSchema = z
  .object({
    event_id: z
      .string()
      .min(1)
      .max(200)
      .refine((v) => !v.startsWith('prd:'), {
        message: 'must not start with "prd:" (that names PRD versions)',
      })
      .optional(),
    type: text(200),
    module: orNull(
      z
        .string()
        .min(1)
        .max(63)
        .regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase identifier'),
    ),
    actor: orNull(text(200)),
    task_id: orNull(text(200)),
    run_id: orNull(text(200)),
    occurred_at: timeString.optional(),
    parents: z.array(text(200)).max(1000).optional(),
    inputs: z.array(z.string().regex(PRD_REF, 'must be prd:ID@VERSION')).max(1000).optional(),
    payload: z
      .record(z.string(), z.unknown(), {
        error: (issue) =>
          issue.input === null
            ? 'is null: this is a redacted record (its payload was erased) and cannot be archived again; a bundle (export --all, import) carries redactions'
            : undefined,
      })
      .optional(),
    redaction: z.unknown().optional().describe("ignored: a record's redaction, if any"),
    recorded_at: z.string().optional().describe("ignored: a record's, from the store it came from"),
    chain: z.string().optional().describe('ignored'),
    seq: z.string().optional().describe('ignored'),
    prev_hash: z.string().optional().describe('ignored'),
    hash: z.string().optional().describe('ignored'),
  })
  .strict();

export type EventInput = z.infer<typeof eventSchema>;

/** A record's fields that input ignores: its place in the store it came from. */
const RECORD_ONLY = new Set(['recorded_at', 'chain', 'seq', 'prev_hash', 'hash', 'redaction']);
/** The keys a producer's event has (a record's extra ones go the zod way). */
const EVENT_KEYS = new Set(Object.keys(eventSchema.shape).filter((k) => !RECORD_ONLY.has(k)));
const MODULE_NAME = /^[a-z][a-z0-9_]*$/;

const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max;
const isOptionalText = (v: unknown, max: number) => v === undefined || isText(v, max);
const isTextList = (v: unknown, item: (x: unknown) => boolean) =>
  v === undefined || (Array.isArray(v) && v.length <= 1000 && v.every(item));

/**
 * eventSchema's rules written out by hand, for the common case: an import validates a million
 * events, and zod copies each one (and its payload) as it checks it. True only for what
 * eventSchema accepts (a property test holds the two together); anything else goes to zod,
 * which decides and words the error.
 */
function isPlainEvent(value: unknown): value is EventInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  for (const key in e) if (!EVENT_KEYS.has(key)) return false;
  const payload = e.payload;
  return (
    isText(e.type, 200) &&
    (e.event_id === undefined || (isText(e.event_id, 200) && !e.event_id.startsWith('prd:'))) &&
    (e.module === undefined || (isText(e.module, 63) && MODULE_NAME.test(e.module))) &&
    isOptionalText(e.actor, 200) &&
    isOptionalText(e.task_id, 200) &&
    isOptionalText(e.run_id, 200) &&
    (e.occurred_at === undefined ||
      (typeof e.occurred_at === 'string' && strictTime(e.occurred_at) !== undefined)) &&
    isTextList(e.parents, (p) => isText(p, 200)) &&
    isTextList(e.inputs, (i) => typeof i === 'string' && PRD_REF.test(i)) &&
    (payload === undefined ||
      (typeof payload === 'object' &&
        payload !== null &&
        !Array.isArray(payload) &&
        [Object.prototype, null].includes(Object.getPrototypeOf(payload) as object | null)))
  );
}

/** eventSchema.safeParse, without the copy when the event is plainly valid. */
export function parseEvent(value: unknown): ReturnType<typeof eventSchema.safeParse> {
  return isPlainEvent(value) ? { success: true, data: value } : eventSchema.safeParse(value);
}

/** An event ready to archive: every field settled, and what makes it "the same event again". */
export type NormalizedEvent = {
  event_id: string;
  type: string;
  module: string | null;
  actor: string | null;
  task_id: string | null;
  run_id: string | null;
  occurred_at: string;
  parents: string[];
  inputs: string[];
  payload: Record<string, unknown>;
  /**
   * The payload's JSON text as inserted, computed once: its canonical JSON, over which the
   * commitment is taken; for an OpenLineage event {"openlineage": <the original>}, whose
   * commitment is over payloadOriginal instead.
   */
  payloadJson: Canonical;
  /**
   * An OpenLineage event's text exactly as received: stored beside the payload, and what the
   * payload's commitment is over. Absent for other events.
   */
  payloadOriginal?: string;
  /**
   * What a stored event must match to be this one again: every field as sent (an occurred_at
   * left to default to "now" matches any), or for an OpenLineage event its content, which its id
   * is the hash of.
   */
  identity: 'fields' | 'payload';
  occurredAtGiven: boolean;
  /** Where it came from in the input, for error messages. */
  line: number;
};

/**
 * Settles an event: an id if none was given, the time now if none was given, parents and inputs
 * de-duplicated in order, the payload's canonical JSON. The same id with the same fields is the
 * same event again (skipped); the same id with other fields is a conflict (see sameEvent).
 */
export function normalizeEvent(input: EventInput, line: number): NormalizedEvent {
  const event_id = input.event_id ?? uuidv7();
  const module = input.module ?? null;
  const actor = input.actor ?? null;
  const task_id = input.task_id ?? null;
  const run_id = input.run_id ?? null;
  const occurred_at =
    input.occurred_at === undefined
      ? isoTime(Date.now())
      : (strictTime(input.occurred_at) as string);
  const parents = unique(input.parents);
  const inputs = unique(input.inputs);
  const payload = input.payload ?? {};
  const payloadJson = new Canonical(canonicalJson(payload));
  return {
    event_id,
    type: input.type,
    module,
    actor,
    task_id,
    run_id,
    occurred_at,
    parents,
    inputs,
    payload,
    payloadJson,
    identity: 'fields',
    occurredAtGiven: input.occurred_at !== undefined,
    line,
  };
}

/** The list without repeats, in first-seen order (a copy). */
function unique(list: string[] | undefined): string[] {
  if (!list) return [];
  return list.length < 2 ? list.slice() : [...new Set(list)];
}

/** An archived event as sameEvent compares it: its fields, the payload canonical (null once erased). */
export type StoredEvent = Pick<
  NormalizedEvent,
  'type' | 'module' | 'actor' | 'task_id' | 'run_id' | 'occurred_at' | 'parents' | 'inputs'
> & { payload: string | null };

/** An event settled for archiving, as sameEvent would see it once stored. */
export function storedForm(e: NormalizedEvent): StoredEvent {
  return { ...e, payload: e.payloadJson.text };
}

const sameList = (a: string[], b: string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Whether an event sent again is the one archived under its id: every field as sent, or for an
 * OpenLineage event (whose id is the hash of its content) an OpenLineage event of the same type.
 * An erased payload matches any: the rest of the event still has to.
 */
export function sameEvent(sent: NormalizedEvent, stored: StoredEvent): boolean {
  if (sent.identity === 'payload')
    return sent.module === stored.module && sent.type === stored.type;
  const payload = stored.payload === null || stored.payload === sent.payloadJson.text;
  return (
    payload &&
    sent.type === stored.type &&
    sent.module === stored.module &&
    sent.actor === stored.actor &&
    sent.task_id === stored.task_id &&
    sent.run_id === stored.run_id &&
    (!sent.occurredAtGiven || sent.occurred_at === stored.occurred_at) &&
    sameList(sent.parents, stored.parents) &&
    sameList(sent.inputs, stored.inputs)
  );
}
