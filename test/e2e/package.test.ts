import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { startServe } from '../support/serveProcess.js';

/*
 * cos-db as users get it: `npm pack` of this repository, the tarball installed into a scratch
 * project that cannot see the repository, and the README's main job run there, with the
 * project's own module, migrations and seeds.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'cos-db-package-'));
const project = join(work, 'app');
let bin: string;

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The installed cos-db, run from a folder of the project (the root unless given). */
const cos = (args: string[], cwd = project) =>
  runCli(args, { cwd, env: { COS_ACTOR: 'tester' }, bin });

beforeAll(() => {
  // --ignore-scripts: the suite's own dist/ is what is packed (no rebuild while tests run).
  const packed = npm(['pack', '--ignore-scripts', '--pack-destination', work, '--json'], REPO);
  const tarball = join(
    work,
    (JSON.parse(packed) as Array<{ filename: string }>)[0]?.filename ?? '',
  );
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    '{"name": "scratch-app", "private": true, "type": "module"}\n',
  );
  // The dependencies are those this repository installed: npm's cache has them.
  npm(
    ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball],
    project,
  );
  bin = join(project, 'node_modules', 'cos-db', 'bin', 'cos-db.js');
}, 300_000);

describe('the packed package, installed into a new project', () => {
  it('ships no sources or tests, and its embedded store template is whole', () => {
    const installed = join(project, 'node_modules', 'cos-db');
    expect(readdirSync(installed).sort()).toEqual(
      ['README.md', 'bin', 'dist', 'examples', 'knexfile.ts', 'migrations', 'package.json'].sort(),
    );
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'dist', 'schemas', 'event-record.schema.json'))).toBe(true);
  });

  it("runs the README's main job: migrate, seed run demo, trace, verify", async () => {
    for (const args of [
      ['migrate'],
      ['seed', 'run', 'demo'],
      ['trace', 'seed-publish'],
      ['verify'],
    ]) {
      const r = await cos(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(existsSync(join(project, '.cos-db', 'dev', 'PG_VERSION'))).toBe(true);
  }, 180_000);

  it('serves the agent endpoint from the installed package', async () => {
    const made = await cos(['token', 'create', '--agent', 'app', '--scope', 'append', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const { token } = JSON.parse(made.stdout) as { token: string };
    const served = await startServe({ COS_ACTOR: 'tester' }, [], project, bin);
    try {
      const r = await fetch(`${served.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event_id: 'pkg-1', type: 'app.started' }),
      });
      expect(r.status).toBe(201);
      const doc = await fetch(`${served.url}/openapi.json`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
    } finally {
      expect(await served.stop()).toBe(0);
    }
  }, 120_000);

  it("keeps the project's files in the project: a module's migrations, its seeds, its store", async () => {
    expect((await cos(['schema', 'create', 'notes', '-q'])).code).toBe(0);
    const made = await cos(['migrate', 'make', 'add_notes', '--module', 'notes', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const path = (JSON.parse(made.stdout) as { path: string }).path;
    expect(path.startsWith(join(project, 'migrations', 'notes'))).toBe(true);
    // A core migration belongs to cos-db: not made inside node_modules.
    const core = await cos(['migrate', 'make', 'add_notes']);
    expect(core.code).toBe(2);
    expect(core.stderr).toContain('--module');
    expect((await cos(['migrate', '-q'])).code).toBe(0);
    const status = JSON.parse((await cos(['migrate', 'status', '--json'])).stdout) as {
      clean: boolean;
      scopes: Array<{ module: string | null; dir: string; counts: { applied: number } }>;
    };
    expect(status.clean).toBe(true);
    expect(status.scopes.find((s) => s.module === 'notes')).toMatchObject({
      dir: join(project, 'migrations', 'notes'),
      counts: { applied: 1 },
    });
    // The project's own seeds are what `seed run` runs; the demo ran only when named.
    mkdirSync(join(project, 'seeds'));
    writeFileSync(
      join(project, 'seeds', '01_note.ts'),
      "import type { Knex } from 'knex';\nexport async function seed(knex: Knex) {\n  await knex('notes.example').insert({ name: 'first' });\n}\n",
    );
    const seeded = await cos(['seed', 'run', '--json']);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toEqual({ ran: ['01_note.ts'] });
    // From a folder inside the project, the project's store (not a new one there).
    const sub = join(project, 'migrations');
    const env = JSON.parse((await cos(['env', '--json', '--no-check'], sub)).stdout) as {
      project: { root: string; migrations_dir: string; seeds_dir: string; store_dir: string };
    };
    expect(env.project).toMatchObject({
      root: project,
      migrations_dir: join(project, 'migrations'),
      seeds_dir: join(project, 'seeds'),
      store_dir: join(project, '.cos-db'),
    });
    const prds = await cos(['query', 'prd', '--json'], sub);
    expect(prds.code).toBe(0);
    expect((JSON.parse(prds.stdout) as unknown[]).length).toBe(3);
    expect(existsSync(join(sub, '.cos-db'))).toBe(false);
  }, 180_000);
});
