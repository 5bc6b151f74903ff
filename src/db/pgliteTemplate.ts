import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../packageRoot.js';

function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version: string };
      if (pkg.name === '@electric-sql/pglite') return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/**
 * initdb inside PGlite takes seconds. Instead, a data directory made right after initdb is kept
 * in dist/ (built once per PGlite version by `npm run build`) and copied for every new store,
 * which is many times quicker (docs/performance.md).
 */
export function pgliteTemplateDir(): string {
  return join(packageRoot(), 'dist', `pglite-template-${pgliteVersion()}`);
}

/**
 * The template's empty folders, listed in a file of its own: npm pack leaves empty folders out
 * of the package, and PostgreSQL needs every one of them (pg_notify, pg_tblspc, …).
 */
const EMPTY_DIRS = 'cos-db-empty-dirs.json';

function emptyDirs(root: string, dir = root): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.length === 0 && dir !== root) return [dir.slice(root.length + 1)];
  return entries.filter((e) => e.isDirectory()).flatMap((e) => emptyDirs(root, join(dir, e.name)));
}

/**
 * Fills an empty data directory from the template; false when there is no template (the store
 * is then created by initdb). Copies beside the target and renames, so an interrupted copy never
 * leaves a half-made store under the real name.
 */
export function copyPgliteTemplate(dataDir: string): boolean {
  const template = pgliteTemplateDir();
  if (!existsSync(join(template, 'PG_VERSION')) || !existsSync(join(template, EMPTY_DIRS)))
    return false;
  const partial = `${dataDir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(dirname(dataDir), { recursive: true });
  cpSync(template, partial, { recursive: true });
  const empty = JSON.parse(readFileSync(join(partial, EMPTY_DIRS), 'utf8')) as string[];
  for (const dir of empty) mkdirSync(join(partial, dir), { recursive: true });
  rmSync(join(partial, EMPTY_DIRS));
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(partial, dataDir);
  return true;
}

export async function buildPgliteTemplate(): Promise<{ dir: string; built: boolean }> {
  const dir = pgliteTemplateDir();
  if (existsSync(join(dir, 'PG_VERSION')) && existsSync(join(dir, EMPTY_DIRS)))
    return { dir, built: false };
  rmSync(dir, { recursive: true, force: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  // 1 MB WAL segments instead of 16: a new store needs no more, and every copy is smaller.
  const db = new PGlite(partial, { initDbStartParams: ['--wal-segsize=1'] });
  await db.waitReady;
  await db.close();
  writeFileSync(join(partial, EMPTY_DIRS), `${JSON.stringify(emptyDirs(partial))}\n`);
  renameSync(partial, dir);
  return { dir, built: true };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { dir, built } = await buildPgliteTemplate();
  console.error(
    built
      ? `built the embedded-store template ${dir}`
      : `embedded-store template up to date: ${dir}`,
  );
}
