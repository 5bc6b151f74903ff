import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORE_MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** A scratch folder for modules' migrations (the core's always come from the package). */
export function scratchMigrations(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'cos-db-mig-')), 'migrations');
  mkdirSync(dir);
  return dir;
}

/** Writes a SQL migration file as TypeScript; returns its file name. */
export function writeMigration(
  dir: string,
  module: string | null,
  name: string,
  up: string,
  down = '',
  options: { transaction?: boolean } = {},
): string {
  const folder = module ? join(dir, module) : dir;
  mkdirSync(folder, { recursive: true });
  const file = `${name}.ts`;
  writeFileSync(
    join(folder, file),
    `import type { Knex } from 'knex';
export async function up(knex: Knex): Promise<void> { await knex.raw(${JSON.stringify(up)}); }
export async function down(knex: Knex): Promise<void> { ${down ? `await knex.raw(${JSON.stringify(down)});` : ''} }
${options.transaction === false ? 'export const config = { transaction: false };' : ''}
`,
  );
  return file;
}
