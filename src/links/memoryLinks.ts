import type { Knex } from 'knex';
import { notFoundError, usageError } from '../errors.js';
import { uuidv7 } from '../uuidv7.js';
import { PRD_REF } from '../integrity/prdRef.js';
import { appendToChain, lockChain, withLedgerTransaction } from '../integrity/ledger.js';

export const LINKS_TABLE = { schema: 'cc', table: 'memory_links' } as const;
export const LINKS_CHAIN = 'links';

export type MemoryLink = {
  link_id: string;
  ref: string;
  ref_kind: 'event' | 'prd';
  l3_ref: string;
  relation: string;
  created_by: string;
  created_at: string;
};

type Row = {
  link_id: string;
  ref: string;
  ref_kind: 'event' | 'prd';
  l3_ref: string;
  relation: string;
  created_by: string;
  created_at: Date;
};
const toLink = (r: Row): MemoryLink => ({
  link_id: r.link_id,
  ref: r.ref,
  ref_kind: r.ref_kind,
  l3_ref: r.l3_ref,
  relation: r.relation,
  created_by: r.created_by,
  created_at: new Date(r.created_at).toISOString(),
});

async function refKind(knex: Knex, ref: string): Promise<'event' | 'prd'> {
  const prd = PRD_REF.exec(ref);
  if (prd) {
    const ok =
      (
        await knex.raw<{ rows: unknown[] }>(
          'select 1 from cc.prd_versions where prd_id = ? and version = ?',
          [prd[1] as string, Number(prd[2])],
        )
      ).rows.length > 0;
    if (!ok) throw notFoundError(`no PRD version ${ref}`, { hint: 'see `cos-db query prd`' });
    return 'prd';
  }
  if (ref.startsWith('prd:'))
    throw usageError(`"${ref}" is not a PRD version reference`, {
      hint: 'write it as prd:ID@VERSION, e.g. prd:checkout@2',
    });
  const ok =
    (await knex.raw<{ rows: unknown[] }>('select 1 from cc.events where event_id = ?', [ref])).rows
      .length > 0;
  if (!ok) throw notFoundError(`no event ${ref}`, { hint: 'see `cos-db query events`' });
  return 'event';
}

/**
 * Links an event or a PRD version to an L3 entry (a URI or a key). Links are ledger rows; the
 * same link again (record, L3 entry and relation) is not stored twice, as an event is not.
 */
export async function addLink(
  knex: Knex,
  input: { ref: string; l3Ref: string; relation?: string | undefined; actor: string },
): Promise<MemoryLink & { already_linked: boolean }> {
  const l3Ref = input.l3Ref.trim();
  if (l3Ref === '' || l3Ref.length > 2000)
    throw usageError('the L3 reference must be 1 to 2000 characters (a URI or a key)');
  const relation = (input.relation ?? 'references').trim();
  if (!/^[a-z][a-z0-9_.-]{0,199}$/.test(relation))
    throw usageError(
      `--relation "${relation}" must be a lowercase word (e.g. summarized-by, derived-from)`,
    );
  return withLedgerTransaction(knex, async (trx) => {
    const kind = await refKind(trx, input.ref);
    // Under the chain's lock, so two runs adding the same link store it once.
    await lockChain(trx, LINKS_TABLE, LINKS_CHAIN);
    const existing = (
      await trx.raw<{ rows: Row[] }>(
        'select * from cc.memory_links where ref = ? and l3_ref = ? and relation = ? order by seq limit 1',
        [input.ref, l3Ref, relation],
      )
    ).rows[0];
    if (existing) return { ...toLink(existing), already_linked: true };
    const row = {
      link_id: uuidv7(),
      ref: input.ref,
      ref_kind: kind,
      l3_ref: l3Ref,
      relation,
      created_by: input.actor,
      created_at: new Date().toISOString(),
    };
    await appendToChain(trx, LINKS_TABLE, LINKS_CHAIN, [row]);
    return { ...toLink({ ...row, created_at: new Date(row.created_at) }), already_linked: false };
  });
}

/** Links, all or of one record (or several), oldest first. */
export async function listLinks(knex: Knex, refs?: string[]): Promise<MemoryLink[]> {
  // A store not yet migrated to memory links simply has none.
  const exists = (
    await knex.raw<{ rows: Array<{ t: string | null }> }>(
      "select to_regclass('cc.memory_links') as t",
    )
  ).rows[0]?.t;
  if (!exists) return [];
  const rows = refs
    ? (
        await knex.raw<{ rows: Row[] }>(
          'select * from cc.memory_links where ref = any(?) order by created_at, link_id',
          [refs],
        )
      ).rows
    : (
        await knex.raw<{ rows: Row[] }>(
          'select * from cc.memory_links order by created_at, link_id',
        )
      ).rows;
  return rows.map(toLink);
}
