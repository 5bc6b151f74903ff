import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKnownEventLayout } from '../../src/events/eventLedgerRow.js';
import { contentColumns } from '../../src/integrity/contentColumns.js';
import {
  appendToChains,
  hashRows,
  prepareLedgerRow,
  withLedgerTransaction,
} from '../../src/integrity/ledger.js';
import { GENESIS_HASH } from '../../src/integrity/ledgerHash.js';
import { verifyLedger } from '../../src/integrity/verify.js';
import { append, item, ITEMS, setUpLedger, withUrl } from '../support/ledgerFixture.js';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

const REARM = [
  'cos_ledger_no_update_delete',
  'cos_ledger_no_truncate',
  'cos_ledger_links',
  'cos_merkle',
]
  .map((t) => `alter table lab.items enable always trigger ${t}`)
  .join('; ');

let db: TestDatabase;
const work = mkdtempSync(join(tmpdir(), 'cos-db-ledger-'));
const key = join(work, 'signing.key');
const cli = (...args: string[]) =>
  runCli(args, { env: { COS_DEV_DATABASE_URL: db.url, COS_SIGNING_KEY: key } });

type VerifyJson = {
  ok: boolean;
  chains: Array<{
    table: string;
    chain: string;
    size: number;
    head: string;
    status: string;
    problem: { position: string; kind: string } | null;
    problems: Array<{ position: string; kind: string; detail: string }>;
    problem_count: number;
  }>;
};

beforeAll(async () => {
  db = await createTestDatabase();
  await withUrl(db.url, async (d) => {
    await setUpLedger(d);
    await append(d, 'alpha', [item(1), item(2), item(3)]);
  });
  expect((await runCli(['keygen', '--out', key])).code).toBe(0);
});
afterAll(async () => db.drop());

describe('ledger guards (real PostgreSQL)', () => {
  for (const statement of [
    "update lab.items set note = 'x'",
    'delete from lab.items',
    'truncate lab.items',
  ]) {
    it(`refuses: ${statement}, also as superuser in replica mode`, async () => {
      await expect(sql(db.url, statement)).rejects.toThrow(/append-only/);
      await expect(
        sql(db.url, `set session_replication_role = replica; ${statement}`),
      ).rejects.toThrow(/append-only/);
      expect(await sql(db.url, 'select count(*)::int as n from lab.items')).toEqual([{ n: 3 }]);
    });
  }

  it("a migrated store's cc.events has the layout the import's fast path writes", async () => {
    await withUrl(db.url, async (d) => {
      const columns = await contentColumns(d.knex, { schema: 'cc', table: 'events' });
      expect(isKnownEventLayout(columns)).toBe(true);
    });
  });

  it('the ledger registry is append-only too', async () => {
    await expect(sql(db.url, 'delete from cc.ledger_tables')).rejects.toThrow(/append-only/);
  });
});

describe('appending', () => {
  it('16 concurrent writers on one chain leave no fork and no gap', async () => {
    await withUrl(
      db.url,
      async (d) => {
        await Promise.all(
          Array.from({ length: 16 }, async (_, w) => {
            for (let b = 0; b < 5; b += 1)
              await append(
                d,
                'busy',
                Array.from({ length: 10 }, (_, i) => item(w * 1000 + b * 10 + i)),
              );
          }),
        );
      },
      16,
    );
    const rows = await sql<{ seq: string }>(
      db.url,
      "select seq from lab.items where chain = 'busy' order by seq",
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    const report = await withUrl(db.url, (d) => verifyLedger(d.knex));
    expect(report.ok).toBe(true);
    expect(report.chains.find((c) => c.chain === 'busy')).toMatchObject({
      size: 800,
      status: 'intact',
    });
  });

  it('rows hashed ahead are sent as they are on the heads they assumed, else hashed again', async () => {
    await withUrl(db.url, async (d) => {
      const columns = await contentColumns(d.knex, ITEMS);
      const rows = (from: number) =>
        new Map([['ahead', [1, 2, 3].map((i) => prepareLedgerRow(columns, item(from + i)))]]);
      // Hashed on the chain's empty head; then another writer appends first.
      const stale = hashRows(rows(100), new Map([['ahead', { seq: 0n, hash: GENESIS_HASH }]]));
      await append(d, 'ahead', [item(1), item(2)]);
      const written = await withLedgerTransaction(d.knex, (trx) =>
        appendToChains(trx, { table: ITEMS, columns }, rows(100), new Map(), stale),
      );
      expect(written[0]?.map((r) => r.seq)).toEqual(['3', '4', '5']);
      expect(written).not.toBe(stale?.appended);
      // Hashed on the head the chain has: sent as hashed.
      const [head] = await sql<{ hash: string }>(
        db.url,
        "select encode(hash, 'hex') as hash from lab.items where chain = 'ahead' and seq = 5",
      );
      const fresh = hashRows(rows(200), new Map([['ahead', { seq: 5n, hash: head?.hash ?? '' }]]));
      const sent = await withLedgerTransaction(d.knex, (trx) =>
        appendToChains(trx, { table: ITEMS, columns }, rows(200), new Map(), fresh),
      );
      expect(sent).toBe(fresh?.appended);
      const report = await verifyLedger(d.knex);
      expect(report.chains.find((c) => c.chain === 'ahead')).toMatchObject({
        size: 8,
        status: 'intact',
      });
    });
  });

  it('the database refuses a fork even from a writer that skips the lock', async () => {
    const [head] = await sql<{ hash: string }>(
      db.url,
      "select encode(hash, 'hex') as hash from lab.items where chain = 'alpha' and seq = 2",
    );
    await expect(
      sql(
        db.url,
        "insert into lab.items (note, chain, seq, prev_hash, hash, hash_version) values ('fork', 'alpha', 3, decode($1, 'hex'), decode(repeat('f', 64), 'hex'), 1)",
        [head?.hash],
      ),
    ).rejects.toThrow(/duplicate key/);
  });

  it('the database refuses a row that skips a position or does not link to its predecessor', async () => {
    const [head] = await sql<{ seq: string; hash: string }>(
      db.url,
      "select seq, encode(hash, 'hex') as hash from lab.items where chain = 'alpha' order by seq desc limit 1",
    );
    const next = Number(head?.seq) + 1;
    const insert = (seq: number, prev: string) =>
      sql(
        db.url,
        "insert into lab.items (note, chain, seq, prev_hash, hash, hash_version) values ('x', 'alpha', $1, decode($2, 'hex'), decode(repeat('f', 64), 'hex'), 1)",
        [seq, prev],
      );
    // A fork at a new position: right predecessor hash, but one position too far (a gap).
    await expect(insert(next + 1, head?.hash ?? '')).rejects.toThrow(
      new RegExp(`row ${next + 1} of chain alpha in lab.items does not extend its chain`),
    );
    // The right position, the wrong predecessor.
    await expect(insert(next, 'e'.repeat(64))).rejects.toThrow(/does not extend its chain/);
    // A new chain must start at 1 from the genesis hash.
    await expect(
      sql(
        db.url,
        "insert into lab.items (note, chain, seq, prev_hash, hash, hash_version) values ('x', 'fresh', 1, decode(repeat('e', 64), 'hex'), decode(repeat('f', 64), 'hex'), 1)",
      ),
    ).rejects.toThrow(/row 1 of chain fresh/);
    // Replica mode does not skip it, and a correct row still goes in.
    await expect(
      sql(
        db.url,
        `set session_replication_role = replica; insert into lab.items (note, chain, seq, prev_hash, hash, hash_version) values ('x', 'alpha', ${next + 1}, decode('${head?.hash}', 'hex'), decode(repeat('f', 64), 'hex'), 1)`,
      ),
    ).rejects.toThrow(/does not extend its chain/);
    // (Rolled back: its hash is made up, and later tests verify this chain.)
    await withUrl(db.url, async (d) => {
      const trx = await d.knex.transaction();
      await trx.raw(
        "insert into lab.items (note, chain, seq, prev_hash, hash, hash_version) values ('x', 'alpha', ?, decode(?, 'hex'), decode(repeat('f', 64), 'hex'), 1)",
        [next, head?.hash ?? ''],
      );
      const { rows } = await trx.raw<{ rows: Array<{ n: number }> }>(
        "select count(*)::int as n from lab.items where chain = 'alpha'",
      );
      await trx.rollback();
      expect(rows).toEqual([{ n: next }]);
    });
  });
});

describe('a failed bulk write', () => {
  it('a row that cannot be written mid-COPY fails cleanly: nothing kept, the connection still works', async () => {
    const before = await sql<{ n: string }>(db.url, 'select count(*) as n from lab.items');
    await withUrl(db.url, async (d) => {
      // Row 1,500 lacks a column: the COPY is already streaming when it is reached.
      const rows = Array.from({ length: 3000 }, (_, i) => item(i));
      delete rows[1500]?.payload;
      await expect(append(d, 'half', rows)).rejects.toThrow(/ledger row lacks payload/);
      // The same knex pool goes on working, and a good batch lands.
      await append(d, 'half', [item(1), item(2)]);
    });
    const after = await sql<{ n: string; top: string }>(
      db.url,
      "select count(*) as n, (select max(seq)::text from lab.items where chain = 'half') as top from lab.items",
    );
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n) + 2);
    expect(after[0]?.top).toBe('2');
  });
});

describe('cos-db verify', () => {
  it('reports every chain intact, with size and head, and exits 0', async () => {
    const r = await cli('verify', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as VerifyJson;
    expect(doc.ok).toBe(true);
    expect(doc.chains.find((c) => c.chain === 'alpha')).toMatchObject({
      table: 'lab.items',
      size: 3,
      status: 'intact',
      head: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('writes a signed checkpoint (key file 0600) and proves the store still extends it', async () => {
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const file = join(work, 'cp1.json');
    expect((await cli('verify', '--write-checkpoint', file)).code).toBe(0);
    await withUrl(db.url, (d) => append(d, 'alpha', [item(4)]));
    const r = await cli('verify', '--checkpoint', file, '--json');
    expect(r.code).toBe(0);
    expect(
      (
        JSON.parse(r.stdout) as { checkpoint: { chains: Array<{ status: string }> } }
      ).checkpoint.chains.every((c) => c.status === 'extends'),
    ).toBe(true);
  });

  it('a checkpoint with a bad signature is rejected with exit 4', async () => {
    const file = join(work, 'cp-bad.json');
    expect((await cli('verify', '--write-checkpoint', file)).code).toBe(0);
    const cp = JSON.parse(readFileSync(file, 'utf8')) as { chains: Array<{ size: number }> };
    cp.chains[0]!.size += 1;
    writeFileSync(file, JSON.stringify(cp));
    const r = await cli('verify', '--checkpoint', file);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('signature is not valid');
  });

  it('a checkpoint from another database is rejected with exit 4', async () => {
    const other = await createTestDatabase();
    try {
      await withUrl(other.url, (d) => setUpLedger(d));
      const file = join(work, 'cp-other.json');
      expect(
        (
          await runCli(['verify', '--write-checkpoint', file], {
            env: { COS_DEV_DATABASE_URL: other.url, COS_SIGNING_KEY: key },
          })
        ).code,
      ).toBe(0);
      const r = await cli('verify', '--checkpoint', file);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('from another store');
    } finally {
      await other.drop();
    }
  });

  it('a malformed checkpoint file exits 2 and a missing key exits 2', async () => {
    const file = join(work, 'garbage.json');
    writeFileSync(file, '{not json');
    expect((await cli('verify', '--checkpoint', file)).code).toBe(2);
    expect(
      (
        await runCli(['verify', '--write-checkpoint', join(work, 'x.json')], {
          env: { COS_DEV_DATABASE_URL: db.url },
        })
      ).code,
    ).toBe(2);
  });
});

describe('tampering (a superuser who disables the guards)', () => {
  it('a changed row is reported with its table and position (exit 4)', async () => {
    await sql(
      db.url,
      `alter table lab.items disable trigger user; update lab.items set note = 'forged' where chain = 'alpha' and seq = 2; ${REARM}`,
    );
    const r = await cli('verify', '--json');
    expect(r.code).toBe(4);
    const alpha = (JSON.parse(r.stdout) as VerifyJson).chains.find((c) => c.chain === 'alpha');
    expect(alpha).toMatchObject({
      table: 'lab.items',
      status: 'broken',
      problem: { position: '2', kind: 'content-changed' },
    });
    expect(r.stderr).toContain('lab.items/alpha');
  });

  it('a deleted row is reported as a gap', async () => {
    await sql(
      db.url,
      `alter table lab.items disable trigger user; delete from lab.items where chain = 'busy' and seq = 100; ${REARM}`,
    );
    const r = await cli('verify', '--chain', 'busy', '--json');
    expect(r.code).toBe(4);
    expect((JSON.parse(r.stdout) as VerifyJson).chains[0]).toMatchObject({
      chain: 'busy',
      problem: { position: '100', kind: 'row-missing' },
    });
  });

  it('every bad position of a damaged chain is reported, not just the first', async () => {
    // After the gap at 100 (test above): a second and a third tampering further on, and a gap.
    await sql(
      db.url,
      `alter table lab.items disable trigger user;
       update lab.items set note = 'forged again' where chain = 'busy' and seq in (150, 180);
       delete from lab.items where chain = 'busy' and seq between 190 and 192; ${REARM}`,
    );
    const r = await cli('verify', '--chain', 'busy', '--json');
    expect(r.code).toBe(4);
    const busy = (JSON.parse(r.stdout) as VerifyJson).chains[0];
    const rows = busy?.problems.filter((p) => p.kind !== 'tree-mismatch');
    expect(rows?.map((p) => [p.position, p.kind])).toEqual([
      ['100', 'row-missing'],
      ['150', 'content-changed'],
      ['180', 'content-changed'],
      ['190', 'row-missing'],
    ]);
    // The Merkle tiles over the changed rows, and every one after the gaps, no longer match.
    const tiles = busy?.problems.filter((p) => p.kind === 'tree-mismatch') ?? [];
    expect(tiles.length).toBeGreaterThan(0);
    expect(tiles[0]?.detail).toContain('Merkle tile 1/0 does not match');
    expect(busy?.problem_count).toBe(4 + tiles.length);
    expect(busy?.problems[3]?.detail).toContain('positions 190-192 are missing');
    const human = await cli('verify', '--chain', 'busy');
    expect(human.stdout).toContain(`${4 + tiles.length} bad positions`);
    expect(human.stdout).toContain('at 180: content-changed');
  });

  it('a disabled guard is reported', async () => {
    await sql(db.url, 'alter table lab.items disable trigger cos_ledger_no_truncate');
    const r = await cli('verify', '--json');
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('trigger cos_ledger_no_truncate is disabled');
    await sql(db.url, 'alter table lab.items enable always trigger cos_ledger_no_truncate');
    // The links trigger too; ENABLE (not ALWAYS) would let replica mode skip it.
    await sql(db.url, 'alter table lab.items enable trigger cos_ledger_links');
    const links = await cli('verify', '--json');
    expect(links.code).toBe(4);
    expect(links.stdout).toContain('trigger cos_ledger_links is not ENABLE ALWAYS');
    await sql(db.url, 'alter table lab.items enable always trigger cos_ledger_links');
    expect((await cli('verify', '--json')).stdout).not.toContain('cos_ledger_links');
  });
});

describe('agent role', () => {
  it('can read and append to the ledger, and nothing else', async () => {
    const role = `cos_agent_${Math.random().toString(36).slice(2, 8)}`;
    try {
      const r = await cli('agent-role', role, '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ role, created: true });
      // As the role: read and insert work; UPDATE is refused by privileges, before any trigger.
      expect(
        await sql(db.url, `set role ${role}; select count(*)::int as n from cc.ledger_tables`),
      ).toEqual([{ n: expect.any(Number) }]);
      await expect(
        sql(db.url, `set role ${role}; update cc.store_identity set created_at = now()`),
      ).rejects.toThrow(/permission denied/);
      await expect(sql(db.url, `set role ${role}; create table cc.sneaky (x int)`)).rejects.toThrow(
        /permission denied/,
      );
      expect((await cli('agent-role', 'Bad-Name')).code).toBe(2);
    } finally {
      await sql(db.url, `drop owned by ${role}; drop role if exists ${role}`);
    }
  });
});

describe('a history rewritten from scratch', () => {
  it('passes plain verify but fails against an earlier checkpoint, naming the chain', async () => {
    const fresh = await createTestDatabase();
    try {
      const env = { COS_DEV_DATABASE_URL: fresh.url, COS_SIGNING_KEY: key };
      await withUrl(fresh.url, async (d) => {
        await setUpLedger(d);
        await append(d, 'story', [item(1), item(2), item(3)]);
      });
      const file = join(work, 'cp-story.json');
      expect((await runCli(['verify', '--write-checkpoint', file], { env })).code).toBe(0);
      // The owner rewrites the chain consistently: same length, other content, every hash recomputed.
      await sql(
        fresh.url,
        `alter table lab.items disable trigger user; delete from lab.items where chain = 'story'; ${REARM}`,
      );
      await withUrl(fresh.url, (d) =>
        append(d, 'story', [item(1), { ...item(2), note: 'rewritten' }, item(3)]),
      );
      expect((await runCli(['verify'], { env })).code).toBe(0);
      const r = await runCli(['verify', '--checkpoint', file], { env });
      expect(r.code).toBe(4);
      expect(r.stdout).toContain('REWRITTEN');
      expect(r.stderr).toContain('lab.items/story (checkpoint)');
    } finally {
      await fresh.drop();
    }
  });
});
