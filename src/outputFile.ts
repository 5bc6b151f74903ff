import {
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { usageError } from './errors.js';
import { isAlive } from './isAlive.js';

function kindOf(path: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return undefined;
  }
  if (stat.isFile()) return undefined;
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isFIFO()) return 'a named pipe';
  return 'not a regular file';
}

/**
 * Makes sure a file cos-db writes whole (written beside it as NAME.partial-PID, then renamed over
 * it) may go there: nothing but a regular file is ever replaced — a rename over /dev/null, a
 * symlink or a folder would replace the node itself, which as root breaks the machine — and the
 * folder exists (or, with `createFolder`, is made, mode 0700: it is for keys). Partial files left
 * by a run that was killed are removed.
 */
export function prepareOutputFile(
  path: string,
  options: { label: string; createFolder?: boolean },
): void {
  const kind = kindOf(path);
  if (kind)
    throw usageError(`${options.label} ${path} is ${kind}: cos-db writes only regular files`, {
      hint: 'name a file (it is replaced whole when the output is complete), or leave the option out and redirect stdout',
    });
  const folder = dirname(path);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    if (options.createFolder) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      isFolder = true;
    }
  }
  if (!isFolder)
    throw usageError(`${options.label} ${path}: the folder ${folder} does not exist`, {
      hint: 'create it first, or choose another path',
    });
  const partial = new RegExp(
    `^${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.partial-(\\d+)$`,
  );
  for (const name of readdirSync(folder)) {
    const pid = Number(partial.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid)) rmSync(join(folder, name), { force: true });
  }
}

/**
 * Writes a file whole: beside it as NAME.partial-PID, then renamed over it, so a crash never
 * leaves half a file under the real name.
 */
export function writeWholeFile(path: string, text: string, label: string): void {
  prepareOutputFile(path, { label });
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}
