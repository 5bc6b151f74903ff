import type { Knex } from 'knex';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { notFoundError, usageError } from '../errors.js';
import { importSource } from '../importSource.js';

const SEED_FILE = /\.(ts|mts|js|mjs)$/;

export type SeedResult = { ran: string[] };

/** Seed files of the folder (or the one named), in name order. */
export function listSeeds(seedsDir: string, specific?: string): string[] {
  if (specific !== undefined) {
    const candidates = [resolve(specific), join(seedsDir, specific)];
    const found = candidates.find((p) => existsSync(p) && statSync(p).isFile());
    if (!found) throw notFoundError(`no seed file ${specific} (looked in ${seedsDir})`);
    return [found];
  }
  if (!existsSync(seedsDir)) return [];
  return readdirSync(seedsDir)
    .filter((n) => SEED_FILE.test(n) && !n.endsWith('.d.ts'))
    .sort()
    .map((n) => join(seedsDir, n));
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
