/**
 * RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code units, no
 * whitespace, numbers in ECMAScript's shortest round-trip form, strings escaped as
 * JSON.stringify escapes them. Equal values give equal bytes, whatever order keys came in —
 * unlike jsonb::text, which PostgreSQL is free to reorder. Written as plain loops: verify
 * canonicalizes every row of the store.
 */
// Characters JSON.stringify would escape: quote, backslash, controls, surrogates.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * JSON text that is already canonical (canonicalJson's own output), written as it is wherever it
 * appears in a value: a large part (an event's payload) is canonicalized once, not once per use.
 */
export class Canonical {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text) as unknown;
  }
}

/**
 * Sorts keys in place by UTF-16 code units (what `<` on strings and the default sort compare,
 * and what RFC 8785 asks for). Objects usually have a few keys, often already in order: an
 * insertion sort then costs one pass and allocates nothing, where Array#sort copies.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i += 1) {
    const key = keys[i] as string;
    let j = i - 1;
    if ((keys[j] as string) < key) continue;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j -= 1;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * Whether JSON.stringify writes this value exactly as RFC 8785 does: plain objects whose keys
 * are already in code-unit order and none looks like an array index (JSON.stringify would put
 * those first), arrays, strings, finite numbers, booleans and null. Most records are such
 * values, and JSON.stringify writes them natively, in one piece.
 */
function stringifiesCanonically(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1)
          if (!stringifiesCanonically(value[i] as unknown)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      let previous = '';
      let first = true;
      for (const key in value) {
        const code = key.charCodeAt(0);
        if ((code >= 48 && code <= 57) || (!first && !(previous < key))) return false;
        if (!stringifiesCanonically((value as Record<string, unknown>)[key])) return false;
        previous = key;
        first = false;
      }
      return true;
    }
    default:
      return false;
  }
}

export function canonicalJson(value: unknown): string {
  if (typeof value === 'object' && value !== null && stringifiesCanonically(value))
    return JSON.stringify(value);
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value}`);
      // ECMAScript's Number-to-String is RFC 8785's number form; it already writes -0 as "0".
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i += 1) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : canonicalJson(item);
        }
        return `${out}]`;
      }
      if (value instanceof Canonical) return value.text;
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const record = value as Record<string, unknown>;
      const keys = sortKeys(Object.keys(record));
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${quote(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}
