import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const MIGRATION_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'] as const;

export type MigrationFile = { name: string; path: string; sha256: string };

function isMigrationFile(name: string): boolean {
  if (name.endsWith('.d.ts') || name.startsWith('.')) return false;
  return MIGRATION_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/** The migration files of one folder (not its subfolders), sorted by name as Knex sorts them. */
export function listMigrationFiles(dir: string): MigrationFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => isMigrationFile(name) && statSync(join(dir, name)).isFile())
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return { name, path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
    });
}

/** Module folders under the migrations folder. */
export function listModuleFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory())
    .sort();
}
