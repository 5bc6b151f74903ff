import type { Knex } from 'knex';
import { notFoundError, usageError } from '../errors.js';
import { PRD_REF } from '../events/eventSchema.js';

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
};

export type TraceEdge = { from: string; to: string; kind: 'parent' | 'input' };

export type Trace = {
  root: string;
  direction: TraceDirection;
  depth: number;
  nodes: TraceNode[];
  edges: TraceEdge[];
};

async function walk(knex: Knex, root: string, direction: 'up' | 'down', depth: number) {
  // One statement: the walk runs in the server (cc.lineage_walk), each node visited once.
  return (
    await knex.raw<{ rows: Array<{ node: string; distance: number; via: string | null }> }>(
      'select node, distance, via from cc.lineage_walk(?, ?, ?)',
      [root, direction, depth],
    )
  ).rows;
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

  const found = new Map<string, { distance: number; via: string | null }>();
  if (direction !== 'down')
    for (const r of await walk(knex, root, 'up', depth))
      found.set(r.node, { distance: -r.distance, via: r.via });
  if (direction !== 'up')
    for (const r of await walk(knex, root, 'down', depth))
      if (!found.has(r.node) || r.distance === 0)
        found.set(r.node, { distance: r.distance, via: r.via });

  const ids = [...found.keys()];
  const eventIds = ids.filter((id) => !id.startsWith('prd:'));
  const prdRefs = ids
    .filter((id) => id.startsWith('prd:'))
    .map((id) => PRD_REF.exec(id) as RegExpExecArray);
  const details = new Map<
    string,
    { label: string; type: string | null; occurredAt: string | null }
  >();
  if (eventIds.length) {
    const rows = (
      await knex.raw<{
        rows: Array<{ event_id: string; type: string; occurred_at: Date; actor: string | null }>;
      }>('select event_id, type, occurred_at, actor from cc.events where event_id = any(?)', [
        eventIds,
      ])
    ).rows;
    for (const r of rows)
      details.set(r.event_id, {
        label: `${r.type}${r.actor ? ` by ${r.actor}` : ''}`,
        type: r.type,
        occurredAt: new Date(r.occurred_at).toISOString(),
      });
  }
  if (prdRefs.length) {
    const rows = (
      await knex.raw<{
        rows: Array<{ prd_id: string; version: number; title: string; archived_at: Date }>;
      }>(
        'select prd_id, version, title, archived_at from cc.prd_versions where (prd_id, version) in (select * from unnest(?::text[], ?::int[]))',
        [prdRefs.map((m) => m[1] as string), prdRefs.map((m) => Number(m[2]))],
      )
    ).rows;
    for (const r of rows)
      details.set(`prd:${r.prd_id}@${r.version}`, {
        label: `PRD ${r.title} v${r.version}`,
        type: null,
        occurredAt: new Date(r.archived_at).toISOString(),
      });
  }
  const edges: TraceEdge[] = [];
  if (eventIds.length) {
    const set = new Set(ids);
    const parentRows = (
      await knex.raw<{ rows: Array<{ event_id: string; parent_id: string }> }>(
        'select event_id, parent_id from cc.event_parents where event_id = any(?)',
        [eventIds],
      )
    ).rows;
    for (const r of parentRows)
      if (set.has(r.parent_id)) edges.push({ from: r.parent_id, to: r.event_id, kind: 'parent' });
    const inputRows = (
      await knex.raw<{ rows: Array<{ event_id: string; prd_id: string; version: number }> }>(
        'select event_id, prd_id, version from cc.event_inputs where event_id = any(?)',
        [eventIds],
      )
    ).rows;
    for (const r of inputRows) {
      const ref = `prd:${r.prd_id}@${r.version}`;
      if (set.has(ref)) edges.push({ from: ref, to: r.event_id, kind: 'input' });
    }
  }
  const nodes: TraceNode[] = ids
    .map((id) => {
      const f = found.get(id) as { distance: number; via: string | null };
      const d = details.get(id);
      return {
        id,
        kind: id.startsWith('prd:') ? ('prd' as const) : ('event' as const),
        distance: f.distance,
        via: f.via,
        label: d?.label ?? id,
        type: d?.type ?? null,
        occurredAt: d?.occurredAt ?? null,
      };
    })
    .sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id));
  return { root, direction, depth, nodes, edges };
}
