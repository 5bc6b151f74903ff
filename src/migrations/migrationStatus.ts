import type { Knex } from 'knex';
import { readApplied, type HistoryScope } from './historyTables.js';
import { listMigrationFiles, listModuleFolders } from './migrationFiles.js';
import { coreScope, moduleScope, registeredModules, requireModuleScope } from './scopes.js';

export type MigrationState = 'applied' | 'pending' | 'missing' | 'edited';

export type StatusEntry = {
  name: string;
  state: MigrationState;
  batch: number | null;
  applied_at: string | null;
  /** ok: file matches what was applied; none: applied by plain Knex, no checksum recorded. */
  checksum: 'ok' | 'edited' | 'none' | null;
};

export type ScopeStatus = {
  module: string | null;
  schema: string;
  dir: string;
  entries: StatusEntry[];
  counts: Record<MigrationState, number>;
};

export type StatusReport = {
  scopes: ScopeStatus[];
  /** Folders under migrations/ with no module of that name in the database. */
  unregistered_folders: string[];
  /** True when nothing is pending, missing or edited. */
  clean: boolean;
};

export async function scopeStatus(knex: Knex, scope: HistoryScope): Promise<ScopeStatus> {
  const files = listMigrationFiles(scope.dir);
  const applied = await readApplied(knex, scope);
  const byName = new Map(files.map((f) => [f.name, f]));
  const appliedNames = new Set(applied.map((a) => a.name));
  const entries: StatusEntry[] = applied.map((a) => {
    const file = byName.get(a.name);
    const edited = file !== undefined && a.sha256 !== null && a.sha256 !== file.sha256;
    return {
      name: a.name,
      state: file === undefined ? 'missing' : edited ? 'edited' : 'applied',
      batch: a.batch,
      applied_at: a.migrationTime ? new Date(a.migrationTime).toISOString() : null,
      checksum: a.sha256 === null ? 'none' : edited ? 'edited' : 'ok',
    };
  });
  for (const file of files) {
    if (!appliedNames.has(file.name)) {
      entries.push({
        name: file.name,
        state: 'pending',
        batch: null,
        applied_at: null,
        checksum: null,
      });
    }
  }
  const counts = { applied: 0, pending: 0, missing: 0, edited: 0 };
  for (const e of entries) counts[e.state] += 1;
  return { module: scope.module, schema: scope.schema, dir: scope.dir, entries, counts };
}

/** Every migration of the core and of each module: applied, pending, missing or edited. */
export async function migrationStatus(
  knex: Knex,
  migrationsDir: string,
  module?: string,
): Promise<StatusReport> {
  const scopes: HistoryScope[] = module
    ? [await requireModuleScope(knex, migrationsDir, module)]
    : [
        coreScope(),
        ...(await registeredModules(knex)).map((m) => moduleScope(migrationsDir, m.name)),
      ];
  const statuses: ScopeStatus[] = [];
  for (const scope of scopes) statuses.push(await scopeStatus(knex, scope));
  const registered = new Set(scopes.map((s) => s.module));
  const unregisteredFolders = module
    ? []
    : listModuleFolders(migrationsDir).filter((f) => !registered.has(f));
  const clean = statuses.every(
    (s) => s.counts.pending === 0 && s.counts.missing === 0 && s.counts.edited === 0,
  );
  return { scopes: statuses, unregistered_folders: unregisteredFolders, clean };
}
