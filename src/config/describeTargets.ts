import { Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { ENV_NAMES, type EnvName } from './envs.js';
import { maskUrl } from './maskUrl.js';
import type { Target } from './resolveTargets.js';

export type TargetDescription = {
  env: EnvName;
  selected: boolean;
  engine: 'postgres' | 'embedded';
  target: string;
  host: string | null;
  port: number | null;
  database: string | null;
  user: string | null;
  data_dir: string | null;
  source: string;
  parts: Record<string, string>;
  /** true/false after a TCP probe (server) or a look at the data directory (embedded); null if not checked. */
  reachable: boolean | null;
  state: string;
};

function probe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

/** What `cos-db env` shows: every env's target with the password masked, and whether it answers. */
export async function describeTargets(
  targets: Record<EnvName, Target>,
  selected: EnvName,
  check: boolean,
): Promise<TargetDescription[]> {
  return Promise.all(
    ENV_NAMES.map(async (env): Promise<TargetDescription> => {
      const t = targets[env];
      if (t.engine === 'embedded') {
        const exists = existsSync(t.dataDir);
        return {
          env,
          selected: env === selected,
          engine: 'embedded',
          target: `pglite:${t.dataDir}`,
          host: null,
          port: null,
          database: null,
          user: null,
          data_dir: t.dataDir,
          source: t.source,
          parts: {},
          reachable: check ? true : null,
          state: exists ? 'store exists' : 'created on first use',
        };
      }
      const reachable = check ? await probe(t.host, t.port, 1000) : null;
      return {
        env,
        selected: env === selected,
        engine: 'postgres',
        target: maskUrl(t.url),
        host: t.host,
        port: t.port,
        database: t.database,
        user: t.user ?? null,
        data_dir: null,
        source: t.source,
        parts: t.parts,
        reachable,
        state: reachable === null ? 'not checked' : reachable ? 'port open' : 'no answer',
      };
    }),
  );
}
