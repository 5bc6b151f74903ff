import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { usageError } from '../errors.js';

/** A record and where it was: its line, and for an array its position in it. */
export type JsonRecord = { line: number; index?: number; value: unknown };

function open(path: string, stdin: Readable, label: string): Readable {
  if (path === '-') return stdin;
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      `${label}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`}`,
    );
  }
  if (isDir) throw usageError(`${label}: is a directory`);
  return createReadStream(path);
}

function parseLine(text: string, line: number, label: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(`${label}:${line}: malformed JSON: ${(error as Error).message}`, {
      details: { line },
    });
  }
}

/**
 * Reads a JSON object, a JSON array, or NDJSON (one object a line), from a file or `-` for
 * standard input, yielding each record with its line number. NDJSON streams, line by line, so a
 * file of any size is read in constant memory; a document spread over several lines (a pretty-
 * printed object or an array) is read whole.
 */
export async function* readJsonRecords(
  path: string,
  stdin: Readable = process.stdin,
  label = path === '-' ? 'stdin' : path,
): AsyncGenerator<JsonRecord> {
  const lines = createInterface({ input: open(path, stdin, label), crlfDelay: Infinity });
  let lineNo = 0;
  let yielded = 0;
  let whole: string[] | undefined;
  let wholeStart = 0;
  for await (const raw of lines) {
    lineNo += 1;
    if (whole) {
      whole.push(raw);
      continue;
    }
    const text = raw.trim();
    if (text === '') continue;
    const first = text[0];
    if (first === '[') {
      whole = [raw];
      wholeStart = lineNo;
      continue;
    }
    if (first === '{') {
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        // Not a whole object on one line: a pretty-printed document, if nothing came before it.
        if (yielded === 0) {
          whole = [raw];
          wholeStart = lineNo;
          continue;
        }
        value = parseLine(text, lineNo, label);
      }
      yielded += 1;
      yield { line: lineNo, value };
      continue;
    }
    throw usageError(
      `${label}:${lineNo}: malformed JSON: expected an object, an array, or one object per line`,
      { details: { line: lineNo } },
    );
  }
  if (whole) {
    const doc = parseLine(whole.join('\n'), wholeStart, label);
    if (Array.isArray(doc)) {
      for (const [index, value] of doc.entries())
        yield { line: wholeStart, index, value: value as unknown };
    } else yield { line: wholeStart, value: doc };
  }
}
