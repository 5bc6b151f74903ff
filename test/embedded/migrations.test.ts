import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratchMigrations, writeMigration } from '../support/migrationsDir.js';
import { runCli } from '../support/runCli.js';

let env: Record<string, string>;
let dir: string;
const cli = (...args: string[]) => runCli(args, { env });

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'cos-db-embedded-mig-'));
  dir = scratchMigrations();
  const seeds = join(root, 'seeds');
  env = {
    COS_DEV_DATABASE_URL: `pglite:${join(root, 'store')}`,
    COS_PROD_DATABASE_URL: `pglite:${join(root, 'store')}`,
    COS_MIGRATIONS_DIR: dir,
    COS_SEEDS_DIR: seeds,
  };
  writeMigration(
    dir,
    'planner',
    '20261201000000_plans',
    'create table plans (id int primary key); insert into plans values (1), (2)',
    'drop table plans',
  );
  mkdirSync(seeds);
  writeFileSync(
    join(seeds, '01_plans.ts'),
    "import type { Knex } from 'knex';\nexport async function seed(knex: Knex) { await knex.raw('insert into planner.plans values (3)'); }\n",
  );
});

describe('the embedded engine runs the same migrations', () => {
  it('migrate, schema create, module migrate, status, seed, rollback', async () => {
    expect((await cli('migrate')).code).toBe(0);
    expect((await cli('schema', 'create', 'planner')).code).toBe(0);
    expect((await cli('migrate', 'status', '--check')).code).toBe(6);
    const dry = await cli('migrate', '--dry-run');
    expect(dry.stdout).toContain('insert into plans values (1), (2)');
    expect((await cli('migrate')).code).toBe(0);
    expect((await cli('migrate', 'status', '--check')).code).toBe(0);
    expect((await cli('--env', 'prod', 'seed', 'run')).code).toBe(2);
    const seeded = await cli('seed', 'run', '--json');
    expect(seeded.code).toBe(0);
    expect(JSON.parse(seeded.stdout)).toEqual({ ran: ['01_plans.ts'] });
    const list = JSON.parse((await cli('schema', 'list', '--json')).stdout) as Array<{
      name: string;
      tables: string[];
    }>;
    expect(list).toEqual([expect.objectContaining({ name: 'planner', tables: ['plans'] })]);
    expect((await cli('migrate', 'rollback', '--module', 'planner')).code).toBe(0);
    expect((await cli('migrate', 'status', '--check')).code).toBe(6);
  });
});
