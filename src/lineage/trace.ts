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
  links: Array<{ l3Ref: string; relation: string }>;
};

export type TraceEdge = { from: string; to: string; kind: 'parent' | 'input' };

export type Trace = {
  root: string;
  direction: TraceDirection;
  depth: number;
  nodes: TraceNode[];
  edges: TraceEdge[];
};

type WalkRow = {
  node: string;
  distance: number;
  via: string | null;
  type: string | null;
  actor: string | null;
  /** An event's occurred_at, a PRD version's archived_at: ISO text. */
  at: string | null;
  title: string | null;
  version: number | null;
  /** An event's parents and inputs (prd:ID@VERSION): its edges, where the walk found them. */
  parents: string[] | null;
  inputs: string[] | null;
};

/**
 * One walk in the server (cc.lineage_walk: breadth-first, each node once) with each node's
 * details, parents and inputs joined there. Its visited set (_walk_visited) lives until the
 * transaction ends, so the links among the nodes are joined in the server too.
 */
async function walk(trx: Knex.Transaction, root: string, direction: 'up' | 'down', depth: number) {
  const rows = (
    await trx.raw<{ rows: WalkRow[] }>(
      `select w.node, w.distance, w.via, e.type, e.actor, e.parents, e.inputs, v.title, v.version,
              ${isoTimeSql('coalesce(e.occurred_at, v.archived_at)')} as at
         from cc.lineage_walk(?, ?, ?) w
         left join cc.events e on e.event_id = w.node
         left join cc.prd_versions v
           on w.node like 'prd:%' and v.prd_id = split_part(substr(w.node, 5), '@', 1)
          and v.version = nullif(split_part(substr(w.node, 5), '@', 2), '')::integer`,
      [root, direction, depth],
    )
  ).rows;
  const hasLinks = (
    await trx.raw<{ rows: Array<{ t: string | null }> }>(
      "select to_regclass('cc.memory_links') as t",
    )
  ).rows[0]?.t;
  const links = hasLinks
    ? (
        await trx.raw<{ rows: Array<{ ref: string; l3_ref: string; relation: string }> }>(
          'select l.ref, l.l3_ref, l.relation from cc.memory_links l join _walk_visited v on v.node = l.ref order by l.created_at, l.link_id',
        )
      ).rows
    : [];
  return { rows, links };
}

/**
 * The edges among the nodes a walk found: each event's parents and inputs that were found too.
 * That is every edge the walk crossed, and those between the last nodes at the depth limit.
 */
function edgesAmong(rows: WalkRow[]): TraceEdge[] {
  const found = new Set(rows.map((r) => r.node));
  const edges: TraceEdge[] = [];
  for (const r of rows) {
    for (const parent of r.parents ?? [])
      if (found.has(parent)) edges.push({ from: parent, to: r.node, kind: 'parent' });
    for (const input of r.inputs ?? [])
      if (found.has(input)) edges.push({ from: input, to: r.node, kind: 'input' });
  }
  return edges;
}

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
  const prd = PRD_REF.exec(root);
  const exists = prd
    ? (
        await knex.raw<{ rows: unknown[] }>(
          'select 1 from cc.prd_versions where prd_id = ? and version = ?',
          [prd[1] as string, Number(prd[2])],
        )
      ).rows.length > 0
    : (await knex.raw<{ rows: unknown[] }>('select 1 from cc.events where event_id = ?', [root]))
        .rows.length > 0;
  if (!exists)
    throw notFoundError(`no ${prd ? 'PRD version' : 'event'} ${root}`, {
      hint: prd ? 'see `cos-db query prd`' : 'see `cos-db query events`',
    });

  const nodes = new Map<string, TraceNode>();
  const edges: TraceEdge[] = [];
  const walks = direction === 'both' ? (['up', 'down'] as const) : ([direction] as const);
  for (const dir of walks) {
    // Each walk in its own transaction: its visited set is dropped at commit.
    const found = await knex.transaction((trx) => walk(trx, root, dir, depth));
    const linksOf = new Map<string, TraceNode['links']>();
    for (const l of found.links) {
      const list = linksOf.get(l.ref) ?? [];
      list.push({ l3Ref: l.l3_ref, relation: l.relation });
      linksOf.set(l.ref, list);
    }
    for (const r of found.rows) {
      if (nodes.has(r.node)) continue;
      const isPrd = r.node.startsWith('prd:');
      nodes.set(r.node, {
        id: r.node,
        kind: isPrd ? 'prd' : 'event',
        distance: dir === 'up' ? -r.distance : r.distance,
        via: r.via,
        label: isPrd
          ? `PRD ${r.title ?? '?'} v${r.version ?? '?'}`
          : `${r.type ?? '?'}${r.actor ? ` by ${r.actor}` : ''}`,
        type: isPrd ? null : r.type,
        occurredAt: r.at,
        links: linksOf.get(r.node) ?? [],
      });
    }
    // The walks of --both share no edge: the only node they share is the start (no cycles).
    for (const edge of edgesAmong(found.rows)) edges.push(edge);
  }
  const sorted = [...nodes.values()].sort(
    (a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { root, direction, depth, nodes: sorted, edges };
}
