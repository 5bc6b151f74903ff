import { describe, expect, it } from 'vitest';
import { parseTime } from '../../src/config/parseTime.js';
import { ExitCode } from '../../src/errors.js';

describe('parseTime', () => {
  it('reads ISO times and ages, and passes undefined through', () => {
    expect(parseTime('2026-11-29', '--since')).toBe('2026-11-29T00:00:00.000Z');
    expect(parseTime('2026-11-29T10:00:00+02:00', '--since')).toBe('2026-11-29T08:00:00.000Z');
    const twoHours = Date.parse(parseTime('2h', '--since') as string);
    expect(Math.abs(Date.now() - 2 * 3600_000 - twoHours)).toBeLessThan(60_000);
    expect(parseTime(undefined, '--since')).toBeUndefined();
  });

  it('anything else is a usage error naming the option', () => {
    expect(() => parseTime('yesterday-ish', '--until')).toThrow(
      expect.objectContaining({
        exitCode: ExitCode.usage,
        message: expect.stringContaining('--until'),
      }),
    );
  });
});
