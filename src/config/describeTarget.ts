import { maskUrl } from './maskUrl.js';
import type { Target } from './resolveTargets.js';

/** "dev: 127.0.0.1:5433/cos_db_dev as cos" — the target, never the password. */
export function describeTarget(target: Target): string {
  if (target.engine === 'embedded') return `${target.env}: embedded store ${target.dataDir}`;
  return `${target.env}: ${target.host}:${target.port}/${target.database}${target.user ? ` as ${target.user}` : ''}`;
}

/** Where the target is, as a URL with its password masked (pglite:<dir> for the embedded store). */
export function targetAddress(target: Target): string {
  return target.engine === 'embedded' ? `pglite:${target.dataDir}` : maskUrl(target.url);
}
