import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

let dev: TestDatabase;
let test: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-export-'));
const env = () => ({
  COS_DEV_DATABASE_URL: dev.url,
  COS_TEST_DATABASE_URL: test.url,
  COS_ACTOR: 'exporter',
});
const cli = (...args: string[]) => runCli(args, { env: env(), cwd: dir });
const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), name);

// Quotes, commas, line breaks and unicode in every field that can hold them.
const NASTY = 'He said "hi, there"\nsecond line\r\nthird — ünïcødé 漢字 🚀';

beforeAll(async () => {
  [dev, test] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  expect((await cli('migrate', '-q')).code).toBe(0);
  expect((await cli('--env', 'test', 'migrate', '-q')).code).toBe(0);
  write(
    'spec.md',
    `---\nid: spec\ntitle: "${NASTY.replace(/\n|\r/g, ' ').replace(/"/g, "'")}"\n---\n# Spec\n\n${NASTY}\n`,
  );
  expect((await cli('archive', 'prd', 'spec.md', '-q')).code).toBe(0);
  const events = [
    {
      event_id: 'a',
      type: 'start',
      module: 'planner',
      actor: NASTY,
      inputs: ['prd:spec@1'],
      payload: { note: NASTY, n: 1 },
    },
    {
      event_id: 'b',
      type: 'step',
      module: 'planner',
      parents: ['a'],
      payload: { list: [1, 'two', null] },
    },
    { event_id: 'c', type: 'done', parents: ['b'] },
  ];
  write('e.ndjson', events.map((e) => JSON.stringify(e)).join('\n'));
  expect((await cli('archive', 'event', 'e.ndjson', '-q')).code).toBe(0);
});
afterAll(async () => Promise.all([dev.drop(), test.drop()]));

describe('export: every format parsed back by an independent reader', () => {
  it('json is one array', async () => {
    const r = await cli('export', 'events', '--format', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{
      event_id: string;
      actor: string;
      payload: { note?: string };
    }>;
    expect(rows.map((e) => e.event_id)).toEqual(['a', 'b', 'c']);
    expect(rows[0]?.actor).toBe(NASTY);
    expect(rows[0]?.payload.note).toBe(NASTY);
  });

  it('ndjson is one record a line (JSON.parse on each)', async () => {
    const r = await cli('export', 'prd', '--format', 'ndjson');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const prd = JSON.parse(lines[0] as string) as { prd_id: string; content: string; hash: string };
    expect(prd.content).toContain(NASTY);
    expect(prd.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('csv is RFC 4180 with a header: quotes, commas, newlines and unicode survive', async () => {
    const r = await cli('export', 'events', '--format', 'csv');
    const rows = parseCsv(r.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((x) => x.event_id)).toEqual(['a', 'b', 'c']);
    expect(rows[0]?.actor).toBe(NASTY);
    expect(JSON.parse(rows[0]?.payload ?? '')).toEqual({ note: NASTY, n: 1 });
    expect(JSON.parse(rows[1]?.parents ?? '')).toEqual(['a']);
    const prd = parseCsv((await cli('export', 'prd', '--format', 'csv')).stdout, {
      columns: true,
    }) as Array<Record<string, string>>;
    expect(prd[0]?.content).toContain(NASTY);
  });

  it('openlineage is one RunEvent per event', async () => {
    const lines = (await cli('export', 'events', '--format', 'openlineage')).stdout
      .trimEnd()
      .split('\n');
    const events = lines.map(
      (l) =>
        JSON.parse(l) as {
          eventTime: string;
          run: { runId: string; facets: { parent?: unknown } };
          job: { namespace: string; name: string };
          inputs: Array<{ name: string }>;
        },
    );
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({
      job: { namespace: 'cos/planner', name: 'start' },
      inputs: [{ name: 'spec@1' }],
    });
    expect(events[0]?.run.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[1]?.run.facets.parent).toBeDefined();
  });

  it('lineage is the edges; filters work; an unknown format or kind exits 2 listing the valid ones', async () => {
    const edges = JSON.parse((await cli('export', 'lineage', '--format', 'json')).stdout) as Array<{
      from_id: string;
      to_id: string;
      kind: string;
    }>;
    expect(edges).toContainEqual({ from_id: 'prd:spec@1', to_id: 'a', kind: 'input' });
    expect(edges).toContainEqual({ from_id: 'a', to_id: 'b', kind: 'parent' });
    expect(
      (await cli('export', 'events', '--type', 'done', '--format', 'ndjson')).stdout
        .trim()
        .split('\n'),
    ).toHaveLength(1);
    const bad = await cli('export', 'events', '--format', 'xml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('json, ndjson, csv, openlineage');
    expect((await cli('export', 'things')).code).toBe(2);
    expect((await cli('export', 'prd', '--format', 'openlineage')).code).toBe(2);
  });
});

describe('--out', () => {
  it('writes the file whole, and a failed export leaves no file under the final name', async () => {
    expect((await cli('export', 'events', '--out', 'events.ndjson')).code).toBe(0);
    expect(readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n')).toHaveLength(3);
    const failed = await cli('export', 'events', '--since', 'garbage', '--out', 'failed.ndjson');
    expect(failed.code).toBe(2);
    expect(existsSync(join(dir, 'failed.ndjson'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('an interrupted export leaves neither the final file nor a partial one', async () => {
    const many = Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({
        event_id: `bulk-${i}`,
        type: 'bulk',
        payload: { i, text: 'x'.repeat(200) },
      }),
    );
    write('bulk.ndjson', many.join('\n'));
    expect((await cli('archive', 'event', 'bulk.ndjson', '-q')).code).toBe(0);
    const child = spawn(
      process.execPath,
      [BIN, 'export', 'events', '--format', 'json', '--out', 'big.json'],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env() } },
    );
    // Interrupt once the partial file exists, mid-export.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (readdirSync(dir).some((f) => f.startsWith('big.json.partial-'))) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(existsSync(join(dir, 'big.json'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('big.json'))).toEqual([]);
  });
});

describe('memory links', () => {
  it('round trip: add, list, and shown by query events, query prd and trace', async () => {
    const added = await cli(
      'link',
      'add',
      'b',
      'l3://notes/b',
      '--relation',
      'summarized-by',
      '--json',
    );
    expect(added.code).toBe(0);
    expect((await cli('link', 'add', 'prd:spec@1', 'kb:spec-1')).code).toBe(0);
    const list = JSON.parse((await cli('link', 'list', 'b', '--json')).stdout) as Array<{
      ref: string;
      l3_ref: string;
      relation: string;
      created_by: string;
    }>;
    expect(list).toEqual([
      expect.objectContaining({
        ref: 'b',
        l3_ref: 'l3://notes/b',
        relation: 'summarized-by',
        created_by: 'exporter',
      }),
    ]);
    expect(
      (JSON.parse((await cli('query', 'events', 'b', '--json')).stdout) as { links: unknown[] })
        .links,
    ).toHaveLength(1);
    expect(
      (
        JSON.parse((await cli('query', 'prd', 'spec', '--json')).stdout) as Array<{
          links: Array<{ l3_ref: string }>;
        }>
      )[0]?.links[0]?.l3_ref,
    ).toBe('kb:spec-1');
    const t = JSON.parse((await cli('trace', 'c', '--json')).stdout) as {
      nodes: Array<{ id: string; links: Array<{ l3_ref: string }> }>;
    };
    expect(t.nodes.find((n) => n.id === 'b')?.links).toEqual([
      { l3_ref: 'l3://notes/b', relation: 'summarized-by' },
    ]);
    expect((await cli('link', 'add', 'nope', 'kb:x')).code).toBe(3);
    expect((await cli('link', 'add', 'prd:spec@9', 'kb:x')).code).toBe(3);
    expect((await cli('link', 'add', 'b', 'kb:x', '--relation', 'Bad Relation')).code).toBe(2);
  });
});

describe('bundles', () => {
  type Heads = { chains: Array<{ table: string; chain: string; size: number; head: string }> };
  const heads = (doc: Heads) =>
    doc.chains.map((c) => `${c.table}/${c.chain}/${c.size}/${c.head}`).sort();

  it('dev → test: the target verifies with identical heads; a second import changes nothing', async () => {
    const exported = await cli('export', '--all', '--out', 'store.bundle', '--json');
    expect(exported.code).toBe(0);
    const manifest = JSON.parse(
      readFileSync(join(dir, 'store.bundle'), 'utf8').split('\n')[0] as string,
    ) as { format: string; schema_version: string };
    expect(manifest).toMatchObject({
      format: 'cos-db-bundle/2',
      schema_version: expect.stringMatching(/\.ts$/),
    });
    const imported = await cli('--env', 'test', 'import', 'store.bundle', '--json');
    expect(imported.code).toBe(0);
    const source = JSON.parse((await cli('verify', '--json')).stdout) as Heads;
    const target = await cli('--env', 'test', 'verify', '--json');
    expect(target.code).toBe(0);
    expect(heads(JSON.parse(target.stdout) as Heads)).toEqual(heads(source));
    const again = JSON.parse(
      (await cli('--env', 'test', 'import', 'store.bundle', '--json')).stdout,
    ) as { chains: Array<{ appended: number }> };
    expect(again.chains.every((c) => c.appended === 0)).toBe(true);
    // Lineage came along.
    expect(
      (
        JSON.parse((await cli('--env', 'test', 'trace', 'c', '--json')).stdout) as {
          nodes: unknown[];
        }
      ).nodes.length,
    ).toBeGreaterThan(3);
  });

  it('a target that is a prefix receives only the rest', async () => {
    expect(
      (
        await cli(
          'archive',
          'event',
          write('more.ndjson', JSON.stringify({ event_id: 'd', type: 'more', parents: ['c'] })),
          '-q',
        )
      ).code,
    ).toBe(0);
    expect((await cli('export', '--all', '--out', 'store2.bundle')).code).toBe(0);
    const r = JSON.parse(
      (await cli('--env', 'test', 'import', 'store2.bundle', '--json')).stdout,
    ) as { chains: Array<{ chain: string; had: number; appended: number }> };
    expect(r.chains.reduce((a, c) => a + c.appended, 0)).toBe(1);
  });

  it('is refused onto a diverged store (exit 4), with nothing written', async () => {
    expect(
      (
        await cli(
          '--env',
          'test',
          'archive',
          'event',
          write('fork.ndjson', JSON.stringify({ event_id: 'fork', type: 'fork' })),
          '-q',
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await cli(
          'archive',
          'event',
          write('other.ndjson', JSON.stringify({ event_id: 'other', type: 'other' })),
          '-q',
        )
      ).code,
    ).toBe(0);
    expect((await cli('export', '--all', '--out', 'store3.bundle')).code).toBe(0);
    const before = await sql(test.url, 'select count(*)::int as n from cc.events');
    const r = await cli('--env', 'test', 'import', 'store3.bundle');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('diverged');
    expect(await sql(test.url, 'select count(*)::int as n from cc.events')).toEqual(before);
  });

  it('a damaged bundle is refused; prod needs --yes', async () => {
    const lines = readFileSync(join(dir, 'store.bundle'), 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"kind":"ledger"') && l.includes('"type":"start"'));
    lines[i] = (lines[i] as string).replace('"start"', '"forged"');
    write('damaged.bundle', lines.join('\n'));
    const fresh = await createTestDatabase();
    try {
      const e = { ...env(), COS_PROD_DATABASE_URL: fresh.url };
      expect(
        (await runCli(['--env', 'prod', '--yes', 'migrate', '-q'], { env: e, cwd: dir })).code,
      ).toBe(0);
      const refused = await runCli(['--env', 'prod', 'import', 'store.bundle'], {
        env: e,
        cwd: dir,
      });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('without --yes');
      const damaged = await runCli(['--env', 'prod', '--yes', 'import', 'damaged.bundle'], {
        env: e,
        cwd: dir,
      });
      expect(damaged.code).toBe(4);
      expect(damaged.stderr).toContain('the bundle is damaged');
      expect(await sql(fresh.url, 'select count(*)::int as n from cc.events')).toEqual([{ n: 0 }]);
    } finally {
      await fresh.drop();
    }
  });
});
