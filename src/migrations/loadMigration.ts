import type { Knex } from 'knex';
import { usageError } from '../errors.js';
import { importSource } from '../importSource.js';
import type { MigrationFile } from './migrationFiles.js';

export type LoadedMigration = {
  up: (knex: Knex) => Promise<unknown>;
  down: ((knex: Knex) => Promise<unknown>) | undefined;
  /** False when the file exports `config = { transaction: false }`, as Knex understands it. */
  transactional: boolean;
};

type MigrationModule = {
  up?: LoadedMigration['up'];
  down?: LoadedMigration['down'];
  config?: { transaction?: boolean };
  default?: MigrationModule;
};

/** Imports a migration file, TypeScript included (what Knex issues 4793 and 6087 are about). */
export async function loadMigration(file: MigrationFile): Promise<LoadedMigration> {
  let mod: MigrationModule;
  try {
    mod = (await importSource(file.path)) as MigrationModule;
  } catch (error) {
    throw usageError(
      `cannot load migration ${file.name}: ${(error as Error).message.split('\n')[0]}`,
      {
        hint: `fix ${file.path}`,
        cause: error,
      },
    );
  }
  const source = typeof mod.up === 'function' ? mod : (mod.default ?? mod);
  if (typeof source.up !== 'function') {
    throw usageError(`migration ${file.name} has no up() function`, {
      hint: 'export async function up(knex) { … }',
    });
  }
  return {
    up: source.up,
    down: typeof source.down === 'function' ? source.down : undefined,
    transactional: source.config?.transaction !== false,
  };
}
