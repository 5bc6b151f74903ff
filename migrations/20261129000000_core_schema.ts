import type { Knex } from 'knex';

/** The canonical core: schema cc and the registry of module schemas. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create schema if not exists cc;
    create table cc.modules (
      name text primary key
        check (name ~ '^[a-z][a-z0-9_]*$' and octet_length(name) <= 63),
      description text not null default '',
      created_at timestamptz not null default now(),
      created_by text not null default current_user
    );
    comment on table cc.modules is 'One row per module schema (cos-db schema create).';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table cc.modules; drop schema cc;');
}
