import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { validateModuleName } from './moduleName.js';
import { coreMigrationsDir } from './scopes.js';

const TEMPLATE = `import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Module migrations run with search_path set to the module's schema.
  await knex.schema.createTable('example', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('example');
}

// Statements that cannot run inside a transaction (CREATE INDEX CONCURRENTLY) need:
// export const config = { transaction: false };
`;

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Writes a new TypeScript migration from the template; returns its path. */
export function makeMigration(
  migrationsDir: string,
  name: string,
  module?: string,
  now = new Date(),
): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug === '')
    throw usageError(`"${name}" is not a usable migration name`, {
      hint: 'e.g. cos-db migrate make add_runs_table',
    });
  const dir = module ? join(migrationsDir, validateModuleName(module)) : coreMigrationsDir();
  mkdirSync(dir, { recursive: true });
  let stamp = timestamp(now);
  let path = join(dir, `${stamp}_${slug}.ts`);
  while (existsSync(path)) {
    stamp = String(Number(stamp) + 1);
    path = join(dir, `${stamp}_${slug}.ts`);
  }
  writeFileSync(path, TEMPLATE, { flag: 'wx' });
  return path;
}
