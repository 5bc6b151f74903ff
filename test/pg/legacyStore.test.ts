import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/** A store made by cos-db 0.1.0 (migrate, seed run), as pg_dump --inserts wrote it. */
const FIXTURE = new URL('../fixtures/store-0.1.0.sql', import.meta.url);

let old: TestDatabase;
let fresh: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-legacy-'));
const cli = (url: string, ...args: string[]) =>
  runCli(args, { env: { COS_DEV_DATABASE_URL: url }, cwd: dir });

beforeAll(async () => {
  [old, fresh] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  const client = new pg.Client(old.url);
  await client.connect();
  try {
    await client.query(readFileSync(FIXTURE, 'utf8'));
  } finally {
    await client.end();
  }
}, 60_000);
afterAll(async () => Promise.all([old.drop(), fresh.drop()]));

describe('a store made by cos-db 0.x', () => {
  it('is recognised by migrate and every command that reads it: exit 6, one line, what to do', async () => {
    for (const args of [
      ['migrate'],
      ['migrate', 'status'],
      ['query', 'events'],
      ['query', 'prd'],
      ['verify'],
      ['trace', 'seed-publish'],
      ['archive', 'event', '-'],
    ]) {
      const r = await cli(old.url, ...args);
      expect(r.code, args.join(' ')).toBe(6);
      expect(r.stderr).toContain('this store was made by cos-db 0.x');
      expect(r.stderr).toContain('start a new store');
      expect(r.stderr).not.toMatch(/missing|at .*\.js:\d+/);
    }
    const json = await cli(old.url, 'query', 'events', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { exit_code: 6 } });
  }, 120_000);

  it('export still reads it, and its events archive into a 1.0 store', async () => {
    const events = await cli(old.url, 'export', 'events', '--format', 'ndjson');
    expect(events.code, events.stderr).toBe(0);
    const records = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as object);
    expect(records).toHaveLength(6);
    expect(records[0]).toMatchObject({
      event_id: 'seed-approve',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const prds = await cli(old.url, 'export', 'prd', '--format', 'ndjson');
    expect(prds.code).toBe(0);
    const versions = prds.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(versions).toHaveLength(6);
    // Into a new store: its PRDs as markdown files, in order, then the events as exported.
    expect((await cli(fresh.url, 'migrate', '-q')).code).toBe(0);
    for (const v of versions) {
      writeFileSync(join(dir, `${v.prd_id}.md`), v.content as string);
      const archived = await cli(fresh.url, 'archive', 'prd', `${v.prd_id}.md`, '-q');
      expect(archived.code, archived.stderr).toBe(0);
    }
    writeFileSync(join(dir, 'events.ndjson'), events.stdout);
    const moved = await cli(fresh.url, 'archive', 'event', 'events.ndjson', '--json');
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ new: 6 });
    expect((await cli(fresh.url, 'trace', 'seed-publish', '-q')).code).toBe(0);
    expect((await cli(fresh.url, 'verify', '-q')).code).toBe(0);
    // A bundle is the 1.0 format only: refused, with the same line.
    const bundle = await cli(old.url, 'export', '--all', '--out', join(dir, 'old.bundle'));
    expect(bundle.code).toBe(6);
  }, 120_000);
});
