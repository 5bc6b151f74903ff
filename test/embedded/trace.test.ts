import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trace, type TraceDirection } from '../../src/lineage/trace.js';
import { withUrl } from '../support/ledgerFixture.js';
import { edgeSet, expectedTrace, randomGraph } from '../support/lineageFixture.js';
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
    let compared = 0;
    await withUrl(url, async (db) => {
      for (const root of [graph[149], graph[90], graph[5]]
        .map((e) => e?.event_id as string)
        .concat('prd:alpha@1'))
        for (const direction of ['up', 'down', 'both'] as TraceDirection[])
          for (const depth of [1, 3, 1000]) {
            const got = await trace(db.knex, root, direction, depth);
            const want = expectedTrace(graph, root, direction, depth);
            const where = `${root} ${direction} ${depth}`;
            expect(
              got.nodes.map((n) => [n.id, n.distance, n.via]),
              where,
            ).toEqual(want.nodes.map((n) => [n.id, n.distance, n.via]));
            expect(edgeSet(got.edges), where).toEqual(edgeSet(want.edges));
            compared += got.nodes.length;
          }
    });
    expect(compared).toBeGreaterThan(500);
  }, 120_000);
});
