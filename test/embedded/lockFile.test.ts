import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquireLockFile } from '../../src/db/lockFile.js';
import { storePath } from '../../src/db/storePath.js';
import { runCli } from '../support/runCli.js';

const LOCK_MODULE =
  process.env.COS_TEST_LOCK_MODULE ??
  fileURLToPath(new URL('../../dist/src/db/lockFile.js', import.meta.url));
const STRESS = fileURLToPath(new URL('../support/lockStress.mjs', import.meta.url));

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`)),
    );
  });
}

describe('the embedded store lock', () => {
  const base = mkdtempSync(join(tmpdir(), 'cos-db-lock-'));
  const dir = join(base, 'store');
  mkdirSync(dir);
  symlinkSync(dir, join(base, 'link'));
  const spellings = [
    dir,
    `${dir}/`,
    join(base, '.', 'store', '.'),
    relative(process.cwd(), dir),
    `./${relative(process.cwd(), dir)}/`,
    join(base, 'link'),
    `${join(base, 'link')}/`,
  ];

  it('is one lock whatever the spelling: relative, ./, a trailing slash, a symlink', async () => {
    for (const a of spellings) {
      expect(storePath(a)).toBe(storePath(dir));
      const release = await acquireLockFile(`${storePath(a)}.lock`, {
        timeoutMs: 1000,
        command: 'a',
      });
      try {
        for (const b of spellings) {
          await expect(
            acquireLockFile(`${storePath(b)}.lock`, { timeoutMs: 150, command: 'b' }),
          ).rejects.toMatchObject({ exitCode: 7 });
        }
      } finally {
        release();
      }
    }
    // A store not created yet resolves through its nearest existing folder.
    expect(storePath(join(base, 'link', 'new', 'deeper/'))).toBe(join(dir, 'new', 'deeper'));
  });

  it('two writers naming one store two ways serialize: both archive, verify passes', async () => {
    const events = (prefix: string) =>
      Array.from({ length: 3000 }, (_, i) =>
        JSON.stringify({ event_id: `${prefix}${i}`, type: 't', module: `m${i % 3}` }),
      ).join('\n');
    const work = mkdtempSync(join(tmpdir(), 'cos-db-lock2-'));
    writeFileSync(join(work, 'a.ndjson'), events('a'));
    writeFileSync(join(work, 'b.ndjson'), events('b'));
    mkdirSync(join(work, 'real'));
    symlinkSync(join(work, 'real'), join(work, 'alias'));
    const url = (spelling: string) => ({ COS_DEV_DATABASE_URL: `pglite:${spelling}` });
    expect((await runCli(['migrate', '-q'], { env: url('real'), cwd: work })).code).toBe(0);
    const [a, b] = await Promise.all([
      runCli(['archive', 'event', 'a.ndjson', '-q'], { env: url(`${work}/real/`), cwd: work }),
      runCli(['archive', 'event', 'b.ndjson', '-q'], { env: url('alias'), cwd: work }),
    ]);
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([
      0,
      expect.any(String),
      0,
      expect.any(String),
    ]);
    const verified = await runCli(['verify', '--json'], { env: url('./real'), cwd: work });
    expect(verified.code).toBe(0);
    expect((JSON.parse(verified.stdout) as { rows: number }).rows).toBe(6000);
  });

  it('eight processes taking it in a loop, some dying while they hold it, never hold it twice', async () => {
    const work = mkdtempSync(join(tmpdir(), 'cos-db-lock3-'));
    const counter = join(work, 'counter');
    writeFileSync(counter, '0');
    const args = (dieEvery: number) => [
      STRESS,
      LOCK_MODULE,
      join(work, 'store.lock'),
      join(work, 'marker'),
      counter,
      '150',
      String(dieEvery),
    ];
    // Four run all their iterations; four die holding the lock at their 40th, and are followed
    // by another process each.
    const results = await Promise.all([
      ...[0, 0, 0, 0].map(() => run(args(0))),
      ...[40, 40, 40, 40].map(async () => [await run(args(40)), await run(args(40))].join('\n')),
    ]);
    const reports = results
      .flatMap((r) => r.split('\n').flatMap((line) => line.split(/(?<=})(?={)/)))
      .map((line) => JSON.parse(line) as { doubles: number; held: number });
    const doubles = reports.reduce((n, r) => n + r.doubles, 0);
    const held = reports.reduce((n, r) => n + r.held, 0);
    expect(doubles).toBe(0);
    expect(held).toBe(4 * 150 + 8 * 40);
    const { readFileSync } = await import('node:fs');
    expect(Number(readFileSync(counter, 'utf8'))).toBe(held);
  }, 120_000);
});
