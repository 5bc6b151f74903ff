import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/runCli.js';
import { adminUrl } from '../support/testDatabase.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'cos-db-e2e-'));

type EnvRow = { env: string; engine: string; port: number | null; target: string };

describe('cos-db env', () => {
  it('with nothing configured: prod on 5432, dev and test embedded', async () => {
    const r = await runCli(['env', '--json', '--no-check'], { cwd: freshDir() });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { selected: string; envs: EnvRow[] };
    expect(doc.selected).toBe('dev');
    expect(doc.envs.map((e) => [e.env, e.engine, e.port])).toEqual([
      ['prod', 'postgres', 5432],
      ['dev', 'embedded', null],
      ['test', 'embedded', null],
    ]);
  });

  it('with POSTGRES_USER and POSTGRES_PASSWORD: 5432, 5433, 5434 and no password anywhere', async () => {
    const env = { POSTGRES_USER: 'cos', POSTGRES_PASSWORD: 'pw-n0t-shown' };
    const json = await runCli(['env', '--json'], { cwd: freshDir(), env });
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { envs: EnvRow[] }).envs.map((e) => e.port)).toEqual([
      5432, 5433, 5434,
    ]);
    const human = await runCli(['env'], { cwd: freshDir(), env });
    for (const out of [json.stdout, json.stderr, human.stdout, human.stderr])
      expect(out).not.toContain('pw-n0t-shown');
    expect(human.stdout).toContain('postgres://cos:***@localhost:5433/cos_db_dev');
  });

  it('an unknown --env exits 2 and lists the valid names', async () => {
    const r = await runCli(['--env', 'staging', 'env']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('prod, dev, test');
  });

  it('a bad configuration exits 2 with every problem, and no stack', async () => {
    const r = await runCli(['env'], {
      cwd: freshDir(),
      env: { COS_TEST_DATABASE_URL: 'http://x', POSTGRES_PORT: 'x' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('COS_TEST_DATABASE_URL');
    expect(r.stderr).toContain('POSTGRES_PORT');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help documents the exit codes and runs without a database', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('7    lock timeout');
  });
});

describe('cos-db ping', () => {
  it('works against the embedded default, with a one-line notice on stderr', async () => {
    const r = await runCli(['ping', '--json'], { cwd: freshDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ env: 'dev', engine: 'embedded' });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('using the embedded store');
  });

  it('works against the real server through COS_DEV_DATABASE_URL and prints its version', async () => {
    const r = await runCli(['ping'], { env: { COS_DEV_DATABASE_URL: adminUrl() } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PostgreSQL \d+\.\d+/);
  });

  it('a closed port exits 5 with one line naming the host, and no stack', async () => {
    const r = await runCli(['ping'], {
      env: { COS_DEV_DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:1/db' },
    });
    expect(r.code).toBe(5);
    const [first] = r.stderr.split('\n');
    expect(first).toBe(
      'cos-db: cannot connect to dev at 127.0.0.1:1/db as u: connection refused (no server listening)',
    );
    expect(r.stderr).not.toContain('secretpw');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json errors are one JSON document on stdout too', async () => {
    const r = await runCli(['ping', '--json'], {
      env: { COS_DEV_DATABASE_URL: 'postgres://u@127.0.0.1:1/db' },
    });
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: { exit_code: 5, host: '127.0.0.1', port: 1 },
    });
  });

  it('an unknown database exits 5 and says so', async () => {
    const url = new URL(adminUrl());
    url.pathname = '/cos_db_no_such_database';
    const r = await runCli(['ping'], { env: { COS_DEV_DATABASE_URL: url.toString() } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('the database does not exist');
  });

  it('--wait keeps trying before giving up', async () => {
    const r = await runCli(['ping', '--wait', '2', '--json'], {
      env: { COS_DEV_DATABASE_URL: 'postgres://u@127.0.0.1:1/db' },
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/gave up after (\d+) attempts in 2 s/);
    const attempts = Number(/after (\d+) attempts/.exec(r.stderr)?.[1]);
    expect(attempts).toBeGreaterThan(2);
  });

  it('a store locked by a live process: exit 7 naming its pid', async () => {
    const cwd = freshDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(cwd, '.cos-db'), { recursive: true });
    const { hostname } = await import('node:os');
    writeFileSync(
      join(cwd, '.cos-db', 'dev.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), command: 'migrate', since: 'now' }),
    );
    const r = await runCli(['ping', '--lock-timeout', '0.3'], { cwd });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`pid ${process.pid} (migrate`);
  });

  it('Ctrl-C exits 130', async () => {
    const child = spawn(process.execPath, [BIN, 'ping', '--wait', '30'], {
      env: { PATH: process.env.PATH ?? '', COS_DEV_DATABASE_URL: 'postgres://u@127.0.0.1:1/db' },
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!sent && stderr.includes('waiting up to')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted');
  });
});
