import { usageError } from '../errors.js';

const RESERVED = new Set(['public', 'cc', 'information_schema']);

/**
 * A module name becomes a schema name, so it must be a plain lowercase identifier: letter first,
 * then letters, digits and underscores, at most 63 bytes, and not one of PostgreSQL's or cos-db's
 * own schemas. Returns the name, or throws a usage error saying what is wrong.
 */
export function validateModuleName(name: string): string {
  const problem = (why: string) =>
    usageError(`invalid module name "${name}": ${why}`, {
      hint: 'use a lowercase identifier: a letter, then letters, digits or underscores (e.g. planner, agent_runs)',
    });
  if (name === '') throw problem('it is empty');
  if (Buffer.byteLength(name, 'utf8') > 63) throw problem('longer than 63 bytes');
  if (!/^[a-z]/.test(name)) throw problem('it must start with a lowercase letter');
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw problem('only lowercase letters, digits and underscores are allowed');
  if (RESERVED.has(name) || name.startsWith('pg_'))
    throw problem('it is a reserved or system schema');
  return name;
}
