import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Canonical, canonicalJson } from '../../src/integrity/canonicalJson.js';
import { canonicalContent, type ContentColumn } from '../../src/integrity/contentColumns.js';
import { GENESIS_HASH, ledgerHash } from '../../src/integrity/ledgerHash.js';

describe('canonical JSON: RFC 8785 examples', () => {
  it('section 3.2.2: whitespace, number forms, string escapes, key order', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('section 3.2.3: keys sorted by UTF-16 code units', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ) as Record<string, string>;
    // Object.keys would put "1" first (integer-like keys); the serialized order is what counts.
    const keys = [...canonicalJson(input).matchAll(/"([^"]*)":"[^"]*"/g)].map(
      (m) => JSON.parse(`"${m[1]}"`) as string,
    );
    expect(keys).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('appendix B: number serialization', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [1e21, '1e+21'],
      [1e-7, '1e-7'],
      [Number('333333333.33333329'), '333333333.3333333'],
      [9007199254740992, '9007199254740992'],
      [-1.7976931348623157e308, '-1.7976931348623157e+308'],
      [5e-324, '5e-324'],
      [0.000001, '0.000001'],
      [295147905179352830000, '295147905179352830000'],
    ];
    for (const [n, text] of cases) expect(canonicalJson(n)).toBe(text);
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow();
  });

  it('unicode is written as is; control characters as lowercase \\u escapes', () => {
    expect(canonicalJson('é\u0001\u001f\t')).toBe('"é\\u0001\\u001f\\t"');
  });
});

describe('canonical JSON: properties', () => {
  const shuffled = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(shuffled);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([k, v]) => [k, shuffled(v)]),
      );
    }
    return value;
  };

  it('equal values give equal bytes, whatever the key order', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        (value) => canonicalJson(value) === canonicalJson(shuffled(value)),
      ),
    );
  });

  it('is valid JSON that parses back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('orders keys exactly as a plain sort by UTF-16 code units does', () => {
    // A reference written the obvious way: Array#sort's default order is RFC 8785's.
    const reference = (v: unknown): string => {
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
      if (v !== null && typeof v === 'object') {
        const record = v as Record<string, unknown>;
        return `{${Object.keys(record)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${reference(record[k])}`)
          .join(',')}}`;
      }
      return JSON.stringify(v);
    };
    const manyKeys = fc.dictionary(fc.string({ unit: 'binary' }), fc.integer(), { maxKeys: 60 });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), manyKeys), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
    );
  });

  it('writes a Canonical part as it is', () => {
    const payload = { b: [1, { d: 2, c: 'x' }], a: null };
    expect(canonicalJson({ z: 1, p: new Canonical(canonicalJson(payload)) })).toBe(
      canonicalJson({ z: 1, p: payload }),
    );
  });

  it('is stable: canonicalizing the parsed canonical form changes nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalJson(value);
        return canonicalJson(JSON.parse(once)) === once;
      }),
    );
  });
});

describe('ledger hash', () => {
  it('changes with every field, and length prefixes keep fields apart', () => {
    const one = canonicalJson({ a: 1 });
    const base = ledgerHash(1, 'c', 1, GENESIS_HASH, one);
    expect(ledgerHash(1, 'c', 1, GENESIS_HASH, one)).toBe(base);
    expect(ledgerHash(2, 'c', 1, GENESIS_HASH, one)).not.toBe(base);
    expect(ledgerHash(1, 'd', 1, GENESIS_HASH, one)).not.toBe(base);
    expect(ledgerHash(1, 'c', 2, GENESIS_HASH, one)).not.toBe(base);
    expect(ledgerHash(1, 'c', 1, 'f'.repeat(64), one)).not.toBe(base);
    expect(ledgerHash(1, 'c', 1, GENESIS_HASH, canonicalJson({ a: 2 }))).not.toBe(base);
    // Chain "c1" at 2 and chain "c" at 12 concatenate alike; their lengths keep them apart.
    expect(ledgerHash(1, 'c1', 2, GENESIS_HASH, '{}')).not.toBe(
      ledgerHash(1, 'c', 12, GENESIS_HASH, '{}'),
    );
  });
});

describe('canonicalContent (a ledger row written straight from its columns)', () => {
  it('is canonicalJson of the content object, whatever the column order', () => {
    const column = (name: string): ContentColumn => ({
      name,
      normalize: (v) => v,
      type: 'jsonb',
      isArray: false,
      toCopy: String,
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 8 }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.array(fc.jsonValue(), { minLength: 20, maxLength: 20 }),
        (names, values) => {
          const columns = names.map(column);
          const content = Object.fromEntries(names.map((n, i) => [n, values[i]]));
          expect(canonicalContent(columns, values.slice(0, names.length))).toBe(
            canonicalJson(content),
          );
        },
      ),
    );
  });
});
