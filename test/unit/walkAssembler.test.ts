import { describe, expect, it } from 'vitest';
import { WalkAssembler, type NodeRow } from '../../src/lineage/walkAssembler.js';
import { edgeSet, expectedTrace, randomGraph } from '../support/lineageFixture.js';

const PRDS = ['prd:alpha@1', 'prd:beta@2'];
const graph = randomGraph(11, 300, PRDS);
const byId = new Map(graph.map((e) => [e.event_id, e]));

/** The rows a walk's query would give for the nodes of the expected trace. */
function rowsOf(nodes: Array<{ id: string; distance: number }>): NodeRow[] {
  return nodes.map(({ id, distance }) => {
    const e = byId.get(id);
    return [
      id,
      Math.abs(distance),
      e ? e.type : null,
      null,
      null,
      e ? [...e.parents, ...e.inputs] : null,
      e ? null : 'title',
      e ? null : 1,
    ];
  });
}

/** A seeded shuffle, so a failure can be made again. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let a = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    const j = a % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('WalkAssembler', () => {
  const roots = [graph[299], graph[150], graph[3]].map((e) => e?.event_id as string);
  const cases = roots.flatMap((root) =>
    (['up', 'down'] as const).flatMap((direction) =>
      [1, 2, 5, 1000].map((depth) => ({ root, direction, depth })),
    ),
  );

  it.each(['level by level', 'in any order'])(
    'makes the nodes, vias and edges of a walk from its rows %s',
    (order) => {
      let nodesMet = 0;
      for (const [n, { root, direction, depth }] of cases.entries()) {
        const want = expectedTrace(graph, root, direction, depth);
        const rows = rowsOf(want.nodes);
        // Level by level: each level's rows shuffled among themselves, the levels in order.
        const input =
          order === 'level by level'
            ? shuffled(rows, n).sort((a, b) => a[1] - b[1])
            : shuffled(rows, n);
        const assembler = new WalkAssembler(direction);
        for (const row of input) assembler.add(row);
        const got = assembler.finish();
        const where = `${root} ${direction} ${depth} ${order}`;
        expect(
          got.nodes.map((x) => [x.id, x.distance, x.via]),
          where,
        ).toEqual(want.nodes.map((x) => [x.id, x.distance, x.via]));
        expect(edgeSet(got.edges), where).toEqual(edgeSet(want.edges));
        expect(got.edges.length, where).toBe(want.edges.length);
        nodesMet += got.nodes.length;
      }
      expect(nodesMet).toBeGreaterThan(500);
    },
  );

  it('gives nodes their L3 links, and the others one shared empty list', () => {
    const want = expectedTrace(graph, roots[0] as string, 'up', 3);
    const assembler = new WalkAssembler('up');
    for (const row of rowsOf(want.nodes)) assembler.add(row);
    assembler.addLinks(roots[0] as string, [['l3:one', 'produced']]);
    const { nodes } = assembler.finish();
    const root = nodes.find((x) => x.id === roots[0]);
    expect(root?.links).toEqual([{ l3_ref: 'l3:one', relation: 'produced' }]);
    const others = nodes.filter((x) => x !== root);
    expect(new Set(others.map((x) => x.links)).size).toBe(1);
    expect(others[0]?.links).toEqual([]);
  });
});
