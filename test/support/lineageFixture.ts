import { expect } from 'vitest';
import type { EachRow } from '../../src/db/eachRow.js';
import { trace, type Trace, type TraceDirection } from '../../src/lineage/trace.js';
import type { TraceEdge, TraceNode } from '../../src/lineage/walkAssembler.js';

/** An event of a generated lineage graph, as archived. */
export type GraphEvent = { event_id: string; type: string; parents: string[]; inputs: string[] };

/** A small deterministic PRNG (mulberry32), so a failing graph can be made again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random DAG of `size` events: each names up to three earlier events as parents (mostly
 * recent ones, so paths run deep, and sometimes far back, so a node is reached at several
 * distances), and some name PRD versions as inputs. Ids are shuffled against the order of
 * archiving, so sorting by id is tested too.
 */
export function randomGraph(seed: number, size: number, prdRefs: string[]): GraphEvent[] {
  const next = random(seed);
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)] as T;
  const events: GraphEvent[] = [];
  for (let i = 0; i < size; i += 1) {
    const parents = new Set<string>();
    const count = i === 0 || next() < 0.1 ? 0 : 1 + Math.floor(next() * 3);
    for (let k = 0; k < count; k += 1) {
      const back = next() < 0.8 ? 1 + Math.floor(next() * 4) : 1 + Math.floor(next() * i);
      const parent = events[Math.max(0, i - back)];
      if (parent) parents.add(parent.event_id);
    }
    const inputs = next() < 0.15 ? [pick(prdRefs)] : [];
    events.push({
      event_id: `${pick(['x', 'b', 'M', 'q'])}${Math.floor(next() * 1e6)}-${i}`,
      type: pick(['task.step', 'task.completed', 'artifact.published']),
      parents: [...parents],
      inputs,
    });
  }
  return events;
}

/**
 * What a trace must say, worked out in memory: a breadth-first walk over the graph, each node at
 * its shortest distance, `via` the smallest id (in JavaScript's order) among the nodes one step
 * nearer that lead to it, the edges those among the nodes found, and the nodes by signed
 * distance, then id.
 */
export function expectedTrace(
  events: GraphEvent[],
  root: string,
  direction: TraceDirection,
  depth: number,
): Pick<Trace, 'nodes' | 'edges'> {
  const byId = new Map(events.map((e) => [e.event_id, e]));
  const farther = (id: string): string[] => {
    const e = byId.get(id);
    return e ? [...e.parents, ...e.inputs] : [];
  };
  const children = new Map<string, string[]>();
  for (const e of events)
    for (const p of [...e.parents, ...e.inputs])
      children.set(p, [...(children.get(p) ?? []), e.event_id]);
  const walk = (step: (id: string) => string[], sign: number) => {
    const distance = new Map<string, number>([[root, 0]]);
    const via = new Map<string, string>();
    let frontier = [root];
    for (let d = 1; d <= depth && frontier.length > 0; d += 1) {
      const fresh: string[] = [];
      for (const from of frontier)
        for (const to of step(from)) {
          if (!distance.has(to)) {
            distance.set(to, d);
            fresh.push(to);
          }
          const current = via.get(to);
          if (distance.get(to) === d && (current === undefined || from < current))
            via.set(to, from);
        }
      frontier = fresh;
    }
    return [...distance].map(([id, d]) => ({
      id,
      distance: d === 0 ? 0 : sign * d,
      via: via.get(id) ?? null,
    }));
  };
  const up = direction === 'down' ? [] : walk(farther, -1);
  const down = direction === 'up' ? [] : walk((id) => children.get(id) ?? [], 1);
  const nodes = [...up, ...down.filter((n) => n.id !== root || direction === 'down')];
  nodes.sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const found = new Set(nodes.map((n) => n.id));
  const edges: TraceEdge[] = [];
  for (const id of found)
    for (const from of farther(id))
      if (found.has(from))
        edges.push({ from, to: id, kind: from.startsWith('prd:') ? 'input' : 'parent' });
  return { nodes: nodes as Trace['nodes'], edges };
}

/** Edges in one order, to compare as sets. */
export const edgeSet = (edges: TraceEdge[]) =>
  edges.map((e) => `${e.from}>${e.to}:${e.kind}`).sort();

/**
 * Traces from every root, in every direction, to every depth, each held to expectedTrace: the
 * nodes in order with their distances and vias, the edges as a set, and no edge twice. Returns
 * the nodes met, for the caller to check the walks went somewhere.
 */
export async function compareTraces(
  eachRow: EachRow,
  graph: GraphEvent[],
  roots: string[],
  depths: number[],
): Promise<TraceNode[]> {
  const met: TraceNode[] = [];
  for (const root of roots)
    for (const direction of ['up', 'down', 'both'] as TraceDirection[])
      for (const depth of depths) {
        const got = await trace(eachRow, root, direction, depth);
        const want = expectedTrace(graph, root, direction, depth);
        const where = `${root} ${direction} ${depth}`;
        expect(
          got.nodes.map((n) => [n.id, n.distance, n.via]),
          where,
        ).toEqual(want.nodes.map((n) => [n.id, n.distance, n.via]));
        expect(edgeSet(got.edges), where).toEqual(edgeSet(want.edges));
        expect(got.edges.length, `${where}: an edge twice`).toBe(new Set(edgeSet(got.edges)).size);
        met.push(...got.nodes);
      }
  return met;
}
