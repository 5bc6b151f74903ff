import { Readable } from 'node:stream';
import { usageError } from '../errors.js';
import type { NormalizedEvent } from '../events/eventSchema.js';
import { readJsonRecordBatches, type JsonRecord } from '../events/readJsonRecords.js';
import { toAgentEvent, type EventFormat } from '../events/toEvent.js';
import type { Identity } from '../tokens/apiTokens.js';
import { HttpProblem } from './problem.js';

/** A request body's JSON records (an object, an array or NDJSON), read as `archive event` reads a file. */
async function recordsOf(body: unknown): Promise<JsonRecord[]> {
  if (!Buffer.isBuffer(body) || body.length === 0) throw usageError('body: no events in the input');
  const records: JsonRecord[] = [];
  const read = { bytes: 0 };
  for await (const batch of readJsonRecordBatches('-', Readable.from([body]), 'body', read))
    records.push(...batch);
  if (records.length === 0) throw usageError('body: no events in the input');
  return records;
}

/**
 * A request's events, validated as `archive event` validates them, each with the token's agent
 * as its actor. An event naming another actor is refused (403) before anything is written: an
 * agent appends as itself.
 */
export async function requestEvents(
  body: unknown,
  format: EventFormat,
  identity: Identity,
  maxBatch: number,
): Promise<NormalizedEvent[]> {
  const records = await recordsOf(body);
  if (records.length > maxBatch)
    throw new HttpProblem(
      413,
      'batch too large',
      `body: ${records.length} events is over the limit of ${maxBatch} per request`,
    );
  return records.map((record) => toAgentEvent(record, format, 'body', identity.agent));
}
