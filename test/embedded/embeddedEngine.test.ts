import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmbeddedTarget } from '../../src/config/resolveTargets.js';
import { acquireLockFile } from '../../src/db/lockFile.js';
import { withDatabase } from '../../src/db/withDatabase.js';
import { ExitCode } from '../../src/errors.js';

function target(dir: string, explicit = false): EmbeddedTarget {
  return { env: 'dev', engine: 'embedded', dataDir: join(dir, 'store'), source: 'test', explicit };
}

describe('embedded engine (PGlite)', () => {
  it('returns int8 as a string, as node-postgres does, and says it is embedded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-pglite-'));
    const notices: string[] = [];
    const rows = await withDatabase(
      target(dir),
      { lockTimeoutMs: 1000, command: 'test', notice: (m) => notices.push(m) },
      async (db) => (await db.knex.raw('select 9007199254740993::int8 as n, 2::int4 as i')).rows,
    );
    expect(rows).toEqual([{ n: '9007199254740993', i: 2 }]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/using the embedded store at .*store/);
    // The lock file is gone once the command is done.
    expect(existsSync(join(dir, 'store.lock'))).toBe(false);
  });

  it('keeps data across openings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-pglite-'));
    const options = { lockTimeoutMs: 1000, command: 'test' };
    await withDatabase(target(dir, true), options, (db) =>
      db.knex.raw('create table t (x int); insert into t values (42)'),
    );
    const rows = await withDatabase(
      target(dir, true),
      options,
      async (db) => (await db.knex.raw('select x from t')).rows,
    );
    expect(rows).toEqual([{ x: 42 }]);
  });
});

describe('lock file', () => {
  it('a second holder waits, then fails with exit 7 naming the holder', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cos-db-lock-')), 'store.lock');
    const release = await acquireLockFile(path, { timeoutMs: 0, command: 'first' });
    const waits: number[] = [];
    const second = acquireLockFile(path, {
      timeoutMs: 300,
      command: 'second',
      onWait: (h) => waits.push(h.pid),
    });
    await expect(second).rejects.toMatchObject({
      exitCode: ExitCode.lockTimeout,
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    expect(waits).toEqual([process.pid]);
    release();
    const third = await acquireLockFile(path, { timeoutMs: 0, command: 'third' });
    third();
  });

  it('a lock left by a dead process is broken', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cos-db-lock-')), 'store.lock');
    // pid 2^22+1 is above Linux's pid_max default, so no live process has it.
    writeFileSync(
      path,
      JSON.stringify({ pid: 4194305, host: hostname(), command: 'crashed', since: '' }),
    );
    const release = await acquireLockFile(path, { timeoutMs: 0, command: 'next' });
    release();
  });

  it('waiting ends as soon as the holder releases', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cos-db-lock-')), 'store.lock');
    const release = await acquireLockFile(path, { timeoutMs: 0, command: 'first' });
    setTimeout(release, 200);
    const next = await acquireLockFile(path, { timeoutMs: 5000, command: 'second' });
    next();
  });
});
