import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-concurrent-'));
const env = () => ({ COS_DEV_DATABASE_URL: db.url });
const cli = (...args: string[]) => runCli(args, { env: env(), cwd: dir });
const count = async () =>
  Number((await sql<{ n: string }>(db.url, 'select count(*) as n from cc.events'))[0]?.n);

/** NDJSON of events for the given modules in turn, 3,000 each (more than one chunk) by default. */
function input(name: string, prefix: string, modules: string[], each = 3000): string {
  const lines = modules.flatMap((m) =>
    Array.from({ length: each }, (_, i) =>
      JSON.stringify({ event_id: `${prefix}-${m}-${i}`, type: 't', module: m }),
    ),
  );
  writeFileSync(join(dir, name), lines.join('\n'));
  return name;
}

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli('migrate', '-q')).code).toBe(0);
});
afterAll(async () => db.drop());

describe('concurrent imports', () => {
  it('--atomic imports touching modules in opposite orders do not deadlock', async () => {
    const a = input('a.ndjson', 'a', ['ma', 'mb']);
    const b = input('b.ndjson', 'b', ['mb', 'ma']);
    const c = input('c.ndjson', 'c', ['mb', 'ma']);
    // Two atomic ones the opposite way round, and a batched one beside them.
    const results = await Promise.all([
      cli('archive', 'event', a, '--atomic', '--json'),
      cli('archive', 'event', b, '--atomic', '--json'),
      cli('archive', 'event', c, '--json'),
    ]);
    for (const r of results) {
      expect(r.stderr).not.toContain('deadlock');
      expect(r.code).toBe(0);
    }
    expect(await count()).toBe(18_000);
    expect((await cli('verify', '-q')).code).toBe(0);
  });

  it('Ctrl-C during --atomic rolls back and says so, or says the commit had happened; never both', async () => {
    const file = input(
      'big.ndjson',
      'big',
      ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8'],
      25_000,
    );
    const before = await count();
    const outcomes: string[] = [];
    for (const delay of [1500, 3000]) {
      const child = spawn(process.execPath, [BIN, 'archive', 'event', file, '--atomic'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ...env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // Interrupted once the import is under way: it is reading and writing its chunks.
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.on('close', r));
      const after = await count();
      if (after === before) {
        // Rolled back: nothing written, and nothing claims otherwise.
        expect(code).toBe(130);
        expect(stderr).toContain('rolled back');
        expect(stdout).not.toContain('new');
        outcomes.push('rolled back');
      } else {
        // Committed before the interrupt took effect: all of it, and said so.
        expect(after - before).toBe(200_000);
        expect(stderr).not.toMatch(/roll/);
        expect(stderr + stdout).toMatch(/already been committed/);
        outcomes.push('committed');
        break;
      }
    }
    expect(outcomes).toContain('rolled back');
    expect((await cli('verify', '-q')).code).toBe(0);
  });
});
