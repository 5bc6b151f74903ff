/** Already the form toISOString writes (UTC, milliseconds): kept as it is, not re-parsed. */
const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * A time as toISOString writes it — the one form timestamps are stored and hashed in. Strings
 * already in that form are returned as they are (parsing a date is the slow part); anything
 * else goes through Date, which throws a RangeError for what is not a time.
 */
export function isoTime(value: string | number | Date): string {
  if (typeof value === 'string' && ISO_UTC_MS.test(value)) return value;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Whether a string is a time Date understands (ISO 8601 and the like). */
export function isTime(value: string): boolean {
  return ISO_UTC_MS.test(value) || !Number.isNaN(new Date(value).getTime());
}
