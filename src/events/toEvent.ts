import { CosError, ExitCode, usageError } from '../errors.js';
import { findUnstorable } from '../integrity/storable.js';
import { normalizeEvent, parseEvent, type NormalizedEvent } from './eventSchema.js';
import {
  fromOpenLineage,
  openLineageKind,
  openLineageTime,
  SCHEMAS,
  type OpenLineageEvent,
} from './openLineage.js';
import type { JsonRecord } from './readJsonRecords.js';

/** The input's formats: cos-db's own events, or OpenLineage's. */
export type EventFormat = 'cos' | 'openlineage';

/** An input record left out by skipInvalid: where it was and why. */
export type SkippedRecord = { line: number; index?: number; message: string };

/** The records skipInvalid left out: the first SKIPPED_LISTED of them, and how many in all. */
export type Skipped = { listed: SkippedRecord[]; count: number };

const SKIPPED_LISTED = 1000;

function formatIssues(issues: Array<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

const KIND_NAMES = { run: 'RunEvent', job: 'JobEvent', dataset: 'DatasetEvent' } as const;

function fieldOf(issues: Array<{ path: PropertyKey[] }>): string | undefined {
  const path = issues[0]?.path;
  return path?.length ? path.map(String).join('.') : undefined;
}

/** One input record, validated and settled. Malformed records are usage errors naming the line. */
export function toEvent(record: JsonRecord, format: EventFormat, label: string): NormalizedEvent {
  const at = () =>
    `${label}:${record.line}${record.index !== undefined ? ` (element ${record.index})` : ''}`;
  if (record.malformed !== undefined)
    throw usageError(record.malformed, { details: { line: record.line } });
  // Before anything else: the hash covers the values as given, so they must be stored as given.
  const bad = findUnstorable(record.value, '');
  if (bad)
    throw usageError(`${at()}: ${bad.path || 'the event'} ${bad.reason}`, {
      hint: 'fix the producer: a record is hashed as sent and must read back identical',
      details: { line: record.line, field: bad.path },
    });
  if (format === 'openlineage') {
    const kind = openLineageKind(record.value);
    if (!kind)
      throw usageError(
        `${at()}: not an OpenLineage event (a RunEvent has run and job, a JobEvent job, a DatasetEvent dataset)`,
        { details: { line: record.line } },
      );
    const parsed = SCHEMAS[kind].safeParse(record.value);
    if (!parsed.success)
      throw usageError(
        `${at()}: not a valid OpenLineage ${KIND_NAMES[kind]}: ${formatIssues(parsed.error.issues)}`,
        { details: { line: record.line, field: fieldOf(parsed.error.issues) } },
      );
    const time = openLineageTime(parsed.data.eventTime);
    if (!time)
      throw usageError(`${at()}: eventTime "${parsed.data.eventTime}" is not a time`, {
        details: { line: record.line, field: 'eventTime' },
      });
    return fromOpenLineage(
      { kind, event: parsed.data } as OpenLineageEvent,
      record.text ?? JSON.stringify(record.value),
      time,
      record.line,
      record.value,
    );
  }
  const parsed = parseEvent(record.value);
  if (!parsed.success)
    throw usageError(`${at()}: invalid event: ${formatIssues(parsed.error.issues)}`, {
      details: { line: record.line },
    });
  return normalizeEvent(parsed.data, record.line);
}

/**
 * toEvent for an agent that appends as itself (the endpoint's token): the event's actor is the
 * agent; an event naming another actor is refused (exit 9), before anything is written.
 * OpenLineage events name no actor (theirs is the producer's URI), so they just take the agent.
 */
export function toAgentEvent(
  record: JsonRecord,
  format: EventFormat,
  label: string,
  agent: string,
): NormalizedEvent {
  const claimed = (record.value as { actor?: unknown } | null)?.actor;
  if (format === 'cos' && claimed !== undefined && claimed !== null && claimed !== agent)
    throw new CosError(
      ExitCode.permission,
      `${label}:${record.line}${record.index !== undefined ? ` (element ${record.index})` : ''}: actor ${JSON.stringify(claimed)} is not this token's agent "${agent}": an agent appends as itself`,
      { details: { line: record.line } },
    );
  return { ...toEvent(record, format, label), actor: agent };
}

/** toEvent, or undefined for an invalid record, which is counted (and listed) in `skipped`. */
export function toEventOrSkip(
  record: JsonRecord,
  format: EventFormat,
  label: string,
  skipped: Skipped,
): NormalizedEvent | undefined {
  try {
    return toEvent(record, format, label);
  } catch (error) {
    if (!(error instanceof CosError) || error.exitCode !== ExitCode.usage) throw error;
    skipped.count += 1;
    if (skipped.listed.length < SKIPPED_LISTED)
      skipped.listed.push({
        line: record.line,
        ...(record.index !== undefined ? { index: record.index } : {}),
        message: error.message,
      });
    return undefined;
  }
}
