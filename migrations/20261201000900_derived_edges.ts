import type { Knex } from 'knex';

/**
 * Lineage edges derived by the database from hashed rows, never written on their own.
 *
 * cc.event_inputs (PRD versions an event names) and cc.event_datasets (OpenLineage datasets it
 * read or wrote) index what each event's row already says, in `inputs` and in the OpenLineage
 * event kept in `payload`; both are covered by the row's hash. An edge written on its own would
 * be lineage no hash covers: trace would show it and verify could not tell. So the edges are
 * made here, by a trigger on cc.events from the statement's new rows, with one definition of
 * the derivation (two SQL functions) that verify uses too, to prove the tables say exactly what
 * the rows say. A direct INSERT into either table is refused, whoever the role; a role that can
 * append events needs no privilege on them (the trigger runs as the tables' owner).
 *
 * Frozen: this file never imports code that can change; its SQL is written out here.
 */
const UP = `
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

  create trigger cos_derive_edges after insert on cc.events
    referencing new table as new_events for each statement execute function cc.derive_event_edges();
  alter table cc.events enable always trigger cos_derive_edges;

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
  create trigger cos_edges_are_derived before insert on cc.event_inputs
    for each statement execute function cc.edges_are_derived();
  alter table cc.event_inputs enable always trigger cos_edges_are_derived;
  create trigger cos_edges_are_derived before insert on cc.event_datasets
    for each statement execute function cc.edges_are_derived();
  alter table cc.event_datasets enable always trigger cos_edges_are_derived;

  -- A role given INSERT on the edge tables by an earlier agent-role keeps none.
  do $$
  declare r record;
  begin
    for r in select distinct grantee from information_schema.role_table_grants
              where table_schema = 'cc' and table_name in ('event_inputs', 'event_datasets')
                and privilege_type = 'INSERT'
                and grantee not in (select rolname from pg_roles where oid = (
                      select relowner from pg_class where oid = 'cc.event_inputs'::regclass))
    loop
      execute format('revoke insert on cc.event_inputs, cc.event_datasets from %I', r.grantee);
    end loop;
  end $$;
`;

const DOWN = `
  drop trigger cos_edges_are_derived on cc.event_datasets;
  drop trigger cos_edges_are_derived on cc.event_inputs;
  drop function cc.edges_are_derived();
  drop trigger cos_derive_edges on cc.events;
  drop function cc.derive_event_edges();
  drop function cc.event_dataset_refs(text, jsonb);
  drop function cc.event_input_refs(jsonb);
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(UP);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(DOWN);
}
