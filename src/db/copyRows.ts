import type { Knex } from 'knex';

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

type CopyConnection = {
  query: (stream: unknown) => NodeJS.WritableStream & NodeJS.EventEmitter;
};

/** Lines are sent in writes of about this many bytes, so the server works as they arrive. */
const WRITE_BYTES = 1 << 16;

/**
 * Loads rows given as lines of COPY text (fields already encoded with copyField, tab-separated,
 * each line ending in a newline) into a table, in the caller's transaction when it is one. A
 * server gets COPY FROM STDIN; the embedded engine, which has no socket to stream on, gets the
 * same text as COPY FROM '/dev/blob'. Either way the server parses each value once, by its
 * column's type, instead of a JSON document first.
 */
export async function copyRows(
  knex: Knex,
  table: string,
  columns: readonly string[],
  lines: Iterable<string>,
): Promise<void> {
  const sql = `copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from`;
  if (knex.client.config.client !== 'pg') {
    let text = '';
    for (const line of lines) text += line;
    if (text === '') return;
    await knex.raw(`${sql} '/dev/blob'`).options({ blob: new Blob([text]) });
    return;
  }
  // Its CommonJS exports object (default): the bundle's chunks give CommonJS modules no named exports.
  const { default: copyStreams } = await import('pg-copy-streams');
  const copyFrom = copyStreams.from;
  const connection = (await knex.client.acquireConnection()) as CopyConnection;
  try {
    const stream = connection.query(copyFrom(`${sql} stdin`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    try {
      // Lines are encoded straight into a buffer, not joined into a string to be encoded whole.
      let buffer = Buffer.allocUnsafe(WRITE_BYTES);
      let used = 0;
      for (const line of lines) {
        if (used + line.length * 3 > buffer.length) {
          const flushed = used === 0 || stream.write(buffer.subarray(0, used));
          buffer = Buffer.allocUnsafe(Math.max(WRITE_BYTES, line.length * 3));
          used = 0;
          if (!flushed) await Promise.race([new Promise((r) => stream.once('drain', r)), done]);
        }
        used += buffer.write(line, used);
      }
      if (used) stream.write(buffer.subarray(0, used));
      stream.end();
    } catch (error) {
      // The lines' source failed: cancel the COPY (CopyFail), so the connection is free for the
      // rollback that follows, and report the source's error rather than the server's.
      (stream as unknown as { destroy(error: Error): void }).destroy(error as Error);
      await done.catch(() => undefined);
      throw error;
    }
    await done;
  } finally {
    await knex.client.releaseConnection(connection);
  }
}
