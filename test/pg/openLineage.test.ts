import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knexEachRow } from '../../src/db/eachRow.js';
import { archiveEvents } from '../../src/events/archiveEvents.js';
import type { JsonRecord } from '../../src/events/readJsonRecords.js';
import { compactJson, exactCanonical } from '../../src/events/exactJson.js';
import { openLineageId } from '../../src/events/openLineage.js';
import { trace } from '../../src/lineage/trace.js';
import { migrate } from '../../src/migrations/runMigrations.js';
import { CORE_MIGRATIONS } from '../support/migrationsDir.js';
import { withUrl } from '../support/ledgerFixture.js';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

const FIXTURES = new URL('../fixtures/openlineage/', import.meta.url).pathname;
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(FIXTURES, name), 'utf8') }));

const dir = mkdtempSync(join(tmpdir(), 'cos-db-ol-'));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};
const cliOn =
  (url: string) =>
  (...args: string[]) =>
    runCli(args, { env: { COS_DEV_DATABASE_URL: url }, cwd: dir });

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
  expect((await cli('migrate', '-q')).code).toBe(0);
});
afterAll(async () => db.drop());

type ArchiveJson = {
  new: number;
  already_archived: number;
  ids: string[] | null;
  skipped?: Array<{ line: number; message: string }>;
  skipped_count?: number;
};
const archive = async (file: string, ...more: string[]) => {
  const r = await cli('archive', 'event', file, '--format', 'openlineage', '--json', ...more);
  return { ...r, json: r.stdout ? (JSON.parse(r.stdout) as ArchiveJson) : undefined };
};
const count = async () =>
  Number((await sql<{ n: string }>(db.url, 'select count(*) as n from cc.events'))[0]?.n);

const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python';
const run = (runId: string, eventType: string, eventTime: string, extra: object = {}) => ({
  eventTime,
  eventType,
  producer: PRODUCER,
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId },
  job: { namespace: 'etl', name: `job-${runId.slice(0, 4)}` },
  ...extra,
});
const uuid = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

describe('the events the OpenLineage and Marquez projects publish', () => {
  it('every fixture is accepted, as a file of its own and as NDJSON, and exported exactly', async () => {
    for (const f of fixtures) {
      const r = await archive(join(FIXTURES, f.name));
      expect(r.stderr, f.name).toBe('');
      expect(r.code, f.name).toBe(0);
      expect(r.json?.ids).toEqual([openLineageId(f.text)]);
    }
    // The same events as NDJSON (one line each): already archived, whatever the whitespace.
    const lines = fixtures.map((f) => compactJson(f.text));
    const again = await archive(write('fixtures.ndjson', lines.join('\n')));
    expect(again.json).toMatchObject({ new: 0, already_archived: fixtures.length });

    const exported = (await cli('export', 'events', '--format', 'openlineage')).stdout
      .trimEnd()
      .split('\n');
    expect(exported).toHaveLength(fixtures.length);
    // A pretty-printed original comes back as one line with only the whitespace between its
    // tokens gone; every number, string and key order as received.
    expect([...exported].sort()).toEqual([...lines].sort());
    const stored = await sql<{ payload_original: string }>(
      db.url,
      'select payload_original from cc.events order by payload_original',
    );
    expect(stored.map((s) => s.payload_original)).toEqual(
      fixtures.map((f) => f.text.trim()).sort(),
    );
    expect((await cli('verify', '-q')).code).toBe(0);
  });

  it('every facet example of the spec, in an event where its kind goes, round trips exactly', async () => {
    const root = join(FIXTURES, 'spec-facets');
    const lines: string[] = [];
    for (const facet of readdirSync(root).sort())
      for (const file of readdirSync(join(root, facet)).sort()) {
        // The facet's text as the spec wrote it, numbers and all, spliced into the event.
        const text = readFileSync(join(root, facet, file), 'utf8').trim();
        const kind =
          facet === 'LineageFacet'
            ? text.includes('LineageJobFacet')
              ? 'JobFacet'
              : 'DatasetFacet'
            : facet;
        const slot = (name: string) => (kind.endsWith(name) ? text : '{}');
        const dataset = (facets: string) =>
          `{"namespace":"spec","name":"${facet}/${file}",${facets}}`;
        lines.push(
          compactJson(
            `{"eventTime":"2026-11-04T10:00:00Z","eventType":"COMPLETE","producer":"${PRODUCER}",` +
              `"run":{"runId":"${uuid(0x5000 + lines.length)}","facets":${slot('RunFacet')}},` +
              `"job":{"namespace":"spec","name":"${facet}","facets":${slot('JobFacet')}},` +
              `"inputs":[${dataset(`"inputFacets":${slot('InputDatasetFacet')}`)}],` +
              `"outputs":[${dataset(`"facets":${kind.endsWith('DatasetFacet') && !/(Input|Output)DatasetFacet$/.test(kind) ? text : '{}'},"outputFacets":${slot('OutputDatasetFacet')}`)}]}`,
          ),
        );
      }
    expect(lines.length).toBeGreaterThan(30);
    const r = await archive(write('facets.ndjson', lines.join('\n')));
    expect(r.stderr).toBe('');
    expect(r.json?.new).toBe(lines.length);
    const out = (
      await cli(
        'export',
        'events',
        '--format',
        'openlineage',
        '--since',
        '2026-11-04T00:00:00Z',
        '--until',
        '2026-11-05T00:00:00Z',
      )
    ).stdout
      .trimEnd()
      .split('\n');
    expect(out.sort()).toEqual([...lines].sort());
  });

  it('JobEvent and DatasetEvent are stored and shown in query and trace', async () => {
    const job = fixtures.find((f) => f.name === 'marquez-event_job_event.json') as { text: string };
    const dataset = fixtures.find((f) => f.name === 'marquez-event_dataset_event.json') as {
      text: string;
    };
    const q = JSON.parse(
      (await cli('query', 'events', '--type', 'openlineage.job', '--json')).stdout,
    ) as { events: Array<{ event_id: string; task_id: string; run_id: null }> };
    expect(q.events).toContainEqual(
      expect.objectContaining({
        event_id: openLineageId(job.text),
        task_id: 'my-scheduler-namespace/myjob',
        run_id: null,
      }),
    );
    const t = JSON.parse((await cli('trace', openLineageId(dataset.text), '--json')).stdout) as {
      nodes: Array<{ label: string; type: string }>;
    };
    expect(t.nodes[0]).toMatchObject({
      type: 'openlineage.dataset',
      label: 'dataset my-dataset-namespace.my-dataset-name',
    });
    const tj = JSON.parse((await cli('trace', openLineageId(job.text), '--json')).stdout) as {
      nodes: Array<{ label: string }>;
    };
    expect(tj.nodes[0]?.label).toBe('my-scheduler-namespace.myjob (job)');
  });
});

describe('identity and the original', () => {
  it('numbers are kept as written: 9007199254740993, 1.0 and 1e2', async () => {
    const text = `{"eventTime":"2026-11-02T10:00:00Z","eventType":"COMPLETE","producer":"${PRODUCER}","run":{"runId":"${uuid(0x9001)}","facets":{"stats":{"_producer":"x","_schemaURL":"x","rows":9007199254740993,"ratio":1.0,"size":1e2,"neg":-0.0}}},"job":{"namespace":"n","name":"numbers"}}`;
    const r = await archive(write('numbers.ndjson', text));
    expect(r.json?.new).toBe(1);
    const id = openLineageId(text);
    const out = (await cli('export', 'events', '--format', 'openlineage', '--task', 'n/numbers'))
      .stdout;
    expect(out).toBe(`${text}\n`);
    expect(out).toContain('"rows":9007199254740993,"ratio":1.0,"size":1e2,"neg":-0.0');
    const [row] = await sql<{ rows: string }>(
      db.url,
      "select payload #>> '{openlineage,run,facets,stats,rows}' as rows from cc.events where event_id = $1",
      [id],
    );
    expect(row?.rows).toBe('9007199254740993');
  });

  it('two events of one run 0.5 µs apart are two events; the same one re-sent with more facets is another', async () => {
    const R = uuid(0x9002);
    const a = run(R, 'RUNNING', '2026-11-02T10:00:00.0000005Z');
    const b = run(R, 'RUNNING', '2026-11-02T10:00:00.000001Z');
    const richer = { ...b, job: { ...b.job, facets: { sql: { query: 'select 1' } } } };
    const r = await archive(
      write('close.ndjson', [a, b, richer].map((e) => JSON.stringify(e)).join('\n')),
    );
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ new: 3, already_archived: 0 });
    // The same event with its keys in another order and other whitespace is the same event.
    const reordered = `{ "run" : {"runId":"${R}"}, ${JSON.stringify(a)
      .slice(1, -1)
      .replace(/"run":\{[^}]*\},?/, '')} }`;
    expect(exactCanonical(reordered)).toBe(exactCanonical(JSON.stringify(a)));
    const again = await archive(write('again.ndjson', reordered));
    expect(again.json).toMatchObject({ new: 0, already_archived: 1 });
  });

  it('an event given twice in one input with other content names both lines, not "already archived"', async () => {
    const lines = [
      JSON.stringify({ event_id: 'twice', type: 'a' }),
      JSON.stringify({ event_id: 'twice', type: 'b' }),
    ];
    const r = await cli('archive', 'event', write('twice.ndjson', lines.join('\n')));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'twice.ndjson:2: event twice comes twice in the input with different content (first at line 1)',
    );
    expect(r.stderr).not.toContain('already archived');
  });
});

describe('validation as strict as the spec, lenient where producers are', () => {
  const base = {
    eventTime: '2021-11-03T10:53:52.427343',
    eventType: 'COMPLETE',
    inputs: [
      {
        facets: {},
        name: 'OPEN_LINEAGE_DEMO.DEMO.SOURCE_TABLE_1',
        namespace: 'testing_namespace_1',
      },
    ],
    job: { facets: {}, name: 'testing_name_1', namespace: 'testing_namespace_1' },
    outputs: [],
    producer: 'me',
    run: { facets: {}, runId: 'dae0d60a-6010-4c37-980e-c5270f5a6be4' },
  };
  // Marquez's OpenLineageIntegrationTest.testSendOpenLineageEventFailsValidation (422 there).
  const refused: Array<[string, object, string]> = [
    [
      'an input dataset with a null name',
      { ...base, inputs: [{ facets: {}, name: null, namespace: 'testing_namespace_1' }] },
      'inputs.0.name',
    ],
    [
      'schema fields without a name',
      {
        ...base,
        outputs: [
          {
            facets: {
              schema: {
                _producer: 'x',
                _schemaURL: 'x',
                fields: [{ assertion: 'a', success: true }],
              },
            },
            name: 'OPEN_LINEAGE_DEMO.DEMO.SOURCE_TABLE_1',
            namespace: 'testing_namespace_1',
          },
        ],
      },
      'outputs.0.facets.schema.fields.0.name',
    ],
    [
      'a job with a null name',
      { ...base, job: { facets: {}, name: null, namespace: 'n' } },
      'job.name',
    ],
    ['a run with a null runId', { ...base, run: { facets: {}, runId: null } }, 'run.runId'],
    [
      'a parent facet with an empty run',
      {
        ...base,
        run: {
          runId: base.run.runId,
          facets: {
            parent: {
              _producer: 'me',
              _schemaURL: 'https://me',
              run: {},
              job: { namespace: 'a', name: 'b' },
            },
          },
        },
      },
      'run.facets.parent.run.runId',
    ],
    ['no producer (the spec requires it)', { ...base, producer: undefined }, 'producer'],
    ['a runId that is not a UUID', { ...base, run: { runId: 'run-1' } }, 'run.runId'],
    ['an unknown eventType', { ...base, eventType: 'DONE' }, 'eventType'],
  ];

  it.each(refused)(
    'refuses %s (exit 2, naming the line and the field); nothing is stored',
    async (_, event, field) => {
      const before = await count();
      const file = write('bad.ndjson', [JSON.stringify(base), JSON.stringify(event)].join('\n'));
      const r = await archive(file);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`bad.ndjson:2: not a valid OpenLineage RunEvent: ${field}`);
      expect(r.stderr.trim().split('\n')[0]).not.toMatch(/^\s+at /);
      expect(await count()).toBe(before);
    },
  );

  it('refuses a time that is not one, and a record that is no kind of event', async () => {
    const time = await archive(
      write('t.json', JSON.stringify({ ...base, eventTime: '2021-11-03' })),
    );
    expect(time.code).toBe(2);
    expect(time.stderr).toContain('eventTime "2021-11-03" is not a time');
    const none = await archive(
      write('none.json', JSON.stringify({ eventTime: base.eventTime, producer: 'me' })),
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('not an OpenLineage event');
  });

  it('--skip-invalid archives the rest and reports the refused lines (exit 2)', async () => {
    const good = run(uuid(0x9003), 'START', '2026-11-03T10:00:00Z');
    const lines = [
      JSON.stringify(good),
      JSON.stringify({ ...good, producer: undefined }),
      '{"not json',
      'not an object',
      JSON.stringify(run(uuid(0x9003), 'COMPLETE', '2026-11-03T10:01:00Z')),
    ];
    const file = write('mixed.ndjson', lines.join('\n'));
    const before = await count();
    const strict = await archive(file);
    expect(strict.code).toBe(2);
    expect(await count()).toBe(before);
    const r = await archive(file, '--skip-invalid');
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ new: 2, skipped_count: 3 });
    expect(r.json?.skipped?.map((s) => s.line)).toEqual([2, 3, 4]);
    expect(r.json?.skipped?.[1]?.message).toMatch(/^mixed\.ndjson:3: malformed JSON: /);
    expect(r.json?.skipped?.[0]?.message).toContain(
      'mixed.ndjson:2: not a valid OpenLineage RunEvent: producer',
    );
    expect(await count()).toBe(before + 2);
  });
});

/** A scenario of runs and datasets, with the lineage it must give. */
function scenario(): { events: object[]; expected: Array<[string, string]> } {
  const A = uuid(0xa1);
  const B = uuid(0xb2);
  const C = uuid(0xc3);
  const D = uuid(0xd4);
  const E = uuid(0xe5);
  const ds = (namespace: string, name: string) => ({ namespace, name });
  const events = {
    aStart: run(A, 'START', '2026-11-01T10:00:00Z'),
    aDone: run(A, 'COMPLETE', '2026-11-01T10:05:00Z', { outputs: [ds('s3://bucket', 'a/b')] }),
    // Reads what A wrote: A's completion is its parent.
    bStart: run(B, 'START', '2026-11-01T11:00:00Z', { inputs: [ds('s3://bucket', 'a/b')] }),
    bDone: run(B, 'COMPLETE', '2026-11-01T11:10:00Z', { outputs: [ds('warehouse', 'daily')] }),
    // A child of B (parent facet) reading B's output.
    cStart: run(C, 'START', '2026-11-01T11:20:00Z', {
      inputs: [ds('warehouse', 'daily')],
      run: {
        runId: C,
        facets: { parent: { run: { runId: B }, job: { namespace: 'etl', name: 'job-0000' } } },
      },
    }),
    // (s3://bucket/a, b) is another dataset than (s3://bucket, a/b): no edge to A.
    dStart: run(D, 'START', '2026-11-01T12:00:00Z', { inputs: [ds('s3://bucket/a', 'b')] }),
    // Reads a/b at the very instant A wrote it: a writer at the same instant is not a parent.
    eStart: run(E, 'START', '2026-11-01T10:05:00Z', { inputs: [ds('s3://bucket', 'a/b')] }),
  };
  const id = (e: object) => openLineageId(JSON.stringify(e));
  return {
    events: Object.values(events),
    expected: [
      [id(events.aStart), id(events.aDone)],
      [id(events.aDone), id(events.bStart)],
      [id(events.bStart), id(events.bDone)],
      [id(events.bDone), id(events.cStart)],
    ],
  };
}

/** A store made fresh, the events archived in the groups given (each an import), its lineage. */
async function lineageAfter(groups: object[][]): Promise<{
  edges: Array<[string, string]>;
  traces: string[];
}> {
  const fresh = await createTestDatabase('cos_test_ol');
  try {
    return await withUrl(fresh.url, async (d) => {
      await migrate(d, { migrationsDir: CORE_MIGRATIONS, lockTimeoutMs: 30_000 });
      for (const [i, group] of groups.entries()) {
        if (group.length === 0) continue;
        const records = (async function* () {
          yield group.map((e, line): JsonRecord => ({
            line: line + 1,
            value: e,
            text: JSON.stringify(e),
          }));
        })();
        await archiveEvents(d.knex, records, { format: 'openlineage', label: `import${i}` });
      }
      const edges = (
        await d.knex.raw<{ rows: Array<{ parent_id: string; event_id: string }> }>(
          'select parent_id, event_id from cc.event_parents order by 1, 2',
        )
      ).rows.map((r): [string, string] => [r.parent_id, r.event_id]);
      // Going down finds the same edges as going up (openlineage_children is the rules read
      // the other way).
      const down = (
        await d.knex.raw<{ rows: Array<{ parent_id: string; event_id: string }> }>(
          `select e.event_id as parent_id, c as event_id from cc.events e
             cross join lateral cc.openlineage_children(e.event_id, e.run_id, e.occurred_at, e.type, e.payload) c
            order by 1, 2`,
        )
      ).rows.map((r): [string, string] => [r.parent_id, r.event_id]);
      expect(down).toEqual(edges);
      const ids = (
        await d.knex.raw<{ rows: Array<{ event_id: string }> }>(
          'select event_id from cc.events order by event_id',
        )
      ).rows.map((r) => r.event_id);
      const traces: string[] = [];
      for (const root of ids)
        traces.push(JSON.stringify(await trace(knexEachRow(d.knex), root, 'both', 100)));
      return { edges, traces };
    });
  } finally {
    await fresh.drop();
  }
}

/** A seeded shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

type ModelEvent = {
  eventTime: string;
  eventType: string;
  run: { runId: string; facets?: { parent?: { run: { runId: string } } } };
  inputs?: Array<{ namespace: string; name: string }>;
  outputs?: Array<{ namespace: string; name: string }>;
};

/**
 * The lineage rules worked out in memory, apart from the SQL: a run's previous event, its parent
 * run's latest event before it, and per input the latest writer of another run strictly before.
 */
function modelEdges(list: object[]): Array<[string, string]> {
  // START, RUNNING, other, then the end of a run: their order at one instant.
  const rank = (t: string) => ({ START: 0, RUNNING: 1, COMPLETE: 3, ABORT: 3, FAIL: 3 })[t] ?? 2;
  type At = { at: string; rank: number; id: string };
  const events = (list as ModelEvent[]).map((e) => ({
    e,
    id: openLineageId(JSON.stringify(e)),
    at: new Date(e.eventTime).toISOString(),
    rank: rank(e.eventType),
  }));
  const before = (a: At, b: At) =>
    a.at < b.at || (a.at === b.at && (a.rank < b.rank || (a.rank === b.rank && a.id < b.id)));
  const latest = <T extends At>(xs: T[]) =>
    xs.reduce<T | undefined>((m, x) => (!m || before(m, x) ? x : m), undefined);
  const edges = new Set<string>();
  for (const x of events) {
    const own = x.e.run.runId;
    const prev = latest(events.filter((y) => y.e.run.runId === own && before(y, x)));
    if (prev) edges.add(`${prev.id} ${x.id}`);
    const parent = x.e.run.facets?.parent?.run.runId;
    if (parent && parent !== own) {
      const p = latest(events.filter((y) => y.e.run.runId === parent && before(y, x)));
      if (p) edges.add(`${p.id} ${x.id}`);
    }
    // A dataset's writers at one instant are told apart by id alone.
    for (const d of x.e.inputs ?? []) {
      const w = events
        .filter(
          (y) =>
            y.e.run.runId !== own &&
            y.at < x.at &&
            (y.e.outputs ?? []).some((o) => o.namespace === d.namespace && o.name === d.name),
        )
        .reduce<(typeof events)[number] | undefined>(
          (m, y) => (!m || m.at < y.at || (m.at === y.at && m.id < y.id) ? y : m),
          undefined,
        );
      if (w) edges.add(`${w.id} ${x.id}`);
    }
  }
  return [...edges].sort().map((e) => e.split(' ') as [string, string]);
}

describe('lineage by event time, whatever the arrival order', () => {
  it('in order, reversed, shuffled, and over several imports: the same edges and traces', async () => {
    const { events, expected } = scenario();
    const inOrder = await lineageAfter([events]);
    expect(inOrder.edges).toEqual(
      [...expected].sort((x, y) => (x[0] + x[1] < y[0] + y[1] ? -1 : 1)),
    );
    const reversed = [...events].reverse();
    const mixed = shuffled(events, 20261202);
    for (const groups of [
      [reversed],
      [mixed],
      // The downstream events first, their upstream runs days later in imports of their own.
      [reversed.slice(0, 3), reversed.slice(3, 5), reversed.slice(5)],
      events.map((e) => [e]).reverse(),
    ])
      expect(await lineageAfter(groups)).toEqual(inOrder);
  }, 120_000);

  it('trace labels OpenLineage nodes by job, event type and run', async () => {
    const { events } = scenario();
    const file = write('scenario.ndjson', events.map((e) => JSON.stringify(e)).join('\n'));
    expect((await archive(file)).code).toBe(0);
    const c = openLineageId(JSON.stringify(events[4]));
    const text = (await cli('trace', c)).stdout;
    expect(text).toContain('etl.job-0000 START (run 000000c3)');
    expect(text).toContain('etl.job-0000 COMPLETE (run 000000b2)');
    // The derived edge in the graph formats too.
    const parent = openLineageId(JSON.stringify(events[3]));
    for (const format of ['dot', 'mermaid', 'table']) {
      const out = (await cli('trace', c, '--format', format)).stdout;
      expect(out, format).toContain('etl.job-0000 COMPLETE (run 000000b2)');
      if (format !== 'table') expect(out, format).toContain(parent.slice(3, 11));
    }
    const detail = JSON.parse((await cli('query', 'events', c, '--json')).stdout) as {
      parents: string[];
      derived_parents: string[];
    };
    expect(detail.parents).toEqual([]);
    expect(detail.derived_parents).toEqual([openLineageId(JSON.stringify(events[3]))]);
    const lineage = JSON.parse(
      (await cli('export', 'lineage', '--format', 'json')).stdout,
    ) as Array<{
      from_id: string;
      to_id: string;
    }>;
    expect(lineage).toContainEqual({
      from_id: openLineageId(JSON.stringify(events[3])),
      to_id: c,
      kind: 'parent',
    });
    expect((await cli('verify', '-q')).code).toBe(0);
  });

  it('property: for random runs and datasets, any arrival order gives the lineage of time order', async () => {
    // Runs of one to four events (START, RUNNING …, COMPLETE), each reading and writing a few
    // of four datasets, some a child of an earlier run: times a minute apart at most, so many
    // fall on one instant.
    const io = fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { maxLength: 2 });
    const runEvents = fc
      .array(
        fc.record({
          start: fc.integer({ min: 0, max: 20 }),
          steps: fc.array(
            fc.record({ after: fc.integer({ min: 0, max: 3 }), reads: io, writes: io }),
            {
              minLength: 1,
              maxLength: 4,
            },
          ),
          parent: fc.option(fc.nat(), { nil: undefined }),
        }),
        { minLength: 2, maxLength: 8 },
      )
      .map((runs) =>
        runs.flatMap((r, i) => {
          const id = uuid(0x1000 + i);
          const at = (m: number) => new Date(Date.UTC(2026, 10, 1, 10, m)).toISOString();
          // Datasets whose joined names would collide: (n, "x/i") and (n/x, i).
          const ds = (k: number) =>
            k % 2
              ? { namespace: 'n', name: `x/${k >> 1}` }
              : { namespace: 'n/x', name: `${k >> 1}` };
          const parent =
            r.parent === undefined || i === 0 ? undefined : uuid(0x1000 + (r.parent % i));
          let minute = r.start;
          return r.steps.map((step, k) => {
            minute += step.after;
            const type = k === 0 ? 'START' : k === r.steps.length - 1 ? 'COMPLETE' : 'RUNNING';
            return run(id, type, at(minute), {
              inputs: step.reads.map(ds),
              outputs: step.writes.map(ds),
              ...(parent
                ? {
                    run: {
                      runId: id,
                      facets: {
                        parent: { run: { runId: parent }, job: { namespace: 'etl', name: 'p' } },
                      },
                    },
                  }
                : {}),
            });
          });
        }),
      );
    await fc.assert(
      fc.asyncProperty(
        runEvents,
        fc.integer(),
        fc.integer({ min: 1, max: 3 }),
        async (events, seed, cut) => {
          const byTime = [...events].sort((a, b) =>
            (a as { eventTime: string }).eventTime < (b as { eventTime: string }).eventTime
              ? -1
              : 1,
          );
          const order = shuffled(events, seed);
          const size = Math.ceil(order.length / cut);
          const groups = Array.from({ length: cut }, (_, k) =>
            order.slice(k * size, (k + 1) * size),
          );
          const inTime = await lineageAfter([byTime]);
          expect(inTime.edges).toEqual(modelEdges(events));
          expect(await lineageAfter(groups)).toEqual(inTime);
        },
      ),
      { numRuns: 15, seed: 20261202, endOnFailure: true },
    );
  }, 300_000);
});

describe('a bundle', () => {
  it('carries the originals exactly into another store, which verifies them', async () => {
    expect((await cli('export', '--all', '--out', 'ol.bundle', '-q')).code).toBe(0);
    const target = await createTestDatabase('cos_test_ol');
    try {
      const c = cliOn(target.url);
      expect((await c('migrate', '-q')).code).toBe(0);
      const r = await c('import', join(dir, 'ol.bundle'), '-q');
      expect(r.code, r.stderr).toBe(0);
      const originals = (u: string) =>
        sql<{ event_id: string; payload_original: string; payload: unknown }>(
          u,
          'select event_id, payload_original, payload::text as payload from cc.events order by event_id',
        );
      expect(await originals(target.url)).toEqual(await originals(db.url));
      expect((await c('verify', '-q')).code).toBe(0);
      const out = (await c('export', 'events', '--format', 'openlineage')).stdout;
      expect(out).toContain('"rows":9007199254740993,"ratio":1.0,"size":1e2');
    } finally {
      await target.drop();
    }
  });
});

describe('the migration', () => {
  it('rolls back and forth on a store without OpenLineage events; with them it refuses (exit 2) and changes nothing', async () => {
    const fresh = await createTestDatabase('cos_test_ol');
    try {
      const c = cliOn(fresh.url);
      expect((await c('migrate', '-q')).code).toBe(0);
      // This one and every migration after it.
      expect(
        (await c('migrate', 'rollback', '--to', '20261202000000_baseline.ts', '-q')).code,
      ).toBe(0);
      expect((await c('migrate', '-q')).code).toBe(0);
      const file = join(FIXTURES, 'marquez-event_full.json');
      expect((await c('archive', 'event', file, '--format', 'openlineage', '-q')).code).toBe(0);
      expect(
        (await c('migrate', 'rollback', '--to', '20261203000000_openlineage.ts', '-q')).code,
      ).toBe(0);
      const r = await c('migrate', 'rollback', '--step', '1');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('their hashes commit to the original text');
      expect((await c('migrate', '-q')).code).toBe(0);
      expect((await c('migrate', 'status', '--check', '-q')).code).toBe(0);
      expect((await c('verify', '-q')).code).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});
