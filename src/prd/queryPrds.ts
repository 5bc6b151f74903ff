import type { Knex } from 'knex';
import { notFoundError } from '../errors.js';
import { listLinks, type MemoryLink } from '../links/memoryLinks.js';
import { PRD_RECORD_COLUMNS, recordSelect } from '../db/recordSelect.js';

export type PrdSummary = {
  prd_id: string;
  title: string;
  latest_version: number;
  status: string | null;
  last_archived_at: string;
  last_archived_by: string;
};

/**
 * An archived PRD version without its text: the one shape of a PRD record in every output
 * (query, export, bundle), which adds `front_matter` and `content` where the text is asked for.
 */
export type PrdVersionRow = {
  prd_id: string;
  version: number;
  title: string;
  status: string | null;
  content_sha256: string;
  size_bytes: number;
  source_path: string | null;
  message: string | null;
  archived_by: string;
  archived_at: string;
  chain: string;
  seq: string;
  prev_hash: string;
  hash: string;
  /** Memory links to L3 from this version. */
  links: MemoryLink[];
};

const PRD_RECORD_SQL = recordSelect(PRD_RECORD_COLUMNS);

export type PrdFilters = {
  since?: string | undefined;
  until?: string | undefined;
  status?: string | undefined;
};

/** Conditions for --since, --until (on archived_at) and --status, shared by listing and history. */
export function prdFilterSql(filters: PrdFilters & { id?: string | undefined }): {
  where: string[];
  bindings: unknown[];
} {
  const where: string[] = [];
  const bindings: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    where.push(condition);
    bindings.push(value);
  };
  if (filters.id) add('prd_id = ?', filters.id);
  if (filters.since) add('archived_at >= ?', filters.since);
  if (filters.until) add('archived_at < ?', filters.until);
  if (filters.status) add('status = ?', filters.status);
  return { where, bindings };
}

/** Every PRD at its latest version; --since/--until filter on when that version was archived. */
export async function listPrds(knex: Knex, filters: PrdFilters = {}): Promise<PrdSummary[]> {
  const { where, bindings } = prdFilterSql(filters);
  const rows = (
    await knex.raw<{
      rows: Array<{
        prd_id: string;
        title: string;
        version: number;
        status: string | null;
        archived_at: Date;
        archived_by: string;
      }>;
    }>(
      `select * from (
         select distinct on (prd_id) prd_id, title, version, status, archived_at, archived_by
           from cc.prd_versions order by prd_id, version desc) latest
       ${where.length ? `where ${where.join(' and ')}` : ''} order by prd_id`,
      bindings as Knex.RawBinding[],
    )
  ).rows;
  return rows.map((r) => ({
    prd_id: r.prd_id,
    title: r.title,
    latest_version: r.version,
    status: r.status,
    last_archived_at: new Date(r.archived_at).toISOString(),
    last_archived_by: r.archived_by,
  }));
}

/** One PRD's history, oldest first. Unknown id: exit 3. */
export async function prdHistory(
  knex: Knex,
  prdId: string,
  filters: PrdFilters = {},
): Promise<PrdVersionRow[]> {
  const filtered = prdFilterSql(filters);
  const where = ['prd_id = ?', ...filtered.where];
  const bindings: unknown[] = [prdId, ...filtered.bindings];
  const rows = (
    await knex.raw<{ rows: Array<Omit<PrdVersionRow, 'links'>> }>(
      `select ${PRD_RECORD_SQL} from cc.prd_versions where ${where.join(' and ')} order by version`,
      bindings as Knex.RawBinding[],
    )
  ).rows;
  if (rows.length === 0) await requirePrd(knex, prdId);
  const versions: PrdVersionRow[] = rows.map((r) => ({ ...r, links: [] }));
  const links = await listLinks(
    knex,
    versions.map((v) => `prd:${v.prd_id}@${v.version}`),
  );
  for (const v of versions) v.links = links.filter((l) => l.ref === `prd:${v.prd_id}@${v.version}`);
  return versions;
}

export async function requirePrd(knex: Knex, prdId: string): Promise<number> {
  const latest = (
    await knex.raw<{ rows: Array<{ v: number | null }> }>(
      'select max(version) as v from cc.prd_versions where prd_id = ?',
      [prdId],
    )
  ).rows[0]?.v;
  if (latest === null || latest === undefined) {
    throw notFoundError(`no PRD with id "${prdId}"`, { hint: 'list them with `cos-db query prd`' });
  }
  return latest;
}

/** One version with its content (the latest without a version). Unknown id or version: exit 3. */
export async function prdVersion(
  knex: Knex,
  prdId: string,
  version?: number,
): Promise<PrdVersionRow & { content: string; front_matter: Record<string, unknown> }> {
  const latest = await requirePrd(knex, prdId);
  const wanted = version ?? latest;
  const row = (
    await knex.raw<{
      rows: Array<
        Omit<PrdVersionRow, 'links'> & { content: string; front_matter: Record<string, unknown> }
      >;
    }>(
      `select ${PRD_RECORD_SQL}, front_matter, content from cc.prd_versions where prd_id = ? and version = ?`,
      [prdId, wanted],
    )
  ).rows[0];
  if (!row) throw notFoundError(`PRD "${prdId}" has no version ${wanted} (latest is ${latest})`);
  return { ...row, links: await listLinks(knex, [`prd:${prdId}@${row.version}`]) };
}
