import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, freshDatabase } from './ledger.js';
import { BIN, median, timeProcess, type Row, type Scenario } from './harness.js';

const N = 100_000;
const RUNS = N / 2;
const uuid = (n: number) =>
  `${n.toString(16).padStart(8, '0')}-5a1e-4000-8000-${(n * 7919).toString(16).padStart(12, '0').slice(-12)}`;

/**
 * 100k OpenLineage RunEvents: 50k runs of 500 jobs, each a START reading two datasets that earlier
 * runs wrote (of 2,000) and a COMPLETE writing one, a minute apart, with a schema facet as real
 * producers send; and 100k plain cos-db events of about the same size with the lineage the same
 * shape (each COMPLETE's parent its START, each START's parents the two writers).
 */
async function writeInputs(dir: string): Promise<void> {
  const ol = createWriteStream(join(dir, 'ol.ndjson'));
  const plain = createWriteStream(join(dir, 'plain.ndjson'));
  const base = Date.UTC(2026, 0, 1);
  const at = (m: number) => new Date(base + m * 60_000).toISOString();
  const writer = new Map<number, number>();
  const put = async (stream: ReturnType<typeof createWriteStream>, line: string) => {
    if (!stream.write(`${line}\n`)) await new Promise<void>((r) => stream.once('drain', () => r()));
  };
  for (let r = 0; r < RUNS; r += 1) {
    const job = { namespace: 'airflow://prod', name: `dag_${r % 500}.task_${r % 7}` };
    const reads = [(r * 31) % 2000, (r * 17 + 5) % 2000];
    const writes = (r * 13 + 11) % 2000;
    const ds = (k: number) => ({
      namespace: 'postgres://warehouse:5432',
      name: `analytics.public.table_${k}`,
    });
    const schema = {
      schema: {
        _producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/airflow',
        _schemaURL: 'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json',
        fields: [
          { name: 'id', type: 'BIGINT' },
          { name: 'amount', type: 'NUMERIC(12,2)' },
        ],
      },
    };
    const event = (type: string, m: number, io: object) => ({
      eventTime: at(m),
      eventType: type,
      producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/airflow',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId: uuid(r) },
      job,
      ...io,
    });
    await put(ol, JSON.stringify(event('START', 2 * r, { inputs: reads.map(ds) })));
    await put(
      ol,
      JSON.stringify(
        event('COMPLETE', 2 * r + 1, { outputs: [{ ...ds(writes), facets: schema }] }),
      ),
    );
    const parents = reads.map((k) => writer.get(k)).filter((p) => p !== undefined);
    const plainEvent = (
      i: number,
      type: string,
      m: number,
      parentIds: string[],
      payload: object,
    ) => ({
      event_id: `e${i}`,
      type,
      module: 'etl',
      actor: 'airflow',
      task_id: `${job.namespace}/${job.name}`,
      run_id: uuid(r),
      occurred_at: at(m),
      parents: parentIds,
      payload,
    });
    await put(
      plain,
      JSON.stringify(
        plainEvent(
          2 * r,
          'run.start',
          2 * r,
          parents.map((p) => `e${p}`),
          { inputs: reads.map(ds) },
        ),
      ),
    );
    await put(
      plain,
      JSON.stringify(
        plainEvent(2 * r + 1, 'run.complete', 2 * r + 1, [`e${2 * r}`], {
          outputs: [{ ...ds(writes), facets: schema }],
        }),
      ),
    );
    writer.set(writes, 2 * r + 1);
  }
  await Promise.all([new Promise((r) => ol.end(r)), new Promise((r) => plain.end(r))]);
}

export const openlineage: Scenario = {
  name: 'openlineage',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-bench-ol-'));
    await writeInputs(dir);
    spawnSync('sync');
    const ingest = { ol: [] as number[], plain: [] as number[] };
    const urls = { plain: '', ol: '' };
    const env = (u: string) => ({
      PATH: process.env.PATH ?? '',
      HOME: dir,
      COS_DEV_DATABASE_URL: u,
    });
    // Alternated, each into a fresh database, so both see the same machine.
    for (let i = 0; i < 3; i += 1)
      for (const [kind, file, format] of [
        ['plain', 'plain.ndjson', 'json'],
        ['ol', 'ol.ndjson', 'openlineage'],
      ] as const) {
        const url = await freshDatabase(`cos_bench_ol_${kind}`);
        urls[kind] = url;
        timeProcess(process.execPath, [BIN, 'migrate', '-q'], { cwd: dir, env: env(url) });
        spawnSync('psql', [url, '-qc', 'checkpoint']);
        ingest[kind].push(
          timeProcess(process.execPath, [BIN, 'archive', 'event', file, '--format', format, '-q'], {
            cwd: dir,
            env: env(url),
          }),
        );
      }
    // The same lineage two ways: derived at query time from runs and datasets (OpenLineage),
    // and named in each row (the plain events), 50 levels up from the last event: 44,902 nodes.
    for (const url of Object.values(urls)) spawnSync('psql', [url, '-qc', 'vacuum analyze']);
    const last = spawnSync(
      'psql',
      [
        urls.ol,
        '-qAtc',
        "select event_id from cc.events where type = 'openlineage.complete' order by occurred_at desc limit 1",
      ],
      { encoding: 'utf8' },
    ).stdout.trim();
    const first = spawnSync(
      'psql',
      [urls.ol, '-qAtc', 'select event_id from cc.events order by occurred_at, event_id limit 1'],
      { encoding: 'utf8' },
    ).stdout.trim();
    const traces = {
      ol: [] as number[],
      plain: [] as number[],
      olDown: [] as number[],
      plainDown: [] as number[],
    };
    for (let i = 0; i < 5; i += 1)
      for (const [key, url, args] of [
        ['ol', urls.ol, [last]],
        ['plain', urls.plain, [`e${N - 1}`]],
        ['olDown', urls.ol, [first, '--down']],
        ['plainDown', urls.plain, ['e0', '--down']],
      ] as const)
        traces[key].push(
          timeProcess(process.execPath, [BIN, 'trace', ...args, '--depth', '50', '--json'], {
            cwd: dir,
            env: env(url),
          }),
        );
    await dropDatabase('cos_bench_ol_plain');
    await dropDatabase('cos_bench_ol_ol');
    rmSync(dir, { recursive: true, force: true });
    const rate = (times: number[]) => N / (median(times) / 1000);
    return [
      {
        scenario: 'archive event --format openlineage, 100k RunEvents of 50k runs (median of 3)',
        value: rate(ingest.ol),
        unit: 'rows/s',
        baseline:
          'archive event, 100k plain events of the same size and lineage shape (median of 3, alternated)',
        baselineValue: rate(ingest.plain),
        target: '(ratio for reference)',
        met: null,
        runs: 3,
      },
      {
        scenario:
          'trace --depth 50 up from the last COMPLETE (44,902 nodes), lineage derived at query time (median of 5)',
        value: median(traces.ol),
        unit: 'ms',
        baseline: 'the same graph as plain events naming their parents (median of 5, alternated)',
        baselineValue: median(traces.plain),
        target: '(ratio for reference)',
        met: null,
        runs: 5,
      },
      {
        scenario:
          'trace --down --depth 50 from the first START, lineage derived at query time (median of 5)',
        value: median(traces.olDown),
        unit: 'ms',
        baseline: 'the same graph as plain events naming their parents (median of 5, alternated)',
        baselineValue: median(traces.plainDown),
        target: '(ratio for reference)',
        met: null,
        runs: 5,
      },
    ] satisfies Row[];
  },
};
