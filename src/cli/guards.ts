import { relative } from 'node:path';
import { parseTime } from '../config/parseTime.js';
import { usageError } from '../errors.js';
import type { EventFilters } from '../events/queryEvents.js';
import type { Settings } from './settings.js';

/** Destructive work on prod needs --yes; elsewhere it just runs. */
export function requireYesOnProd(settings: Settings, action: string): void {
  if (settings.env === 'prod' && !settings.yes) {
    throw usageError(`refusing to ${action} on prod without --yes; nothing was changed`, {
      hint: `check the target with \`cos-db --env prod env\`, then add --yes`,
    });
  }
}

export function parseWholeNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw usageError(`${option} must be a whole number, not "${String(value)}"`);
  return n;
}

/** A PRD version number given by the user: a whole number from 1. */
export function positiveVersion(value: unknown, what: string): number | undefined {
  const n = parseWholeNumber(value, what);
  if (n === 0) throw usageError(`${what} must be 1 or more`);
  return n;
}

/** A path relative to cwd when it lies below it, else absolute. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

type EventFilterOptions = Pick<
  EventFilters,
  'type' | 'module' | 'actor' | 'task' | 'since' | 'until'
>;

/** The event filters query and export share, the times parsed (ISO, or an age such as 2h). */
export function eventFilters(o: EventFilterOptions): EventFilterOptions {
  return {
    type: o.type,
    module: o.module,
    actor: o.actor,
    task: o.task,
    since: parseTime(o.since, '--since'),
    until: parseTime(o.until, '--until'),
  };
}
