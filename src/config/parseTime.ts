import { usageError } from '../errors.js';

/** A --since/--until value: an ISO time, or an age such as 2h or 7d; as an ISO string. */
export function parseTime(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)([smhdw])$/.exec(value);
  if (relative) {
    const seconds = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[
      relative[2] as 's' | 'm' | 'h' | 'd' | 'w'
    ];
    return new Date(Date.now() - Number(relative[1]) * seconds * 1000).toISOString();
  }
  const date = new Date(value);
  const iso = Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  // Years 0001-9999: what PostgreSQL reads back as JavaScript wrote it (Date goes far wider).
  if (iso === undefined || iso.length !== 24 || iso.startsWith('0000'))
    throw usageError(`${option}: "${value}" is not a time between the years 0001 and 9999`, {
      hint: 'an ISO date (2026-11-29, 2026-11-29T10:00Z) or an age such as 2h, 7d',
    });
  return iso;
}
