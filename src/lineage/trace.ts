import type { EachRow } from '../db/eachRow.js';
import { notFoundError, usageError } from '../errors.js';
import { PRD_REF } from '../integrity/prdRef.js';
import { WalkAssembler, type LinkList, type TraceEdge, type TraceNode } from './walkAssembler.js';

export type TraceDirection = 'up' | 'down' | 'both';

export type Trace = {
  root: string;
  direction: TraceDirection;
  depth: number;
  /** The walk stopped at the depth limit with more lineage beyond it. */
  truncated: boolean;
  nodes: TraceNode[];
  edges: TraceEdge[];
};

/**
 * A level of the walk (or the PRD versions of one) as cc.lineage_levels gives it, made one JSON
 * document: its nodes' details, column by column.
 */
type LevelColumns = [
  ids: string[],
  types: Array<string | null> | null,
  actors: Array<string | null> | null,
  ats: Array<string | null>,
  neighbours: string[][] | null,
  titles: Array<string | null> | null,
  versions: Array<number | null> | null,
];

/** A level's row, or (no distance) a found node's L3 links, which come after the levels. */
type Row = [distance: number, level: LevelColumns] | [distance: null, links: [string, LinkList]];

const WALK_SQL = `
  with w as (select * from cc.lineage_levels($1, $2, $3))
  select w.distance,
         json_build_array(w.ids, w.types, w.actors, w.ats, w.neighbours, w.titles, w.versions)
    from w
  union all
  select null,
         json_build_array(l.ref, json_agg(json_build_array(l.l3_ref, l.relation)
                                          order by l.created_at, l.link_id))
    from cc.memory_links l
   where l.ref in (select unnest(w.ids) from w)
   group by l.ref`;

/**
 * One walk (cc.lineage_levels: breadth-first, each node once, in one query): a row per level,
 * its nodes' details, parents and inputs in one JSON document, then the L3 links of the nodes
 * found, as rows with no distance. From a server the rows are taken as they arrive, so Node
 * makes one level into nodes while the server finds the next.
 */
async function walk(eachRow: EachRow, root: string, direction: 'up' | 'down', depth: number) {
  const assembler = new WalkAssembler(direction);
  let truncated = false;
  const take = ([distance, level]: Row) => {
    if (distance === null) {
      assembler.addLinks(...level);
      return;
    }
    // The walk goes one level past the limit to tell whether there is more: that level is not shown.
    if (distance > depth) {
      truncated = true;
      return;
    }
    const [ids, types, actors, ats, neighbours, titles, versions] = level;
    for (let i = 0; i < ids.length; i += 1)
      assembler.add([
        ids[i] as string,
        distance,
        types?.[i] ?? null,
        actors?.[i] ?? null,
        ats[i] ?? null,
        neighbours?.[i] ?? null,
        titles?.[i] ?? null,
        versions?.[i] ?? null,
      ]);
  };
  // The planner cannot know how far a walk goes; guessing, it may compile it (JIT) for longer
  // than the walk takes.
  await eachRow(WALK_SQL, [root, direction, depth + 1], { jit: 'off' }, (row) => take(row as Row));
  return { assembler, truncated };
}

const PRD_LATEST = /^prd:([a-z0-9][a-z0-9._-]*)$/;

/** prd:ID names the PRD's latest version (prd:ID@N); anything else is left as it is. */
async function resolveRoot(eachRow: EachRow, root: string): Promise<string> {
  const id = PRD_LATEST.exec(root)?.[1];
  if (id === undefined) return root;
  let latest: number | null = null;
  await eachRow(
    'select max(version) from cc.prd_versions where prd_id = $1',
    [id],
    {},
    (row) => (latest = row[0] as number | null),
  );
  if (latest === null)
    throw notFoundError(`no PRD with id "${id}"`, { hint: 'see `cos-db query prd`' });
  return `prd:${id}@${latest}`;
}

/**
 * Ancestors (up), descendants (down) or both of an event or a PRD version (prd:ID@VERSION, or
 * prd:ID for its latest), to a depth; each node once, at its shortest distance, with the edges
 * among the nodes found, and whether lineage goes on past the depth.
 */
export async function trace(
  eachRow: EachRow,
  start: string,
  direction: TraceDirection,
  depth: number,
): Promise<Trace> {
  if (!Number.isInteger(depth) || depth < 0 || depth > 1_000_000)
    throw usageError('--depth must be a whole number from 0 to 1000000');
  const root = await resolveRoot(eachRow, start);
  const { assembler: first, truncated: upTruncated } = await walk(
    eachRow,
    root,
    direction === 'both' ? 'up' : direction,
    depth,
  );
  // The walk lists the start (at distance 0) whenever it is an archived event or PRD version.
  if (first.size === 0) {
    const prd = PRD_REF.test(root);
    throw notFoundError(`no ${prd ? 'PRD version' : 'event'} ${root}`, {
      hint: prd ? 'see `cos-db query prd`' : 'see `cos-db query events`',
    });
  }
  if (direction !== 'both') {
    const { nodes, edges } = first.finish();
    return { root, direction, depth, truncated: upTruncated, nodes, edges };
  }
  // Ancestors (the start last), then descendants (the start first, dropped): lineage has no
  // cycles, so the walks share only the start.
  const up = first.finish();
  const { assembler: downWalk, truncated: downTruncated } = await walk(
    eachRow,
    root,
    'down',
    depth,
  );
  const down = downWalk.finish();
  // An edge from an ancestor straight to a descendant (past the start) is in neither walk.
  const ancestors = new Set(up.nodes.map((n) => n.id));
  ancestors.delete(root);
  const across = downWalk.edgesFrom(ancestors);
  return {
    root,
    direction,
    depth,
    truncated: upTruncated || downTruncated,
    nodes: [...up.nodes, ...down.nodes.slice(1)],
    edges: [...up.edges, ...down.edges, ...across],
  };
}
