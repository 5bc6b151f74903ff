import type { Knex } from 'knex';

/**
 * Erasure that keeps the proof (docs/retention.md): an event's payload, its salt and its original
 * text can be erased, through one SECURITY DEFINER function, while its row's hash still verifies
 * from the commitment recorded in cc.redactions, itself a hash-chained ledger table.
 *
 * Frozen like the baseline: it imports nothing that can change.
 */

/** Owns the erasure functions; nobody logs in as it. Roles are the cluster's, so it may exist. */
const OWNER = 'cos_redaction_owner';
/** May call the erasure functions: granted to the people who redact, never by agent-role. */
const CALLER = 'cos_redactor';

const UP = String.raw`
do $$ begin
  if not exists (select 1 from pg_roles where rolname = '${OWNER}') then
    create role ${OWNER} nologin;
  end if;
exception when duplicate_object or unique_violation then null; -- made by a concurrent migrate
end $$;
do $$ begin
  if not exists (select 1 from pg_roles where rolname = '${CALLER}') then
    create role ${CALLER} nologin;
  end if;
exception when duplicate_object or unique_violation then null;
end $$;

-- One row per erased value: what was erased (the event and its field), the commitment the row's
-- hash still covers (copied before the value went), who asked, when and why. A ledger table of
-- its own chain ("redactions"), so redactions are on the record and covered by checkpoints.
create table cc.redactions (
  redaction_id text not null,
  event_id text not null,
  field text not null check (field = 'payload'),
  commitment bytea not null check (octet_length(commitment) = 32),
  reason text not null check (length(reason) between 1 and 2000),
  requested_by text not null,
  redacted_at timestamptz not null,
  chain text not null,
  seq bigint not null check (seq >= 1),
  prev_hash bytea not null,
  hash bytea not null,
  hash_version smallint not null,
  constraint redactions_redaction_id_key unique (redaction_id),
  constraint cc_redactions_chain_seq_key unique (chain, seq),
  constraint redactions_event_field_key unique (event_id, field)
);
comment on table cc.redactions is 'Erased values and the commitments their rows still verify by (cos-db redact).';

-- An erased event's redaction, as records show it (null when there is none).
create function cc.event_redaction(id text) returns jsonb
language sql stable parallel safe
as $$
  select jsonb_build_object('redaction_id', r.redaction_id, 'field', r.field, 'reason', r.reason,
           'requested_by', r.requested_by,
           'redacted_at', to_char(r.redacted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    from cc.redactions r where r.event_id = id and r.field = 'payload'
$$;

-- cc.events' guard: append-only like every ledger table, but for the one change erasure makes —
-- made by the erasure functions' owner, setting payload, salt and original to null and nothing
-- else, of a value whose redaction is already on record.
create function cc.events_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and current_user = '${OWNER}' then
    if old.payload is not null and new.payload is null and new.payload_salt is null
       and new.payload_original is null
       and to_jsonb(new) - array['payload', 'payload_salt', 'payload_original']
           = to_jsonb(old) - array['payload', 'payload_salt', 'payload_original']
       and exists (select 1 from cc.redactions r where r.event_id = old.event_id and r.field = 'payload')
    then
      return new;
    end if;
  end if;
  raise exception 'cos-db: %.% is append-only; % is not allowed', tg_table_schema, tg_table_name, tg_op
    using errcode = 'insufficient_privilege',
          hint = 'ledger rows are never changed or removed; a payload is erased with cos-db redact';
end $$;

drop trigger cos_ledger_no_update_delete on cc.events;
create trigger cos_ledger_no_update_delete before update or delete on cc.events
  for each row execute function cc.events_guard();
alter table cc.events enable always trigger cos_ledger_no_update_delete;

-- Records the redactions given (rows cos-db hashed onto the redactions chain, whose lock it
-- holds) and erases the values they name, in one statement each: each must erase one value still
-- there, or nothing is done.
create function cc.redact(rows jsonb) returns bigint
language plpgsql security definer set search_path = pg_catalog, cc
as $$
declare
  recorded bigint;
  erased bigint;
begin
  insert into cc.redactions (redaction_id, event_id, field, commitment, reason, requested_by,
                             redacted_at, chain, seq, prev_hash, hash, hash_version)
  select r.redaction_id, r.event_id, r.field, decode(r.commitment, 'hex'), r.reason,
         r.requested_by, r.redacted_at, r.chain, r.seq, decode(r.prev_hash, 'hex'),
         decode(r.hash, 'hex'), r.hash_version
    from jsonb_to_recordset(rows) as r (redaction_id text, event_id text, field text,
           commitment text, reason text, requested_by text, redacted_at timestamptz, chain text,
           seq bigint, prev_hash text, hash text, hash_version smallint);
  get diagnostics recorded = row_count;
  update cc.events e set payload = null, payload_salt = null, payload_original = null
   where e.event_id in (select r.event_id from jsonb_to_recordset(rows) as r (event_id text))
     and e.payload is not null;
  get diagnostics erased = row_count;
  if erased <> recorded then
    raise exception 'cos-db: % redaction(s) given but % value(s) erased: each must erase one value still present', recorded, erased
      using errcode = 'integrity_constraint_violation';
  end if;
  return erased;
end $$;

-- Erases the values of the given events whose redaction is already on record (a bundle's
-- redactions, imported into a store that still holds the value). Returns how many.
create function cc.apply_redactions(ids text[]) returns bigint
language plpgsql security definer set search_path = pg_catalog, cc
as $$
declare
  erased bigint;
begin
  update cc.events e set payload = null, payload_salt = null, payload_original = null
   where e.event_id = any(ids) and e.payload is not null
     and exists (select 1 from cc.redactions r where r.event_id = e.event_id and r.field = 'payload');
  get diagnostics erased = row_count;
  return erased;
end $$;

alter function cc.redact(jsonb) owner to ${OWNER};
alter function cc.apply_redactions(text[]) owner to ${OWNER};
revoke all on function cc.redact(jsonb), cc.apply_redactions(text[]) from public;
grant execute on function cc.redact(jsonb), cc.apply_redactions(text[]) to ${CALLER};
grant usage on schema cc to ${OWNER};
grant select, insert on cc.redactions to ${OWNER};
grant select, update (payload, payload_salt, payload_original) on cc.events to ${OWNER};
grant select on cc.events to ${OWNER};
grant usage on schema cc to ${CALLER};
grant select on cc.events, cc.redactions to ${CALLER};

create trigger cos_ledger_links after insert on cc.redactions
  referencing new table as new_rows for each statement execute function cc.ledger_check_links();
create trigger cos_ledger_no_update_delete before update or delete on cc.redactions
  for each row execute function cc.ledger_guard();
create trigger cos_ledger_no_truncate before truncate on cc.redactions
  for each statement execute function cc.ledger_guard();
alter table cc.redactions enable always trigger cos_ledger_links;
alter table cc.redactions enable always trigger cos_ledger_no_update_delete;
alter table cc.redactions enable always trigger cos_ledger_no_truncate;
insert into cc.ledger_tables (table_name, action) values ('cc.redactions', 'register');
`;

const DOWN = String.raw`
drop trigger cos_ledger_no_update_delete on cc.events;
create trigger cos_ledger_no_update_delete before update or delete on cc.events
  for each row execute function cc.ledger_guard();
alter table cc.events enable always trigger cos_ledger_no_update_delete;
drop function cc.events_guard();
drop function cc.redact(jsonb);
drop function cc.apply_redactions(text[]);
drop function cc.event_redaction(text);
revoke all on cc.events from ${OWNER}, ${CALLER};
revoke all on schema cc from ${OWNER}, ${CALLER};
drop table cc.redactions;
insert into cc.ledger_tables (table_name, action) values ('cc.redactions', 'retire');
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(UP);
}

export async function down(knex: Knex): Promise<void> {
  // Rolling back would bring back rows whose hash no longer verifies: their commitments go with
  // the table.
  const redacted = await knex.raw<{ rows: unknown[] }>('select 1 from cc.redactions limit 1');
  if (redacted.rows.length > 0)
    throw new Error(
      'cc.redactions holds redactions: without them the erased rows no longer verify; this migration cannot be rolled back',
    );
  await knex.raw(DOWN);
}
