import type { Database } from '../db/withDatabase.js';
import { driverOf } from '../db/driverOf.js';
import type { LockHolder } from '../db/lockHolders.js';
import { clearKnexLock, type HistoryScope } from './historyTables.js';
import { lockName } from './runMigrations.js';
import { coreScope, registeredModules, moduleScope } from './scopes.js';

export type UnlockReport = {
  schema: string;
  /** Knex's lock row was set and is now cleared. Knex records no owner for it. */
  cleared_knex_lock: boolean;
  /** Live sessions holding cos-db's advisory lock: not touched, only named. */
  advisory_holders: LockHolder[];
};

/** Clears stale knex_migrations_lock rows and names whoever holds cos-db's own migration locks. */
export async function unlock(
  db: Database,
  migrationsDir: string,
  module?: string,
): Promise<UnlockReport[]> {
  const scopes: HistoryScope[] = module
    ? [moduleScope(migrationsDir, module)]
    : [
        coreScope(),
        ...(await registeredModules(db.knex)).map((m) => moduleScope(migrationsDir, m.name)),
      ];
  const reports: UnlockReport[] = [];
  for (const scope of scopes) {
    const advisoryHolders = await driverOf(db.knex).lockHolders(db.knex, lockName(scope));
    const clearedKnexLock = await clearKnexLock(db.knex, scope);
    reports.push({
      schema: scope.schema,
      cleared_knex_lock: clearedKnexLock,
      advisory_holders: advisoryHolders,
    });
  }
  return reports;
}
