import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-events-'));
const env = () => ({ COS_DEV_DATABASE_URL: db.url });
const cli = (...args: string[]) => runCli(args, { env: env(), cwd: dir });
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};
const ndjson = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n');
const count = async () =>
  Number((await sql<{ n: string }>(db.url, 'select count(*) as n from cc.events'))[0]?.n);
type Result = { new: number; already_archived: number; ids: string[] | null };
type TraceJson = {
  nodes: Array<{ id: string; distance: number }>;
  edges: Array<{ from: string; to: string }>;
};

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli('migrate', '-q')).code).toBe(0);
  write('spec.md', '---\nid: spec\n---\n# Spec\n');
  expect((await cli('archive', 'prd', 'spec.md', '-q')).code).toBe(0);
});
afterAll(async () => db.drop());

describe('archive event: the rules', () => {
  it('reads NDJSON, assigns UUIDv7 ids and times, and counts', async () => {
    const r = await cli(
      'archive',
      'event',
      write(
        'a.ndjson',
        ndjson([
          { event_id: 'root', type: 'prd.approved', inputs: ['prd:spec@1'] },
          { type: 'note' },
        ]),
      ),
      '--json',
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as Result;
    expect(result).toMatchObject({ new: 2, already_archived: 0 });
    expect(result.ids?.[1]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('a JSON object, a JSON array and standard input all work', async () => {
    expect(
      (
        await cli(
          'archive',
          'event',
          write(
            'one.json',
            JSON.stringify({ event_id: 'obj', type: 't', parents: ['root'] }, null, 2),
          ),
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await cli(
          'archive',
          'event',
          write(
            'arr.json',
            JSON.stringify([
              { event_id: 'arr1', type: 't' },
              { event_id: 'arr2', type: 't', parents: ['arr1'] },
            ]),
          ),
        )
      ).code,
    ).toBe(0);
    const stdin = await runCli(['archive', 'event', '-', '--json'], {
      env: env(),
      cwd: dir,
      input: ndjson([{ event_id: 'in1', type: 't', parents: ['obj'] }]),
    });
    expect(JSON.parse(stdin.stdout)).toMatchObject({ new: 1 });
  });

  it('the same event again is skipped and counted; exit 0', async () => {
    const r = await cli('archive', 'event', 'a.ndjson', '--json');
    // The line without an event_id gets a new id each time: it is a new event.
    expect(JSON.parse(r.stdout)).toMatchObject({ new: 1, already_archived: 1 });
    expect(
      (JSON.parse((await cli('archive', 'event', 'arr.json', '--json')).stdout) as Result)
        .already_archived,
    ).toBe(2);
  });

  it('the same id with other content is a conflict: exit 4, nothing written', async () => {
    const before = await count();
    const r = await cli(
      'archive',
      'event',
      write(
        'conflict.ndjson',
        ndjson([
          { event_id: 'fresh-1', type: 't' },
          { event_id: 'root', type: 'changed' },
        ]),
      ),
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'conflict.ndjson:2: event root is already archived with other content',
    );
    expect(await count()).toBe(before);
  });

  it('an unknown parent or PRD version: exit 3, nothing written', async () => {
    const before = await count();
    const parent = await cli(
      'archive',
      'event',
      write(
        'orphan.ndjson',
        ndjson([
          { event_id: 'x1', type: 't' },
          { event_id: 'x2', type: 't', parents: ['ghost'] },
        ]),
      ),
    );
    expect(parent.code).toBe(3);
    expect(parent.stderr).toContain('orphan.ndjson:2: parent ghost of event x2 is not archived');
    const later = await cli(
      'archive',
      'event',
      write(
        'later.ndjson',
        ndjson([
          { event_id: 'y1', type: 't', parents: ['y2'] },
          { event_id: 'y2', type: 't' },
        ]),
      ),
    );
    expect(later.code).toBe(3);
    expect(later.stderr).toContain('comes later in the input');
    const prd = await cli(
      'archive',
      'event',
      write('noprd.ndjson', ndjson([{ event_id: 'z1', type: 't', inputs: ['prd:spec@9'] }])),
    );
    expect(prd.code).toBe(3);
    expect(prd.stderr).toContain('input prd:spec@9 of event z1 is not an archived PRD version');
    expect(await count()).toBe(before);
  });

  it('malformed JSON exits 2 and names the line; invalid events too', async () => {
    const before = await count();
    const bad = await cli(
      'archive',
      'event',
      write('bad.ndjson', `${JSON.stringify({ type: 't' })}\n{"type": "t",\n`),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^cos-db: bad\.ndjson:2: malformed JSON/);
    const noType = await cli(
      'archive',
      'event',
      write('notype.ndjson', ndjson([{ event_id: 'q' }])),
    );
    expect(noType.code).toBe(2);
    expect(noType.stderr).toContain('notype.ndjson:1: invalid event: type');
    const unknownKey = await cli(
      'archive',
      'event',
      write('extra.ndjson', ndjson([{ type: 't', colour: 'red' }])),
    );
    expect(unknownKey.code).toBe(2);
    expect((await cli('archive', 'event', 'missing.ndjson')).code).toBe(2);
    expect((await cli('archive', 'event', write('empty.ndjson', '\n'))).code).toBe(2);
    expect(await count()).toBe(before);
  });

  it('per batch: earlier batches stay; --atomic: all or nothing', async () => {
    const events = [
      { event_id: 'b1', type: 't' },
      { event_id: 'b2', type: 't' },
      { event_id: 'b3', type: 't', parents: ['ghost'] },
    ];
    const before = await count();
    expect(
      (
        await cli(
          'archive',
          'event',
          write('atomic.ndjson', ndjson(events)),
          '--atomic',
          '--batch-size',
          '2',
        )
      ).code,
    ).toBe(3);
    expect(await count()).toBe(before);
    expect((await cli('archive', 'event', 'atomic.ndjson', '--batch-size', '2')).code).toBe(3);
    expect(await count()).toBe(before + 2);
  });
});

describe('trace', () => {
  beforeAll(async () => {
    // A diamond: d1 ← (d2, d3) ← d4, and d4 ← d5; d1 came from the spec.
    const graph = [
      { event_id: 'd1', type: 'start', inputs: ['prd:spec@1'] },
      { event_id: 'd2', type: 'left', parents: ['d1'] },
      { event_id: 'd3', type: 'right', parents: ['d1'] },
      { event_id: 'd4', type: 'join', parents: ['d2', 'd3'] },
      { event_id: 'd5', type: 'publish', parents: ['d4'] },
    ];
    expect((await cli('archive', 'event', write('diamond.ndjson', ndjson(graph)))).code).toBe(0);
  });

  it('a node reached along several paths appears once, at its shortest distance', async () => {
    const t = JSON.parse((await cli('trace', 'd5', '--json')).stdout) as TraceJson;
    expect(t.nodes.map((n) => [n.id, n.distance])).toEqual([
      ['prd:spec@1', -4],
      ['d1', -3],
      ['d2', -2],
      ['d3', -2],
      ['d4', -1],
      ['d5', 0],
    ]);
    expect(t.edges).toHaveLength(6);
  });

  it('depth limits, --down and --both', async () => {
    expect(
      (
        JSON.parse((await cli('trace', 'd5', '--depth', '2', '--json')).stdout) as TraceJson
      ).nodes.map((n) => n.id),
    ).toEqual(['d2', 'd3', 'd4', 'd5']);
    expect(
      (JSON.parse((await cli('trace', 'd1', '--down', '--json')).stdout) as TraceJson).nodes.map(
        (n) => [n.id, n.distance],
      ),
    ).toEqual([
      ['d1', 0],
      ['d2', 1],
      ['d3', 1],
      ['d4', 2],
      ['d5', 3],
    ]);
    expect(
      (
        JSON.parse(
          (await cli('trace', 'd4', '--both', '--depth', '1', '--json')).stdout,
        ) as TraceJson
      ).nodes.map((n) => n.id),
    ).toEqual(['d2', 'd3', 'd4', 'd5']);
    const fromPrd = JSON.parse(
      (await cli('trace', 'prd:spec@1', '--down', '--json')).stdout,
    ) as TraceJson;
    expect(fromPrd.nodes.map((n) => n.id)).toContain('d5');
    expect(fromPrd.nodes.map((n) => n.id)).toContain('root');
  });

  it('tree, table, mermaid and dot have their shapes', async () => {
    const tree = (await cli('trace', 'd5', '--format', 'tree')).stdout;
    expect(tree.split('\n')[0]).toMatch(/^d5 {2}publish/);
    expect(tree).toContain('└─ d4');
    expect(tree.match(/d1 /g)).toHaveLength(1);
    const mermaid = (await cli('trace', 'd5', '--format', 'mermaid')).stdout;
    expect(mermaid.split('\n')[0]).toBe('flowchart TD');
    expect(mermaid.match(/ --> /g)?.length).toBe(5);
    expect(mermaid).toContain('-->|input|');
    const dot = (await cli('trace', 'd5', '--format', 'dot')).stdout;
    expect(dot).toMatch(/^digraph lineage \{/);
    expect(dot.trim().endsWith('}')).toBe(true);
    expect(dot).toContain('"d4" -> "d5";');
    expect(dot).toContain('"prd:spec@1" -> "d1" [style=dashed, label="input"];');
    expect((await cli('trace', 'd5', '--format', 'table')).stdout).toContain('distance');
    expect((await cli('trace', 'd5', '--format', 'svg')).code).toBe(2);
  });

  it('an unknown id exits 3', async () => {
    expect((await cli('trace', 'nope')).code).toBe(3);
    expect((await cli('trace', 'prd:spec@7')).code).toBe(3);
    expect((await cli('query', 'events', 'nope')).code).toBe(3);
  });
});

describe('query events', () => {
  it('filters, a limit, and keyset pagination with --after', async () => {
    const first = JSON.parse(
      (await cli('query', 'events', '--type', 't', '--limit', '2', '--json')).stdout,
    ) as { events: Array<{ event_id: string }>; next: string };
    expect(first.events).toHaveLength(2);
    const second = JSON.parse(
      (await cli('query', 'events', '--type', 't', '--limit', '2', '--after', first.next, '--json'))
        .stdout,
    ) as { events: Array<{ event_id: string }> };
    expect(second.events.map((e) => e.event_id)).not.toContain(first.events[0]?.event_id);
    const one = JSON.parse((await cli('query', 'events', 'd4', '--json')).stdout) as {
      parents: string[];
      children: string[];
    };
    expect(one).toMatchObject({ parents: ['d2', 'd3'], children: ['d5'] });
  });
});

describe('a 100k-line stream, then verify', () => {
  it('archives 100,000 NDJSON events with lineage in batches, and the store verifies', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i += 1) {
      const parents = i === 0 ? [] : [`s${i - 1}`, ...(i > 10 ? [`s${i - 10}`] : [])];
      lines.push(
        JSON.stringify({
          event_id: `s${i}`,
          type: 'step',
          module: i % 2 ? 'odd' : 'even',
          parents,
          payload: { i },
        }),
      );
    }
    writeFileSync(join(dir, 'stream.ndjson'), lines.join('\n'));
    const r = await cli('archive', 'event', 'stream.ndjson', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ new: 100_000, ids: null });
    const t = JSON.parse(
      (await cli('trace', 's99999', '--depth', '1000', '--json')).stdout,
    ) as TraceJson;
    // Steps of 1 and of 10: s90009 is 999 tens back; every node appears once.
    expect(Math.min(...t.nodes.map((n) => n.distance))).toBe(-1000);
    expect(new Set(t.nodes.map((n) => n.id)).size).toBe(t.nodes.length);
    expect(t.nodes.some((n) => n.id === 's90009')).toBe(true);
    const v = await cli('verify', '--json');
    expect(v.code).toBe(0);
  }, 240_000);
});

describe('bulk writes: COPY, chunks and checks', () => {
  it('keeps tabs, newlines, backslashes, quotes and non-ASCII text exact', async () => {
    const tricky = 'tab\there\nnew line\r\nback\\slash "quoted" \\N ünïcødé 漢字 😀';
    const r = await cli(
      'archive',
      'event',
      write(
        'tricky.json',
        JSON.stringify({
          event_id: 'tricky\tid\\1',
          type: 'note',
          actor: tricky,
          payload: { text: tricky, nested: { 'key\twith\ttabs': [tricky, null, 1.5] } },
        }),
      ),
      '--json',
    );
    expect(r.code).toBe(0);
    const shown = JSON.parse((await cli('query', 'events', 'tricky\tid\\1', '--json')).stdout) as {
      actor: string;
      payload: unknown;
    };
    expect(shown.actor).toBe(tricky);
    expect(shown.payload).toEqual({
      text: tricky,
      nested: { 'key\twith\ttabs': [tricky, null, 1.5] },
    });
    expect((await cli('verify', '-q')).code).toBe(0);
  });

  it('a batch is written in chunks; a chunk needing a chain that sorts first starts a new batch', async () => {
    // 3,000 events for chain "zz" then 3,000 for "aa" (chunks of 2,000), parents across the
    // chunk boundaries.
    const lines = Array.from({ length: 6000 }, (_, i) =>
      JSON.stringify({
        event_id: `ck${i}`,
        type: 'step',
        module: i < 3000 ? 'zz' : 'aa',
        parents: i === 0 ? [] : [`ck${i - 1}`],
      }),
    );
    const r = await cli(
      'archive',
      'event',
      write('chunks.ndjson', lines.join('\n')),
      '--batch-size',
      '10000',
      '--json',
    );
    expect(r.code).toBe(0);
    // Chunk 2 needs "aa" while the batch holds "zz": the batch ends there and a new one begins.
    expect(JSON.parse(r.stdout)).toMatchObject({ new: 6000, already_archived: 0, batches: 2 });
    const chains = await sql<{ chain: string; n: string; top: string }>(
      db.url,
      "select chain, count(*) as n, max(seq)::text as top from cc.events where chain in ('aa', 'zz') group by chain order by chain",
    );
    expect(chains).toEqual([
      { chain: 'aa', n: '3000', top: '3000' },
      { chain: 'zz', n: '3000', top: '3000' },
    ]);
    expect((await cli('verify', '-q')).code).toBe(0);
  });

  it('a chunk refused mid-batch (already archived ids, a missing parent) is redone carefully, its chain intact', async () => {
    const event = (id: string, parent?: string) =>
      JSON.stringify({
        event_id: id,
        type: 'step',
        module: 'redo',
        parents: parent ? [parent] : [],
      });
    const first = Array.from({ length: 3000 }, (_, i) =>
      event(`rd${i}`, i ? `rd${i - 1}` : undefined),
    );
    expect((await cli('archive', 'event', write('redo1.ndjson', first.join('\n')))).code).toBe(0);
    // Chunks of 2,000. Chunk 1 is all new and written straight away; chunk 2 mixes 1,000
    // archived events with 1,000 new ones, so the database refuses it and it is written again
    // after a look-up, in the same transaction: the chain must go on from where chunk 1 left
    // it. Chunk 3 was hashed ahead on the heads chunk 2 would have left had it been all new,
    // so it is hashed again.
    const second = [
      ...Array.from({ length: 2000 }, (_, i) => event(`rn${i}`, i ? `rn${i - 1}` : 'rd0')),
      ...first.slice(2000),
      ...Array.from({ length: 1000 }, (_, i) => event(`rm${i}`, i ? `rm${i - 1}` : 'rn1999')),
      ...Array.from({ length: 2000 }, (_, i) => event(`rq${i}`, i ? `rq${i - 1}` : 'rm999')),
    ];
    const r = await cli(
      'archive',
      'event',
      write('redo2.ndjson', second.join('\n')),
      '--batch-size',
      '10000',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ new: 5000, already_archived: 1000, batches: 1 });
    expect(
      await sql(
        db.url,
        "select count(*)::int as n, max(seq)::int as top from cc.events where chain = 'redo'",
      ),
    ).toEqual([{ n: 8000, top: 8000 }]);
    // A chunk whose parent is missing is refused whole, after chunks before it were written.
    const third = [
      ...Array.from({ length: 2000 }, (_, i) => event(`rp${i}`, i ? `rp${i - 1}` : 'rq1999')),
      event('orphan-late', 'never-archived'),
    ];
    const bad = await cli(
      'archive',
      'event',
      write('redo3.ndjson', third.join('\n')),
      '--batch-size',
      '5000',
    );
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(
      'redo3.ndjson:2001: parent never-archived of event orphan-late is not archived',
    );
    expect(
      await sql(db.url, "select count(*)::int as n from cc.events where event_id like 'rp%'"),
    ).toEqual([{ n: 0 }]);
    expect((await cli('verify', '-q')).code).toBe(0);
  });

  it('a parent that comes later in the input but is archived already is fine', async () => {
    const y = JSON.stringify({ event_id: 'late-y', type: 'step' });
    expect((await cli('archive', 'event', write('late1.ndjson', y))).code).toBe(0);
    const x = JSON.stringify({ event_id: 'late-x', type: 'step', parents: ['late-y'] });
    const r = await cli('archive', 'event', write('late2.ndjson', `${x}\n${y}`), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ new: 1, already_archived: 1 });
  });

  it('a store that is not migrated says so: exit 6, with the command to run', async () => {
    const bare = await createTestDatabase();
    try {
      for (const args of [
        ['trace', 'e1'],
        ['query', 'events'],
      ]) {
        const r = await runCli(args, { env: { COS_DEV_DATABASE_URL: bare.url } });
        expect(r.code).toBe(6);
        expect(r.stderr).toMatch(
          /this store is not migrated: (relation|schema) "cc(\.\w+)?" does not exist/,
        );
        expect(r.stderr).toContain('cos-db migrate');
        expect(r.stderr).not.toContain('internal error');
      }
    } finally {
      await bare.drop();
    }
  });

  it('lineage edges must name archived events and PRD versions, checked per statement', async () => {
    const archived = await cli(
      'archive',
      'event',
      write('edge.json', '{"event_id": "edge-root", "type": "note"}'),
    );
    expect(archived.code).toBe(0);
    // An event row that extends its chain correctly but names a parent nobody archived.
    const orphan = (parent: string) => `
      insert into cc.events (event_id, type, occurred_at, recorded_at, parents, inputs, payload,
                             payload_salt, chain, seq, prev_hash, hash, hash_version)
      select 'orphan', 'note', now(), now(), '["${parent}"]', '[]', '{}', substring(sha256('salt') from 1 for 16),
             'core', h.seq + 1, h.hash, sha256('forged'), 2
        from (select seq, hash from cc.events where chain = 'core' order by seq desc limit 1) h`;
    await expect(sql(db.url, orphan('no-such-event'))).rejects.toThrow(
      /event no-such-event is not archived \(a parent of event orphan\)/,
    );
    // The parents are still there to read as (event_id, parent_id) pairs.
    expect(
      await sql(
        db.url,
        "select count(*)::int as n from cc.event_parents where event_id = 'edge-root'",
      ),
    ).toEqual([{ n: 0 }]);
    // Edge tables are derived from the rows: not written on their own (lineageForgery.test.ts).
    await expect(
      sql(db.url, "insert into cc.event_inputs values ('edge-root', 'spec', 99)"),
    ).rejects.toThrow(/derived from the hashed rows/);
    // An event row naming a PRD version nobody archived: its derived edge is refused.
    await expect(
      sql(db.url, orphan('edge-root').replace(`'[]', '{}'`, `'["prd:spec@99"]', '{}'`)),
    ).rejects.toThrow(/PRD version prd:spec@99 is not archived/);
    // Replica mode does not skip the check.
    await expect(
      sql(db.url, `set session_replication_role = replica; ${orphan('ghost')}`),
    ).rejects.toThrow(/event ghost is not archived/);
  });
});
