import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knexEachRow } from '../../src/db/eachRow.js';
import { withUrl } from '../support/ledgerFixture.js';
import { compareTraces, randomGraph } from '../support/lineageFixture.js';
import { runCli } from '../support/runCli.js';

describe('trace on the embedded engine', () => {
  it('agrees with a breadth-first walk worked out in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-trace-'));
    const url = `pglite:${join(dir, 'store')}`;
    const cli = (...args: string[]) =>
      runCli(args, { env: { COS_DEV_DATABASE_URL: url }, cwd: dir });
    expect((await cli('migrate', '-q')).code).toBe(0);
    writeFileSync(join(dir, 'alpha.md'), '---\nid: alpha\n---\n# alpha\n');
    expect((await cli('archive', 'prd', 'alpha.md', '-q')).code).toBe(0);
    const graph = randomGraph(7, 150, ['prd:alpha@1']);
    writeFileSync(join(dir, 'graph.ndjson'), graph.map((e) => JSON.stringify(e)).join('\n'));
    expect((await cli('archive', 'event', 'graph.ndjson', '-q')).code).toBe(0);
    const roots = [graph[149], graph[90], graph[5]].map((e) => e?.event_id as string);
    const met = await withUrl(url, (db) =>
      compareTraces(knexEachRow(db.knex), graph, [...roots, 'prd:alpha@1'], [1, 3, 1000]),
    );
    expect(met.length).toBeGreaterThan(500);
  }, 120_000);
});
