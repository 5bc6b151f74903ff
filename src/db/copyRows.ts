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

type CopyConnection = NodeJS.EventEmitter & {
  query: (stream: unknown) => NodeJS.WritableStream & NodeJS.EventEmitter;
};

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
 * the caller's transaction when it is one. A server gets COPY FROM STDIN; the embedded engine,
 * which has no socket to stream on, gets the same text as COPY FROM '/dev/blob'. Either way the
 * server parses each value once, by its column's type, instead of a JSON document first.
 */
export async function copyRows(
  knex: Knex,
  table: string,
  columns: readonly string[],
  lines: Iterable<string | Uint8Array>,
): Promise<void> {
  const sql = `copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from`;
  if (knex.client.config.client !== 'pg') {
    const parts = [...encoded(lines)];
    if (parts.length === 0) return;
    await knex.raw(`${sql} '/dev/blob'`).options({ blob: new Blob(parts) });
    return;
  }
  // Its CommonJS exports object (default): the bundle's chunks give CommonJS modules no named exports.
  const { default: copyStreams } = await import('pg-copy-streams');
  const copyFrom = copyStreams.from;
  const connection = (await knex.client.acquireConnection()) as CopyConnection;
  // A connection that ends under the COPY does not always fail the stream: listen to it too.
  let lost: ((error?: Error) => void) | undefined;
  try {
    const stream = connection.query(copyFrom(`${sql} stdin`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
      lost = (error?: Error) => reject(error ?? new Error('Connection terminated unexpectedly'));
      connection.once('end', lost);
      connection.once('error', lost);
    });
    done.catch(() => undefined);
    try {
      // Lines in an array (encoded ahead, say) are all in memory already: they are handed to
      // the socket at once, so the server never waits for this process to come back to a
      // 'drain' between pieces. Lines made as they are read wait for the socket to drain.
      const inMemory = Array.isArray(lines);
      for (const piece of encoded(lines))
        if (!stream.write(piece) && !inMemory)
          await Promise.race([new Promise((r) => stream.once('drain', r)), done]);
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
    if (lost) {
      connection.off('end', lost);
      connection.off('error', lost);
    }
    await knex.client.releaseConnection(connection);
  }
}
