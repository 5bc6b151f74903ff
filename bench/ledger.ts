import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { resolveTarget } from '../src/config/resolveTargets.js';
import { withDatabase, type Database } from '../src/db/withDatabase.js';
import { appendToChain, withLedgerTransaction } from '../src/integrity/ledger.js';
import { makeLedgerTable } from '../src/integrity/ledgerTable.js';
import { LOCK_CLASS } from '../src/db/lockHolders.js';
import { migrate } from '../src/migrations/runMigrations.js';
import { BIN, median, ROOT, type Row, type Scenario } from './harness.js';

const ADMIN = process.env.COS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ITEMS = { schema: 'lab', table: 'items' };

export async function freshDatabase(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: ADMIN });
  await client.connect();
  await client.query(`drop database if exists ${name} with (force)`);
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN });
  await client.connect();
  await client.query(`drop database if exists ${name} with (force)`);
  await client.end();
}

export function open<T>(url: string, fn: (db: Database) => Promise<T>, poolMax = 8): Promise<T> {
  const target = resolveTarget('dev', { cwd: tmpdir(), processEnv: { COS_DEV_DATABASE_URL: url } });
  return withDatabase(target, { lockTimeoutMs: 60_000, command: 'bench', poolMax }, fn);
}

const row = (i: number) => ({
  note: `event ${i} `.repeat(4),
  n: i,
  payload: { i, kind: 'bench', tags: ['a', 'b', 'c'], at: { step: i % 17 } },
  at: new Date(1_790_000_000_000 + i),
});

async function plainBatch(
  db: Database,
  chain: string,
  rows: Array<Record<string, unknown>>,
  start: number,
): Promise<void> {
  // The baseline: the same lock and head read, the same columns, no hashing, no guards.
  await db.knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?, hashtext(?))', [
      LOCK_CLASS + 1,
      `lab.plain:${chain}`,
    ]);
    await trx.raw('select seq from lab.plain where chain = ? order by seq desc limit 1', [chain]);
    for (let s = 0; s < rows.length; s += 500) {
      const chunk = rows.slice(s, s + 500);
      await trx('lab.plain').insert(
        chunk.map((r, k) => ({
          ...r,
          payload: JSON.stringify(r.payload),
          chain,
          seq: start + s + k,
          prev_hash: '0'.repeat(64),
          hash: '0'.repeat(64),
          hash_version: 1,
        })),
      );
    }
  });
}

async function rate(
  total: number,
  batch: number,
  write: (rows: Array<Record<string, unknown>>, start: number) => Promise<unknown>,
): Promise<number> {
  const started = process.hrtime.bigint();
  for (let start = 0; start < total; start += batch) {
    await write(
      Array.from({ length: batch }, (_, k) => row(start + k)),
      start + 1,
    );
  }
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

function timedVerify(url: string, args: string[]): { ms: number; maxRssMb: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, BIN, 'verify', '-q', ...args],
    {
      env: { PATH: process.env.PATH ?? '', COS_DEV_DATABASE_URL: url },
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`verify failed: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { ms, maxRssMb: kb / 1024 };
}

/** Appends rows, several chains in parallel, until the store holds `total` ledger rows. */
async function topUp(url: string, total: number, chains: string[]): Promise<void> {
  await open(url, async (db) => {
    const have = Number(
      (await db.knex.raw<{ rows: Array<{ n: string }> }>('select count(*) as n from lab.items'))
        .rows[0]?.n,
    );
    const per = Math.ceil((total - have) / chains.length);
    await Promise.all(
      chains.map(async (chain) => {
        for (let start = 0; start < per; start += 5000) {
          const batch = Array.from({ length: Math.min(5000, per - start) }, (_, k) =>
            row(start + k),
          );
          await withLedgerTransaction(db.knex, (trx) => appendToChain(trx, ITEMS, chain, batch));
        }
      }),
    );
  });
}

export const ledger: Scenario = {
  name: 'ledger',
  async run() {
    const url = await freshDatabase('cos_bench_ledger');
    const rows: Row[] = [];
    await open(url, async (db) => {
      await migrate(db, { migrationsDir: `${ROOT}/migrations`, lockTimeoutMs: 60_000 });
      await db.knex.raw(
        'create schema lab; create table lab.items (note text not null, n int, payload jsonb, at timestamptz)',
      );
      await makeLedgerTable(db.knex, ITEMS);
      await db.knex.raw(
        'create table lab.plain (like lab.items); alter table lab.plain add primary key (chain, seq)',
      );
      for (const batch of [5000, 1000]) {
        const total = 100_000;
        const ledgerRates: number[] = [];
        const plainRates: number[] = [];
        for (let run = 0; run < 3; run += 1) {
          plainRates.push(
            await rate(total, batch, (r, start) => plainBatch(db, `p${batch}-${run}`, r, start)),
          );
          ledgerRates.push(
            await rate(total, batch, (r) =>
              withLedgerTransaction(db.knex, (trx) =>
                appendToChain(trx, ITEMS, `c${batch}-${run}`, r),
              ),
            ),
          );
        }
        const value = median(ledgerRates);
        rows.push({
          scenario: `append 100k rows, one chain, ${batch}/transaction`,
          value,
          unit: 'rows/s',
          baseline: 'plain insert, same lock',
          baselineValue: median(plainRates),
          target: '≥ 20,000 rows/s',
          met: value >= 20_000,
          runs: 3,
        });
      }
    });
    // Top the store up to 1M ledger rows, then to 2M, verifying at each size.
    await topUp(url, 1_000_000, ['bulk-0', 'bulk-1', 'bulk-2', 'bulk-3']);
    const million = [timedVerify(url, []), timedVerify(url, []), timedVerify(url, [])];
    const ms = median(million.map((v) => v.ms));
    const verifyRate = 1_000_000 / (ms / 1000);
    rows.push({
      scenario: 'verify 1,000,000 rows (whole process)',
      value: verifyRate,
      unit: 'rows/s',
      baseline: '-',
      baselineValue: null,
      target: '≥ 100,000 rows/s',
      met: verifyRate >= 100_000,
      runs: 3,
    });
    // Flat memory: the same peak at twice the size. (Both runs are long enough for the
    // garbage collector's heap to reach its steady size; a short run against a long one would
    // measure that warm-up, not growth.)
    await topUp(url, 2_000_000, ['bulk-4', 'bulk-5', 'bulk-6', 'bulk-7']);
    const twoMillion = [timedVerify(url, []), timedVerify(url, []), timedVerify(url, [])];
    const rss1 = median(million.map((v) => v.maxRssMb));
    const rss2 = median(twoMillion.map((v) => v.maxRssMb));
    rows.push({
      scenario: 'verify peak RSS, 2,000,000 rows',
      value: rss2,
      unit: 'MB',
      baseline: 'verify 1,000,000 rows',
      baselineValue: rss1,
      target: 'flat: ratio ≤ 1.2',
      met: rss2 <= 1.2 * rss1,
      runs: 3,
    });
    await dropDatabase('cos_bench_ledger');
    return rows;
  },
};
