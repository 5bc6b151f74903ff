import { z } from 'zod';
import { Canonical, canonicalJson } from '../integrity/canonicalJson.js';
import type { NormalizedEvent } from '../events/eventSchema.js';

const dataset = z.object({ namespace: z.string().min(1), name: z.string().min(1) }).passthrough();

/** Strict where the spec requires (runId, job, eventTime); lenient where real producers are. */
export const runEventSchema = z
  .object({
    eventTime: z.string().min(1),
    eventType: z.string().optional(),
    producer: z.string().optional(),
    schemaURL: z.string().optional(),
    run: z
      .object({ runId: z.string().min(1), facets: z.record(z.string(), z.unknown()).optional() })
      .passthrough(),
    job: z.object({ namespace: z.string().min(1), name: z.string().min(1) }).passthrough(),
    inputs: z.array(dataset).optional(),
    outputs: z.array(dataset).optional(),
  })
  .passthrough();

export type RunEvent = z.infer<typeof runEventSchema>;

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

export function datasetId(d: { namespace: string; name: string }): string {
  return `${d.namespace}/${d.name}`;
}

export function parentRunId(event: RunEvent): string | undefined {
  const parent = event.run.facets?.parent as { run?: { runId?: unknown } } | undefined;
  return typeof parent?.run?.runId === 'string' ? parent.run.runId : undefined;
}

/**
 * A RunEvent as a cos-db event: the run's events share run_id; the job is the task; the whole
 * original event is the payload. Its id is derived from run, event type and time, and its
 * identity (content hash) is the original event, so importing a file twice changes nothing.
 * Parents are resolved when it is archived (previous event of the run, the parent run, the runs
 * that wrote its input datasets).
 */
export function fromRunEvent(event: RunEvent, time: string, line: number): NormalizedEvent {
  const kind = (event.eventType ?? 'OTHER').toUpperCase();
  const datasets = [
    ...(event.inputs ?? []).map((d) => ({ dataset: datasetId(d), role: 'input' as const })),
    ...(event.outputs ?? []).map((d) => ({ dataset: datasetId(d), role: 'output' as const })),
  ];
  const payloadJson = new Canonical(canonicalJson({ openlineage: event }));
  return {
    event_id: `ol:${event.run.runId}:${kind}:${time}`.slice(0, 200),
    type: `openlineage.${kind.toLowerCase()}`,
    module: 'openlineage',
    actor: event.producer?.slice(0, 200) ?? null,
    task_id: `${event.job.namespace}/${event.job.name}`.slice(0, 200),
    run_id: event.run.runId,
    occurred_at: time,
    parents: [],
    inputs: [],
    payload: { openlineage: event },
    payloadJson,
    identity: 'payload',
    occurredAtGiven: true,
    datasets: [...new Map(datasets.map((d) => [`${d.role}:${d.dataset}`, d])).values()],
    line,
  };
}
