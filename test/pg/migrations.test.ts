import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_MIGRATIONS, scratchMigrations, writeMigration } from '../support/migrationsDir.js';
import { listMigrationFiles } from '../../src/migrations/migrationFiles.js';

const CORE_FILES = listMigrationFiles(CORE_MIGRATIONS).map((f) => f.name);
import { BIN, runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

type Status = {
  clean: boolean;
  scopes: Array<{ module: string | null; entries: Array<{ name: string; state: string }> }>;
};

let db: TestDatabase;
let dir: string;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, { env });

beforeAll(async () => {
  db = await createTestDatabase();
  dir = scratchMigrations();
  env = { COS_DEV_DATABASE_URL: db.url, COS_PROD_DATABASE_URL: db.url, COS_MIGRATIONS_DIR: dir };
});
afterAll(async () => db.drop());

async function status(): Promise<{ code: number | null; report: Status }> {
  const r = await cli('migrate', 'status', '--check', '--json');
  return { code: r.code, report: JSON.parse(r.stdout) as Status };
}

async function schemas(): Promise<string[]> {
  return (
    await sql<{ nspname: string }>(
      db.url,
      "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema' order by 1",
    )
  ).map((r) => r.nspname);
}

describe('migrate (real PostgreSQL)', () => {
  it('--dry-run on a fresh database prints the SQL and leaves the database as it was', async () => {
    const before = await schemas();
    const r = await cli('migrate', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('create schema if not exists cc');
    expect(r.stdout).toContain('dry run');
    expect(await schemas()).toEqual(before);
    expect(await sql(db.url, "select to_regclass('public.knex_migrations') as t")).toEqual([
      { t: null },
    ]);
  });

  it('creates cc on a fresh database; status --check then exits 0', async () => {
    const r = await cli('migrate');
    expect(r.code).toBe(0);
    expect(await schemas()).toContain('cc');
    const s = await status();
    expect(s.code).toBe(0);
    expect(s.report.clean).toBe(true);
    expect((await cli('migrate')).stdout).toContain('core: up to date');
  });

  it('plain Knex agrees with cos-db about the history', async () => {
    const root = join(BIN, '..', '..');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'node_modules/knex/bin/cli.js'),
        '--knexfile',
        join(root, 'knexfile.ts'),
        'migrate:list',
        '--env',
        'dev',
      ],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out).toContain(`Found ${CORE_FILES.length} Completed Migration`);
    for (const name of CORE_FILES) expect(out).toContain(name);
    expect(out).toContain('No Pending Migration');
  });

  it('rejects every bad module name with exit 2 and creates nothing', async () => {
    const before = await schemas();
    for (const name of [
      'Planner',
      '1abc',
      'public',
      'cc',
      'pg_temp',
      'information_schema',
      'has-dash',
      'a"; drop schema cc; --',
      'x'.repeat(64),
      '',
    ]) {
      const r = await cli('schema', 'create', name);
      expect(r.code, name).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^cos-db: invalid module name/);
    }
    expect(await schemas()).toEqual(before);
  });

  it('a new module migration makes status --check exit 6 until applied', async () => {
    expect((await cli('schema', 'create', 'planner', '--description', 'plans')).code).toBe(0);
    expect(existsSync(join(dir, 'planner'))).toBe(true);
    expect((await cli('schema', 'create', 'planner')).code).toBe(4);
    writeMigration(
      dir,
      'planner',
      '20261201000000_plans',
      'create table plans (id int primary key)',
      'drop table plans',
    );
    const pending = await status();
    expect(pending.code).toBe(6);
    expect(pending.report.scopes.find((s) => s.module === 'planner')?.entries).toEqual([
      expect.objectContaining({ state: 'pending' }),
    ]);
    expect((await cli('migrate')).code).toBe(0);
    expect((await status()).code).toBe(0);
    // The module's table is in its own schema, and its history is its own.
    expect(await sql(db.url, "select to_regclass('planner.plans') is not null as ok")).toEqual([
      { ok: true },
    ]);
    expect(await sql(db.url, 'select name from planner.knex_migrations')).toEqual([
      { name: '20261201000000_plans.ts' },
    ]);
    expect(await sql(db.url, 'select name from public.knex_migrations order by id')).toEqual(
      CORE_FILES.map((name) => ({ name })),
    );
  });

  it("modules are isolated: one module's migrations never touch another's history", async () => {
    expect((await cli('schema', 'create', 'runner')).code).toBe(0);
    writeMigration(
      dir,
      'runner',
      '20261201000000_plans',
      'create table plans (run text)',
      'drop table plans',
    );
    expect((await cli('migrate', '--module', 'runner')).code).toBe(0);
    expect(
      await sql(
        db.url,
        "select column_name from information_schema.columns where table_schema = 'runner' and table_name = 'plans'",
      ),
    ).toEqual([{ column_name: 'run' }]);
    expect(
      await sql(
        db.url,
        "select column_name from information_schema.columns where table_schema = 'planner' and table_name = 'plans'",
      ),
    ).toEqual([{ column_name: 'id' }]);
    const list = JSON.parse((await cli('schema', 'list', '--json')).stdout) as Array<{
      name: string;
      tables: string[];
    }>;
    expect(list.map((m) => [m.name, m.tables])).toEqual([
      ['planner', ['plans']],
      ['runner', ['plans']],
    ]);
  });

  it('editing an applied file makes status --check exit 6 (edited)', async () => {
    const file = join(dir, 'planner', '20261201000000_plans.ts');
    appendFileSync(file, '// edited\n');
    const s = await status();
    expect(s.code).toBe(6);
    expect(s.report.scopes.find((x) => x.module === 'planner')?.entries[0]?.state).toBe('edited');
    const r = await cli('migrate');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('was edited after it was applied');
  });

  it('a deleted applied file is missing: status exits 6, migrate refuses with 6', async () => {
    const file = writeMigration(
      dir,
      'runner',
      '20261202000000_extra',
      'create table extra (x int)',
      'drop table extra',
    );
    expect((await cli('migrate', '--module', 'runner')).code).toBe(0);
    rmSync(join(dir, 'runner', file));
    const s = await status();
    expect(s.report.scopes.find((x) => x.module === 'runner')?.entries.map((e) => e.state)).toEqual(
      ['applied', 'missing'],
    );
    const r = await cli('migrate');
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(file);
    // Put it back so the rest of the file has a clean history.
    writeMigration(
      dir,
      'runner',
      '20261202000000_extra',
      'create table extra (x int)',
      'drop table extra',
    );
  });

  it('a failing migration is rolled back, and the error names the file and the SQL position', async () => {
    const file = writeMigration(
      dir,
      'runner',
      '20261203000000_broken',
      'create table half (x int);\ncreate tabel oops (y int)',
    );
    const r = await cli('migrate', '--module', 'runner');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`migration ${file} (runner) failed and was rolled back`);
    expect(r.stderr).toContain('syntax error at or near "tabel"');
    expect(r.stderr).toContain('at line 2, column 8');
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(await sql(db.url, "select to_regclass('runner.half') as t")).toEqual([{ t: null }]);
    rmSync(join(dir, 'runner', file));
  });

  it('a non-transactional migration can CREATE INDEX CONCURRENTLY', async () => {
    writeMigration(
      dir,
      'runner',
      '20261204000000_concurrent',
      'create index concurrently extra_x on runner.extra (x)',
      'drop index concurrently runner.extra_x',
      { transaction: false },
    );
    const dry = await cli('migrate', '--module', 'runner', '--dry-run');
    expect(dry.stdout).toContain('not previewed');
    const r = await cli('migrate', '--module', 'runner');
    expect(r.code).toBe(0);
    expect(await sql(db.url, "select to_regclass('runner.extra_x') is not null as ok")).toEqual([
      { ok: true },
    ]);
  });

  it('TypeScript migrations load as ES modules or CommonJS, as their package says', async () => {
    // A module whose folder is an ES-module package ("type": "module"): the ESM loader path.
    mkdirSync(join(dir, 'esm'), { recursive: true });
    writeFileSync(join(dir, 'esm', 'package.json'), '{ "type": "module" }');
    writeMigration(
      dir,
      'esm',
      '20261205000000_esm',
      'create table esm.t (x int)',
      'drop table esm.t',
    );
    writeFileSync(
      join(dir, 'esm', '20261205000001_meta.ts'),
      "import type { Knex } from 'knex';\nexport async function up(knex: Knex) { await knex.raw(`create table esm.meta (url text); insert into esm.meta values ('${import.meta.url}')`); }\nexport async function down(knex: Knex) { await knex.raw('drop table esm.meta'); }\n",
    );
    expect((await cli('schema', 'create', 'esm', '-q')).code).toBe(0);
    const r = await cli('migrate', '--module', 'esm');
    expect(r.code).toBe(0);
    expect((await sql<{ url: string }>(db.url, 'select url from esm.meta'))[0]?.url).toMatch(
      /^file:.*20261205000001_meta\.ts/,
    );
  });

  it('rollback on prod without --yes changes nothing; with --yes it rolls back', async () => {
    const r = await cli('--env', 'prod', 'migrate', 'rollback', '--module', 'runner');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target: prod:');
    expect(r.stderr).toContain('without --yes');
    expect(await sql(db.url, 'select count(*)::int as n from runner.knex_migrations')).toEqual([
      { n: 3 },
    ]);
    const ok = await cli(
      '--env',
      'prod',
      '--yes',
      'migrate',
      'rollback',
      '--module',
      'runner',
      '--step',
      '1',
    );
    expect(ok.code).toBe(0);
    expect(await sql(db.url, "select to_regclass('runner.extra_x') as t")).toEqual([{ t: null }]);
    const to = await cli(
      'migrate',
      'rollback',
      '--module',
      'runner',
      '--to',
      '20261201000000_plans',
    );
    expect(to.code).toBe(0);
    expect(await sql(db.url, 'select name from runner.knex_migrations')).toEqual([
      { name: '20261201000000_plans.ts' },
    ]);
    expect((await cli('migrate', '--module', 'runner', '--to', '20261202000000_extra')).code).toBe(
      0,
    );
    expect(await sql(db.url, 'select count(*)::int as n from runner.knex_migrations')).toEqual([
      { n: 2 },
    ]);
    expect((await cli('migrate', '--to', 'no_such_migration')).code).toBe(3);
  });

  it('two concurrent migrate runs serialize: both succeed, each migration applied once', async () => {
    expect((await cli('schema', 'create', 'race')).code).toBe(0);
    writeMigration(
      dir,
      'race',
      '20261205000000_slow',
      'select pg_sleep(1); create table slow (x int)',
      'drop table slow',
    );
    writeMigration(
      dir,
      'race',
      '20261205000001_after',
      'create table after_slow (x int)',
      'drop table after_slow',
    );
    const [a, b] = await Promise.all([
      cli('migrate', '--module', 'race'),
      cli('migrate', '--module', 'race'),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stderr + b.stderr).toContain('waiting for the migration lock on race');
    expect(await sql(db.url, 'select name from race.knex_migrations order by id')).toEqual([
      { name: '20261205000000_slow.ts' },
      { name: '20261205000001_after.ts' },
    ]);
  });

  it('a run killed with -9 mid-migration leaves nothing stuck: the next run just works', async () => {
    writeMigration(
      dir,
      'race',
      '20261206000000_killed',
      'select pg_sleep(2); create table killed (x int)',
      'drop table killed',
    );
    const child = spawn(process.execPath, [BIN, 'migrate', '--module', 'race'], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        if (c.toString().includes('applying 20261206000000_killed')) resolve();
      });
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const r = await cli('migrate', '--module', 'race');
    expect(r.code).toBe(0);
    expect(
      await sql(
        db.url,
        "select count(*)::int as n from race.knex_migrations where name like '20261206%'",
      ),
    ).toEqual([{ n: 1 }]);
  });

  it('a stale knex_migrations_lock left by plain Knex is cleared and reported; unlock clears it by hand', async () => {
    await sql(db.url, 'update public.knex_migrations_lock set is_locked = 1');
    const r = await cli('migrate');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('cleared a stale knex_migrations_lock in public');
    await sql(db.url, 'update race.knex_migrations_lock set is_locked = 1');
    const u = await cli('migrate', 'unlock', '--json');
    expect(u.code).toBe(0);
    const reports = JSON.parse(u.stdout) as Array<{ schema: string; cleared_knex_lock: boolean }>;
    expect(reports.find((x) => x.schema === 'race')?.cleared_knex_lock).toBe(true);
    expect(reports.find((x) => x.schema === 'public')?.cleared_knex_lock).toBe(false);
  });

  it('a lock held elsewhere times out with exit 7 naming the holder', async () => {
    const pg = (await import('pg')).default;
    const holder = new pg.Client({ connectionString: db.url, application_name: 'held-by-test' });
    await holder.connect();
    try {
      await holder.query("select pg_advisory_lock(6516595, hashtext('cos-db migrate public'))");
      const r = await cli('--lock-timeout', '0.5', 'migrate');
      expect(r.code).toBe(7);
      expect(r.stderr).toContain('held-by-test');
    } finally {
      await holder.end();
    }
  });

  it('migrate make writes a TypeScript migration that loads and runs', async () => {
    const r = await cli('migrate', 'make', 'add notes', '--module', 'race', '--json');
    expect(r.code).toBe(0);
    const { path } = JSON.parse(r.stdout) as { path: string };
    expect(path).toMatch(/race\/\d{14}_add_notes\.ts$/);
    expect(readdirSync(join(dir, 'race'))).toContain(path.split('/').pop());
    expect((await cli('migrate', '--module', 'race')).code).toBe(0);
    expect(await sql(db.url, "select to_regclass('race.example') is not null as ok")).toEqual([
      { ok: true },
    ]);
    expect((await cli('migrate', 'make', 'x', '--module', 'Bad-Name')).code).toBe(2);
  });

  it('schema drop refuses while tables remain, drops with --cascade, and needs --yes on prod', async () => {
    const refuse = await cli('schema', 'drop', 'race');
    expect(refuse.code).toBe(2);
    expect(refuse.stderr).toContain('still holds');
    expect((await cli('--env', 'prod', 'schema', 'drop', 'race', '--cascade')).code).toBe(2);
    expect(await schemas()).toContain('race');
    const ok = await cli('schema', 'drop', 'race', '--cascade');
    expect(ok.code).toBe(0);
    expect(await schemas()).not.toContain('race');
    expect((await cli('schema', 'drop', 'race')).code).toBe(3);
  });
});
