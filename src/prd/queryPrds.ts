import type { Knex } from 'knex';
import { notFoundError } from '../errors.js';
import { listLinks, type MemoryLink } from '../links/memoryLinks.js';

export type PrdSummary = {
  prdId: string;
  title: string;
  latestVersion: number;
  status: string | null;
  lastArchivedAt: string;
  lastArchivedBy: string;
};

export type PrdVersionRow = {
  prdId: string;
  version: number;
  title: string;
  status: string | null;
  sha256: string;
  sizeBytes: number;
  sourcePath: string | null;
  message: string | null;
  archivedBy: string;
  archivedAt: string;
  hash: string;
  /** Memory links to L3 from this version. */
  links: MemoryLink[];
};

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
    prdId: r.prd_id,
    title: r.title,
    latestVersion: r.version,
    status: r.status,
    lastArchivedAt: new Date(r.archived_at).toISOString(),
    lastArchivedBy: r.archived_by,
  }));
}

type VersionDbRow = {
  prd_id: string;
  version: number;
  title: string;
  status: string | null;
  content_sha256: string;
  size_bytes: number;
  source_path: string | null;
  message: string | null;
  archived_by: string;
  archived_at: Date;
  hash: string;
};

const toVersion = (r: VersionDbRow): PrdVersionRow => ({
  prdId: r.prd_id,
  version: r.version,
  title: r.title,
  status: r.status,
  sha256: r.content_sha256,
  sizeBytes: r.size_bytes,
  sourcePath: r.source_path,
  message: r.message,
  archivedBy: r.archived_by,
  archivedAt: new Date(r.archived_at).toISOString(),
  hash: r.hash,
  links: [],
});

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
    await knex.raw<{ rows: VersionDbRow[] }>(
      `select prd_id, version, title, status, encode(content_sha256, 'hex') as content_sha256, size_bytes, source_path, message, archived_by, archived_at, encode(hash, 'hex') as hash
         from cc.prd_versions where ${where.join(' and ')} order by version`,
      bindings as Knex.RawBinding[],
    )
  ).rows;
  if (rows.length === 0) await requirePrd(knex, prdId);
  const versions = rows.map(toVersion);
  const links = await listLinks(
    knex,
    versions.map((v) => `prd:${v.prdId}@${v.version}`),
  );
  for (const v of versions) v.links = links.filter((l) => l.ref === `prd:${v.prdId}@${v.version}`);
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
): Promise<PrdVersionRow & { content: string; frontMatter: Record<string, unknown> }> {
  const latest = await requirePrd(knex, prdId);
  const wanted = version ?? latest;
  const row = (
    await knex.raw<{
      rows: Array<VersionDbRow & { content: string; front_matter: Record<string, unknown> }>;
    }>(
      `select prd_id, version, title, status, encode(content_sha256, 'hex') as content_sha256, size_bytes, source_path, message, archived_by, archived_at, encode(hash, 'hex') as hash, content, front_matter
         from cc.prd_versions where prd_id = ? and version = ?`,
      [prdId, wanted],
    )
  ).rows[0];
  if (!row) throw notFoundError(`PRD "${prdId}" has no version ${wanted} (latest is ${latest})`);
  return { ...toVersion(row), content: row.content, frontMatter: row.front_matter };
}
