import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './runCli.js';

export type Served = {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM, and the exit code once it has stopped. */
  stop: () => Promise<number | null>;
  /** SIGKILL: no chance to finish anything. */
  kill: () => Promise<void>;
};

/** Starts `cos-db serve --port 0 ARGS` and waits for the address it listens on. */
export function startServe(
  env: Record<string, string>,
  args: string[] = [],
  cwd = process.cwd(),
  bin = BIN,
): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /listening on (\S+)/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          child,
          stderr: () => stderr,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
}
