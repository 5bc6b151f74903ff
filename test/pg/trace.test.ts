import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { clientEachRow, knexEachRow } from '../../src/db/eachRow.js';
import { trace, type TraceDirection } from '../../src/lineage/trace.js';
import { withUrl } from '../support/ledgerFixture.js';
import {
  compareTraces,
  expectedTrace,
  randomGraph,
  type GraphEvent,
} from '../support/lineageFixture.js';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-trace-'));
const cli = (...args: string[]) =>
  runCli(args, { env: { COS_DEV_DATABASE_URL: db.url }, cwd: dir });
const PRDS = ['prd:alpha@1', 'prd:beta@1'];
let graph: GraphEvent[];

async function seedGraph(): Promise<void> {
  for (const id of ['alpha', 'beta'])
    writeFileSync(join(dir, `${id}.md`), `---\nid: ${id}\n---\n# ${id}\n`);
  expect((await cli('archive', 'prd', 'alpha.md', 'beta.md', '-q')).code).toBe(0);
  graph = randomGraph(20261129, 400, PRDS);
  writeFileSync(join(dir, 'graph.ndjson'), graph.map((e) => JSON.stringify(e)).join('\n'));
  expect((await cli('archive', 'event', 'graph.ndjson', '-q')).code).toBe(0);
}

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli('migrate', '-q')).code).toBe(0);
  await seedGraph();
}, 120_000);
afterAll(async () => db.drop());

describe('trace against a breadth-first walk worked out in memory', () => {
  it('every node once at its shortest distance, its via, the edges among the nodes found', async () => {
    const roots = [
      ...[399, 398, 350, 200, 120, 57, 3, 0].map((i) => graph[i]?.event_id as string),
      ...PRDS,
    ];
    const depths = [0, 1, 2, 7, 1000];
    // Through knex's connection, as the library's callers have it ...
    const met = await withUrl(db.url, (d) =>
      compareTraces(knexEachRow(d.knex), graph, roots, depths),
    );
    // ... and through a bare node-postgres client, as `cos-db trace` has it.
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      await compareTraces(clientEachRow(client), graph, roots, depths);
    } finally {
      await client.end();
    }
    // The walks above met thousands of nodes, some of them many steps from their start (the
    // parents far back make shortcuts; the chain below goes deep).
    expect(met.length).toBeGreaterThan(3000);
    expect(Math.max(...met.map((n) => Math.abs(n.distance)))).toBeGreaterThanOrEqual(15);
  }, 120_000);

  it('lists each node with its L3 links, oldest first, and none for the others', async () => {
    const root = graph[399]?.event_id as string;
    const up = await withUrl(db.url, (d) => trace(knexEachRow(d.knex), root, 'up', 1000));
    const [first, second] = up.nodes.filter((n) => n.kind === 'event' && n.id !== root);
    const prd = up.nodes.find((n) => n.kind === 'prd');
    if (!first || !second || !prd) throw new Error('the graph has too few ancestors');
    for (const [ref, l3] of [
      [first.id, 'kb:one'],
      [first.id, 'kb:two'],
      [prd.id, 'kb:spec'],
    ])
      expect((await cli('link', 'add', ref as string, l3 as string)).code).toBe(0);
    const t = JSON.parse((await cli('trace', root, '--depth', '1000', '--json')).stdout) as {
      nodes: Array<{ id: string; links: Array<{ l3_ref: string; relation: string }> }>;
    };
    const linksOf = (id: string) => t.nodes.find((n) => n.id === id)?.links.map((l) => l.l3_ref);
    expect(linksOf(first.id)).toEqual(['kb:one', 'kb:two']);
    expect(linksOf(prd.id)).toEqual(['kb:spec']);
    expect(linksOf(second.id)).toEqual([]);
    expect(t.nodes.filter((n) => n.links.length > 0)).toHaveLength(2);
  });

  it('cc.lineage_walk gives SQL the same nodes, distances and vias', async () => {
    // The events with the most ancestors and the most descendants, and a PRD version.
    const most = (direction: TraceDirection) =>
      graph
        .map((e) => e.event_id)
        .reduce((best, id) =>
          expectedTrace(graph, id, direction, 1000).nodes.length >
          expectedTrace(graph, best, direction, 1000).nodes.length
            ? id
            : best,
        );
    for (const [root, direction] of [
      [most('up'), 'up'],
      [most('down'), 'down'],
      ['prd:alpha@1', 'down'],
    ] as const) {
      const rows = await sql<{ node: string; distance: number; via: string | null }>(
        db.url,
        'select node, distance, via from cc.lineage_walk($1, $2, 1000)',
        [root, direction],
      );
      const want = expectedTrace(graph, root, direction, 1000).nodes;
      const key = (n: { node?: string; id?: string; distance: number; via: string | null }) =>
        `${n.node ?? n.id} ${Math.abs(n.distance)} ${n.via}`;
      expect(rows.map(key).sort()).toEqual(want.map(key).sort());
      expect(rows.length).toBeGreaterThan(20);
    }
  });

  it('a walk as deep as the graph needs no more than the graph (each node once)', async () => {
    const chain = Array.from({ length: 3000 }, (_, i) => ({
      event_id: `chain-${i}`,
      type: 'step',
      parents: i === 0 ? [] : [`chain-${i - 1}`, ...(i > 1 ? [`chain-${i - 2}`] : [])],
    }));
    writeFileSync(join(dir, 'chain.ndjson'), chain.map((e) => JSON.stringify(e)).join('\n'));
    expect((await cli('archive', 'event', 'chain.ndjson', '-q')).code).toBe(0);
    // Every node has two paths to the one two steps back: 2^1500 paths, 3000 nodes.
    const t = JSON.parse(
      (await cli('trace', 'chain-2999', '--depth', '1000000', '--json')).stdout,
    ) as {
      nodes: Array<{ id: string; distance: number }>;
    };
    expect(t.nodes).toHaveLength(3000);
    expect(t.nodes[0]).toEqual(expect.objectContaining({ id: 'chain-0', distance: -1500 }));
  }, 120_000);
});

describe('trace on a connection of its own (no knex)', () => {
  it('a closed port exits 5 with one line naming the host, no password and no stack', async () => {
    const r = await runCli(['trace', 'e1'], {
      env: { COS_DEV_DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:1/db' },
      cwd: dir,
    });
    expect(r.code).toBe(5);
    expect(r.stderr.split('\n')[0]).toBe(
      'cos-db: cannot connect to dev at 127.0.0.1:1/db as u: connection refused (no server listening)',
    );
    expect(r.stderr).not.toContain('secretpw');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown database exits 5 and says so; an unknown id exits 3', async () => {
    const url = new URL(db.url);
    url.pathname = '/cos_db_no_such_database';
    const r = await runCli(['trace', 'e1'], {
      env: { COS_DEV_DATABASE_URL: url.toString() },
      cwd: dir,
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('the database does not exist');
    const unknown = await cli('trace', 'no-such-event', '--json');
    expect(unknown.code).toBe(3);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { exit_code: 3 } });
  });
});

describe('the baseline migration', () => {
  it('rolls back to an empty store that trace says to migrate, and migrates back to the same walks', async () => {
    const root = graph[399]?.event_id as string;
    const walk = () =>
      sql<{ node: string; distance: number; via: string | null }>(
        db.url,
        'select node, distance, via from cc.lineage_walk($1, $2, 1000)',
        [root, 'up'],
      );
    expect((await walk()).length).toBeGreaterThan(10);
    type Nodes = { nodes: Array<{ id: string; distance: number }> };
    const nodes = async () =>
      (JSON.parse((await cli('trace', root, '--json')).stdout) as Nodes).nodes.map((n) => [
        n.id,
        n.distance,
      ]);
    const before = await nodes();
    expect((await cli('migrate', 'rollback', '--yes', '-q')).code).toBe(0);
    const r = await cli('trace', root);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/this store is not migrated/);
    expect(r.stderr).toContain('cos-db migrate');
    expect((await cli('migrate', '-q')).code).toBe(0);
    await seedGraph();
    expect(await nodes()).toEqual(before);
    // Walks down read the GIN index on parents once a level: it keeps no pending list.
    expect(
      await sql(
        db.url,
        "select reloptions from pg_class where oid = 'cc.events_parents_idx'::regclass",
      ),
    ).toEqual([{ reloptions: ['fastupdate=off'] }]);
  }, 120_000);
});
