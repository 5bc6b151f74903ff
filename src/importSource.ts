import { pathToFileURL } from 'node:url';

type ScopedImport = (specifier: string, parent: string) => Promise<Record<string, unknown>>;
let tsImporter: Promise<ScopedImport> | undefined;

/**
 * Imports a user-written module (a migration, a seed). TypeScript goes through one namespaced
 * tsx loader, registered on first need and reused (registering one per file cost ~25 ms each):
 * no ts-node, no build step, ESM or CommonJS alike.
 */
export async function importSource(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (!/\.[mc]?ts$/.test(path)) return (await import(url)) as Record<string, unknown>;
  tsImporter ??= import('tsx/esm/api').then(
    ({ register }) => register({ namespace: 'cos-db' }).import as ScopedImport,
  );
  return (await tsImporter)(url, import.meta.url);
}
