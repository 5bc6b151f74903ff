import { hash } from 'node:crypto';
import { z } from 'zod';
import { Canonical, canonicalJson } from '../integrity/canonicalJson.js';
import { isoTime, isTime } from '../integrity/isoTime.js';
import { PRD_REF } from '../prd/prdRef.js';
import { uuidv7 } from './uuidv7.js';

const timeString = z.string().refine(isTime, {
  message: 'is not a date-time (use ISO 8601)',
});

/** An event as producers send it. Only `type` is required. */
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
    type: z.string().min(1).max(200),
    module: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase identifier')
      .optional(),
    actor: z.string().min(1).max(200).optional(),
    task_id: z.string().min(1).max(200).optional(),
    run_id: z.string().min(1).max(200).optional(),
    occurred_at: timeString.optional(),
    parents: z.array(z.string().min(1).max(200)).max(1000).optional(),
    inputs: z.array(z.string().regex(PRD_REF, 'must be prd:ID@VERSION')).max(1000).optional(),
    payload: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type EventInput = z.infer<typeof eventSchema>;

/** An event ready to archive: every field settled, and the hash of its content for idempotency. */
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
  /** The payload's canonical JSON, computed once for both hashes and the insert. */
  payloadJson: Canonical;
  content_sha256: string;
  /** Datasets (OpenLineage) this event read and wrote. */
  datasets: Array<{ dataset: string; role: 'input' | 'output' }>;
  /** Where it came from in the input, for error messages. */
  line: number;
};

/**
 * Settles an event: an id if none was given, the time now if none was given, parents and inputs
 * de-duplicated in order, and the sha256 of its canonical content (what "the same event again"
 * means: same id and same hash; same id and another hash is a conflict).
 */
export function normalizeEvent(
  input: EventInput,
  line: number,
  datasets: NormalizedEvent['datasets'] = [],
): NormalizedEvent {
  const event_id = input.event_id ?? uuidv7();
  const module = input.module ?? null;
  const actor = input.actor ?? null;
  const task_id = input.task_id ?? null;
  const run_id = input.run_id ?? null;
  const occurred_at = isoTime(input.occurred_at ?? Date.now());
  const parents = unique(input.parents);
  const inputs = unique(input.inputs);
  const payload = input.payload ?? {};
  const payloadJson = new Canonical(canonicalJson(payload));
  // Identity is the event as sent: an occurred_at left to default to "now" is not part of it,
  // so sending the same line again is recognised as already archived.
  // Keys in canonical order already, so canonicalizing it sorts nothing.
  const identity = {
    actor,
    event_id,
    inputs,
    module,
    occurred_at: input.occurred_at === undefined ? null : occurred_at,
    parents,
    payload: payloadJson,
    run_id,
    task_id,
    type: input.type,
  };
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
    content_sha256: hash('sha256', canonicalJson(identity)),
    datasets,
    line,
  };
}

/** The list without repeats, in first-seen order (a copy). */
function unique(list: string[] | undefined): string[] {
  if (!list) return [];
  return list.length < 2 ? list.slice() : [...new Set(list)];
}
