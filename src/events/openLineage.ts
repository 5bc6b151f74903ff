import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Canonical, canonicalJson } from '../integrity/canonicalJson.js';
import type { NormalizedEvent } from './eventSchema.js';
import { exactCanonical } from './exactJson.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const text = z.string().min(1);
const facets = z.record(z.string(), z.unknown()).optional();

/** The schema dataset facet's fields: each names its field (Marquez refuses one without). */
const schemaField: z.ZodType = z.lazy(() =>
  z.object({ name: text, fields: z.array(schemaField).optional() }).passthrough(),
);
const datasetFacets = z
  .object({
    schema: z
      .object({ fields: z.array(schemaField).optional() })
      .passthrough()
      .optional(),
  })
  .passthrough()
  .optional();

const dataset = z.object({ namespace: text, name: text, facets: datasetFacets }).passthrough();

const job = z.object({ namespace: text, name: text, facets }).passthrough();

/** The parent run facet: the run it names and its job (the spec requires both). */
const parentFacet = z
  .object({
    run: z.object({ runId: z.string().regex(UUID, 'must be a UUID') }).passthrough(),
    job: z.object({ namespace: text, name: text }).passthrough(),
  })
  .passthrough();

/** What every OpenLineage event has (the spec's BaseEvent); schemaURL is left out by real producers. */
const base = {
  eventTime: text,
  producer: text,
  schemaURL: z.string().optional(),
};

/**
 * The spec's RunEvent: strict where it requires (eventTime, producer, run.runId a UUID, the job,
 * datasets' namespace and name, the parent facet's run and job), lenient where real producers
 * are (no schemaURL, a time without zone or with nanoseconds; facets it does not know).
 */
export const runEventSchema = z
  .object({
    ...base,
    eventType: z.enum(['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER']).optional(),
    run: z
      .object({
        runId: z.string().regex(UUID, 'must be a UUID'),
        facets: z.object({ parent: parentFacet.optional() }).passthrough().optional(),
      })
      .passthrough(),
    job,
    inputs: z.array(dataset).optional(),
    outputs: z.array(dataset).optional(),
  })
  .passthrough();

/** The spec's JobEvent (static lineage: a job's inputs and outputs, no run). */
export const jobEventSchema = z
  .object({
    ...base,
    job,
    inputs: z.array(dataset).optional(),
    outputs: z.array(dataset).optional(),
  })
  .passthrough();

/** The spec's DatasetEvent (a dataset's own metadata). */
export const datasetEventSchema = z.object({ ...base, dataset }).passthrough();

export type RunEvent = z.infer<typeof runEventSchema>;
type JobEvent = z.infer<typeof jobEventSchema>;
type DatasetEvent = z.infer<typeof datasetEventSchema>;

export type OpenLineageEvent =
  | { kind: 'run'; event: RunEvent }
  | { kind: 'job'; event: JobEvent }
  | { kind: 'dataset'; event: DatasetEvent };

/** Which kind of event a value is, by the spec's rule: a run, else a dataset, else a job. */
export function openLineageKind(value: unknown): OpenLineageEvent['kind'] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if ('run' in value) return 'run';
  if ('dataset' in value) return 'dataset';
  if ('job' in value) return 'job';
  return undefined;
}

export const SCHEMAS = {
  run: runEventSchema,
  job: jobEventSchema,
  dataset: datasetEventSchema,
} as const;

/**
 * OpenLineage timestamps as producers write them: with or without a zone (UTC assumed), with
 * up to nanoseconds (kept to milliseconds). Undefined when it is not a time at all.
 */
export function openLineageTime(value: string): string | undefined {
  const m =
    /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      value.trim(),
    );
  if (!m) return undefined;
  const fraction = m[3] ? `.${m[3].slice(0, 3).padEnd(3, '0')}` : '';
  const zone = m[4]
    ? m[4] === 'Z'
      ? 'Z'
      : m[4].includes(':')
        ? m[4]
        : `${m[4].slice(0, 3)}:${m[4].slice(3)}`
    : 'Z';
  const date = new Date(`${m[1]}T${m[2]}${fraction}${zone}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // Years 0001-9999 only: what both engines store and give back in the same form.
  const iso = date.toISOString();
  return iso.length === 24 && !iso.startsWith('0000') ? iso : undefined;
}

/**
 * An OpenLineage event's id: the SHA-256 of its exact canonical form (whitespace, key order and
 * string escapes do not count; every number and string as written does). The same event sent
 * again is the same id; any other event, however close in time, is another.
 */
export function openLineageId(original: string, value?: unknown): string {
  const canonical = value === undefined ? undefined : () => canonicalJson(value);
  return `ol:${createHash('sha256').update(exactCanonical(original, canonical)).digest('hex')}`;
}

/**
 * An OpenLineage event as a cos-db event. The original text is kept as it came (payload_original)
 * and is what the row's hash commits to; the payload is the same document as jsonb, for SQL. A
 * run's events share run_id; the job is the task. Lineage is not frozen into the row: the store
 * derives it at query time from the events' runs and datasets (cc.openlineage_parents).
 */
export function fromOpenLineage(
  ol: OpenLineageEvent,
  original: string,
  time: string,
  line: number,
  /** The original as JSON.parse read it, if at hand (a faster way to the same id). */
  parsed?: unknown,
): NormalizedEvent {
  const e = ol.event;
  const type =
    ol.kind === 'run'
      ? `openlineage.${(ol.event.eventType ?? 'OTHER').toLowerCase()}`
      : `openlineage.${ol.kind}`;
  const jobOf = 'job' in e ? (e.job as { namespace: string; name: string }) : undefined;
  return {
    event_id: openLineageId(original, parsed),
    type,
    module: 'openlineage',
    actor: e.producer.slice(0, 200),
    task_id: jobOf ? `${jobOf.namespace}/${jobOf.name}`.slice(0, 200) : null,
    run_id: ol.kind === 'run' ? ol.event.run.runId : null,
    occurred_at: time,
    parents: [],
    inputs: [],
    payload: { openlineage: e },
    payloadJson: new Canonical(`{"openlineage":${original}}`),
    payloadOriginal: original,
    identity: 'payload',
    occurredAtGiven: true,
    line,
  };
}
