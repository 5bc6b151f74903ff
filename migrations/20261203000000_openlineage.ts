import type { Knex } from 'knex';

/**
 * OpenLineage as its users expect: each event's original text kept exactly, datasets keyed by the
 * (namespace, name) pair, and lineage between OpenLineage events derived at query time from the
 * stored datasets and runs by event time, so it is the same whatever order the events arrived in.
 *
 * Frozen like the baseline: it imports nothing that can change.
 */
const UP = String.raw`
-- The event as it was received (an OpenLineage event: its exact text, every number and string as
-- sent). The payload is then {"openlineage": <that text as jsonb>}, for SQL; the commitment in the
-- row's hash is over this text (see contentColumns), so both are covered by the proof.
alter table cc.events add column payload_original text;
alter table cc.events add constraint events_payload_original check (
  payload_original is null
  or (payload_salt is not null and payload = jsonb_build_object('openlineage', payload_original::jsonb)));

-- Datasets by their (namespace, name) pair: a joined string made (s3://b, a/b) equal to
-- (s3://b/a, b). Each row carries its event's run and time, so "who last wrote this dataset
-- before t" is one descending probe of the index. 'subject' is a DatasetEvent's dataset.
drop table cc.event_datasets;
drop function cc.check_event_datasets();
drop function cc.event_dataset_refs(text, jsonb);
create table cc.event_datasets (
  event_id text not null,
  namespace text not null,
  name text not null,
  role text not null check (role in ('input', 'output', 'subject')),
  run_id text,
  occurred_at timestamptz not null
);
-- One index: who read or wrote a dataset, by time. An event's own datasets are read from its
-- payload, so no key on event_id (2 s of a 12 s import of 100k events, and 200 bytes an event);
-- the derivation writes each (event, dataset, role) once.
create index event_datasets_lookup_idx on cc.event_datasets (namespace, name, role, occurred_at)
  with (fillfactor = 100);

-- The datasets an OpenLineage event (payload.openlineage) read, wrote, or (a DatasetEvent) is about.
-- A few each: the planner's guess for a set-returning function is 1,000 rows, and with it it
-- read the whole of cc.event_datasets to join it (100 ms a call, against 0.1 ms by the index).
create function cc.openlineage_datasets(payload jsonb, list text)
returns setof jsonb
language sql immutable parallel safe rows 4
as $$
  select d from jsonb_array_elements(
           case when jsonb_typeof(payload -> 'openlineage' -> list) = 'array'
                then payload -> 'openlineage' -> list else '[]'::jsonb end) as d
   where jsonb_typeof(d) = 'object' and d ->> 'namespace' is not null and d ->> 'name' is not null
$$;

create function cc.event_dataset_refs(module text, payload jsonb)
returns table (namespace text, name text, role text)
language sql immutable parallel safe rows 4
as $$
  select distinct d ->> 'namespace', d ->> 'name', x.role
    from (values ('input', 'inputs'), ('output', 'outputs')) as x (role, list)
   cross join lateral cc.openlineage_datasets(payload, x.list) as d
   where module = 'openlineage'
  union
  select payload #>> '{openlineage,dataset,namespace}', payload #>> '{openlineage,dataset,name}', 'subject'
   where module = 'openlineage' and jsonb_typeof(payload #> '{openlineage,dataset}') = 'object'
     and payload #>> '{openlineage,dataset,namespace}' is not null
     and payload #>> '{openlineage,dataset,name}' is not null
$$;

-- Each edge names an archived event. A probe of the events' key per event, as a scalar subquery:
-- the planner knows nothing of a transition table, and with NOT EXISTS it chose to read all of
-- cc.events for every chunk of an import (4 s of a 15 s import of 100k events, growing with the
-- store). The baseline's check of cc.event_inputs is made the same way below.
create function cc.check_event_datasets() returns trigger language plpgsql as $$
declare
  ref text;
begin
  select x.event_id from (select distinct event_id from new_rows) x
   where (select true from cc.events e where e.event_id = x.event_id) is null
  limit 1 into ref;
  if found then
    raise exception 'event % is not archived (a lineage edge in cc.event_datasets names it)', ref
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end $$;

create or replace function cc.derive_event_edges() returns trigger
language plpgsql security definer set search_path = pg_catalog, cc
as $$
begin
  insert into cc.event_inputs (event_id, prd_id, version)
    select n.event_id, r.prd_id, r.version
      from new_events n cross join lateral cc.event_input_refs(n.inputs) r
     where n.inputs <> '[]'::jsonb;
  insert into cc.event_datasets (event_id, namespace, name, role, run_id, occurred_at)
    select n.event_id, d.namespace, d.name, d.role, n.run_id, n.occurred_at
      from new_events n cross join lateral cc.event_dataset_refs(n.module, n.payload) d
     where n.module = 'openlineage';
  return null;
end $$;

create or replace function cc.check_event_inputs() returns trigger language plpgsql as $$
declare
  ref text;
  kind text;
begin
  select x.event_id, 'event' from (select distinct event_id from new_rows) x
   where (select true from cc.events e where e.event_id = x.event_id) is null
  union all
  select 'prd:' || x.prd_id || '@' || x.version, 'PRD version'
    from (select distinct prd_id, version from new_rows) x
   where (select true from cc.prd_versions p where p.prd_id = x.prd_id and p.version = x.version) is null
  limit 1 into ref, kind;
  if found then
    raise exception '% % is not archived (a lineage edge in cc.event_inputs names it)', kind, ref
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end $$;

insert into cc.event_datasets (event_id, namespace, name, role, run_id, occurred_at)
  select e.event_id, d.namespace, d.name, d.role, e.run_id, e.occurred_at
    from cc.events e cross join lateral cc.event_dataset_refs(e.module, e.payload) d
   where e.module = 'openlineage';

-- A child run's events by the run its parent facet names.
create index events_ol_parent_run_idx
    on cc.events ((payload #>> '{openlineage,run,facets,parent,run,runId}'), occurred_at, event_id)
  with (fillfactor = 100) where module = 'openlineage';

-- Where an event stands among its run's events at one instant: START, then RUNNING, then the
-- rest, then the end (COMPLETE, ABORT, FAIL). Producers often send a short run's START and
-- COMPLETE within one millisecond, the precision times are kept to.
create function cc.openlineage_rank(type text)
returns smallint
language sql immutable parallel safe
as $$
  select case type
    when 'openlineage.start' then 0
    when 'openlineage.running' then 1
    when 'openlineage.complete' then 3
    when 'openlineage.abort' then 3
    when 'openlineage.fail' then 3
    else 2 end::smallint
$$;

-- An OpenLineage event's parents, derived from what is stored, at the time it is asked:
--   the run's own previous event;
--   the parent run's latest event before it (the run its parent facet names);
--   for each dataset it read, the latest event of another run that wrote it strictly before.
-- "Before" is by (occurred_at, rank, event_id) for the run's own events and its parent run, and
-- strictly by time for datasets: a writer at the same instant is not a parent. Every edge goes
-- to an earlier event in one total order, so lineage cannot form a cycle, and as it is computed
-- from the stored events (never frozen into rows), it does not depend on the order or the
-- imports they arrived in: a late upstream event is linked as soon as it is archived.
create function cc.openlineage_parents(p_event_id text, p_run_id text, p_at timestamptz,
                                       p_type text, p_payload jsonb)
returns jsonb
language sql stable parallel safe
as $$
  select coalesce(jsonb_agg(c.id order by c.ord, c.id), '[]'::jsonb)
    from (select distinct on (x.id) x.id, x.ord
            from (
              (select e.event_id as id, 1 as ord
                 from cc.events e
                where p_run_id is not null and e.run_id = p_run_id and e.module = 'openlineage'
                  and (e.occurred_at, cc.openlineage_rank(e.type), e.event_id)
                      < (p_at, cc.openlineage_rank(p_type), p_event_id)
                order by e.occurred_at desc, cc.openlineage_rank(e.type) desc, e.event_id desc
                limit 1)
              union all
              (select e.event_id, 2
                 from cc.events e
                where e.module = 'openlineage'
                  and e.run_id = (p_payload #>> '{openlineage,run,facets,parent,run,runId}')
                  and e.run_id is distinct from p_run_id
                  and (e.occurred_at, cc.openlineage_rank(e.type), e.event_id)
                      < (p_at, cc.openlineage_rank(p_type), p_event_id)
                order by e.occurred_at desc, cc.openlineage_rank(e.type) desc, e.event_id desc
                limit 1)
              union all
              select w.event_id, 3
                from cc.openlineage_datasets(p_payload, 'inputs') as i
               cross join lateral (
                 select d.event_id from cc.event_datasets d
                  where d.namespace = i ->> 'namespace' and d.name = i ->> 'name'
                    and d.role = 'output' and d.occurred_at < p_at and d.run_id is not null
                    and d.run_id <> p_run_id
                  order by d.occurred_at desc, d.event_id desc limit 1) w
               where p_run_id is not null
            ) x
           order by x.id, x.ord) c
$$;

-- The events an OpenLineage event is a parent of, by the rules of cc.openlineage_parents read
-- the other way: each branch is one of its rules, checked by one probe. The property test holds
-- this to openlineage_parents (a walk down gives the edges a walk up does).
create function cc.openlineage_children(p_event_id text, p_run_id text, p_at timestamptz,
                                        p_type text, p_payload jsonb)
returns setof text
language sql stable parallel safe
as $$
  -- The run's next event: its previous event is this one, by definition.
  (select e.event_id from cc.events e
    where p_run_id is not null and e.run_id = p_run_id and e.module = 'openlineage'
      and (e.occurred_at, cc.openlineage_rank(e.type), e.event_id)
          > (p_at, cc.openlineage_rank(p_type), p_event_id)
    order by e.occurred_at, cc.openlineage_rank(e.type), e.event_id limit 1)
  union
  -- Events of the runs whose parent facet names this run, for which this is the run's latest
  -- event before them.
  select e.event_id from cc.events e
   where p_run_id is not null and e.module = 'openlineage'
     and (e.payload #>> '{openlineage,run,facets,parent,run,runId}') = p_run_id
     and e.run_id is distinct from p_run_id
     and (e.occurred_at, cc.openlineage_rank(e.type), e.event_id)
         > (p_at, cc.openlineage_rank(p_type), p_event_id)
     and (select l.event_id from cc.events l
           where l.run_id = p_run_id and l.module = 'openlineage'
             and (l.occurred_at, cc.openlineage_rank(l.type), l.event_id)
                 < (e.occurred_at, cc.openlineage_rank(e.type), e.event_id)
           order by l.occurred_at desc, cc.openlineage_rank(l.type) desc, l.event_id desc
           limit 1) = p_event_id
  union
  -- Readers of what it wrote for which it is the latest writer (of another run) before them.
  -- Only those up to the dataset's next writer can be: a later one has that writer (or a later
  -- one still) before it, unless it is of that writer's own run.
  select r.event_id
    from cc.openlineage_datasets(p_payload, 'outputs') as o
    left join lateral (
      select n.occurred_at, n.run_id from cc.event_datasets n
       where n.namespace = o ->> 'namespace' and n.name = o ->> 'name' and n.role = 'output'
         and n.run_id is not null and (n.occurred_at, n.event_id) > (p_at, p_event_id)
       order by n.occurred_at, n.event_id limit 1) as next_writer on true
    -- OFFSET 0 keeps the check below from running before this bound, on every later reader.
    cross join lateral (
      select x.event_id, x.namespace, x.name, x.run_id, x.occurred_at from cc.event_datasets x
       where x.namespace = o ->> 'namespace' and x.name = o ->> 'name' and x.role = 'input'
         and x.occurred_at > p_at and x.run_id <> p_run_id
         and (next_writer.occurred_at is null or x.occurred_at <= next_writer.occurred_at
              or x.run_id = next_writer.run_id)
      offset 0) as r
   where p_run_id is not null
     and (select w.event_id from cc.event_datasets w
           where w.namespace = r.namespace and w.name = r.name and w.role = 'output'
             and w.occurred_at < r.occurred_at and w.run_id is not null and w.run_id <> r.run_id
           order by w.occurred_at desc, w.event_id desc limit 1) = p_event_id
$$;

-- How trace labels an OpenLineage event: by job (namespace.name), event type and run; a
-- DatasetEvent by its dataset.
create function cc.openlineage_label(payload jsonb)
returns text
language sql immutable parallel safe
as $$
  select case
    when o ? 'dataset' then 'dataset ' || coalesce(o #>> '{dataset,namespace}', '?') || '.' || coalesce(o #>> '{dataset,name}', '?')
    when o ? 'run' then coalesce(o #>> '{job,namespace}', '?') || '.' || coalesce(o #>> '{job,name}', '?')
      || ' ' || coalesce(o ->> 'eventType', 'OTHER') || ' (run ' || left(coalesce(o #>> '{run,runId}', '?'), 8) || ')'
    else coalesce(o #>> '{job,namespace}', '?') || '.' || coalesce(o #>> '{job,name}', '?') || ' (job)'
  end
  from (select payload -> 'openlineage' as o) x
$$;

-- The events' parents as (event_id, parent_id) pairs, for SQL users: those they name, and those
-- OpenLineage events derive.
create or replace view cc.event_parents as
select e.event_id, p.parent_id
  from cc.events e cross join lateral jsonb_array_elements_text(e.parents) as p (parent_id)
union
select e.event_id, p.parent_id
  from cc.events e
 cross join lateral jsonb_array_elements_text(
         cc.openlineage_parents(e.event_id, e.run_id, e.occurred_at, e.type, e.payload)) as p (parent_id)
 where e.module = 'openlineage';

-- The walk trace reads, as in the baseline, with OpenLineage events' derived parents among their
-- neighbours (going up) and their derived children (going down), and their labels as titles.
create or replace function cc.lineage_levels(start_id text, direction text, max_depth integer)
returns table (distance integer, ids text[], types text[], actors text[], ats text[],
               neighbours jsonb[], titles text[], versions integer[])
language sql stable set jit = off
as $$
with recursive w (kind, node, distance, ids, types, actors, ats, neighbours, titles, versions) as (
  values ('node', start_id, null::integer, null::text[], null::text[], null::text[],
          null::text[], null::jsonb[], null::text[], null::integer[]),
         ('level', null, 0, null, null, null, null, null, null, null)
  union
  select x.*
    from (select w.kind,
                 max(w.distance) over () as level,
                 array_agg(w.node) filter (where w.kind = 'node') over () as frontier
            from w
           where w.kind <> 'seen') s
    cross join lateral (
      select array_agg(e.event_id) as ids, array_agg(e.type) as types,
             array_agg(e.actor) as actors,
             array_agg(to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) as ats,
             array_agg(case when e.module = 'openlineage'
                            then e.parents || e.inputs || (cc.openlineage_parents(e.event_id, e.run_id, e.occurred_at, e.type, e.payload) - array(select jsonb_array_elements_text(e.parents)))
                            else e.parents || e.inputs end) as neighbours,
             array_agg(case when e.module = 'openlineage' and e.payload ? 'openlineage'
                            then cc.openlineage_label(e.payload) end) as titles,
             bool_or(e.module = 'openlineage') as lineage
        from cc.events e
       where e.event_id = any(s.frontier)
    ) a
    cross join lateral (
      select 'seen', null, s.level, a.ids, a.types, a.actors, a.ats, a.neighbours,
             a.titles, null::integer[]
       where a.ids is not null
      union all
      select 'seen', null, s.level, array_agg(f.node), null, null,
             array_agg(to_char(v.archived_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), null,
             array_agg(v.title), array_agg(v.version)
        from unnest(s.frontier) as f (node)
        join cc.prd_versions v
          on v.prd_id = substring(f.node from '^prd:(.*)@[0-9]+$')
         and v.version = substring(f.node from '@([0-9]{1,9})$')::integer
       where f.node like 'prd:%'
      having count(*) > 0
      union all
      select 'node', p.next, null, null, null, null, null, null, null, null
        from unnest(a.neighbours) as l (neighbours)
        cross join lateral jsonb_array_elements_text(l.neighbours) as p (next)
       where direction = 'up' and s.level < max_depth
      union all
      select 'node', e.event_id, null, null, null, null, null, null, null, null
        from cc.events e
       where direction = 'down' and s.level < max_depth and e.parents ?| s.frontier
      union all
      -- Going down from OpenLineage events: the children they derive.
      select 'node', c.child, null, null, null, null, null, null, null, null
        from cc.events f
       cross join lateral cc.openlineage_children(f.event_id, f.run_id, f.occurred_at, f.type, f.payload) as c (child)
       where direction = 'down' and s.level < max_depth and a.lineage
         and f.event_id = any(s.frontier) and f.module = 'openlineage'
      union all
      select 'node', i.event_id, null, null, null, null, null, null, null, null
        from unnest(s.frontier) as f (node)
        join cc.event_inputs i
          on i.prd_id = substring(f.node from '^prd:(.*)@[0-9]+$')
         and i.version = substring(f.node from '@([0-9]{1,9})$')::integer
       where direction = 'down' and s.level < max_depth and f.node like 'prd:%'
      union all
      select 'level', null, s.level + 1, null, null, null, null, null, null, null
       where s.frontier is not null and s.level < max_depth
    ) x
   where s.kind = 'level'
)
select w.distance, w.ids, w.types, w.actors, w.ats, w.neighbours, w.titles, w.versions
  from w
 where w.kind = 'seen'
$$;
`;

const DOWN = String.raw`
drop view cc.event_parents;
drop function cc.openlineage_children(text, text, timestamptz, text, jsonb);
drop function cc.openlineage_parents(text, text, timestamptz, text, jsonb);
drop function cc.openlineage_rank(text);
drop function cc.openlineage_label(jsonb);
drop index cc.events_ol_parent_run_idx;
drop table cc.event_datasets;
drop function cc.check_event_datasets();
drop function cc.event_dataset_refs(text, jsonb);
drop function cc.openlineage_datasets(jsonb, text);
alter table cc.events drop constraint events_payload_original;
alter table cc.events drop column payload_original;
create or replace function cc.check_event_inputs() returns trigger language plpgsql as $$
declare
  ref text;
  kind text;
begin
  select x.event_id, 'event' from (select distinct event_id from new_rows) x
   where not exists (select 1 from cc.events e where e.event_id = x.event_id)
  union all
  select 'prd:' || x.prd_id || '@' || x.version, 'PRD version'
    from (select distinct prd_id, version from new_rows) x
   where not exists (select 1 from cc.prd_versions p where p.prd_id = x.prd_id and p.version = x.version)
  limit 1 into ref, kind;
  if found then
    raise exception '% % is not archived (a lineage edge in cc.event_inputs names it)', kind, ref
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end $$;

create view cc.event_parents as
select e.event_id, p.parent_id
  from cc.events e cross join lateral jsonb_array_elements_text(e.parents) as p (parent_id);

create table cc.event_datasets (
  event_id text not null,
  dataset text not null,
  role text not null check (role in ('input', 'output')),
  primary key (event_id, dataset, role)
);
create index event_datasets_lookup_idx on cc.event_datasets (dataset, role);

-- The datasets an OpenLineage event (payload.openlineage) read and wrote, once each per role.
create function cc.event_dataset_refs(module text, payload jsonb)
returns table (dataset text, role text)
language sql immutable parallel safe
as $$
  select distinct (d.value ->> 'namespace') || '/' || (d.value ->> 'name'), x.role
    from (values ('input', payload -> 'openlineage' -> 'inputs'),
                 ('output', payload -> 'openlineage' -> 'outputs')) as x (role, list)
   cross join lateral jsonb_array_elements(
           case when jsonb_typeof(x.list) = 'array' then x.list else '[]'::jsonb end) as d
   where module = 'openlineage' and d.value ->> 'namespace' is not null
     and d.value ->> 'name' is not null
$$;

create function cc.check_event_datasets() returns trigger language plpgsql as $$
declare
  ref text;
begin
  select x.event_id from (select distinct event_id from new_rows) x
   where not exists (select 1 from cc.events e where e.event_id = x.event_id)
  limit 1 into ref;
  if found then
    raise exception 'event % is not archived (a lineage edge in cc.event_datasets names it)', ref
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end $$;

create or replace function cc.derive_event_edges() returns trigger
language plpgsql security definer set search_path = pg_catalog, cc
as $$
begin
  insert into cc.event_inputs (event_id, prd_id, version)
    select n.event_id, r.prd_id, r.version
      from new_events n cross join lateral cc.event_input_refs(n.inputs) r
     where n.inputs <> '[]'::jsonb;
  insert into cc.event_datasets (event_id, dataset, role)
    select n.event_id, d.dataset, d.role
      from new_events n cross join lateral cc.event_dataset_refs(n.module, n.payload) d
     where n.module = 'openlineage';
  return null;
end $$;

insert into cc.event_datasets (event_id, dataset, role)
  select e.event_id, d.dataset, d.role
    from cc.events e cross join lateral cc.event_dataset_refs(e.module, e.payload) d
   where e.module = 'openlineage';
create or replace function cc.lineage_levels(start_id text, direction text, max_depth integer)
returns table (distance integer, ids text[], types text[], actors text[], ats text[],
               neighbours jsonb[], titles text[], versions integer[])
language sql stable set jit = off
as $$
with recursive w (kind, node, distance, ids, types, actors, ats, neighbours, titles, versions) as (
  values ('node', start_id, null::integer, null::text[], null::text[], null::text[],
          null::text[], null::jsonb[], null::text[], null::integer[]),
         ('level', null, 0, null, null, null, null, null, null, null)
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
             array_agg(e.actor) as actors,
             array_agg(to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) as ats,
             array_agg(e.parents || e.inputs) as neighbours
        from cc.events e
       where e.event_id = any(s.frontier)
    ) a
    cross join lateral (
      select 'seen', null, s.level, a.ids, a.types, a.actors, a.ats, a.neighbours,
             null::text[], null::integer[]
       where a.ids is not null
      union all
      -- The PRD versions (prd:ID@VERSION) of the frontier: their details.
      select 'seen', null, s.level, array_agg(f.node), null, null,
             array_agg(to_char(v.archived_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), null,
             array_agg(v.title), array_agg(v.version)
        from unnest(s.frontier) as f (node)
        join cc.prd_versions v
          on v.prd_id = substring(f.node from '^prd:(.*)@[0-9]+$')
         and v.version = substring(f.node from '@([0-9]{1,9})$')::integer
       where f.node like 'prd:%'
      having count(*) > 0
      union all
      -- Going up: the events' parents and inputs.
      select 'node', p.next, null, null, null, null, null, null, null, null
        from unnest(a.neighbours) as l (neighbours)
        cross join lateral jsonb_array_elements_text(l.neighbours) as p (next)
       where direction = 'up' and s.level < max_depth
      union all
      -- Going down: the events that name one of them as a parent (one GIN lookup) ...
      select 'node', e.event_id, null, null, null, null, null, null, null, null
        from cc.events e
       where direction = 'down' and s.level < max_depth and e.parents ?| s.frontier
      union all
      -- ... or a PRD version among them as an input.
      select 'node', i.event_id, null, null, null, null, null, null, null, null
        from unnest(s.frontier) as f (node)
        join cc.event_inputs i
          on i.prd_id = substring(f.node from '^prd:(.*)@[0-9]+$')
         and i.version = substring(f.node from '@([0-9]{1,9})$')::integer
       where direction = 'down' and s.level < max_depth and f.node like 'prd:%'
      union all
      -- The next level, if this one found anything.
      select 'level', null, s.level + 1, null, null, null, null, null, null, null
       where s.frontier is not null and s.level < max_depth
    ) x
   where s.kind = 'level'
)
select w.distance, w.ids, w.types, w.actors, w.ats, w.neighbours, w.titles, w.versions
  from w
 where w.kind = 'seen'
$$;

`;

const TRIGGERS = String.raw`
create trigger cos_ledger_no_update_delete before update or delete on cc.event_datasets
  for each row execute function cc.ledger_guard();
create trigger cos_ledger_no_truncate before truncate on cc.event_datasets
  for each statement execute function cc.ledger_guard();
create trigger cos_edges_are_derived before insert on cc.event_datasets
  for each statement execute function cc.edges_are_derived();
create trigger cos_edges_reference_records after insert on cc.event_datasets
  referencing new table as new_rows for each statement execute function cc.check_event_datasets();
alter table cc.event_datasets enable always trigger cos_ledger_no_update_delete;
alter table cc.event_datasets enable always trigger cos_ledger_no_truncate;
alter table cc.event_datasets enable always trigger cos_edges_are_derived;
alter table cc.event_datasets enable always trigger cos_edges_reference_records;
`;

/** The roles that may read cc.event_datasets (cos-db agent-role): the table is made anew. */
async function readers(knex: Knex): Promise<string[]> {
  const rows = await knex.raw<{ rows: Array<{ grantee: string }> }>(
    `select distinct a.grantee::regrole::text as grantee
       from pg_class c cross join lateral aclexplode(c.relacl) a
      where c.oid = 'cc.event_datasets'::regclass and a.privilege_type = 'SELECT'
        and a.grantee <> 0 and a.grantee <> c.relowner`,
  );
  return rows.rows.map((r) => r.grantee);
}

async function grantRead(knex: Knex, roles: string[]): Promise<void> {
  // Each name as regrole's text gives it: quoted where it needs to be.
  for (const role of roles) await knex.raw(`grant select on cc.event_datasets to ${role}`);
}

export async function up(knex: Knex): Promise<void> {
  const roles = await readers(knex);
  // knex reads a question mark as a binding; a doubled backslash keeps ? and ?| literal.
  await knex.raw(UP.replace(/\?/g, '\\?'));
  await knex.raw(TRIGGERS);
  await grantRead(knex, roles);
}

/** Back to the baseline's form: the originals' column goes, datasets are joined strings again. */
export async function down(knex: Knex): Promise<void> {
  // The hashes of OpenLineage events commit to the original text: dropping it would break them.
  const kept = await knex.raw<{ rows: unknown[] }>(
    'select 1 from cc.events where payload_original is not null limit 1',
  );
  if (kept.rows.length)
    throw new Error(
      'OpenLineage events are archived, and their hashes commit to the original text this migration keeps: roll back only a store without them (export them, and archive them into a new store)',
    );
  const roles = await readers(knex);
  await knex.raw(DOWN.replace(/\?/g, '\\?'));
  await knex.raw(TRIGGERS);
  await grantRead(knex, roles);
}
