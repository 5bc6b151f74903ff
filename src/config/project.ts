import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** What makes a folder a project's root, in the order they are looked for in each folder. */
const MARKERS = [
  'knexfile.ts',
  'knexfile.js',
  'knexfile.mjs',
  'knexfile.cjs',
  'package.json',
  '.cos-db',
] as const;

export type ProjectRoot = {
  /** The folder whose .env files, migrations/, seeds/ and .cos-db/ store are the project's. */
  root: string;
  /** What marked it: "knexfile.ts", "package.json", … or that none was found. */
  foundBy: string;
};

/**
 * The project a command works for, found from the working directory the way Knex finds its
 * knexfile: the nearest folder, going up, that holds a knexfile, a package.json or a cos-db
 * store (.cos-db/). Run inside cos-db's own repository, that repository is the project. With
 * none up to the file system's root, the working directory is.
 */
export function findProjectRoot(cwd: string): ProjectRoot {
  let dir = resolve(cwd);
  for (;;) {
    const marker = MARKERS.find((m) => existsSync(join(dir, m)));
    if (marker) return { root: dir, foundBy: marker };
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { root: resolve(cwd), foundBy: 'the working directory (no project above it)' };
}
