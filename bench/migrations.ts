import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BIN, medianOf, ROOT, timeProcess, type Scenario } from './harness.js';

const ADMIN = process.env.COS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function urlFor(name: string): string {
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A modules folder whose module "bench" has 100 trivial migrations. */
function hundredMigrations(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'cos-db-bench-mig-')), 'migrations');
  mkdirSync(join(dir, 'bench'), { recursive: true });
  for (let i = 0; i < 100; i += 1) {
    const name = `20270101${String(i).padStart(6, '0')}_t${i}.ts`;
    writeFileSync(
      join(dir, 'bench', name),
      `import type { Knex } from 'knex';\nexport async function up(knex: Knex): Promise<void> { await knex.raw('create table t${i} (id int)'); }\nexport async function down(knex: Knex): Promise<void> { await knex.raw('drop table t${i}'); }\n`,
    );
  }
  return dir;
}

export const migrations: Scenario = {
  name: 'migrations',
  async run() {
    const dir = hundredMigrations();
    const node = process.execPath;
    const knexCli = [
      join(ROOT, 'node_modules/knex/bin/cli.js'),
      '--knexfile',
      join(ROOT, 'knexfile.ts'),
    ];
    const envFor = (db: string) => ({
      PATH: process.env.PATH ?? '',
      HOME: tmpdir(),
      COS_DEV_DATABASE_URL: urlFor(db),
      COS_MIGRATIONS_DIR: dir,
    });
    const runs = 5;
    // Untimed set-up: the core installed and the module created, on both databases alike.
    const fresh = async (db: string) => {
      await admin(`drop database if exists ${db} with (force)`);
      await admin(`create database ${db}`);
      timeProcess(node, [BIN, 'migrate', '-q'], { env: envFor(db) });
      timeProcess(node, [BIN, 'schema', 'create', 'bench', '-q'], { env: envFor(db) });
    };
    // Applying 100 migrations to a fresh database, each tool on its own database, alternating.
    const applyCos: number[] = [];
    const applyKnex: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      await fresh('cos_bench_mig_cos');
      applyCos.push(
        timeProcess(node, [BIN, 'migrate', '-q'], { env: envFor('cos_bench_mig_cos') }),
      );
      await fresh('cos_bench_mig_knex');
      applyKnex.push(
        timeProcess(node, ['--import', 'tsx', ...knexCli, 'migrate:latest', '--env', 'dev'], {
          env: envFor('cos_bench_mig_knex'),
          cwd: ROOT,
        }),
      );
    }
    const { median } = await import('./harness.js');
    // Status over the 101 applied migrations, on the same database.
    const statusCos = medianOf(runs, () =>
      timeProcess(node, [BIN, 'migrate', 'status', '-q'], { env: envFor('cos_bench_mig_cos') }),
    );
    const statusKnex = medianOf(runs, () =>
      timeProcess(node, ['--import', 'tsx', ...knexCli, 'migrate:list', '--env', 'dev'], {
        env: envFor('cos_bench_mig_cos'),
        cwd: ROOT,
      }),
    );
    await admin('drop database if exists cos_bench_mig_cos with (force)');
    await admin('drop database if exists cos_bench_mig_knex with (force)');
    rmSync(join(dir, '..'), { recursive: true, force: true });
    const a = median(applyCos);
    const k = median(applyKnex);
    return [
      {
        scenario: 'migrate status, 100 migrations',
        value: statusCos,
        unit: 'ms',
        baseline: 'knex migrate:list',
        baselineValue: statusKnex,
        target: 'ratio ≤ 1.0',
        met: statusCos <= statusKnex,
        runs,
      },
      {
        scenario: 'migrate, 100 migrations (fresh module)',
        value: a,
        unit: 'ms',
        baseline: 'knex migrate:latest',
        baselineValue: k,
        target: 'ratio ≤ 1.0',
        met: a <= k,
        runs,
      },
    ];
  },
};
