import type { Trace } from './trace.js';

/**
 * A trace cut to its first `max` nodes (nearest first: the walk lists them by distance) and
 * the edges among them, `truncated` if anything was cut.
 */
export function capTrace(t: Trace, max: number): Trace {
  if (t.nodes.length <= max) return t;
  const nodes = [...t.nodes]
    .sort((a, b) => Math.abs(a.distance) - Math.abs(b.distance))
    .slice(0, max);
  const kept = new Set(nodes.map((n) => n.id));
  return {
    ...t,
    truncated: true,
    nodes,
    edges: t.edges.filter((e) => kept.has(e.from) && kept.has(e.to)),
  };
}
