import type { Knex } from 'knex';

/**
 * The cos-db 1.0 store, as it is meant to be: schema cc, its ledger tables, their lineage and
 * the walks trace and SQL users read.
 *
 * Frozen: this file never changes once released and imports nothing that can. Its SQL is written
 * out here; a later change to the schema is a migration of its own. Module migrations make their
 * ledger tables with `makeLedgerTable` (the package's stable helper), which writes the same
 * integrity columns and triggers as the core's tables below.
 *
 * Digests (hash, prev_hash, content_sha256) are bytea: 33 bytes stored instead of 65 for hex,
 * and half the bytes to read back. cos-db shows them as lowercase hex.
 */
const UP = String.raw`
create schema if not exists cc;

-- Refuses UPDATE, DELETE and TRUNCATE on every append-only table, whoever the role. The guard
-- triggers are ENABLE ALWAYS, so session_replication_role = replica cannot skip them.
create function cc.ledger_guard() returns trigger language plpgsql as $$
begin
  raise exception 'cos-db: %.% is append-only; % is not allowed', tg_table_schema, tg_table_name, tg_op
    using errcode = 'insufficient_privilege',
          hint = 'ledger rows are never changed or removed; archive a new version instead';
end $$;

-- Every row a statement adds to a ledger table must extend its chain: the first at position 1
-- after the genesis hash (32 zero bytes), or right after the chain's stored head, each next one
-- right after the row before it, its prev_hash that row's hash. So neither a fork nor a gap can
-- be stored, whoever writes: one sort of the statement's new rows and one index probe per chain
-- touched, where UNIQUE(chain, prev_hash) would index a random key and still let a row skip.
create function cc.ledger_check_links() returns trigger language plpgsql as $fn$
declare
  bad record;
begin
  execute format($q$
    with s as (
      select chain, seq, prev_hash,
             lag(seq) over w as before_seq, lag(hash) over w as before_hash,
             row_number() over w as n
        from new_rows window w as (partition by chain order by seq)
    )
    select s.chain, s.seq from s
     where case
             when s.n > 1 then s.seq <> s.before_seq + 1 or s.prev_hash <> s.before_hash
             when s.seq = 1 then s.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
             else s.prev_hash is distinct from
                    (select t.hash from %I.%I t where t.chain = s.chain and t.seq = s.seq - 1)
           end
     limit 1$q$, tg_table_schema, tg_table_name) into bad;
  if bad is not null then
    raise exception 'cos-db: row % of chain % in %.% does not extend its chain (a fork or a gap)',
      bad.seq, bad.chain, tg_table_schema, tg_table_name
      using errcode = 'integrity_constraint_violation',
            hint = 'append through cos-db, which locks the chain and reads its head first';
  end if;
  return null;
end $fn$;

-- The module schemas (cos-db schema create).
create table cc.modules (
  name text primary key
    check (name ~ '^[a-z][a-z0-9_]*$' and octet_length(name) <= 63),
  description text not null default '',
  created_at timestamptz not null default now(),
  created_by text not null default current_user
);
comment on table cc.modules is 'One row per module schema (cos-db schema create).';

-- The ledger tables verify walks: a table is registered by the migration that makes it and
-- retired by the one that drops it; verify walks those whose latest entry is a registration.
create table cc.ledger_tables (
  id bigint generated always as identity primary key,
  table_name text not null,
  action text not null default 'register' check (action in ('register', 'retire')),
  at timestamptz not null default now()
);

-- The store's identity, which signed checkpoints name so one store's checkpoint cannot be
-- checked against another.
create table cc.store_identity (
  origin uuid primary key default gen_random_uuid(),
  created_at timestamptz not null default now()
);
insert into cc.store_identity default values;

-- PRD versions: one chain ("prd") for every PRD, so removing a whole PRD still breaks it,
-- numbered 1, 2, 3 ... per prd_id. Content is kept byte for byte; PRDs are product documents,
-- not personal data, so they are hashed as they are (an event's payload is committed to).
create table cc.prd_versions (
  prd_id text not null check (prd_id ~ '^[a-z0-9][a-z0-9._-]*$' and length(prd_id) <= 200),
  version integer not null check (version >= 1),
  title text not null,
  status text,
  front_matter jsonb not null,
  content text not null,
  content_sha256 bytea not null check (octet_length(content_sha256) = 32),
  size_bytes integer not null,
  source_path text,
  message text,
  archived_by text not null,
  archived_at timestamptz not null,
  chain text not null,
  seq bigint not null check (seq >= 1),
  prev_hash bytea not null,
  hash bytea not null,
  hash_version smallint not null,
  constraint prd_versions_prd_version_key unique (prd_id, version),
  constraint cc_prd_versions_chain_seq_key unique (chain, seq)
);
comment on table cc.prd_versions is 'PRD versions, content byte for byte (cos-db archive prd).';
-- lz4 where the server has it: several times faster than pglz for a few percent more bytes.
do $$ begin
  alter table cc.prd_versions alter column content set compression lz4;
exception when feature_not_supported then null;
end $$;

-- Events: one chain per module (null: "core"), so modules' writers run in parallel. An event's
-- parents and inputs are part of its hashed content, so lineage cannot be rewritten unnoticed.
-- The payload is hashed as a salted commitment, sha256(hex(payload_salt) || canonical JSON of
-- the payload), so it can be erased (both set to null, by an audited redaction) with the proof kept.
create table cc.events (
  event_id text not null check (length(event_id) between 1 and 200 and event_id not like 'prd:%'),
  type text not null,
  module text,
  actor text,
  task_id text,
  run_id text,
  occurred_at timestamptz not null,
  recorded_at timestamptz not null,
  parents jsonb not null,
  inputs jsonb not null,
  payload jsonb,
  payload_salt bytea check (octet_length(payload_salt) = 16),
  chain text not null,
  seq bigint not null check (seq >= 1),
  prev_hash bytea not null,
  hash bytea not null,
  hash_version smallint not null,
  constraint events_event_id_key unique (event_id) with (fillfactor = 100),
  constraint cc_events_chain_seq_key unique (chain, seq) with (fillfactor = 100),
  constraint events_payload_committed check ((payload is null) = (payload_salt is null))
);
-- Events in time order (query's and export's order, and --since/--until) by one index. A module
-- is its chain (no module: "core"), so --module reads the (chain, seq) key. Each other filter
-- has an index of its own on the column alone: PostgreSQL stores the many rows of one
-- type, actor or task once with a list of rows (deduplication), a tenth of the size of
-- (column, occurred_at), and the planner either reads the time index and filters (a common
-- value) or fetches the few rows of a rare one and sorts them. run_id serves OpenLineage's run
-- resolution. Columns often empty leave the empty rows out. Rows are never updated or deleted,
-- so index pages are filled whole where they split (fillfactor 100).
create index events_type_idx on cc.events (type) with (fillfactor = 100);
create index events_actor_idx on cc.events (actor) with (fillfactor = 100)
  where actor is not null;
create index events_task_idx on cc.events (task_id) with (fillfactor = 100)
  where task_id is not null;
create index events_run_idx on cc.events (run_id, occurred_at) with (fillfactor = 100)
  where run_id is not null;
create index events_time_idx on cc.events (occurred_at, event_id) with (fillfactor = 100);
-- Going down a lineage: the events that name one of a set as a parent (?|, @>).
create index events_parents_idx on cc.events using gin (parents) with (fastupdate = off);

-- Every parent is an archived event, in the same statement or before it. Most come in the same
-- statement (an import's chunk) and are found in a hash of its rows; the rest cost one probe of
-- the primary key each. Each step is its own CTE so the planner cannot reorder them.
create function cc.check_event_parent_refs() returns trigger language plpgsql as $$
declare
  ref text;
  child text;
begin
  with n as materialized (
    select event_id, parents from new_rows
  ), refs as materialized (
    select p.parent_id, n.event_id
      from n cross join lateral jsonb_array_elements_text(n.parents) as p (parent_id)
  ), outside as materialized (
    select r.parent_id, r.event_id from refs r
     where not exists (select 1 from n where n.event_id = r.parent_id)
  )
  select o.parent_id, o.event_id into ref, child from outside o
   where (select true from cc.events e where e.event_id = o.parent_id) is null
   limit 1;
  if found then
    raise exception 'event % is not archived (a parent of event %)', ref, child
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end $$;

-- The events' parents as (event_id, parent_id) pairs, for SQL users.
create view cc.event_parents as
select e.event_id, p.parent_id
  from cc.events e cross join lateral jsonb_array_elements_text(e.parents) as p (parent_id);

-- Lineage edges the database derives from the events' hashed rows, never written on their own:
-- the PRD versions an event names (inputs), the OpenLineage datasets it read or wrote (in its
-- payload). An edge written on its own would be lineage no hash covers.
create table cc.event_inputs (
  event_id text not null,
  prd_id text not null,
  version integer not null,
  primary key (event_id, prd_id, version)
);
create index event_inputs_prd_idx on cc.event_inputs (prd_id, version, event_id);

create table cc.event_datasets (
  event_id text not null,
  dataset text not null,
  role text not null check (role in ('input', 'output')),
  primary key (event_id, dataset, role)
);
create index event_datasets_lookup_idx on cc.event_datasets (dataset, role);

-- The PRD versions an event's inputs name (prd:ID@VERSION), once each.
create function cc.event_input_refs(inputs jsonb)
returns table (prd_id text, version integer)
language sql immutable parallel safe
as $$
  select distinct substring(r.ref from '^prd:(.*)@[0-9]+$'),
                  substring(r.ref from '@([0-9]{1,9})$')::integer
    from jsonb_array_elements_text(inputs) as r (ref)
$$;

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

-- Each edge names an archived event (and PRD version): checked once per statement, not by
-- foreign keys, which check each row alone and lock the row they reference. Events and PRD
-- versions are append-only, so a referenced row can never go away.
create function cc.check_event_inputs() returns trigger language plpgsql as $$
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

create function cc.derive_event_edges() returns trigger
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

-- Only the derivation writes the edge tables: it runs inside cc.events' trigger, one level
-- down; a statement of its own is at the top level.
create function cc.edges_are_derived() returns trigger language plpgsql as $$
begin
  if pg_trigger_depth() < 2 then
    raise exception 'cos-db: %.% is derived from the hashed rows of cc.events and cannot be written directly', tg_table_schema, tg_table_name
      using errcode = 'insufficient_privilege',
            hint = 'archive the event (its inputs, or its OpenLineage datasets) instead';
  end if;
  return null;
end $$;

-- Links from an L4 record (an event, or a PRD version as prd:ID@VERSION) to an entry in L3.
create table cc.memory_links (
  link_id text not null,
  ref text not null,
  ref_kind text not null check (ref_kind in ('event', 'prd')),
  l3_ref text not null check (length(l3_ref) between 1 and 2000),
  relation text not null check (length(relation) between 1 and 200),
  created_by text not null,
  created_at timestamptz not null,
  chain text not null,
  seq bigint not null check (seq >= 1),
  prev_hash bytea not null,
  hash bytea not null,
  hash_version smallint not null,
  constraint memory_links_link_id_key unique (link_id),
  constraint cc_memory_links_chain_seq_key unique (chain, seq)
);
create index memory_links_ref_idx on cc.memory_links (ref);
create index memory_links_l3_idx on cc.memory_links (l3_ref);

-- The walk trace reads: one row per level (and kind of node: events, PRD versions), the
-- level's details in arrays, column by column. A recursive CTE whose UNION is the visited set
-- expands a level's whole frontier at once, so the cost follows the size of the result, not the
-- number of paths; a client parses one row per level instead of one per node. Each node's
-- parents and inputs are one list (neighbours, parents first); times are text in JavaScript's
-- ISO form (UTC, milliseconds). Levels leave in order: trace relies on it, and checks it.
create function cc.lineage_levels(start_id text, direction text, max_depth integer)
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

-- The same walk for SQL users, one row per node: its distance and the node one step nearer the
-- start it was reached from (the least such, by id).
create function cc.lineage_walk(start_id text, direction text, max_depth integer)
returns table (node text, distance integer, via text)
language sql stable set jit = off
as $$
with n as materialized (
  select u.node, l.distance, u.neighbours
    from cc.lineage_levels(start_id, direction, max_depth) l
    cross join lateral unnest(l.ids, l.neighbours) as u (node, neighbours)
), steps as (
  -- Each edge among the nodes found, as (near, far): an event and its parent or input going
  -- up, the other way round going down.
  select case when direction = 'up' then c.node else p.next end as near,
         case when direction = 'up' then p.next else c.node end as far
    from n c cross join lateral jsonb_array_elements_text(coalesce(c.neighbours, '[]'::jsonb)) as p (next)
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
$$;
`;

/** The triggers of each table: which guard, links and lineage checks it carries. */
const LEDGER = ['cc.prd_versions', 'cc.events', 'cc.memory_links'];
const APPEND_ONLY = [
  ...LEDGER,
  'cc.ledger_tables',
  'cc.store_identity',
  'cc.event_inputs',
  'cc.event_datasets',
];

function triggersSql(): string {
  const out: string[] = [];
  const always = (table: string, trigger: string) =>
    out.push(`alter table ${table} enable always trigger ${trigger};`);
  for (const table of APPEND_ONLY) {
    out.push(`create trigger cos_ledger_no_update_delete before update or delete on ${table}
                for each row execute function cc.ledger_guard();`);
    out.push(`create trigger cos_ledger_no_truncate before truncate on ${table}
                for each statement execute function cc.ledger_guard();`);
    always(table, 'cos_ledger_no_update_delete');
    always(table, 'cos_ledger_no_truncate');
  }
  for (const table of LEDGER) {
    out.push(`create trigger cos_ledger_links after insert on ${table}
                referencing new table as new_rows for each statement execute function cc.ledger_check_links();`);
    always(table, 'cos_ledger_links');
    out.push(`insert into cc.ledger_tables (table_name, action) values ('${table}', 'register');`);
  }
  const statement = (table: string, trigger: string, fn: string, when: string) => {
    out.push(`create trigger ${trigger} ${when} insert on ${table}
                referencing new table as new_rows for each statement execute function ${fn}();`);
    always(table, trigger);
  };
  statement('cc.events', 'cos_parents_are_events', 'cc.check_event_parent_refs', 'after');
  out.push(`create trigger cos_derive_edges after insert on cc.events
              referencing new table as new_events for each statement execute function cc.derive_event_edges();`);
  always('cc.events', 'cos_derive_edges');
  for (const [table, fn] of [
    ['cc.event_inputs', 'cc.check_event_inputs'],
    ['cc.event_datasets', 'cc.check_event_datasets'],
  ] as const) {
    out.push(`create trigger cos_edges_are_derived before insert on ${table}
                for each statement execute function cc.edges_are_derived();`);
    always(table, 'cos_edges_are_derived');
    statement(table, 'cos_edges_reference_records', fn, 'after');
  }
  return out.join('\n');
}

export async function up(knex: Knex): Promise<void> {
  // knex reads a question mark as a binding; doubled backslash keeps ?| literal.
  await knex.raw(UP.replace(/\?\|/g, '\\?|'));
  await knex.raw(triggersSql());
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop schema cc cascade');
}
