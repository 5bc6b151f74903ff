/**
 * What PostgreSQL cannot store exactly as given, found before anything is written: the hash of a
 * ledger row covers its content as given, so a value the database would change (a NUL it cannot
 * hold, a lone surrogate it turns into U+FFFD, a number JSON read as Infinity) would make the row
 * fail verify for ever. Such input is refused instead.
 */

/** Deeper JSON than this is refused: well inside what both engines and canonicalJson handle. */
export const MAX_JSON_DEPTH = 1000;

export type Unstorable = { path: string; reason: string };

// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const SUSPECT = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored as it is, if it cannot. */
export function unstorableText(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000'))
    return 'contains a NUL character (\\u0000), which PostgreSQL cannot store';
  if (LONE_SURROGATE.test(text))
    return 'contains a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not Unicode text';
  return undefined;
}

const at = (path: string, key: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
    ? path
      ? `${path}.${key}`
      : key
    : `${path}[${JSON.stringify(key)}]`;

/**
 * Whether all of a value can be stored as it is: findUnstorable's walk without the paths, which
 * cost a string per key. Almost every value can; only one that cannot is walked again for where.
 */
function storable(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !SUSPECT.test(value) || unstorableText(value) === undefined;
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
    case 'undefined':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1)
          if (!storable(value[i] as unknown, depth + 1)) return false;
        return true;
      }
      if (value instanceof Date) return !Number.isNaN(value.getTime());
      for (const key in value) {
        if (SUSPECT.test(key) && unstorableText(key) !== undefined) return false;
        if (!storable((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * The first part of a JSON value (as JSON.parse or YAML made it) that cannot be stored and read
 * back exactly, with its path (`payload.items[3].name`); undefined when all of it can.
 */
export function findUnstorable(value: unknown, path: string, depth = 0): Unstorable | undefined {
  return storable(value, depth) ? undefined : whereUnstorable(value, path, depth);
}

function whereUnstorable(value: unknown, path: string, depth: number): Unstorable | undefined {
  switch (typeof value) {
    case 'string': {
      const reason = unstorableText(value);
      return reason ? { path, reason } : undefined;
    }
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { path, reason: 'is a number out of range (beyond ±1.8e308)' };
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (depth >= MAX_JSON_DEPTH)
        return { path, reason: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) {
          const found = whereUnstorable(value[i] as unknown, `${path}[${i}]`, depth + 1);
          if (found) return found;
        }
        return undefined;
      }
      if (value instanceof Date)
        return Number.isNaN(value.getTime()) ? { path, reason: 'is not a valid date' } : undefined;
      for (const key in value) {
        const keyReason = unstorableText(key);
        if (keyReason) return { path: at(path, key), reason: `has a key that ${keyReason}` };
        const found = whereUnstorable(
          (value as Record<string, unknown>)[key],
          at(path, key),
          depth + 1,
        );
        if (found) return found;
      }
      return undefined;
    }
    default:
      return { path, reason: `is a ${typeof value}, which JSON has no form for` };
  }
}
