import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * The one path an embedded store has however it is spelt: absolute, normalized (no `./`, no
 * trailing slash) and with every symlink resolved, as far as the path exists yet. Its lock file
 * is named after it, so two spellings of one store can never hold two locks.
 */
export function storePath(dir: string): string {
  const absolute = resolve(dir);
  const missing: string[] = [];
  for (let at = absolute; ; at = dirname(at)) {
    try {
      return join(realpathSync(at), ...missing.reverse());
    } catch (error) {
      const parent = dirname(at);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) return absolute;
      missing.push(basename(at));
    }
  }
}
