import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/integrity/verify.js';
import { append, item, setUpLedger, withUrl } from '../support/ledgerFixture.js';
import { runCli } from '../support/runCli.js';

const url = `pglite:${join(mkdtempSync(join(tmpdir(), 'cos-db-embedded-ledger-')), 'store')}`;

beforeAll(async () => {
  await withUrl(url, async (db) => {
    await setUpLedger(db);
    await append(db, 'one', [item(1), item(2)]);
    await append(db, 'one', [item(3)]);
    await append(db, 'two', [item(4)]);
  });
});

describe('the ledger on the embedded engine', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, also in replica mode', async () => {
    await withUrl(url, async (db) => {
      for (const statement of [
        "update lab.items set note = 'x'",
        'delete from lab.items',
        'truncate lab.items',
      ]) {
        await expect(db.knex.raw(statement)).rejects.toThrow(/append-only/);
        await expect(
          db.knex.raw(`set session_replication_role = replica; ${statement}`),
        ).rejects.toThrow(/append-only/);
        await db.knex.raw('set session_replication_role = origin');
      }
    });
  });

  it('verifies, and catches a changed row', async () => {
    const report = await withUrl(url, (db) => verifyLedger(db.knex));
    expect(report.ok).toBe(true);
    expect(report.chains.map((c) => [c.chain, c.size])).toEqual([
      ['one', 3],
      ['two', 1],
    ]);
    await withUrl(url, (db) =>
      db.knex.raw(
        "alter table lab.items disable trigger user; update lab.items set n = 99 where chain = 'one' and seq = 3; alter table lab.items enable always trigger cos_ledger_no_update_delete",
      ),
    );
    const r = await runCli(['verify', '--json'], { env: { COS_DEV_DATABASE_URL: url } });
    expect(r.code).toBe(4);
    const doc = JSON.parse(r.stdout) as {
      chains: Array<{ chain: string; problem: { position: string; kind: string } | null }>;
    };
    expect(doc.chains.find((c) => c.chain === 'one')?.problem).toMatchObject({
      position: '3',
      kind: 'content-changed',
    });
  });
});
