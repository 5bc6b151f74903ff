import type { Knex } from 'knex';

/**
 * The lineage walk in one query: cc.lineage_nodes, a recursive CTE whose UNION is the visited set.
 *
 * The walk it replaces was a PL/pgSQL loop, one statement per level, each inserting the new
 * nodes into a temporary table with a primary key. At depth 1000 over 1M events (47,705
 * ancestors) it took 0.7–1.0 s, as long as the same loop written by hand in psql, and the nodes'
 * details took a join afterwards. This query returns the same nodes with their details in
 * 0.45–0.6 s, and streams them: rows leave as each level is found.
 *
 * Breadth-first with each node once, however many paths lead to it: a recursive UNION (not
 * UNION ALL) drops every row it has produced before, so a node's row, which carries nothing
 * but its id, comes out once, at the first level that reaches it. (A CTE that kept
 * (id, depth) pairs would keep a node once for every distance it can be reached at: that is
 * what explodes with depth on a graph with fan-in.) One more row a level, of kind 'level', is
 * the only one with a distance while the walk runs. Each step reads the level from it, and the
 * level's new nodes (the frontier) as a window aggregate over the working table. That row then
 * expands the whole frontier at once: one primary-key scan going up, one GIN lookup going down,
 * where a row per node would cost a lookup each. The frontier's details come out of the same
 * scan as rows of kind 'seen', at this level; those rows are the result. The walk stops at
 * max_depth, or after a level that found nothing new.
 *
 * The function has no SET clause, so the planner inlines it into the query that calls it, and
 * that query's rows stream. JIT should be off for it (cos-db turns it off for its walks): the
 * planner cannot know how far the walk goes, and going down it guessed enough rows to compile
 * the query, which took longer (0.37 s) than the walk. cc.lineage_walk sets it off itself.
 */
const LINEAGE_NODES = `
  create function cc.lineage_nodes(start_id text, direction text, max_depth integer)
  returns table (node text, distance integer, type text, actor text, at timestamptz,
                 parents jsonb, inputs jsonb, title text, version integer)
  language sql stable
  as $$
  with recursive w (kind, node, distance,
                    ids, types, actors, ats, parent_lists, input_lists, titles, versions) as (
    values ('node', start_id, null::integer, null::text[], null::text[], null::text[],
            null::timestamptz[], null::jsonb[], null::jsonb[], null::text[], null::integer[]),
           ('level', null, 0, null, null, null, null, null, null, null, null)
    union
    select x.*
      from (select w.kind,
                   max(w.distance) over () as level,
                   array_agg(w.node) filter (where w.kind = 'node') over () as frontier
              from w
             where w.kind <> 'seen') s
      -- The events of the frontier, read once: their details, column by column.
      cross join lateral (
        select array_agg(e.event_id) as ids, array_agg(e.type) as types,
               array_agg(e.actor) as actors, array_agg(e.occurred_at) as ats,
               array_agg(e.parents) as parent_lists, array_agg(e.inputs) as input_lists
          from cc.events e
         where e.event_id = any(s.frontier)
      ) a
      cross join lateral (
        select 'seen', null, s.level, a.ids, a.types, a.actors, a.ats, a.parent_lists,
               a.input_lists, null::text[], null::integer[]
         where a.ids is not null
        union all
        -- The PRD versions (prd:ID@VERSION) of the frontier: their details.
        select 'seen', null, s.level, array_agg(f.node), null, null, array_agg(v.archived_at),
               null, null, array_agg(v.title), array_agg(v.version)
          from unnest(s.frontier) as f (node)
          join cc.prd_versions v
            on v.prd_id = substring(f.node from '^prd:(.*)@[0-9]+$')
           and v.version = substring(f.node from '@([0-9]{1,9})$')::integer
         where f.node like 'prd:%'
        having count(*) > 0
        union all
        -- Going up: the events' parents and inputs.
        select 'node', p.next, null, null, null, null, null, null, null, null, null
          from unnest(a.parent_lists, a.input_lists) as l (parents, inputs)
          cross join lateral jsonb_array_elements_text(l.parents || l.inputs) as p (next)
         where direction = 'up' and s.level < max_depth
        union all
        -- Going down: the events that name one of them as a parent (one GIN lookup) ...
        select 'node', e.event_id, null, null, null, null, null, null, null, null, null
          from cc.events e
         where direction = 'down' and s.level < max_depth and e.parents \\?| s.frontier
        union all
        -- ... or a PRD version among them as an input.
        select 'node', i.event_id, null, null, null, null, null, null, null, null, null
          from unnest(s.frontier) as f (node)
          join cc.event_inputs i
            on i.prd_id = substring(f.node from '^prd:(.*)@[0-9]+$')
           and i.version = substring(f.node from '@([0-9]{1,9})$')::integer
         where direction = 'down' and s.level < max_depth and f.node like 'prd:%'
        union all
        -- The next level, if this one found anything.
        select 'level', null, s.level + 1, null, null, null, null, null, null, null, null
         where s.frontier is not null and s.level < max_depth
      ) x
     where s.kind = 'level'
  )
  select u.node, w.distance, u.type, u.actor, u.at, u.parents, u.inputs, u.title, u.version
    from w
    cross join lateral unnest(w.ids, w.types, w.actors, w.ats, w.parent_lists, w.input_lists,
                              w.titles, w.versions)
         as u (node, type, actor, at, parents, inputs, title, version)
   where w.kind = 'seen'
  $$`;

/**
 * cc.lineage_walk keeps its signature for SQL users (and the grant agents have): the nodes of
 * cc.lineage_nodes, each with the node it was first reached from, the smallest id among its
 * neighbours one level nearer the start.
 */
const LINEAGE_WALK = `
  create or replace function cc.lineage_walk(start_id text, direction text, max_depth integer)
  returns table (node text, distance integer, via text)
  language sql stable
  set jit = off
  as $$
  with n as materialized (
    select n.node, n.distance, n.parents || n.inputs as neighbours
      from cc.lineage_nodes(start_id, direction, max_depth) n
  ), steps as (
    -- Each edge among the nodes found, as (near, far): an event and its parent or input going
    -- up, the other way round going down.
    select case when direction = 'up' then c.node else p.next end as near,
           case when direction = 'up' then p.next else c.node end as far
      from n c cross join lateral jsonb_array_elements_text(c.neighbours) as p (next)
  ), vias as (
    select s.far as node, min(s.near) as via
      from steps s
      join n a on a.node = s.near
      join n b on b.node = s.far and b.distance = a.distance + 1
     group by s.far
  )
  select n.node, n.distance, v.via
    from n left join vias v on v.node = n.node
   order by n.distance, n.node
  $$`;

export async function up(knex: Knex): Promise<void> {
  // A walk down looks up each level's frontier in the GIN index on parents, and every lookup
  // reads the index's whole pending list (rows inserted since its last clean-up, up to 4 MB).
  // After a 1M-event import that list held 2,171 rows, and a walk 1000 levels down took 8–9.5 s
  // instead of 1.5–1.8 s. Without the list, rows go into the index as they are written; an
  // import of 1M events measured the same either way (52.4–53.1 s and 52.8–55.7 s).
  await knex.raw('alter index cc.events_parents_idx set (fastupdate = off)');
  await knex.raw("select gin_clean_pending_list('cc.events_parents_idx'::regclass)");
  await knex.raw(LINEAGE_NODES);
  // plpgsql to sql: create or replace keeps the function's grants.
  await knex.raw(LINEAGE_WALK);
}

/**
 * Migration 600's walk, as it was: the PL/pgSQL loop over a temporary visited table. Written out
 * again, as applied migrations are not edited (cos-db warns when one changes): 600 does not
 * export it.
 */
const ADVANCE = `fresh as (
          insert into _walk_visited (node, distance, via)
          select distinct on (next) next, d, via from step order by next, via
          on conflict (node) do nothing
          returning _walk_visited.node
        )
        select coalesce(array_agg(fresh.node), '{}') into frontier from fresh;`;

const LOOP_WALK = `
  create or replace function cc.lineage_walk(start_id text, direction text, max_depth integer)
  returns table (node text, distance integer, via text)
  language plpgsql as $$
  #variable_conflict use_column
  declare
    d integer := 0;
    frontier text[] := array[start_id];
  begin
    create temp table if not exists _walk_visited (node text primary key, distance integer, via text) on commit drop;
    delete from _walk_visited;
    insert into _walk_visited values (start_id, 0, null);
    while d < max_depth and cardinality(frontier) > 0 loop
      d := d + 1;
      if direction = 'up' then
        with step as (
          select p.next, e.event_id as via
            from cc.events e cross join lateral jsonb_array_elements_text(e.parents) as p (next)
           where e.event_id = any(frontier)
          union all
          select 'prd:' || i.prd_id || '@' || i.version, i.event_id from cc.event_inputs i where i.event_id = any(frontier)
        ), ${ADVANCE}
      else
        with refs as (
          select split_part(substr(f, 5), '@', 1) as prd_id, nullif(split_part(substr(f, 5), '@', 2), '')::integer as version, f
            from unnest(frontier) f where f like 'prd:%'
        ), step as (
          select e.event_id as next, p.via
            from cc.events e cross join lateral jsonb_array_elements_text(e.parents) as p (via)
           where e.parents \\?| frontier and p.via = any(frontier)
          union all
          select i.event_id, r.f from refs r join cc.event_inputs i on i.prd_id = r.prd_id and i.version = r.version
        ), ${ADVANCE}
      end if;
    end loop;
    return query select v.node, v.distance, v.via from _walk_visited v order by v.distance, v.node;
  end $$`;

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter index cc.events_parents_idx reset (fastupdate)');
  await knex.raw(LOOP_WALK);
  await knex.raw('drop function cc.lineage_nodes(text, text, integer)');
}
