import type { Knex } from 'knex';

/**
 * RFC 6962 Merkle trees over every ledger chain, so one record's inclusion, and one signed tree
 * head's extension by a later one, can be proved to someone with no access to the database
 * (cos-db prove, cos-db verify-proof).
 *
 * A chain's leaves are its rows in order; a leaf's data is the row's hash, so the chain format
 * does not change. What is stored is what transparency logs store: the root of every complete
 * tile of 256 leaves (stratum 1), of every complete tile of 256 such roots (stratum 2), and so
 * on, each written once, by a statement trigger in the transaction that completes it. Any proof
 * is then a few tiles and at most 255 row hashes away, whatever the chain's size.
 *
 * Frozen like the baseline: it imports nothing that can change.
 */
const UP = String.raw`
create table cc.merkle_tiles (
  table_name text not null,
  chain text not null,
  stratum smallint not null check (stratum >= 1),
  idx bigint not null check (idx >= 0),
  hash bytea not null check (octet_length(hash) = 32),
  primary key (table_name, chain, stratum, idx)
);
comment on table cc.merkle_tiles is 'RFC 6962 subtree roots of complete 256-wide tiles of each ledger chain (cos-db prove).';

-- Signed tree heads in C2SP tlog-checkpoint form (cos-db verify --write-checkpoint), kept so
-- that proofs can be served against them and later heads shown to extend them.
create table cc.tlog_checkpoints (
  id bigint generated always as identity primary key,
  table_name text not null,
  chain text not null,
  size bigint not null check (size >= 1),
  root bytea not null check (octet_length(root) = 32),
  note text not null,
  created_at timestamptz not null default now()
);
create index tlog_checkpoints_chain_idx on cc.tlog_checkpoints (table_name, chain, size);

-- The root of a perfect subtree: of row hashes (leaves, hashed first as 0x00 || data), or of
-- the roots of the stratum below; nodes are sha256(0x01 || left || right).
create function cc.merkle_root(hashes bytea[], leaves boolean) returns bytea
language plpgsql immutable parallel safe as $$
declare
  level bytea[];
begin
  if leaves then
    select array_agg(sha256('\x00'::bytea || u.h) order by u.o) into level
      from unnest(hashes) with ordinality as u (h, o);
  else
    level := hashes;
  end if;
  while cardinality(level) > 1 loop
    select array_agg(sha256('\x01'::bytea || p.pair) order by p.k) into level
      from (select (u.o - 1) / 2 as k, string_agg(u.h, ''::bytea order by u.o) as pair
              from unnest(level) with ordinality as u (h, o) group by 1) p;
  end loop;
  return level[1];
end $$;

-- The tiles above a stratum-1 tile that completes its 256-wide group, and so on up: what the
-- 256th tile of a group completes (once every 65,536 rows of a chain, and rarer above).
create function cc.merkle_cascade(t text, chain_name text, first_idx bigint)
returns void language plpgsql as $$
declare
  s smallint := 1;
  i bigint := first_idx;
begin
  while i % 256 = 255 loop
    i := i / 256;
    insert into cc.merkle_tiles
      select t, chain_name, s + 1, i, cc.merkle_root(array_agg(m.hash order by m.idx), false)
        from cc.merkle_tiles m
       where m.table_name = t and m.chain = chain_name and m.stratum = s
         and m.idx between i * 256 and i * 256 + 255;
    s := s + 1;
  end loop;
end $$;

-- Writes every tile of the chain completed by rows up to position head that is not stored yet,
-- from the last one stored, a tile at a time: how a chain whose tiles fell behind (rows from
-- before this migration, or appended while the trigger was disabled) catches up; a call with
-- nothing to do does nothing.
create function cc.merkle_catch_up(tschema text, tname text, chain_name text, head bigint)
returns bigint language plpgsql as $$
declare
  t constant text := tschema || '.' || tname;
  k bigint;
  leaves bytea[];
  made bigint := 0;
begin
  select coalesce(max(idx) + 1, 0) into k from cc.merkle_tiles
   where table_name = t and chain = chain_name and stratum = 1;
  while k < head / 256 loop
    execute format('select array_agg(hash order by seq) from %I.%I where chain = $1 and seq between $2 and $3',
                   tschema, tname)
       into leaves using chain_name, k * 256 + 1, k * 256 + 256;
    if cardinality(leaves) is distinct from 256 then
      raise exception 'cos-db: chain % of % lacks rows below position %', chain_name, t, k * 256 + 256
        using errcode = 'integrity_constraint_violation';
    end if;
    insert into cc.merkle_tiles values (t, chain_name, 1, k, cc.merkle_root(leaves, true));
    perform cc.merkle_cascade(t, chain_name, k);
    made := made + 1;
    k := k + 1;
  end loop;
  return made;
end $$;
revoke execute on function cc.merkle_catch_up(text, text, text, bigint) from public;
revoke execute on function cc.merkle_cascade(text, text, bigint) from public;

-- After each statement that adds ledger rows: the tiles of every chain it took past a tile's
-- end. cos-db's bulk import writes the tiles of its rows itself, hashed in Node beside the rows
-- before it sends them, so a chain already in step needs nothing but the tiles above. For any
-- other writer, all of a statement's tiles are made in one query over its rows (and, for each
-- chain's first tile, the rows before them), 256 leaves folded into their root level by level; a
-- chain whose earlier tiles are not all stored catches up a tile at a time. Security definer, so
-- writers (an agent role with INSERT on its ledger tables) need no right on the tiles.
create function cc.merkle_append() returns trigger
language plpgsql security definer set search_path = pg_catalog, cc as $$
declare
  t constant text := tg_table_schema || '.' || tg_table_name;
  r record;
  ready text[] := '{}';
  done_chains text[];
  done_idx bigint[];
  k bigint;
begin
  for r in
    select c.chain, c.lo, c.hi,
           coalesce((select max(m.idx) + 1 from cc.merkle_tiles m
                      where m.table_name = t and m.chain = c.chain and m.stratum = 1), 0) as stored
      from (select n.chain, min(n.seq) as lo, max(n.seq) as hi from new_rows n group by n.chain) c
     where c.hi / 256 > (c.lo - 1) / 256
  loop
    if r.stored = r.hi / 256 then
      -- Written by the writer: the tiles above, where one of its tiles ends a group.
      k := (r.lo - 1) / 256;
      while k < r.hi / 256 loop
        if k % 256 = 255 then
          perform cc.merkle_cascade(t, r.chain, k);
        end if;
        k := k + 1;
      end loop;
    elsif r.stored = (r.lo - 1) / 256 then
      ready := ready || r.chain;
    else
      perform cc.merkle_catch_up(tg_table_schema, tg_table_name, r.chain, r.hi);
    end if;
  end loop;
  if cardinality(ready) = 0 then
    return null;
  end if;
  execute format($q$
    with c as (
      select n.chain, min(n.seq) as lo, max(n.seq) as hi from new_rows n
       where n.chain = any($1) group by n.chain
    ), leaves as (
      select n.chain, n.seq, n.hash from new_rows n join c on c.chain = n.chain
       where n.seq <= c.hi / 256 * 256
      union all
      select x.chain, x.seq, x.hash from c join %I.%I x on x.chain = c.chain
       where x.seq > (c.lo - 1) / 256 * 256 and x.seq < c.lo
    ), l0 as (
      select chain, (seq - 1) / 256 as tile, (seq - 1) %% 256 as pos,
             sha256('\x00'::bytea || hash) as h
        from leaves
  ), l1 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l0 group by 1, 2, 3
  ), l2 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l1 group by 1, 2, 3
  ), l3 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l2 group by 1, 2, 3
  ), l4 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l3 group by 1, 2, 3
  ), l5 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l4 group by 1, 2, 3
  ), l6 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l5 group by 1, 2, 3
  ), l7 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l6 group by 1, 2, 3
  ), l8 as (
    select chain, tile, pos / 2 as pos, sha256('\x01'::bytea || string_agg(h, ''::bytea order by pos)) as h
      from l7 group by 1, 2, 3
    ), made as (
      insert into cc.merkle_tiles (table_name, chain, stratum, idx, hash)
      select $2, chain, 1, tile, h from l8
      returning chain, idx
    )
    select array_agg(chain), array_agg(idx) from made where idx %% 256 = 255$q$,
    tg_table_schema, tg_table_name)
    into done_chains, done_idx using ready, t;
  for i in 1 .. coalesce(cardinality(done_idx), 0) loop
    perform cc.merkle_cascade(t, done_chains[i], done_idx[i]);
  end loop;
  return null;
end $$;

create trigger cos_ledger_no_update_delete before update or delete on cc.merkle_tiles
  for each row execute function cc.ledger_guard();
create trigger cos_ledger_no_truncate before truncate on cc.merkle_tiles
  for each statement execute function cc.ledger_guard();
alter table cc.merkle_tiles enable always trigger cos_ledger_no_update_delete;
alter table cc.merkle_tiles enable always trigger cos_ledger_no_truncate;
create trigger cos_ledger_no_update_delete before update or delete on cc.tlog_checkpoints
  for each row execute function cc.ledger_guard();
create trigger cos_ledger_no_truncate before truncate on cc.tlog_checkpoints
  for each statement execute function cc.ledger_guard();
alter table cc.tlog_checkpoints enable always trigger cos_ledger_no_update_delete;
alter table cc.tlog_checkpoints enable always trigger cos_ledger_no_truncate;

-- Every ledger table registered so far gets the trigger, and its chains their tiles.
do $$
declare
  l record;
  s text;
  n text;
begin
  for l in
    select x.table_name from (
      select distinct on (table_name) table_name, action from cc.ledger_tables order by table_name, id desc
    ) x where x.action = 'register' and to_regclass(x.table_name) is not null
  loop
    s := split_part(l.table_name, '.', 1);
    n := split_part(l.table_name, '.', 2);
    execute format('create trigger cos_merkle after insert on %I.%I referencing new table as new_rows for each statement execute function cc.merkle_append()', s, n);
    execute format('alter table %I.%I enable always trigger cos_merkle', s, n);
    execute format('select cc.merkle_catch_up(%L, %L, c.chain, c.head) from (select chain, max(seq) as head from %I.%I group by chain) c', s, n, s, n);
  end loop;
end $$;
`;

const DOWN = String.raw`
do $$
declare
  l record;
begin
  for l in select tgrelid::regclass::text as t from pg_trigger where tgname = 'cos_merkle' loop
    execute format('drop trigger cos_merkle on %s', l.t);
  end loop;
end $$;
drop function cc.merkle_append();
drop function cc.merkle_catch_up(text, text, text, bigint);
drop function cc.merkle_cascade(text, text, bigint);
drop function cc.merkle_root(bytea[], boolean);
drop table cc.tlog_checkpoints;
drop table cc.merkle_tiles;
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(UP);
}

export async function down(knex: Knex): Promise<void> {
  // Signed tree heads are statements made to others about this store: they are not taken back.
  const signed = await knex.raw<{ rows: unknown[] }>('select 1 from cc.tlog_checkpoints limit 1');
  if (signed.rows.length > 0)
    throw new Error(
      'cc.tlog_checkpoints holds signed tree heads given out for this store; this migration cannot be rolled back',
    );
  await knex.raw(DOWN);
}
