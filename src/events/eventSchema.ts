import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../integrity/canonicalJson.js';

export const PRD_REF = /^prd:([a-z0-9][a-z0-9._-]{0,199})@([1-9][0-9]{0,8})$/;

const isoTime = z.string().refine((v) => !Number.isNaN(new Date(v).getTime()), {
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
    occurred_at: isoTime.optional(),
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
  content_sha256: string;
  /** Datasets (OpenLineage) this event read and wrote. */
  datasets: Array<{ dataset: string; role: 'input' | 'output' }>;
  /** Where it came from in the input, for error messages. */
  line: number;
};

/** A UUIDv7: a millisecond timestamp then random bits, so ids sort by creation time. */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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
  const content = {
    event_id: input.event_id ?? uuidv7(),
    type: input.type,
    module: input.module ?? null,
    actor: input.actor ?? null,
    task_id: input.task_id ?? null,
    run_id: input.run_id ?? null,
    occurred_at: new Date(input.occurred_at ?? Date.now()).toISOString(),
    parents: [...new Set(input.parents ?? [])],
    inputs: [...new Set(input.inputs ?? [])],
    payload: input.payload ?? {},
  };
  // Identity is the event as sent: an occurred_at left to default to "now" is not part of it,
  // so sending the same line again is recognised as already archived.
  const identity = {
    ...content,
    occurred_at: input.occurred_at === undefined ? null : content.occurred_at,
  };
  const content_sha256 = createHash('sha256').update(canonicalJson(identity)).digest('hex');
  return { ...content, content_sha256, datasets, line };
}
