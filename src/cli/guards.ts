import { relative } from 'node:path';
import type { Target } from '../config/resolveTargets.js';
import { usageError } from '../errors.js';
import type { Settings } from './settings.js';

/** Destructive work on prod needs --yes; elsewhere it just runs. */
export function requireYesOnProd(settings: Settings, action: string): void {
  if (settings.env === 'prod' && !settings.yes) {
    throw usageError(`refusing to ${action} on prod without --yes; nothing was changed`, {
      hint: `check the target with \`cos-db --env prod env\`, then add --yes`,
    });
  }
}

/** "dev: 127.0.0.1:5433/cos_db_dev as cos" — the target, never the password. */
export function describeTarget(target: Target): string {
  if (target.engine === 'embedded') return `${target.env}: embedded store ${target.dataDir}`;
  return `${target.env}: ${target.host}:${target.port}/${target.database}${target.user ? ` as ${target.user}` : ''}`;
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
