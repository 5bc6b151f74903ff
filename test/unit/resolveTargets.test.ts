import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskUrl, redactPassword } from '../../src/config/maskUrl.js';
import { parseDotenv } from '../../src/config/parseDotenv.js';
import { resolveTargets, type ServerTarget } from '../../src/config/resolveTargets.js';
import { loadSettings } from '../../src/cli/settings.js';
import { CosError, ExitCode } from '../../src/errors.js';

function dir(files: Record<string, string> = {}): string {
  const cwd = mkdtempSync(join(tmpdir(), 'cos-db-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, name), text);
  return cwd;
}

function server(t: unknown): ServerTarget {
  expect((t as ServerTarget).engine).toBe('postgres');
  return t as ServerTarget;
}

describe('resolveTargets', () => {
  it('with nothing configured: prod on localhost:5432, dev and test embedded', () => {
    const cwd = dir();
    const t = resolveTargets({ cwd, processEnv: {} });
    const prod = server(t.prod);
    expect([prod.host, prod.port, prod.database]).toEqual(['localhost', 5432, 'cos_db_prod']);
    expect(t.dev).toMatchObject({
      engine: 'embedded',
      dataDir: join(cwd, '.cos-db', 'dev'),
      explicit: false,
    });
    expect(t.test).toMatchObject({ engine: 'embedded', dataDir: join(cwd, '.cos-db', 'test') });
  });

  it('POSTGRES_* parts combine with the env table: ports 5432, 5433, 5434', () => {
    const t = resolveTargets({
      cwd: dir(),
      processEnv: { POSTGRES_USER: 'cos', POSTGRES_PASSWORD: 's3cret' },
    });
    expect(server(t.prod).port).toBe(5432);
    expect(server(t.dev).port).toBe(5433);
    expect(server(t.test).port).toBe(5434);
    expect(server(t.dev).database).toBe('cos_db_dev');
    expect(server(t.dev).parts.user).toBe('POSTGRES_USER in the environment');
    expect(server(t.dev).parts.port).toBe('the dev default');
    expect(server(t.test).url).toBe('postgres://cos:s3cret@localhost:5434/cos_db_test');
  });

  it('precedence: --url > COS_<ENV>_DATABASE_URL > DATABASE_URL > POSTGRES_*', () => {
    const processEnv = {
      COS_DEV_DATABASE_URL: 'postgres://a@h1/db1',
      DATABASE_URL: 'postgres://b@h2/db2',
      POSTGRES_USER: 'c',
    };
    const cwd = dir();
    const withUrl = resolveTargets({ cwd, processEnv, url: 'postgres://z@h0/db0', urlEnv: 'dev' });
    expect(server(withUrl.dev).host).toBe('h0');
    expect(withUrl.dev.source).toBe('--url');
    // --url belongs to the selected env only.
    expect(server(withUrl.test).host).toBe('h2');
    const t = resolveTargets({ cwd, processEnv });
    expect(server(t.dev).host).toBe('h1');
    expect(t.dev.source).toBe('COS_DEV_DATABASE_URL in the environment');
    expect(server(t.prod).host).toBe('h2');
    const partsOnly = resolveTargets({ cwd, processEnv: { POSTGRES_USER: 'c' } });
    expect(server(partsOnly.dev).user).toBe('c');
  });

  it('.env.<env> beats the environment, which beats .env', () => {
    const cwd = dir({
      '.env': 'DATABASE_URL=postgres://from-dotenv/x\nPOSTGRES_USER=u\n',
      '.env.test': 'DATABASE_URL="postgres://from-env-file/y" # comment\n',
    });
    const t = resolveTargets({ cwd, processEnv: { DATABASE_URL: 'postgres://from-process/z' } });
    expect(server(t.test).host).toBe('from-env-file');
    expect(t.test.source).toBe('DATABASE_URL in .env.test');
    expect(server(t.dev).host).toBe('from-process');
    const noProcess = resolveTargets({ cwd, processEnv: {} });
    expect(server(noProcess.dev).host).toBe('from-dotenv');
    expect(noProcess.dev.source).toBe('DATABASE_URL in .env');
  });

  it('pglite:<dir> selects the embedded engine explicitly, for any env', () => {
    const cwd = dir();
    const t = resolveTargets({ cwd, processEnv: { COS_PROD_DATABASE_URL: 'pglite:./store' } });
    expect(t.prod).toMatchObject({
      engine: 'embedded',
      dataDir: join(cwd, 'store'),
      explicit: true,
    });
  });

  it('reports every bad value at once, with its source, as a usage error', () => {
    const cwd = dir({ '.env': 'this is not a pair\n' });
    let caught: unknown;
    try {
      resolveTargets({
        cwd,
        processEnv: {
          COS_PROD_DATABASE_URL: 'mysql://x',
          POSTGRES_PORT: 'abc',
          POSTGRES_HOST: 'bad host!',
        },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CosError);
    const error = caught as CosError;
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(
      'COS_PROD_DATABASE_URL in the environment: must start with postgres://',
    );
    expect(error.message).toContain('POSTGRES_PORT in the environment: must be a number');
    expect(error.message).toContain('POSTGRES_HOST in the environment: is not a valid host name');
    expect(error.message).toContain('.env:1: not a KEY=value line');
  });

  it('rejects an out-of-range port and an empty pglite dir', () => {
    expect(() => resolveTargets({ cwd: dir(), processEnv: { POSTGRES_PORT: '70000' } })).toThrow(
      /between 1 and 65535/,
    );
    expect(() =>
      resolveTargets({ cwd: dir(), processEnv: { COS_DEV_DATABASE_URL: 'pglite:' } }),
    ).toThrow(/needs a directory/);
  });

  it('never puts a password in an error message', () => {
    const processEnv = { COS_DEV_DATABASE_URL: 'postgres://u:hunter2@h:notaport/db' };
    try {
      resolveTargets({ cwd: dir(), processEnv });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('loadSettings', () => {
  it('env: --env, else COS_ENV, else dev; never NODE_ENV', () => {
    const cwd = dir();
    expect(loadSettings({}, { NODE_ENV: 'production' }, cwd).env).toBe('dev');
    expect(loadSettings({}, { COS_ENV: 'test' }, cwd)).toMatchObject({
      env: 'test',
      envSource: 'COS_ENV',
    });
    expect(loadSettings({ env: 'prod' }, { COS_ENV: 'test' }, cwd)).toMatchObject({
      env: 'prod',
      envSource: '--env',
    });
  });

  it('an unknown COS_ENV is a usage error listing the valid names', () => {
    expect(() => loadSettings({}, { COS_ENV: 'staging' }, dir())).toThrow(/valid: prod, dev, test/);
  });

  it('actor comes from COS_ACTOR, else the OS user', () => {
    expect(loadSettings({}, { COS_ACTOR: 'agent-7' }, dir()).actor).toBe('agent-7');
    expect(loadSettings({}, {}, dir()).actor.length).toBeGreaterThan(0);
  });
});

describe('masking and dotenv', () => {
  it('maskUrl hides the password and keeps the rest', () => {
    expect(maskUrl('postgres://u:p%40ss@h:5433/db')).toBe('postgres://u:***@h:5433/db');
    expect(maskUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(maskUrl('not a url')).toBe('<unparseable URL hidden>');
    expect(redactPassword('auth failed for pw hunter2', 'hunter2')).toBe('auth failed for pw ***');
  });

  it('parseDotenv reads quotes, export, comments and reports bad lines', () => {
    const { values, bad } = parseDotenv(
      '# c\nexport A=1\nB=\'two words\'\nC="x\\ny"\nD=v # trailing\n\nnot valid\n',
    );
    expect(values).toEqual({ A: '1', B: 'two words', C: 'x\ny', D: 'v' });
    expect(bad).toEqual([7]);
  });
});
