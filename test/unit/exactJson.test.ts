import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/integrity/canonicalJson.js';
import { arrayElements, compactJson, exactCanonical } from '../../src/events/exactJson.js';

/** JSON text with whitespace of every kind between tokens, as pretty-printers write it. */
const spaced = (value: unknown, indent: number) => JSON.stringify(value, null, indent);

describe('exact JSON', () => {
  it('keeps numbers exactly as written, and nothing else of the writing', () => {
    expect(exactCanonical('{"b": 9007199254740993, "a": [1.0, 1e2, -0, 0.10]}')).toBe(
      '{"a":[1.0,1e2,-0,0.10],"b":9007199254740993}',
    );
    expect(exactCanonical('{"a":"\\u00e9\\/"}')).toBe('{"a":"é/"}');
    // A key given twice keeps its last value, as JSON.parse and jsonb do.
    expect(exactCanonical('{"a":1,"a":2}')).toBe('{"a":2}');
    expect(() => exactCanonical('{"a":1} x')).toThrow(/after the value/);
    expect(() => exactCanonical('{"a":01}')).toThrow();
  });

  it('property: the canonical form is RFC 8785 of the value whenever JSON.parse keeps every number', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (value, indent) => {
        const text = spaced(value, indent);
        const slow = exactCanonical(text);
        expect(slow).toBe(canonicalJson(JSON.parse(text)));
        // The fast path (the value's own canonical form) gives the same bytes.
        expect(exactCanonical(text, () => canonicalJson(JSON.parse(text)))).toBe(slow);
      }),
      { numRuns: 500 },
    );
  });

  it('the fast path is not taken when a number would change', () => {
    const text = '{"n":1.50}';
    expect(exactCanonical(text, () => canonicalJson(JSON.parse(text)))).toBe('{"n":1.50}');
  });

  it('property: compactJson only removes whitespace between tokens; arrayElements slices exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.integer({ min: 0, max: 4 }), (values, indent) => {
        const text = spaced(values, indent);
        expect(compactJson(text)).toBe(JSON.stringify(values));
        const elements = arrayElements(text);
        expect(elements.map((e) => JSON.parse(e) as unknown)).toEqual(
          JSON.parse(JSON.stringify(values)),
        );
        for (const e of elements) expect(text).toContain(e);
      }),
      { numRuns: 300 },
    );
  });
});
