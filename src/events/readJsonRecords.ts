import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { CosError, usageError } from '../errors.js';
import { arrayElements } from './exactJson.js';

/**
 * A record and where it was: its line, and for an array its position in it. `text` is the
 * record exactly as written (OpenLineage events keep it; without it, they keep JSON.stringify's).
 */
export type JsonRecord = {
  line: number;
  index?: number;
  value: unknown;
  text?: string;
  /** With malformed: 'yield', a line that is not JSON: what is wrong with it (value is undefined). */
  malformed?: string;
};

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
 * standard input, yielding the records of each chunk read together, each with its line number.
 * NDJSON streams, so a file of any size is read in constant memory; a document spread over
 * several lines (a pretty-printed object or an array) is read whole. Lines end as readline ends
 * them (LF, CRLF or a lone CR), but the file is split by hand, chunk by chunk: a million-line
 * import then costs one await a chunk instead of one a line.
 */
export async function* readJsonRecordBatches(
  path: string,
  stdin: Readable = process.stdin,
  label = path === '-' ? 'stdin' : path,
  /** Updated with the bytes read so far, for progress against the input's size. */
  read: { bytes: number } = { bytes: 0 },
  /** A malformed NDJSON line: refuse the input (throw), or yield it as a record that says so. */
  malformed: 'throw' | 'yield' = 'throw',
): AsyncGenerator<JsonRecord[]> {
  const input = open(path, stdin, label);
  // Strict: text that is not UTF-8 is refused, not silently replaced with U+FFFD.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lineNo = 0;
  let yielded = 0;
  let whole: string[] | undefined;
  let wholeStart = 0;
  let out: JsonRecord[] = [];

  /** A line that is not JSON: refuses the input, or (malformed: 'yield') is a record saying so. */
  const refuse = (text: string, message: string): void => {
    if (malformed === 'throw' || yielded === 0)
      throw usageError(message, { details: { line: lineNo } });
    yielded += 1;
    out.push({ line: lineNo, value: undefined, text, malformed: message });
  };
  const take = (raw: string): void => {
    lineNo += 1;
    if (whole) {
      whole.push(raw);
      return;
    }
    const text = raw.trim();
    if (text === '') return;
    const first = text[0];
    if (first === '[') {
      whole = [raw];
      wholeStart = lineNo;
      return;
    }
    if (first === '{') {
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch (error) {
        // Not a whole object on one line: a pretty-printed document, if nothing came before it.
        if (yielded === 0) {
          whole = [raw];
          wholeStart = lineNo;
          return;
        }
        refuse(text, `${label}:${lineNo}: malformed JSON: ${(error as Error).message}`);
        return;
      }
      yielded += 1;
      out.push({ line: lineNo, value, text });
      return;
    }
    refuse(
      text,
      `${label}:${lineNo}: malformed JSON: expected an object, an array, or one object per line`,
    );
  };
  // A line as readline sees it: a CR not followed by LF ends a line too.
  const line = (raw: string): void => {
    if (!raw.includes('\r')) take(raw);
    else for (const part of raw.split('\r')) take(part);
  };

  let rest = '';
  try {
    for await (const chunk of input) {
      read.bytes += (chunk as Buffer | string).length;
      const piece =
        typeof chunk === 'string'
          ? chunk
          : decodeOrRefuse(decoder, chunk as Buffer, label, lineNo + 1);
      if (!piece.includes('\n')) {
        rest += piece;
        continue;
      }
      const text = rest + piece;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        line(text.slice(start, end));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (out.length) {
        yield out;
        out = [];
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && !(error instanceof CosError))
      throw usageError(`${label}: cannot be read (${code})`);
    throw error;
  }
  rest += decodeOrRefuse(decoder, undefined, label, lineNo + 1);
  if (rest !== '') line(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  if (out.length) yield out;
  if (whole) {
    const text = whole.join('\n');
    const doc = parseLine(text, wholeStart, label);
    if (Array.isArray(doc)) {
      const texts = arrayElements(text);
      yield doc.map((value: unknown, index) => ({
        line: wholeStart,
        index,
        value,
        text: texts[index] as string,
      }));
    } else yield [{ line: wholeStart, value: doc, text: text.trim() }];
  }
}

const count = (text: string, c: string) => text.split(c).length - 1;

/**
 * The chunk decoded (streaming: a character split across chunks waits for the next), or a usage
 * error naming the line that is not UTF-8: `firstLine` is the line the chunk starts in.
 */
function decodeOrRefuse(
  decoder: TextDecoder,
  chunk: Buffer | undefined,
  label: string,
  firstLine: number,
): string {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    const bad = chunk ? firstInvalidByte(chunk) : -1;
    const line =
      chunk && bad >= 0
        ? firstLine + count(chunk.subarray(0, bad).toString('latin1'), '\n')
        : firstLine;
    throw usageError(`${label}:${line}: not UTF-8 text`, {
      hint: 'event files are UTF-8 (JSON requires it); convert it first (iconv)',
      details: { line },
    });
  }
}

/** Where the first byte that cannot be UTF-8 is (a sequence cut at the chunk's end is not one). */
function firstInvalidByte(bytes: Buffer): number {
  let i = 0;
  // A chunk may begin inside a character begun in the one before.
  while (i < bytes.length && i < 3 && ((bytes[i] as number) & 0xc0) === 0x80) i += 1;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const need =
      b < 0x80
        ? 0
        : b >= 0xc2 && b <= 0xdf
          ? 1
          : b >= 0xe0 && b <= 0xef
            ? 2
            : b >= 0xf0 && b <= 0xf4
              ? 3
              : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k += 1) {
      if (i + k >= bytes.length) return -1;
      const c = bytes[i + k] as number;
      const lo = k === 1 && b === 0xe0 ? 0xa0 : k === 1 && b === 0xf0 ? 0x90 : 0x80;
      const hi = k === 1 && b === 0xed ? 0x9f : k === 1 && b === 0xf4 ? 0x8f : 0xbf;
      if (c < lo || c > hi) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** readJsonRecordBatches, one record at a time. */
export async function* readJsonRecords(
  path: string,
  stdin: Readable = process.stdin,
  label = path === '-' ? 'stdin' : path,
): AsyncGenerator<JsonRecord> {
  for await (const batch of readJsonRecordBatches(path, stdin, label)) yield* batch;
}
