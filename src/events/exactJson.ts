/**
 * JSON read without losing anything JSON.parse loses: numbers are kept as the literal text they
 * were written as (9007199254740993, 1.0 and 1e2 stay as they are). Used for OpenLineage events,
 * whose identity and stored original must be exactly what the producer sent.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** A JSON value whose numbers are their literal text. */
type Exact = { n: string } | string | boolean | null | Exact[] | { o: Array<[string, Exact]> };

class Reader {
  i = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.i}`);
  }

  skip(): void {
    while (this.i < this.text.length && WS.has(this.text.charCodeAt(this.i))) this.i += 1;
  }

  value(): Exact {
    this.skip();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't' || c === 'f' || c === 'n') return this.literal();
    return this.number();
  }

  object(): Exact {
    this.i += 1;
    const entries: Array<[string, Exact]> = [];
    this.skip();
    if (this.text[this.i] === '}') {
      this.i += 1;
      return { o: entries };
    }
    for (;;) {
      this.skip();
      if (this.text[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.skip();
      if (this.text[this.i] !== ':') this.fail('expected ":"');
      this.i += 1;
      entries.push([key, this.value()]);
      this.skip();
      const c = this.text[this.i];
      this.i += 1;
      if (c === '}') return { o: entries };
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  array(): Exact[] {
    this.i += 1;
    const items: Exact[] = [];
    this.skip();
    if (this.text[this.i] === ']') {
      this.i += 1;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skip();
      const c = this.text[this.i];
      this.i += 1;
      if (c === ']') return items;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  string(): string {
    const start = this.i;
    this.i += 1;
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) break;
      this.i += c === 0x5c ? 2 : 1;
    }
    this.i += 1;
    return JSON.parse(this.text.slice(start, this.i)) as string;
  }

  literal(): boolean | null {
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const)
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    this.fail('unexpected token');
  }

  number(): { n: string } {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const hit = m.exec(this.text);
    if (!hit) this.fail('unexpected token');
    this.i += hit[0].length;
    return { n: hit[0] };
  }
}

function write(v: Exact): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
  if ('n' in v) return v.n;
  // Keys in UTF-16 code-unit order (RFC 8785); a key given twice keeps its last value, as
  // JSON.parse and jsonb do.
  const last = new Map<string, Exact>();
  for (const [k, x] of v.o) last.set(k, x);
  const keys = [...last.keys()].sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${write(last.get(k) as Exact)}`).join(',')}}`;
}

function read(text: string): { value: Exact; reader: Reader } {
  const reader = new Reader(text);
  const value = reader.value();
  reader.skip();
  if (reader.i !== text.length) reader.fail('unexpected text after the value');
  return { value, reader };
}

// A string (skipped whole) or a number, as the JSON grammar writes them.
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Whether every number in the JSON text is written as JavaScript writes it (so JSON.parse keeps it). */
function numbersAsJavaScriptWrites(text: string): boolean {
  STRING_OR_NUMBER.lastIndex = 0;
  for (let m = STRING_OR_NUMBER.exec(text); m; m = STRING_OR_NUMBER.exec(text)) {
    const token = m[0];
    if (token.charCodeAt(0) !== 0x22 && String(Number(token)) !== token) return false;
  }
  return true;
}

/**
 * The canonical form of JSON text: no whitespace, keys sorted, strings escaped as JSON.stringify
 * escapes them, numbers exactly as written. Two texts have the same form exactly when they differ
 * only in whitespace, key order, string escapes, or a key given twice.
 *
 * `canonical`, given, is RFC 8785's form of the parsed value: the same bytes whenever every number
 * is written as JavaScript writes it, which is most events, and far cheaper than reading the
 * text again here.
 */
export function exactCanonical(text: string, canonical?: () => string): string {
  if (canonical && numbersAsJavaScriptWrites(text)) return canonical();
  return write(read(text).value);
}

/** JSON text with the whitespace between its tokens removed, and nothing else changed. */
export function compactJson(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i += 1;
      while (i < text.length && text.charCodeAt(i) !== 0x22)
        i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i += 1;
    } else if (WS.has(c)) {
      out += text.slice(from, i);
      while (i < text.length && WS.has(text.charCodeAt(i))) i += 1;
      from = i;
    } else i += 1;
  }
  return out + text.slice(from);
}

/** The text of each element of a JSON array, exactly as written (without surrounding whitespace). */
export function arrayElements(text: string): string[] {
  const reader = new Reader(text);
  reader.skip();
  if (text[reader.i] !== '[') reader.fail('expected an array');
  reader.i += 1;
  const out: string[] = [];
  reader.skip();
  if (text[reader.i] === ']') return out;
  for (;;) {
    reader.skip();
    const start = reader.i;
    reader.value();
    out.push(text.slice(start, reader.i));
    reader.skip();
    const c = text[reader.i];
    reader.i += 1;
    if (c === ']') return out;
    if (c !== ',') reader.fail('expected "," or "]"');
  }
}
