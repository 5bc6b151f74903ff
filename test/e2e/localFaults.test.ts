import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meter } from '../../src/cli/meter.js';
import { visible } from '../../src/cli/output.js';
import { BIN, runCli, type CliResult } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

/** Faults of the local side and bad input: each one line, a documented exit code, nothing lost quietly. */
let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-local-'));
const env = () => ({ COS_DEV_DATABASE_URL: db.url });
const cli = (...args: string[]) => runCli(args, { env: env(), cwd: dir });

/** Runs cos-db with its stdout on a file descriptor of the test's choosing (e.g. /dev/full). */
function runTo(stdoutPath: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    import('node:fs')
      .then(({ openSync }) => {
        const fd = openSync(stdoutPath, 'w');
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', ...env() },
          stdio: ['ignore', fd, 'pipe'] as const,
        });
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout: '', stderr });
        });
      })
      .catch(reject);
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli('migrate', '-q')).code).toBe(0);
  writeFileSync(
    join(dir, 'e.ndjson'),
    Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({ event_id: `l${i}`, type: 't', payload: { text: 'x'.repeat(50) } }),
    ).join('\n'),
  );
  expect((await cli('archive', 'event', 'e.ndjson', '-q')).code).toBe(0);
  writeFileSync(join(dir, 'p.md'), '---\nid: p\n---\n# P\n');
  expect((await cli('archive', 'prd', 'p.md', '-q')).code).toBe(0);
});
afterAll(async () => db.drop());

describe('writing the output', () => {
  it('a full stdout (/dev/full) is an error on stderr and exit 10, never a hang or a silent 0', async () => {
    for (const args of [
      ['export', 'events'],
      ['export', 'prd'],
      ['export', 'events', '--format', 'csv'],
      ['verify'],
      ['query', 'events', '--limit', '500'],
      ['trace', 'l1'],
    ]) {
      const r = await runTo('/dev/full', args);
      expect(r.code, args.join(' ')).toBe(10);
      expect(r.stderr).toContain('cannot write to standard output');
    }
  });

  it('a closed pipe (| head) ends quietly with exit 0', async () => {
    const child = spawn(process.execPath, [BIN, 'export', 'events'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(stderr).not.toContain('error');
  });

  it('--out replaces only a regular file: a device, a symlink, a folder exit 2 untouched', async () => {
    mkdirSync(join(dir, 'folder'));
    symlinkSync('/dev/null', join(dir, 'link'));
    for (const target of ['/dev/full', '/dev/null', join(dir, 'link'), join(dir, 'folder')]) {
      const before = lstatSync(target);
      const r = await cli('export', 'events', '--out', target);
      expect(r.code, target).toBe(2);
      expect(r.stderr).toMatch(
        /is (a device|a symbolic link|a directory): cos-db writes only regular files/,
      );
      const after = lstatSync(target);
      expect([after.mode, after.ino, after.rdev]).toEqual([before.mode, before.ino, before.rdev]);
    }
    const missing = await cli('export', 'events', '--out', join(dir, 'no', 'such', 'x.ndjson'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const checkpoint = await cli('verify', '--write-checkpoint', '/dev/null', '--key', 'k');
    expect(checkpoint.code).toBe(2);
  });

  it('keygen makes a missing folder (mode 0700); a stale partial export is cleaned up', async () => {
    const keyDir = join(dir, 'home', '.config', 'cos-db');
    const r = await cli('keygen', '--out', join(keyDir, 'signing.key'));
    expect(r.code).toBe(0);
    expect(statSync(keyDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(keyDir, 'signing.key')).mode & 0o777).toBe(0o600);
    // A partial file of a process that no longer exists, beside the export's name.
    const dead = 2 ** 22 + 12345;
    writeFileSync(join(dir, `out.ndjson.partial-${dead}`), 'half');
    expect((await cli('export', 'events', '--out', 'out.ndjson')).code).toBe(0);
    expect(readdirSync(dir).filter((n) => n.startsWith('out.ndjson'))).toEqual(['out.ndjson']);
  });

  it('Ctrl-C on export --out exits 130 and leaves no file', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'export', 'events', '--format', 'csv', '--out', 'cut.csv'],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env() }, stdio: 'ignore' },
    );
    for (let i = 0; i < 200 && !readdirSync(dir).some((n) => n.startsWith('cut.csv.partial')); i++)
      await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    // Either interrupted (130, nothing left) or it had already finished (0, the whole file).
    if (code === 130) expect(readdirSync(dir).filter((n) => n.startsWith('cut.csv'))).toEqual([]);
    else expect([code, existsSync(join(dir, 'cut.csv'))]).toEqual([0, true]);
  });
});

describe('bad input, all of it exit 2 naming the line', () => {
  it('invalid UTF-8 in an event file is refused, naming its line', async () => {
    const lines = [
      Buffer.from('{"type":"ok"}\n{"type":"fine"}\n'),
      Buffer.from([
        0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a,
      ]),
    ];
    writeFileSync(join(dir, 'latin.ndjson'), Buffer.concat(lines));
    const before = await sql(db.url, 'select count(*)::int as n from cc.events');
    const r = await cli('archive', 'event', 'latin.ndjson');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('latin.ndjson:3: not UTF-8 text');
    expect(await sql(db.url, 'select count(*)::int as n from cc.events')).toEqual(before);
  });

  it('--since out of range, and verify --chain that names no chain (exit 3)', async () => {
    for (const since of ['+275760-09-13T00:00:00Z', '0000-01-01', 'soon']) {
      const r = await cli('query', 'events', '--since', since);
      expect(r.code, since).toBe(2);
      expect(r.stderr).toContain('--since');
    }
    const r = await cli('verify', '--chain', 'typo', '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { exit_code: 3 } });
  });

  it('control characters in ids and types are escaped on a terminal, kept in JSON', async () => {
    writeFileSync(
      join(dir, 'ctl.json'),
      JSON.stringify({ event_id: 'ctl\u001b]0;owned\u0007', type: 'bell\u0007\r' }),
    );
    expect((await cli('archive', 'event', 'ctl.json', '-q')).code).toBe(0);
    const human = await cli('query', 'events', '--type', 'bell\u0007\r');
    expect(human.stdout).toContain('ctl\\x1b]0;owned\\x07');
    expect(human.stdout).not.toContain('\u001b]');
    const json = await cli('query', 'events', 'ctl\u001b]0;owned\u0007', '--json');
    expect(json.stdout).toContain('\\u001b]0;owned\\u0007');
    expect(visible('a\tb\u001b[31mred\u001b[0m\n')).toBe('a\\tb\u001b[31mred\u001b[0m\n');
  });

  it('the same memory link twice is stored once', async () => {
    const first = await cli('link', 'add', 'l1', 'l3://x/1', '--json');
    const again = await cli('link', 'add', 'l1', 'l3://x/1', '--json');
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(JSON.parse(again.stdout)).toMatchObject({ already_linked: true });
    expect(
      await sql(db.url, "select count(*)::int as n from cc.memory_links where ref = 'l1'"),
    ).toEqual([{ n: 1 }]);
    expect((await cli('link', 'add', 'l1', 'l3://x/1')).stdout).toContain('already linked');
  });
});

describe('long work shows how far it is', () => {
  it('the meter gives the rate, and with a total, how far and the time left', () => {
    const lines: string[] = [];
    const m = meter({ update: (t) => lines.push(t), stop() {}, shown: true }, 'archived', 'events');
    const start = performance.now();
    while (performance.now() - start < 600);
    m.update(16_000, 0.25);
    expect(lines[0]).toMatch(/^archived 16,000 events · [\d,]+ events\/s · 25% · [\d.]+ s left$/);
    expect(m.summary(16_000)).toMatch(/^in [\d.]+ s \([\d,]+ events\/s\)$/);
  });

  it('on a terminal (a real pty, through script(1)), archive shows rate, percentage and time left', async () => {
    writeFileSync(
      join(dir, 'tty.ndjson'),
      Array.from({ length: 60_000 }, (_, i) =>
        JSON.stringify({ event_id: `tty${i}`, type: 't' }),
      ).join('\n'),
    );
    const log = join(dir, 'typescript');
    const command = `stty cols 120 rows 40; exec ${process.execPath} ${BIN} archive event tty.ndjson`;
    const r = spawnSync('script', ['-qec', command, log], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env() },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const screen = readFileSync(log, 'utf8');
    expect(screen).toMatch(/archived [\d,]+ events · [\d,]+ events\/s · \d+% · [\d.]+ s left/);
    expect(screen).toMatch(/60,000 new; 0 already archived in [\d.]+ s/);
  });

  it('the final summary line gives the time taken and the rate', async () => {
    const r = await cli('archive', 'event', 'e.ndjson');
    expect(r.stdout).toMatch(/0 new; 30,000 already archived in [\d.]+ s \([\d,]+ events\/s\)/);
    const e = await cli('export', 'events', '--out', 'again.ndjson');
    expect(e.stdout).toMatch(/wrote [\d,]+ rows to again\.ndjson in [\d.]+ s \([\d,]+ rows\/s\)/);
  });
});
