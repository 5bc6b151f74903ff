import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseError } from '../../src/db/databaseError.js';
import { ExitCode } from '../../src/errors.js';
import { startCluster } from '../support/postgresServer.js';
import { BIN, runCli, type CliResult } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

/**
 * Real faults of the server, named truthfully: a terminated backend, a cancelled or timed-out
 * statement, a deadlock, a refused privilege, a server stopped mid-import, a connection cut by a
 * proxy mid-batch. Each has its own line, hint and exit code; a batched import keeps what it
 * committed, says how far it got, and with --retries reconnects and finishes.
 */
const N = 100_000;
let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-faults-'));
writeFileSync(
  join(dir, 'big.ndjson'),
  Array.from({ length: N }, (_, i) =>
    JSON.stringify({ event_id: `f${i}`, type: 't', module: `m${i % 3}`, payload: { i } }),
  ).join('\n'),
);
// Three times as many, for faults that must land while an import is well under way.
writeFileSync(
  join(dir, 'huge.ndjson'),
  [0, 1, 2]
    .map((k) =>
      readFileSync(join(dir, 'big.ndjson'), 'utf8').replaceAll(
        '"event_id":"f',
        `"event_id":"h${k}-`,
      ),
    )
    .join('\n'),
);
const count = async (url = db.url) =>
  Number((await sql<{ n: string }>(url, 'select count(*) as n from cc.events'))[0]?.n);

/** Runs cos-db in the background; `during` runs once the import has committed something. */
async function importWith(
  url: string,
  args: string[],
  during: () => Promise<void>,
  env: Record<string, string> = {},
  file = 'big.ndjson',
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, 'archive', 'event', file, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', COS_DEV_DATABASE_URL: url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', r));
  for (let i = 0; i < 400 && child.exitCode === null; i += 1) {
    if ((await count(url).catch(() => 0)) >= 4000) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  await during();
  return { code: await closed, stdout, stderr };
}

// Sessions in a batch that has written (it holds a transaction id): one idle in the pool
// between batches is replaced unnoticed, and so is one whose batch has just committed.
const cosSessions = (fn: string) =>
  `select ${fn}(pid) as hit from pg_stat_activity
    where datname = current_database() and application_name like 'cos-db archive%'
      and state <> 'idle' and backend_xid is not null`;

/** Signals the import's session until one signal lands (or the import has ended). */
async function hitSession(url: string, fn: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const rows = await sql<{ hit: boolean }>(url, cosSessions(fn));
    if (rows.some((r) => r.hit)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await runCli(['migrate', '-q'], { env: { COS_DEV_DATABASE_URL: db.url } })).code).toBe(0);
});
afterAll(async () => db.drop());

const verifies = async (url: string) =>
  (await runCli(['verify', '-q'], { env: { COS_DEV_DATABASE_URL: url }, cwd: dir })).code;

describe('faults of the server', () => {
  it('a terminated backend: exit 5, what was committed stays and is said; re-running completes', async () => {
    // The kill must land while the import writes. On a busy machine the import can finish before
    // a writing session is seen (exit 0, nothing injected): then it is tried again, on a new
    // database, at most three times.
    for (let attempt = 1; ; attempt += 1) {
      const fresh = await createTestDatabase();
      try {
        const env = { COS_DEV_DATABASE_URL: fresh.url };
        expect((await runCli(['migrate', '-q'], { env })).code).toBe(0);
        const r = await importWith(
          fresh.url,
          ['--retries', '0', '--json'],
          () => hitSession(fresh.url, 'pg_terminate_backend'),
          {},
          'huge.ndjson',
        );
        if (r.code === 0 && attempt < 3) continue;
        expect(r.code).toBe(ExitCode.connection);
        expect(r.stderr).not.toContain('internal error');
        // Terminated mid-statement, the server says why (57P01); between statements the socket
        // just closes under the client.
        expect(r.stderr).toMatch(
          /terminated by an administrator|connection to the database was lost/,
        );
        expect(r.stderr).toMatch(/re-running the same command is safe/);
        const error = (JSON.parse(r.stdout) as { error: { exit_code: number; archived: number } })
          .error;
        expect(error.exit_code).toBe(5);
        // Exactly the committed batches stay, as the error says.
        expect(await count(fresh.url)).toBe(error.archived);
        expect(error.archived % 2000).toBe(0);
        const again = await runCli(['archive', 'event', 'huge.ndjson', '--json'], {
          env,
          cwd: dir,
        });
        expect(again.code).toBe(0);
        expect(JSON.parse(again.stdout)).toMatchObject({
          new: 3 * N - error.archived,
          already_archived: error.archived,
        });
        expect(await verifies(fresh.url)).toBe(0);
        return;
      } finally {
        await fresh.drop();
      }
    }
  });

  it('with --retries, a terminated backend is reconnected and the batch written again', async () => {
    const fresh = await createTestDatabase();
    try {
      expect(
        (await runCli(['migrate', '-q'], { env: { COS_DEV_DATABASE_URL: fresh.url } })).code,
      ).toBe(0);
      const r = await importWith(
        fresh.url,
        ['--retries', '3', '--json'],
        () => hitSession(fresh.url, 'pg_terminate_backend'),
        {},
        'huge.ndjson',
      );
      expect(r.stderr).toContain('writing the batch again');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ new: 3 * N, already_archived: 0 });
      expect(await count(fresh.url)).toBe(3 * N);
      expect(await verifies(fresh.url)).toBe(0);
    } finally {
      await fresh.drop();
    }
  });

  it('a cancelled statement (pg_cancel_backend) and a statement timeout: exit 8, not retried', async () => {
    const r = await importWith(
      db.url,
      ['--json'],
      // Cancelled while it writes: a cancel is the user's (or an administrator's) will, not retried.
      () => hitSession(db.url, 'pg_cancel_backend'),
      {},
    );
    if (r.code !== 0) {
      expect(r.code).toBe(ExitCode.serverRefused);
      expect(r.stderr).toContain('the statement was cancelled');
    }
    const timeout = await runCli(['verify', '--json'], {
      env: { COS_DEV_DATABASE_URL: db.url, PGOPTIONS: '-c statement_timeout=1' },
      cwd: dir,
    });
    expect(timeout.code).toBe(ExitCode.serverRefused);
    expect(timeout.stderr).toContain('statement_timeout');
    expect(JSON.parse(timeout.stdout)).toMatchObject({
      error: { exit_code: 8, sqlstate: '57014' },
    });
  });

  it('a permission refused: exit 9 with the hint, --json prints the error document', async () => {
    const role = `nopriv_${Math.random().toString(36).slice(2, 8)}`;
    await sql(db.url, `create role ${role} login`);
    try {
      const url = Object.assign(new URL(db.url), { username: role }).toString();
      const r = await runCli(['query', 'events', '--json'], {
        env: { COS_DEV_DATABASE_URL: url },
        cwd: dir,
      });
      expect(r.code).toBe(ExitCode.permission);
      expect(r.stderr).toContain('permission denied');
      expect(r.stderr).toContain('agent-role');
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { exit_code: 9, sqlstate: '42501' } });
    } finally {
      await sql(db.url, `drop role ${role}`);
    }
  });

  it('a real deadlock with another session: exit 8 without retries; with them, written again', async () => {
    // Another session holds chain m1's lock, then asks for the events table's gate, which the
    // import holds (shared) while it waits for m1: a cycle, which the server breaks by aborting
    // the import (it waited first, so its deadlock check runs first).
    const chainKey = "pg_advisory_xact_lock(6516595 + 1, hashtext('cc.events:m1'))";
    const gateKey = "pg_advisory_xact_lock(6516595 + 2, hashtext('cc.events'))";
    const outcome = async (args: string[]) => {
      const fresh = await createTestDatabase();
      const other = new pg.Client({ connectionString: fresh.url });
      try {
        expect(
          (await runCli(['migrate', '-q'], { env: { COS_DEV_DATABASE_URL: fresh.url } })).code,
        ).toBe(0);
        await other.connect();
        await other.query(`begin; select ${chainKey}`);
        const child = runCli(['archive', 'event', 'big.ndjson', ...args], {
          env: { COS_DEV_DATABASE_URL: fresh.url },
          cwd: dir,
        });
        for (let i = 0; i < 500; i += 1) {
          const waiting = await sql(
            fresh.url,
            "select 1 from pg_stat_activity where application_name like 'cos-db archive%' and wait_event = 'advisory'",
          );
          if (waiting.length) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        // Whichever way the server breaks the cycle, this session then lets go.
        const released = other
          .query(`select ${gateKey}`)
          .catch(() => undefined)
          .then(() => other.query('rollback'));
        const r = await child;
        await released;
        return { r, n: await count(fresh.url) };
      } finally {
        await other.end().catch(() => undefined);
        await fresh.drop();
      }
    };
    const refused = await outcome(['--retries', '0']);
    expect(refused.r.code, refused.r.stderr).toBe(ExitCode.serverRefused);
    expect(refused.r.stderr).toContain('deadlock');
    expect(refused.n).toBe(0);
    const retried = await outcome(['--retries', '2']);
    expect(retried.r.code, retried.r.stderr).toBe(0);
    expect(retried.r.stderr).toContain('deadlock');
    expect(retried.n).toBe(N);
  }, 60_000);

  it('a real deadlock is classified: exit 8, retryable', async () => {
    const a = new pg.Client({ connectionString: db.url });
    const b = new pg.Client({ connectionString: db.url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query('begin; select pg_advisory_xact_lock(1)');
      await b.query('begin; select pg_advisory_xact_lock(2)');
      const results = await Promise.allSettled([
        a.query('select pg_advisory_xact_lock(2)'),
        b.query('select pg_advisory_xact_lock(1)'),
      ]);
      const failure = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      const known = databaseError(failure.reason);
      expect(known?.exitCode).toBe(ExitCode.serverRefused);
      expect(known?.message).toContain('deadlock');
      expect(known?.details).toMatchObject({ sqlstate: '40P01', retryable: true });
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});

describe('faults of the connection', () => {
  it('a server stopped mid-import: exit 5 saying how far it got; restarted, re-running completes', async () => {
    const cluster = await startCluster();
    try {
      const admin = new URL(cluster.url);
      await sql(cluster.url, 'create database faults');
      admin.pathname = '/faults';
      const url = admin.toString();
      expect((await runCli(['migrate', '-q'], { env: { COS_DEV_DATABASE_URL: url } })).code).toBe(
        0,
      );
      const r = await importWith(url, ['--retries', '1'], () => cluster.kill(), {}, 'huge.ndjson');
      expect(r.code, r.stderr).toBe(ExitCode.connection);
      expect(r.stderr).not.toContain('internal error');
      expect(r.stderr).toMatch(/events up to huge\.ndjson:\d+ were archived|nothing was archived/);
      await cluster.start();
      const again = await runCli(['archive', 'event', 'huge.ndjson', '--json'], {
        env: { COS_DEV_DATABASE_URL: url },
        cwd: dir,
      });
      expect(again.code).toBe(0);
      expect(await count(url)).toBe(3 * N);
      expect(await verifies(url)).toBe(0);
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  it('a TCP proxy that cuts the connection mid-batch: retried and finished, exactly', async () => {
    const fresh = await createTestDatabase();
    const upstream = new URL(fresh.url);
    let cutAfter = 2_000_000; // bytes from cos-db: well into the import
    let cuts = 0;
    const sockets = new Set<Socket>();
    const proxy: Server = createServer((client) => {
      const server = createConnection(Number(upstream.port || 5432), upstream.hostname);
      sockets.add(client).add(server);
      let sent = 0;
      client.on('data', (d: Buffer) => {
        sent += d.length;
        if (cutAfter > 0 && sent > cutAfter) {
          cutAfter = 0;
          cuts += 1;
          client.destroy();
          server.destroy();
          return;
        }
        server.write(d);
      });
      server.on('data', (d: Buffer) => client.write(d));
      for (const s of [client, server]) s.on('error', () => undefined);
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const viaProxy = Object.assign(new URL(fresh.url), { host: `127.0.0.1:${port}` }).toString();
    try {
      expect(
        (await runCli(['migrate', '-q'], { env: { COS_DEV_DATABASE_URL: fresh.url } })).code,
      ).toBe(0);
      const r = await runCli(['archive', 'event', 'big.ndjson', '--json'], {
        env: { COS_DEV_DATABASE_URL: viaProxy },
        cwd: dir,
      });
      expect(cuts).toBe(1);
      expect(r.stderr).toContain('connection to the database was lost');
      expect(r.stderr).toContain('writing the batch again');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ new: N });
      expect(await count(fresh.url)).toBe(N);
      expect(await verifies(fresh.url)).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
      await fresh.drop();
    }
  });
});
