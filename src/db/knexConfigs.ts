import type { Knex } from 'knex';
import { ENV_NAMES, type EnvName } from '../config/envs.js';
import { resolveTargets, type Target } from '../config/resolveTargets.js';

/**
 * Knex configurations for the three environments, from the same resolver as the CLI, so that
 * `knex --knexfile knexfile.ts migrate:list --env dev` and `cos-db migrate status --env dev` read
 * the same database and the same history (public.knex_migrations).
 */
export async function knexConfigs(input: {
  cwd: string;
  processEnv: Record<string, string | undefined>;
  /** The core's folder, or a module's (with schemaName). */
  migrationsDir: string;
  schemaName?: string | undefined;
}): Promise<Record<EnvName, Knex.Config>> {
  const targets = resolveTargets({ cwd: input.cwd, processEnv: input.processEnv });
  const migrations = {
    directory: input.migrationsDir,
    tableName: 'knex_migrations',
    ...(input.schemaName ? { schemaName: input.schemaName } : {}),
    extension: 'ts',
    loadExtensions: ['.ts', '.mts', '.js', '.mjs', '.cjs'],
  };
  const configs = {} as Record<EnvName, Knex.Config>;
  for (const env of ENV_NAMES)
    configs[env] = { ...(await connectionConfig(targets[env])), migrations };
  return configs;
}

async function connectionConfig(target: Target): Promise<Knex.Config> {
  if (target.engine === 'postgres') return { client: 'pg', connection: target.url };
  // Plain Knex takes no lock file: do not run it beside cos-db on the same embedded store.
  const [{ PGlite }, { PgliteClient }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('./pgliteClient.js'),
  ]);
  let pglite: InstanceType<typeof PGlite> | undefined;
  return {
    client: PgliteClient as unknown as typeof Knex.Client,
    connection: () => {
      pglite ??= new PGlite(target.dataDir, { parsers: { 20: (v: string) => v } });
      return { pglite } as object;
    },
  } as Knex.Config;
}
