import type { Knex } from 'knex';
import { driverOf } from './driverOf.js';
import { quoteIdent } from './quoteIdent.js';

// The characters COPY's text format gives a meaning to.
const SPECIAL = /[\\\n\r\t]/;

/** One field in COPY's text format: \N for null; backslash, newline, CR and tab escaped. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  if (!SPECIAL.test(value)) return value;
  // Plain-string replaceAll runs natively; markdown has a newline every few dozen characters.
  return value
    .replaceAll('\\', '\\\\')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('\t', '\\t');
}

/** A PostgreSQL array literal ({"a","b",NULL}) for an array column's text form. */
export function arrayLiteral(items: unknown[]): string {
  const parts = items.map((item) =>
    item === null || item === undefined
      ? 'NULL'
      : `"${String(item).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  );
  return `{${parts.join(',')}}`;
}

/** Lines are sent in writes of about this many bytes, so the server works as they arrive. */
const WRITE_BYTES = 1 << 16;

/**
 * COPY lines encoded as UTF-8 in pieces of about WRITE_BYTES, straight into buffers rather than
 * joined into a string to be encoded whole. Pieces already encoded (encodeLines) pass as they are.
 */
function* encoded(lines: Iterable<string | Uint8Array>): Generator<Uint8Array> {
  let buffer = Buffer.allocUnsafe(WRITE_BYTES);
  let used = 0;
  for (const line of lines) {
    if (typeof line !== 'string') {
      if (used) yield buffer.subarray(0, used);
      buffer = Buffer.allocUnsafe(WRITE_BYTES);
      used = 0;
      yield line;
      continue;
    }
    if (used + line.length * 3 > buffer.length) {
      if (used) yield buffer.subarray(0, used);
      buffer = Buffer.allocUnsafe(Math.max(WRITE_BYTES, line.length * 3));
      used = 0;
    }
    used += buffer.write(line, used);
  }
  if (used) yield buffer.subarray(0, used);
}

/** COPY lines encoded ahead of time, for copyRows to send as they are. */
export function encodeLines(lines: Iterable<string>): Uint8Array[] {
  return [...encoded(lines)];
}

/**
 * Loads rows given as lines of COPY text (fields already encoded with copyField, tab-separated,
 * each line ending in a newline), or as such lines encoded ahead (encodeLines), into a table, in
 * the caller's transaction when it is one (the engine's copyIn: from stdin on a server, from
 * '/dev/blob' on the embedded one). The server parses each value once, by its column's type,
 * instead of a JSON document first.
 */
export async function copyRows(
  knex: Knex,
  table: string,
  columns: readonly string[],
  lines: Iterable<string | Uint8Array>,
): Promise<void> {
  const sql = `copy ${table} (${columns.map(quoteIdent).join(', ')}) from`;
  await driverOf(knex).copyIn(knex, sql, encoded(lines), Array.isArray(lines));
}
