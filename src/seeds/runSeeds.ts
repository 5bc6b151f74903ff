import type { Knex } from 'knex';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { notFoundError, usageError } from '../errors.js';
import { importSource } from '../importSource.js';
import { packageRoot } from '../packageRoot.js';

const SEED_FILE = /\.(ts|mts|js|mjs)$/;

export type SeedResult = { ran: string[] };

/** The example seed sets that come with cos-db (`cos-db seed run demo`), a folder each. */
export function examplesDir(): string {
  return join(packageRoot(), 'examples');
}

function seedFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => SEED_FILE.test(n) && !n.endsWith('.d.ts'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * The project's seed files in name order; or the one named (a path, or a file of the seeds
 * folder); or, by the name of one, an example set that comes with cos-db. Examples run only
 * when named, so a project's store never receives them by accident.
 */
export function listSeeds(seedsDir: string, specific?: string): string[] {
  if (specific !== undefined) {
    const candidates = [resolve(specific), join(seedsDir, specific)];
    const found = candidates.find((p) => existsSync(p) && statSync(p).isFile());
    if (found) return [found];
    const example = join(examplesDir(), specific);
    if (/^[a-z0-9_-]+$/.test(specific) && existsSync(example)) return seedFiles(example);
    const examples = existsSync(examplesDir()) ? readdirSync(examplesDir()) : [];
    throw notFoundError(
      `no seed file ${specific} (looked in ${seedsDir}) and no example of that name`,
      {
        hint: examples.length
          ? `the examples that come with cos-db: ${examples.join(', ')}`
          : undefined,
      },
    );
  }
  return seedFiles(seedsDir);
}

/** Runs Knex-style seeds (`export async function seed(knex)`), each in its own transaction. */
export async function runSeeds(
  knex: Knex,
  seedsDir: string,
  specific?: string,
  onMessage?: (m: string) => void,
): Promise<SeedResult> {
  const files = listSeeds(seedsDir, specific);
  const ran: string[] = [];
  for (const file of files) {
    const mod = await importSource(file);
    const seed = (mod.seed ?? (mod.default as { seed?: unknown } | undefined)?.seed) as
      ((k: Knex) => Promise<unknown>) | undefined;
    if (typeof seed !== 'function')
      throw usageError(`seed ${basename(file)} exports no seed() function`);
    onMessage?.(`seeding ${basename(file)}`);
    await knex.transaction(async (trx) => {
      await seed(trx);
    });
    ran.push(basename(file));
  }
  return { ran };
}
