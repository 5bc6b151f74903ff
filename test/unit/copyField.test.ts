import { describe, expect, it } from 'vitest';
import { arrayLiteral, copyField } from '../../src/db/copyRows.js';

describe("COPY's text format", () => {
  it('escapes backslash, newline, carriage return and tab, and writes null as \\N', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('plain text, "quotes" and ünïcødé')).toBe('plain text, "quotes" and ünïcødé');
    expect(copyField('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
    // A literal backslash-n stays two characters, not a newline.
    expect(copyField('\\n')).toBe('\\\\n');
    expect(copyField('\\N')).toBe('\\\\N');
  });

  it('writes arrays as PostgreSQL array literals', () => {
    expect(arrayLiteral(['a', 'b c', null, 'q"uote', 'back\\slash'])).toBe(
      '{"a","b c",NULL,"q\\"uote","back\\\\slash"}',
    );
  });
});
