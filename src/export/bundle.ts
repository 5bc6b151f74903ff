import type { Knex } from 'knex';
import type { Database } from '../db/withDatabase.js';
import { CosError, ExitCode, integrityError, usageError } from '../errors.js';
import { readJsonRecords } from '../events/readJsonRecords.js';
import { contentColumns, qualified } from '../integrity/contentColumns.js';
import { lockChain, withLedgerTransaction } from '../integrity/ledger.js';
import { GENESIS_HASH } from '../integrity/ledgerHash.js';
import { ledgerTables, splitTable, storeOrigin } from '../integrity/ledgerCatalog.js';
import { hashMatches, type StoredLedgerRow } from '../integrity/storedRows.js';
import { readApplied } from '../migrations/historyTables.js';
import { coreScope } from '../migrations/scopes.js';
import { packageVersion } from '../packageRoot.js';
import { plain } from './formats.js';
import { pagedRows } from '../db/pagedRows.js';
import type { Sink } from './sink.js';
import { quoteIdent } from '../db/quoteIdent.js';

export const BUNDLE_FORMAT = 'cos-db-bundle/2';
/*
 * Lineage travels in the events' own rows (parents, inputs, the OpenLineage event): the target
 * derives its edge tables from them as they are inserted. Digests and salts (bytea) are
 * lowercase hex.
 */
const STAGED_TABLE = 'cc.events';
/**
 * Ledger tables in the order their rows may refer to each other. Redactions come before the
 * events: an erased event's row verifies by the commitment its redaction recorded.
 */
const LEDGER_ORDER = ['cc.prd_versions', 'cc.redactions', 'cc.events', 'cc.memory_links'];
const REDACTIONS = 'cc.redactions';

export type ChainHead = { table: string; chain: string; size: number; head: string };
export type Manifest = {
  kind: 'manifest';
  format: typeof BUNDLE_FORMAT;
  cos_db_version: string;
  schema_version: string;
  origin: string | null;
  created_at: string;
  chains: ChainHead[];
  modules: number;
};

async function schemaVersion(knex: Knex): Promise<string> {
  const applied = await readApplied(knex, coreScope());
  return applied[applied.length - 1]?.name ?? 'none';
}

async function heads(knex: Knex, tables: string[]): Promise<ChainHead[]> {
  const result: ChainHead[] = [];
  for (const table of tables) {
    const rows = (
      await knex.raw<{ rows: Array<{ chain: string; seq: string; hash: string }> }>(
        `select distinct on (chain) chain, seq, encode(hash, 'hex') as hash from ${qualified(splitTable(table))} order by chain, seq desc`,
      )
    ).rows;
    for (const r of rows) result.push({ table, chain: r.chain, size: Number(r.seq), head: r.hash });
  }
  return result;
}

function orderedLedgerTables(registered: string[]): string[] {
  return [
    ...LEDGER_ORDER.filter((t) => registered.includes(t)),
    ...registered.filter((t) => !LEDGER_ORDER.includes(t)),
  ];
}

/**
 * Writes a bundle: a manifest (cos-db and schema version, every chain's size and head), the module
 * registry and every ledger row with its integrity columns — one JSON record a line, read from
 * one snapshot so manifest and rows agree.
 */
export async function exportBundle(
  db: Database,
  sink: Sink,
  onProgress?: (n: number) => void,
  onTotal?: (rows: number) => void,
): Promise<Manifest> {
  return db.knex.transaction(async (trx) => {
    await trx.raw('set transaction isolation level repeatable read, read only');
    const tables = orderedLedgerTables(await ledgerTables(trx));
    const modules = (
      await trx.raw<{ rows: Array<Record<string, unknown>> }>(
        'select * from cc.modules order by name',
      )
    ).rows;
    const manifest: Manifest = {
      kind: 'manifest',
      format: BUNDLE_FORMAT,
      cos_db_version: packageVersion(),
      schema_version: await schemaVersion(trx),
      origin: await storeOrigin(trx),
      created_at: new Date().toISOString(),
      chains: await heads(trx, tables),
      modules: modules.length,
    };
    await sink.write(`${JSON.stringify(manifest)}\n`);
    onTotal?.(manifest.chains.reduce((a, c) => a + c.size, 0));
    for (const row of modules)
      await sink.write(`${JSON.stringify({ kind: 'module', row: plain(row) })}\n`);
    let n = 0;
    // Paged, inside the snapshot: a cursor stream would need a second connection.
    for (const table of tables) {
      for await (const row of pagedRows(trx as unknown as Knex, {
        sql: `select * from ${qualified(splitTable(table))}`,
        bindings: [],
        keyset: ['chain', 'seq'],
      })) {
        await sink.write(`${JSON.stringify({ kind: 'ledger', table, row: plain(row) })}\n`);
        if (++n % 10_000 === 0) onProgress?.(n);
      }
    }
    return manifest;
  });
}

/** A bundle row with its bytea content columns in PostgreSQL's hex input form (\x…). */
function withByteaInput(
  columns: Awaited<ReturnType<typeof contentColumns>>,
  row: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...row };
  for (const c of columns)
    if (c.type === 'bytea' && !c.isArray && typeof out[c.name] === 'string')
      out[c.name] = `\\x${out[c.name] as string}`;
  return out;
}

type BundleRecord =
  | Manifest
  | { kind: 'module'; row: Record<string, unknown> }
  | { kind: 'ledger'; table: string; row: Record<string, unknown> };

export type ImportReport = {
  chains: Array<{ table: string; chain: string; had: number; appended: number; head: string }>;
  modules_added: number;
  /** Values this store still held that the bundle's redactions erased. */
  redactions_applied: number;
};

const key = (table: string, chain: string) => `${table}\u0000${chain}`;

async function* records(path: string): AsyncGenerator<BundleRecord & { line: number }> {
  for await (const r of readJsonRecords(path)) yield { ...(r.value as BundleRecord), line: r.line };
}

/**
 * Loads a bundle. Every target chain must be empty or a prefix of the bundle's (then only the
 * rest is appended); anything else is refused with nothing written. Every bundle row's hash is
 * recomputed on the way in, so a damaged or edited bundle is refused too.
 */
export async function importBundle(db: Database, path: string): Promise<ImportReport> {
  const { knex } = db;
  const iterator = records(path);
  const first = await iterator.next();
  const manifest = first.value as Manifest | undefined;
  if (first.done || manifest?.kind !== 'manifest' || manifest.format !== BUNDLE_FORMAT) {
    throw usageError(
      `${path} is not a cos-db bundle (no ${BUNDLE_FORMAT} manifest on its first line)`,
    );
  }
  const ours = await schemaVersion(knex);
  if (ours !== manifest.schema_version) {
    throw new CosError(
      ExitCode.drift,
      `the bundle is of schema ${manifest.schema_version}; this database is at ${ours}`,
      { hint: 'migrate both to the same version (cos-db migrate) and try again' },
    );
  }
  const tables = await ledgerTables(knex);
  const target = new Map((await heads(knex, tables)).map((h) => [key(h.table, h.chain), h]));
  const inBundle = new Set(manifest.chains.map((c) => key(c.table, c.chain)));
  for (const [k, h] of target) {
    if (!inBundle.has(k))
      throw integrityError(
        `refusing to import: chain ${h.table}/${h.chain} exists here but not in the bundle`,
        { hint: 'import into an empty store, or one that is a prefix of the bundle' },
      );
  }

  // Pass 1: check the bundle's rows and that every target chain is a prefix of it. Nothing written.
  const prev = new Map<string, { seq: number; hash: string }>();
  const erased = new Map<string, string>();
  const columnsOf = new Map<string, Awaited<ReturnType<typeof contentColumns>>>();
  for await (const record of records(path)) {
    if (record.kind !== 'ledger') continue;
    if (!tables.includes(record.table))
      throw usageError(`${path}:${record.line}: ${record.table} is not a ledger table here`);
    const columns =
      columnsOf.get(record.table) ?? (await contentColumns(knex, splitTable(record.table)));
    columnsOf.set(record.table, columns);
    const row = withByteaInput(columns, record.row) as StoredLedgerRow;
    const k = key(record.table, row.chain);
    const before = prev.get(k) ?? { seq: 0, hash: GENESIS_HASH };
    const seq = Number(row.seq);
    if (record.table === REDACTIONS)
      erased.set(String(row.event_id), String(record.row.commitment));
    const commitment =
      record.table === STAGED_TABLE && row.payload_salt === null
        ? erased.get(String(row.event_id))
        : undefined;
    if (
      seq !== before.seq + 1 ||
      row.prev_hash !== before.hash ||
      !hashMatches(columns, row, commitment)
    ) {
      throw integrityError(
        `${path}:${record.line}: the bundle is damaged: ${record.table}/${row.chain} at ${seq} does not verify`,
        { hint: 'export it again from the source' },
      );
    }
    prev.set(k, { seq, hash: row.hash });
    const mine = target.get(k);
    if (mine && seq === mine.size && row.hash !== mine.head) {
      throw integrityError(
        `refusing to import: ${record.table}/${row.chain} here has diverged from the bundle at position ${seq}`,
        { hint: 'the target is not a prefix of the bundle; import into an empty store' },
      );
    }
  }
  for (const c of manifest.chains) {
    const got = prev.get(key(c.table, c.chain));
    if (!got || got.seq !== c.size || got.hash !== c.head)
      throw integrityError(`the bundle's rows do not match its manifest for ${c.table}/${c.chain}`);
    const mine = target.get(key(c.table, c.chain));
    if (mine && mine.size > c.size)
      throw integrityError(
        `refusing to import: ${c.table}/${c.chain} here is longer than in the bundle (${mine.size} > ${c.size})`,
      );
  }

  // Pass 2: one transaction, each chain locked; only rows past each target chain's length.
  return withLedgerTransaction(knex, async (trx) => {
    for (const c of [...manifest.chains].sort((a, b) =>
      key(a.table, a.chain).localeCompare(key(b.table, b.chain)),
    ))
      await lockChain(trx, splitTable(c.table), c.chain);
    const report: ImportReport = {
      chains: manifest.chains.map((c) => ({
        table: c.table,
        chain: c.chain,
        had: target.get(key(c.table, c.chain))?.size ?? 0,
        appended: 0,
        head: c.head,
      })),
      modules_added: 0,
      redactions_applied: 0,
    };
    const redacted: string[] = [];
    const byChain = new Map(report.chains.map((c) => [key(c.table, c.chain), c]));
    let pending: { table: string; rows: unknown[] } | undefined;
    // Events come chain by chain, and a parent can sit in a later chain: they are gathered in a
    // temporary table and inserted in one statement, whose parent check sees them all.
    let staged = false;
    const flush = async () => {
      if (!pending || pending.rows.length === 0) return;
      const { table, rows } = pending;
      pending = undefined;
      let target = table;
      if (table === STAGED_TABLE) {
        if (!staged)
          await trx.raw(`create temp table _bundle_events (like ${STAGED_TABLE}) on commit drop`);
        staged = true;
        target = '_bundle_events';
      }
      await trx.raw(
        `insert into ${target} select * from json_populate_recordset(null::${table}, ?::text::json)`,
        [JSON.stringify(rows)],
      );
    };
    const insertStaged = async () => {
      if (!staged) return;
      staged = false;
      // An OpenLineage event's payload is its original text as jsonb: made again from that text
      // here, as the bundle's JSON copy of the payload may have rounded its numbers.
      const originals = columnsOf.get(STAGED_TABLE)?.some((c) => c.name === 'payload_original');
      await trx.raw(
        `${originals ? "update _bundle_events set payload = jsonb_build_object('openlineage', payload_original::jsonb) where payload_original is not null; " : ''}insert into ${STAGED_TABLE} select * from _bundle_events order by chain, seq; drop table _bundle_events`,
      );
    };
    for await (const record of records(path)) {
      if (record.kind === 'module') {
        const name = String(record.row.name);
        const added = await trx.raw<{ rowCount: number }>(
          'insert into cc.modules (name, description, created_at, created_by) values (?, ?, ?, ?) on conflict (name) do nothing',
          [
            name,
            record.row.description as string,
            record.row.created_at as string,
            record.row.created_by as string,
          ],
        );
        if ((added.rowCount ?? 0) > 0) {
          report.modules_added += 1;
          await trx.raw(`create schema if not exists ${quoteIdent(name)}`);
        }
        continue;
      }
      if (record.kind !== 'ledger') continue;
      const c = byChain.get(
        key(record.table, String(record.row.chain)),
      ) as ImportReport['chains'][number];
      if (Number(record.row.seq) <= c.had) continue;
      c.appended += 1;
      if (pending && (pending.table !== record.table || pending.rows.length >= 1000)) await flush();
      if (record.table !== STAGED_TABLE) await insertStaged();
      pending ??= { table: record.table, rows: [] };
      const columns = columnsOf.get(record.table) ?? [];
      const row = withByteaInput(columns, record.row);
      if (record.table === REDACTIONS) redacted.push(String(row.event_id));
      pending.rows.push({ ...row, prev_hash: `\\x${row.prev_hash}`, hash: `\\x${row.hash}` });
    }
    await flush();
    await insertStaged();
    // A redaction new here whose value this store still holds (imported from an earlier bundle)
    // erases it, so a bundle made after a redaction carries it to every copy.
    if (redacted.length)
      report.redactions_applied = Number(
        (
          await trx.raw<{ rows: Array<{ n: string }> }>(
            'select cc.apply_redactions(?::text[]) as n',
            [redacted],
          )
        ).rows[0]?.n ?? 0,
      );
    return report;
  });
}
