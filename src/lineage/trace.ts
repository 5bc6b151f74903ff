import type { Knex } from 'knex';
import { notFoundError, usageError } from '../errors.js';
import { isoTimeSql } from '../db/isoTimeSql.js';
import { PRD_REF } from '../prd/prdRef.js';

export type TraceDirection = 'up' | 'down' | 'both';

export type TraceNode = {
  id: string;
  kind: 'event' | 'prd';
  /** Steps from the start; negative for ancestors and positive for descendants with --both. */
  distance: number;
  /** The node it was first reached from (the tree's parent), null for the start. */
  via: string | null;
  label: string;
  type: string | null;
  occurredAt: string | null;
  /** L3 entries this node links to (cos-db link add). */
  links: ReadonlyArray<{ l3Ref: string; relation: string }>;
};

export type TraceEdge = { from: string; to: string; kind: 'parent' | 'input' };

export type Trace = {
  root: string;
  direction: TraceDirection;
  depth: number;
  nodes: TraceNode[];
  edges: TraceEdge[];
};

/** A node as the walk's query returns it: an array (rowMode 'array', no object per row). */
type NodeRow = [
  node: string,
  distance: number,
  type: string | null,
  actor: string | null,
  /** An event's occurred_at, a PRD version's archived_at: ISO text. */
  at: string | null,
  /** An event's parents and inputs (prd:ID@VERSION) in one array; null for a PRD version. */
  neighbours: string[] | null,
  title: string | null,
  version: number | null,
  /** Its L3 links (cos-db link add), oldest first, or null. */
  links: LinkList | null,
];

type LinkList = Array<[l3Ref: string, relation: string]>;

/** A found node's L3 links, which the walk's query lists after the nodes: no distance. */
type LinksRow = [ref: string, distance: null, ...details: null[], links: LinkList];

/**
 * One walk (cc.lineage_nodes: breadth-first, each node once, in one query) with each node's
 * details, parents and inputs, then the L3 links of the nodes found, as rows with no distance.
 * The links come after the nodes, so nothing holds the nodes back: they stream, and Node decodes
 * one level while the server finds the next.
 */
async function walk(knex: Knex, root: string, direction: 'up' | 'down', depth: number) {
  const rows = await knex.transaction(async (trx) => {
    // The planner cannot know how far a walk goes; guessing, it may compile it (JIT) for longer
    // than the walk takes.
    await trx.raw('set local jit = off');
    const result = await trx
      .raw<{ rows: Array<NodeRow | LinksRow> }>(
        `with n as (select * from cc.lineage_nodes(?, ?, ?))
         select n.node, n.distance, n.type, n.actor, ${isoTimeSql('n.at')},
                n.parents || n.inputs, n.title, n.version, null::json
           from n
         union all
         select l.ref, null, null, null, null, null, null, null,
                json_agg(json_build_array(l.l3_ref, l.relation) order by l.created_at, l.link_id)
           from cc.memory_links l
          where l.ref in (select n.node from n)
          group by l.ref`,
        [root, direction, depth],
      )
      .options({ rowMode: 'array' });
    return result.rows;
  });
  const nodes: NodeRow[] = [];
  const links = new Map<string, LinkList>();
  for (const row of rows)
    if (row[1] === null) links.set(row[0], row[row.length - 1] as LinkList);
    else nodes.push(row);
  if (links.size > 0) for (const row of nodes) row[8] = links.get(row[0]) ?? null;
  // As the nodes are listed: by signed distance (ancestors are negative), then id.
  const sign = direction === 'up' ? -1 : 1;
  return nodes.sort((a, b) => sign * (a[1] - b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const edge = (from: string, to: string): TraceEdge => ({
  from,
  to,
  kind: from.startsWith('prd:') ? 'input' : 'parent',
});

/**
 * The nodes of a walk, each with `via`, the node it was first reached from: the smallest id
 * among its neighbours one step nearer the start (parents and inputs are one step farther going
 * up, one nearer going down). Also the edges among the nodes found: every edge the walk crossed,
 * and those between the nodes at the depth limit.
 */
function assemble(rows: NodeRow[], direction: 'up' | 'down') {
  // Plain index loops: this runs over every node and edge of a deep walk (47,705 nodes and
  // 95,362 edges at depth 1000 in the benchmark).
  const index = new Map<string, number>();
  for (let i = 0; i < rows.length; i += 1) index.set((rows[i] as NodeRow)[0], i);
  const via: Array<string | null> = new Array<string | null>(rows.length).fill(null);
  const edges: TraceEdge[] = [];
  for (let i = 0; i < rows.length; i += 1) {
    const [node, distance, , , , neighbours] = rows[i] as NodeRow;
    if (!neighbours) continue;
    for (let k = 0; k < neighbours.length; k += 1) {
      const from = neighbours[k] as string;
      const j = index.get(from);
      if (j === undefined) continue;
      edges.push(edge(from, node));
      const fromDistance = (rows[j] as NodeRow)[1];
      if (direction === 'up') {
        const current = via[j];
        if (fromDistance === distance + 1 && (current == null || node < current)) via[j] = node;
      } else {
        const current = via[i];
        if (fromDistance === distance - 1 && (current == null || from < current)) via[i] = from;
      }
    }
  }
  const sign = direction === 'up' ? -1 : 1;
  const nodes = rows.map(([id, distance, type, actor, at, , title, version, links], i) => {
    const isPrd = id.startsWith('prd:');
    return {
      id,
      kind: isPrd ? 'prd' : 'event',
      distance: distance === 0 ? 0 : sign * distance,
      via: via[i] ?? null,
      label: isPrd
        ? `PRD ${title ?? '?'} v${version ?? '?'}`
        : actor
          ? `${type ?? '?'} by ${actor}`
          : (type ?? '?'),
      type: isPrd ? null : type,
      occurredAt: at,
      links: links ? links.map(([l3Ref, relation]) => ({ l3Ref, relation })) : NO_LINKS,
    } satisfies TraceNode;
  });
  return { nodes, edges };
}

/** Most nodes have no links: they share one empty list rather than make 47k of them. */
const NO_LINKS: TraceNode['links'] = Object.freeze([]);

/**
 * Ancestors (up), descendants (down) or both of an event or a PRD version (prd:ID@VERSION), to a
 * depth; each node once, at its shortest distance, with the edges among the nodes found.
 */
export async function trace(
  knex: Knex,
  root: string,
  direction: TraceDirection,
  depth: number,
): Promise<Trace> {
  if (!Number.isInteger(depth) || depth < 0 || depth > 1_000_000)
    throw usageError('--depth must be a whole number from 0 to 1000000');
  const first = await walk(knex, root, direction === 'both' ? 'up' : direction, depth);
  // The walk lists the start (at distance 0) whenever it is an archived event or PRD version.
  if (first.length === 0) {
    const prd = PRD_REF.test(root);
    throw notFoundError(`no ${prd ? 'PRD version' : 'event'} ${root}`, {
      hint: prd ? 'see `cos-db query prd`' : 'see `cos-db query events`',
    });
  }
  if (direction !== 'both') {
    const { nodes, edges } = assemble(first, direction);
    return { root, direction, depth, nodes, edges };
  }
  // Ancestors (the start last), then descendants (the start first, dropped): lineage has no
  // cycles, so the walks share only the start.
  const downRows = await walk(knex, root, 'down', depth);
  const up = assemble(first, 'up');
  const down = assemble(downRows, 'down');
  // An edge from an ancestor straight to a descendant (past the start) is in neither walk.
  const ancestors = new Set(first.map((r) => r[0]));
  ancestors.delete(root);
  const across: TraceEdge[] = [];
  for (const [node, , , , , neighbours] of downRows.slice(1))
    for (const from of neighbours ?? []) if (ancestors.has(from)) across.push(edge(from, node));
  return {
    root,
    direction,
    depth,
    nodes: [...up.nodes, ...down.nodes.slice(1)],
    edges: [...up.edges, ...down.edges, ...across],
  };
}
