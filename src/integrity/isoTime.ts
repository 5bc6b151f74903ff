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

/** RFC 3339's date-time (the profile of ISO 8601 that JSON producers write), with its zone. */
const RFC3339 =
  /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d{1,9})?([Zz]|([+-])(\d\d):?(\d\d))$/;

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The time in toISOString's form, or undefined unless the text is an RFC 3339 date-time whose
 * every field is in range: year 0001–9999 (what both engines store and read back alike), no
 * 24:00 and no leap second (60), which Date would let through and PostgreSQL would shift, and a
 * zone, so the time does not depend on the machine's. Digits past milliseconds are dropped, as
 * toISOString drops them.
 */
export function strictTime(text: string): string | undefined {
  if (ISO_UTC_MS.test(text))
    return inRange(
      digits(text, 0, 4),
      digits(text, 5, 2),
      digits(text, 8, 2),
      digits(text, 11, 2),
      digits(text, 14, 2),
      digits(text, 17, 2),
    )
      ? text
      : undefined;
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  if (!inRange(...(m.slice(1, 7).map(Number) as Fields))) return undefined;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined;
  const fraction = m[7] ? m[7].slice(0, 4).padEnd(4, '0') : '.000';
  const zone = m[9] ? `${m[9]}${m[10]}:${m[11]}` : 'Z';
  const date = new Date(`${m.slice(1, 4).join('-')}T${m.slice(4, 7).join(':')}${fraction}${zone}`);
  const iso = date.toISOString();
  // An offset can carry year 0001 or 9999 across the range's edge.
  return iso.length === 24 && !iso.startsWith('0000') ? iso : undefined;
}

type Fields = [number, number, number, number, number, number];

/** The number the ASCII digits at text[at, at + n) write (the caller has matched them). */
function digits(text: string, at: number, n: number): number {
  let value = 0;
  for (let i = at; i < at + n; i += 1) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

function inRange(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 && !leap ? 28 : (DAYS[mo - 1] as number));
}
