import { createHash } from 'node:crypto';
import type { RunEvent } from '../events/openLineage.js';
import { compactJson } from '../events/exactJson.js';

export const EXPORT_FORMATS = ['json', 'ndjson', 'csv', 'openlineage'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A row as exported: times as ISO strings, everything else as the driver gave it. */
export function plain(row: Record<string, unknown>): Record<string, unknown> {
  // A plain loop: this runs for every exported row.
  for (const k in row) {
    const v = row[k];
    if (v instanceof Date) row[k] = v.toISOString();
    // Digests and salts (bytea) as lowercase hex, as cos-db shows them everywhere.
    else if (v instanceof Uint8Array) row[k] = Buffer.from(v).toString('hex');
  }
  return row;
}

/** RFC 4180: quoted when it holds a quote, a comma or a line break; quotes doubled; JSON for objects. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

const PRODUCER = 'https://github.com/cos/cos-db';
const SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

/** A UUID derived from a string (name-based, SHA-256), so an event's run id is stable. */
function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/**
 * An event as a line of OpenLineage NDJSON: an imported one exactly as it was received (one that
 * came spread over several lines with the whitespace between its tokens taken out, so it is one
 * line; nothing else changes), any other as toRunEvent makes it.
 */
export function openLineageLine(row: Record<string, unknown>): string {
  const original = row.payload_original;
  if (typeof original === 'string')
    return /[\r\n]/.test(original) ? compactJson(original) : original;
  return JSON.stringify(toRunEvent(row));
}

/**
 * An event as an OpenLineage RunEvent: an imported one as it came in; a native one (or an
 * erased one, with a cos_redaction facet saying who erased it, when and why) as a COMPLETE event
 * of job module/type, its PRD inputs as input datasets, its first parent as the parent run.
 */
export function toRunEvent(row: Record<string, unknown>): RunEvent {
  const payload = row.payload as { openlineage?: RunEvent } | null;
  if (payload?.openlineage) return payload.openlineage;
  const parents = (row.parents as string[] | null) ?? [];
  const inputs = (row.inputs as string[] | null) ?? [];
  const time =
    row.occurred_at instanceof Date ? row.occurred_at.toISOString() : String(row.occurred_at);
  const parent = parents[0];
  const redaction = row.redaction as Record<string, unknown> | null | undefined;
  return {
    eventTime: time,
    eventType: 'COMPLETE',
    producer: PRODUCER,
    schemaURL: SCHEMA_URL,
    run: {
      runId: uuidFrom(String(row.event_id)),
      facets: {
        cos_event: {
          _producer: PRODUCER,
          _schemaURL: `${PRODUCER}#cos_event`,
          eventId: row.event_id,
          actor: row.actor,
          taskId: row.task_id,
          payload: row.payload,
          parents,
        },
        // An erased event says so: its payload (or the OpenLineage event it was) is gone.
        ...(redaction
          ? {
              cos_redaction: {
                _producer: PRODUCER,
                _schemaURL: `${PRODUCER}#cos_redaction`,
                ...redaction,
              },
            }
          : {}),
        ...(parent
          ? {
              parent: {
                _producer: PRODUCER,
                _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json',
                run: { runId: uuidFrom(parent) },
                job: { namespace: 'cos', name: parent },
              },
            }
          : {}),
      },
    },
    job: { namespace: `cos/${(row.module as string | null) ?? 'core'}`, name: String(row.type) },
    inputs: inputs.map((ref) => ({ namespace: 'cos-prd', name: ref.slice(4) })),
    outputs: [],
  };
}
