import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type ScopedImport = (specifier: string, parent: string) => Promise<Record<string, unknown>>;
type ScopedRequire = (id: string, fromFile: string) => Record<string, unknown>;
let tsImporter: Promise<ScopedImport> | undefined;
let tsRequirer: Promise<ScopedRequire> | undefined;

/** The "type" of the package each folder belongs to, looked up once per folder. */
const packageTypes = new Map<string, string | undefined>();

function packageType(dir: string): string | undefined {
  if (packageTypes.has(dir)) return packageTypes.get(dir);
  let type: string | undefined;
  const manifest = join(dir, 'package.json');
  if (existsSync(manifest)) {
    try {
      type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type ?? 'commonjs';
    } catch {
      type = 'commonjs';
    }
  } else if (dirname(dir) !== dir) type = packageType(dirname(dir));
  packageTypes.set(dir, type);
  return type;
}

/** Whether Node treats a .ts file as CommonJS: .cts, or .ts outside a "type": "module" package. */
function isCommonJs(path: string): boolean {
  if (path.endsWith('.cts')) return true;
  if (path.endsWith('.mts')) return false;
  return packageType(dirname(path)) !== 'module';
}

/**
 * Imports a user-written module (a migration, a seed). TypeScript goes through one namespaced
 * tsx loader, registered on first need and reused (registering one is slow: docs/performance.md):
 * no ts-node, no build step, ESM or CommonJS alike. CommonJS files are required in this thread
 * (tsx's require hook); through the ESM loader each would be a round trip to its worker thread.
 */
export async function importSource(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (!/\.[mc]?ts$/.test(path)) return (await import(url)) as Record<string, unknown>;
  if (isCommonJs(path)) {
    tsRequirer ??= import('tsx/cjs/api').then(
      ({ register }) => register({ namespace: 'cos-db' }).require as ScopedRequire,
    );
    return (await tsRequirer)(path, import.meta.url);
  }
  tsImporter ??= import('tsx/esm/api').then(
    ({ register }) => register({ namespace: 'cos-db' }).import as ScopedImport,
  );
  return (await tsImporter)(url, import.meta.url);
}
