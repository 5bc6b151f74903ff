import type { Knex } from 'knex';

/**
 * Cheaper writes for bulk imports, with the same guarantees.
 *
 * Lineage edges reference archived events and PRD versions, checked once per statement instead
 * of by foreign keys. A foreign key checks each row on its own and takes a KEY SHARE lock on the
 * referenced row, which writes to that row: on a bulk import of 1M events with 2M edges, most of
 * the server's time. Events and PRD versions are append-only (their guard triggers refuse DELETE
 * and UPDATE), so a referenced row can never go away and no lock is needed: one anti-join over
 * the statement's new rows (a transition table) proves the same thing. The triggers are ENABLE
 * ALWAYS, like the guards, so replica mode does not skip them.
 */
const CHECKS = [
  {
    table: 'cc.event_parents',
    fn: 'cc.check_event_parents',
    missing: `select x.id, 'event' from (select event_id as id from new_rows union select parent_id from new_rows) x
               where not exists (select 1 from cc.events e where e.event_id = x.id)`,
    foreignKeys: [
      'add constraint event_parents_event_id_fkey foreign key (event_id) references cc.events (event_id)',
      'add constraint event_parents_parent_id_fkey foreign key (parent_id) references cc.events (event_id)',
    ],
  },
  {
    table: 'cc.event_inputs',
    fn: 'cc.check_event_inputs',
    missing: `select x.event_id, 'event' from (select distinct event_id from new_rows) x
               where not exists (select 1 from cc.events e where e.event_id = x.event_id)
              union all
              select 'prd:' || x.prd_id || '@' || x.version, 'PRD version' from (select distinct prd_id, version from new_rows) x
               where not exists (select 1 from cc.prd_versions p where p.prd_id = x.prd_id and p.version = x.version)`,
    foreignKeys: [
      'add constraint event_inputs_event_id_fkey foreign key (event_id) references cc.events (event_id)',
      'add constraint event_inputs_prd_id_version_fkey foreign key (prd_id, version) references cc.prd_versions (prd_id, version)',
    ],
  },
  {
    table: 'cc.event_datasets',
    fn: 'cc.check_event_datasets',
    missing: `select x.event_id, 'event' from (select distinct event_id from new_rows) x
               where not exists (select 1 from cc.events e where e.event_id = x.event_id)`,
    foreignKeys: [
      'add constraint event_datasets_event_id_fkey foreign key (event_id) references cc.events (event_id)',
    ],
  },
];

const TRIGGER = 'cos_edges_reference_records';

/**
 * Filter indexes on columns that are often empty leave the empty rows out: a filter names a
 * value (task_id = ?), which is never null, so the planner still uses them, and an import of
 * events without a task no longer maintains an index of nulls.
 */
const PARTIAL = [
  { name: 'events_task_idx', columns: '(task_id, occurred_at)', where: 'task_id is not null' },
  { name: 'events_actor_idx', columns: '(actor, occurred_at)', where: 'actor is not null' },
  { name: 'events_module_idx', columns: '(module, occurred_at)', where: 'module is not null' },
];

/**
 * PRD markdown is compressed with lz4 where the server has it: several times faster than the
 * default pglz for a few percent more bytes, on the one column large enough to be compressed.
 * Servers built without lz4 (the embedded engine) keep pglz.
 */
const LZ4_CONTENT = `
  do $$ begin
    alter table cc.prd_versions alter column content set compression lz4;
  exception when feature_not_supported then null;
  end $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(LZ4_CONTENT);
  for (const check of CHECKS) {
    await knex.raw(`
      create function ${check.fn}() returns trigger language plpgsql as $$
      declare
        ref text;
        kind text;
      begin
        ${check.missing} limit 1 into ref, kind;
        if found then
          raise exception '% % is not archived (a lineage edge in ${check.table} names it)', kind, ref
            using errcode = 'foreign_key_violation';
        end if;
        return null;
      end $$`);
    await knex.raw(`
      create trigger ${TRIGGER} after insert on ${check.table}
        referencing new table as new_rows for each statement execute function ${check.fn}()`);
    await knex.raw(`alter table ${check.table} enable always trigger ${TRIGGER}`);
    const constraints = check.foreignKeys.map((fk) => `drop constraint ${fk.split(' ')[2]}`);
    await knex.raw(`alter table ${check.table} ${constraints.join(', ')}`);
  }
  for (const index of PARTIAL) {
    await knex.raw(`drop index cc.${index.name}`);
    await knex.raw(`create index ${index.name} on cc.events ${index.columns} where ${index.where}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table cc.prd_versions alter column content set compression default');
  for (const index of PARTIAL) {
    await knex.raw(`drop index cc.${index.name}`);
    await knex.raw(`create index ${index.name} on cc.events ${index.columns}`);
  }
  for (const check of CHECKS) {
    await knex.raw(`drop trigger ${TRIGGER} on ${check.table}`);
    await knex.raw(`drop function ${check.fn}()`);
    await knex.raw(`alter table ${check.table} ${check.foreignKeys.join(', ')}`);
  }
}
