import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-prd-'));
const cli = (...args: string[]) =>
  runCli(args, { env: { COS_DEV_DATABASE_URL: db.url, COS_ACTOR: 'tester' }, cwd: dir });
const file = (name: string, content: string | Buffer) => {
  writeFileSync(join(dir, name), content);
  return name;
};
const count = async () =>
  Number((await sql<{ n: string }>(db.url, 'select count(*) as n from cc.prd_versions'))[0]?.n);

type Outcome = { prd_id: string; version: number; outcome: string; content_sha256: string };

// Every awkward byte a markdown file can hold: CRLF, tabs, trailing spaces, a BOM, non-ASCII.
const TRICKY = Buffer.from(
  '\uFEFF---\r\nid: tricky\r\ntitle: "Tricky: bytes"\r\nstatus: draft\r\n---\r\n# Heading\r\n\tindented\t\r\ntrailing   \r\nnon-ASCII: é ü 漢字 🚀\r\nno final newline',
  'utf8',
);

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli('migrate', '-q')).code).toBe(0);
});
afterAll(async () => db.drop());

describe('archive prd (real PostgreSQL)', () => {
  it('round-trips the markdown byte for byte', async () => {
    file('tricky.md', TRICKY);
    const r = await cli('archive', 'prd', 'tricky.md', '--json', '--message', 'first');
    expect(r.code).toBe(0);
    const [outcome] = JSON.parse(r.stdout) as Outcome[];
    expect(outcome).toMatchObject({ prd_id: 'tricky', version: 1, outcome: 'new' });
    const back = await runCli(['query', 'prd', 'tricky', '--content'], {
      env: { COS_DEV_DATABASE_URL: db.url },
      cwd: dir,
    });
    expect(Buffer.from(back.stdout, 'utf8').equals(TRICKY)).toBe(true);
    const meta = JSON.parse(
      (await cli('query', 'prd', 'tricky', '--version', '1', '--json')).stdout,
    ) as {
      title: string;
      status: string;
      archived_by: string;
      message: string;
      front_matter: object;
    };
    expect(meta).toMatchObject({
      title: 'Tricky: bytes',
      status: 'draft',
      archived_by: 'tester',
      message: 'first',
      front_matter: { id: 'tricky', title: 'Tricky: bytes', status: 'draft' },
    });
  });

  it('unchanged text makes no version; changed text makes the next; an older text comes back as a new one', async () => {
    file('plan.md', '# Plan\n\nv1\n');
    expect(
      (JSON.parse((await cli('archive', 'prd', 'plan.md', '--json')).stdout) as Outcome[])[0],
    ).toMatchObject({ prd_id: 'plan', version: 1, outcome: 'new' });
    expect(
      (JSON.parse((await cli('archive', 'prd', 'plan.md', '--json')).stdout) as Outcome[])[0],
    ).toMatchObject({ version: 1, outcome: 'unchanged' });
    file('plan.md', '# Plan\n\nv2\n');
    expect(
      (JSON.parse((await cli('archive', 'prd', 'plan.md', '--json')).stdout) as Outcome[])[0],
    ).toMatchObject({ version: 2, outcome: 'changed' });
    file('plan.md', '# Plan\n\nv1\n');
    expect(
      (JSON.parse((await cli('archive', 'prd', 'plan.md', '--json')).stdout) as Outcome[])[0],
    ).toMatchObject({ version: 3, outcome: 'changed' });
    const history = JSON.parse((await cli('query', 'prd', 'plan', '--json')).stdout) as Array<{
      version: number;
      content_sha256: string;
    }>;
    expect(history.map((h) => h.version)).toEqual([1, 2, 3]);
    expect(history[0]?.content_sha256).toBe(history[2]?.content_sha256);
  });

  it('diff prd shows the last two versions by default; --json gives the hunks', async () => {
    const r = await cli('diff', 'prd', 'plan');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-v2');
    expect(r.stdout).toContain('+v1');
    const j = JSON.parse((await cli('diff', 'prd', 'plan', '1', '2', '--json')).stdout) as {
      from: number;
      to: number;
      hunks: Array<{ lines: string[] }>;
    };
    expect(j).toMatchObject({ from: 1, to: 2 });
    expect(j.hunks[0]?.lines).toEqual([' # Plan', ' ', '-v1', '+v2']);
    expect((await cli('diff', 'prd', 'plan', '1', '9')).code).toBe(3);
    expect((await cli('diff', 'prd', 'nope')).code).toBe(3);
  });

  it('query prd lists PRDs with filters; unknown ids and versions exit 3', async () => {
    const all = JSON.parse((await cli('query', 'prd', '--json')).stdout) as Array<{
      prd_id: string;
      latest_version: number;
      status: string | null;
    }>;
    expect(all.map((p) => [p.prd_id, p.latest_version])).toEqual([
      ['plan', 3],
      ['tricky', 1],
    ]);
    const drafts = JSON.parse(
      (await cli('query', 'prd', '--status', 'draft', '--json')).stdout,
    ) as unknown[];
    expect(drafts).toHaveLength(1);
    expect(
      JSON.parse((await cli('query', 'prd', '--since', '2099-01-01', '--json')).stdout),
    ).toEqual([]);
    expect((await cli('query', 'prd', '--since', 'yesterday-ish')).code).toBe(2);
    expect((await cli('query', 'prd', 'nope')).code).toBe(3);
    expect((await cli('query', 'prd', 'plan', '--version', '7', '--content')).code).toBe(3);
  });

  it('every kind of bad input exits 2 with one line naming the file, and writes nothing', async () => {
    mkdirSync(join(dir, 'adir'), { recursive: true });
    const bad: Array<[string, string | Buffer, RegExp]> = [
      ['empty.md', '', /the file is empty/],
      ['blank.md', ' \n\t\n', /the file is empty/],
      ['binary.md', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), /not a text file/],
      ['latin1.md', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), /not UTF-8/],
      ['badyaml.md', '---\ntitle: [unclosed\n---\n# x\n', /front-matter is not valid YAML/],
      ['badid.md', '---\nid: Not A Slug!\n---\n# x\n', /is not a valid PRD id/],
      ['unclosed.md', '---\ntitle: x\n# no end\n', /front-matter is not closed/],
      ['big.md', 'x'.repeat(2048), /over the limit of 1024/],
    ];
    const before = await count();
    for (const [name, content, message] of bad) {
      file(name, content);
      const r = await cli('archive', 'prd', name, '--max-size', '1024');
      expect(r.code, name).toBe(2);
      expect(r.stderr.split('\n')[0], name).toMatch(message);
      expect(r.stderr.split('\n')[0]).toContain(name);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await cli('archive', 'prd', 'missing.md')).stderr).toContain(
      'missing.md: no such file',
    );
    expect((await cli('archive', 'prd', 'adir')).stderr).toContain('adir: is a directory');
    expect(await count()).toBe(before);
  });

  it('a batch with one bad file writes nothing at all', async () => {
    file('good1.md', '# Good one\n');
    file('good2.md', '# Good two\n');
    const before = await count();
    const r = await cli('archive', 'prd', 'good1.md', 'binary.md', 'good2.md');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('binary.md');
    expect(await count()).toBe(before);
    expect((await cli('archive', 'prd', 'good1.md', 'good2.md')).code).toBe(0);
    expect(await count()).toBe(before + 2);
  });

  it('eight concurrent archivers of one PRD get versions 1..8 with no gap and no duplicate', async () => {
    for (let i = 0; i < 8; i += 1) file(`race-${i}.md`, `# Race\n\nwriter ${i}\n`);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        cli('archive', 'prd', `race-${i}.md`, '--id', 'race', '--json'),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    const versions = results
      .map((r) => (JSON.parse(r.stdout) as Outcome[])[0]?.version)
      .sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('seed run adds the sample PRDs with their history, and a second run changes nothing', async () => {
    expect((await cli('seed', 'run', 'demo', '-q')).code).toBe(0);
    const history = JSON.parse(
      (await cli('query', 'prd', 'prd-checkout-v2', '--json')).stdout,
    ) as Array<{ version: number; archived_by: string }>;
    expect(history.map((h) => [h.version, h.archived_by])).toEqual([
      [1, 'pm-alice'],
      [2, 'pm-alice'],
      [3, 'lead-bob'],
    ]);
    const before = await count();
    expect((await cli('seed', 'run', 'demo', '-q')).code).toBe(0);
    expect(await count()).toBe(before);
    const lineage = JSON.parse((await cli('trace', 'seed-publish', '--json')).stdout) as {
      nodes: Array<{ id: string }>;
    };
    expect(lineage.nodes.map((n) => n.id)).toContain('prd:prd-checkout-v2@3');
  });

  it('verify passes after all of it', async () => {
    const r = await cli('verify', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      chains: Array<{ table: string; chain: string; status: string }>;
    };
    expect(doc.ok).toBe(true);
    expect(doc.chains).toContainEqual(
      expect.objectContaining({ table: 'cc.prd_versions', chain: 'prd', status: 'intact' }),
    );
  });
});
