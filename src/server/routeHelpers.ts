import { documents } from '../contract/documents.js';
import { usageError } from '../errors.js';

/** Every route's refusals: an RFC 9457 problem document. */
export const problemResponses = {
  '4xx': documents['http-problem'],
  '5xx': documents['http-problem'],
} as const;

/**
 * A `limit` parameter: a whole number from 1, the default when absent, clamped to the maximum
 * (so a client asking for "everything" gets a full page and a cursor, not an error).
 */
export function clampedLimit(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return Math.min(fallback, max);
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw usageError(`limit must be a whole number from 1 (got "${value}")`);
  return Math.min(Number(value), max);
}

/** A whole-number parameter, or the default when absent. */
export function wholeNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value))
    throw usageError(`${name} must be a whole number (got "${value}")`);
  return Number(value);
}
