import type { Knex } from 'knex';
import { verifyDerivedEdges, type DerivedReport } from './derivedEdges.js';
import {
  contentColumns,
  qualified,
  type ContentColumn,
  type QualifiedTable,
} from './contentColumns.js';
import { GENESIS_HASH, HASH_VERSION } from './ledgerHash.js';
import {
  GUARD_ROW_TRIGGER,
  GUARD_TRUNCATE_TRIGGER,
  LINKS_TRIGGER,
  MERKLE_TRIGGER,
} from './ledgerTable.js';
import { TreeBuilder } from './merkleTree.js';
import { hasMerkleTrees } from './treeHeads.js';
import {
  hasRedactions,
  ledgerTables,
  REDACTIONS_CHAIN,
  splitTable,
  storeOrigin,
} from './ledgerCatalog.js';
import {
  ERASED_COMMITMENT,
  hashMatches,
  REDACTED_TABLE,
  storedRowSelect,
  type StoredLedgerRow,
} from './storedRows.js';

export type ProblemKind =
  | 'content-changed'
  | 'row-missing'
  | 'hash-mismatch'
  | 'guard-disabled'
  | 'table-missing'
  | 'redaction-not-applied'
  | 'redaction-orphan'
  | 'tree-mismatch';

export type Problem = { position: string | null; kind: ProblemKind; detail: string };

/** Bad positions listed per chain; past this many they are counted, not listed. */
export const PROBLEMS_LISTED = 100;

export type ChainReport = {
  table: string;
  chain: string;
  size: number;
  head: string | null;
  status: 'intact' | 'broken';
  /** The first thing wrong, at the first bad position. */
  problem: Problem | null;
  /** Every bad position, in chain order, up to PROBLEMS_LISTED. */
  problems: Problem[];
  /** How many bad positions there are in all (problems may list fewer). */
  problem_count: number;
  /** Rows whose erased value verifies by its recorded redaction (intact). */
  redacted: number;
  /** The RFC 6962 root of the chain's rows (lowercase hex), null when it has none. */
  root: string | null;
};

export type TableReport = { table: string; rows: number; guards: 'ok' | string };

export type VerifyReport = {
  ok: boolean;
  origin: string | null;
  rows: number;
  tables: TableReport[];
  chains: ChainReport[];
  /** The lineage edge tables checked against the rows they are derived from (whole store only). */
  derived: DerivedReport[];
};

const PAGE = 2000;

/**
 * Guard triggers, the links trigger, and the Merkle trigger once the store has it (migration
 * 20261208000000), present and ENABLE ALWAYS ('A'); else what is wrong.
 */
export async function guardProblem(knex: Knex, t: QualifiedTable): Promise<string | null> {
  const rows = (
    await knex.raw<{ rows: Array<{ tgname: string; tgenabled: string; merkle: boolean }> }>(
      `select tgname, tgenabled, to_regproc('cc.merkle_append') is not null as merkle
         from pg_trigger where tgrelid = to_regclass(?) and not tgisinternal`,
      [qualified(t)],
    )
  ).rows;
  const required = [GUARD_ROW_TRIGGER, GUARD_TRUNCATE_TRIGGER, LINKS_TRIGGER];
  if (rows[0]?.merkle) required.push(MERKLE_TRIGGER);
  const problems: string[] = [];
  for (const name of required) {
    const trigger = rows.find((r) => r.tgname === name);
    if (!trigger) problems.push(`trigger ${name} is missing`);
    else if (trigger.tgenabled !== 'A') {
      problems.push(
        `trigger ${name} is ${trigger.tgenabled === 'D' ? 'disabled' : 'not ENABLE ALWAYS'}`,
      );
    }
  }
  return problems.length ? problems.join('; ') : null;
}

/**
 * Each redaction record against the row it names: that row must exist and its value be gone. (A
 * value gone with no record is caught by the row's own hash.) Problems go to the redactions chain.
 */
async function checkRedactions(knex: Knex, report: VerifyReport): Promise<void> {
  const bad = (
    await knex.raw<{ rows: Array<{ seq: string; event_id: string; orphan: boolean }> }>(
      `select r.seq::text as seq, r.event_id, e.event_id is null as orphan
         from cc.redactions r left join cc.events e on e.event_id = r.event_id
        where e.event_id is null or e.payload is not null or e.payload_salt is not null
           or e.payload_original is not null
        order by r.chain, r.seq`,
    )
  ).rows;
  if (bad.length === 0) return;
  const chain = report.chains.find(
    (c) => c.table === 'cc.redactions' && c.chain === REDACTIONS_CHAIN,
  );
  if (!chain) return;
  for (const b of bad) {
    chain.problem_count += 1;
    if (chain.problems.length < PROBLEMS_LISTED)
      chain.problems.push(
        b.orphan
          ? {
              position: b.seq,
              kind: 'redaction-orphan',
              detail: `it names event ${b.event_id}, which is not archived`,
            }
          : {
              position: b.seq,
              kind: 'redaction-not-applied',
              detail: `it records event ${b.event_id}'s payload as erased, but the value is still there`,
            },
      );
  }
  chain.problem ??= chain.problems[0] ?? null;
  chain.status = 'broken';
  report.ok = false;
}

type Walk = {
  chain: string;
  size: number;
  expected: bigint;
  prev: string;
  head: string | null;
  problems: Problem[];
  problem_count: number;
  redacted: number;
  tree: TreeBuilder;
};

/** What is wrong with one row, given the chain walked so far; null if nothing is. */
function rowProblem(walk: Walk, row: StoredLedgerRow, columns: ContentColumn[]): Problem | null {
  const seq = BigInt(row.seq);
  if (seq !== walk.expected) {
    const last = seq - 1n;
    return {
      position: String(walk.expected),
      kind: 'row-missing',
      detail:
        last === walk.expected
          ? `position ${walk.expected} is missing (next row found is ${seq})`
          : `positions ${walk.expected}-${last} are missing (next row found is ${seq})`,
    };
  }
  if (row.hash_version !== HASH_VERSION)
    return {
      position: row.seq,
      kind: 'hash-mismatch',
      detail: `unknown hash version ${row.hash_version}`,
    };
  if (row.prev_hash !== walk.prev)
    return {
      position: row.seq,
      kind: 'hash-mismatch',
      detail: 'its previous-hash does not match the hash of the row before it',
    };
  const erased = row[ERASED_COMMITMENT] as string | null | undefined;
  if (!hashMatches(columns, row, erased))
    return {
      position: row.seq,
      kind: 'content-changed',
      detail:
        erased === null && row.payload_salt === null
          ? 'its payload is gone and no redaction of it is on record (erased by hand?)'
          : 'its content no longer matches its hash',
    };
  if (typeof erased === 'string') walk.redacted += 1;
  return null;
}

/** The stored Merkle tiles of a table's chains, as chain → "stratum/index" → hash (hex). */
async function storedTiles(
  knex: Knex,
  table: string,
  chain: string | undefined,
): Promise<Map<string, Map<string, string>>> {
  const rows = (
    await knex.raw<{ rows: Array<{ chain: string; k: string; h: string }> }>(
      `select chain, stratum || '/' || idx as k, encode(hash, 'hex') as h from cc.merkle_tiles
        where table_name = ? ${chain === undefined ? '' : 'and chain = ?'}`,
      chain === undefined ? [table] : [table, chain],
    )
  ).rows;
  const byChain = new Map<string, Map<string, string>>();
  for (const r of rows) {
    let m = byChain.get(r.chain);
    if (!m) byChain.set(r.chain, (m = new Map()));
    m.set(r.k, r.h);
  }
  return byChain;
}

/**
 * Recomputes every chain of every ledger table from the database, page by page (keyset, so
 * memory stays flat on any engine): positions from 1 with no gap, each row's link to the one
 * before, each row's hash over its content, and the guard triggers.
 */
export async function verifyLedger(
  knex: Knex,
  options: { chain?: string | undefined; onProgress?: (rows: number) => void } = {},
): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: true,
    origin: await storeOrigin(knex),
    rows: 0,
    tables: [],
    chains: [],
    derived: [],
  };
  const redactions = await hasRedactions(knex);
  const trees = await hasMerkleTrees(knex);
  for (const name of await ledgerTables(knex)) {
    const t = splitTable(name);
    const exists = (
      await knex.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [
        qualified(t),
      ])
    ).rows[0]?.t;
    if (!exists) {
      const missing: Problem = {
        position: null,
        kind: 'table-missing',
        detail: `registered ledger table ${name} no longer exists`,
      };
      report.ok = false;
      report.tables.push({ table: name, rows: 0, guards: 'table is missing' });
      report.chains.push({
        table: name,
        chain: '*',
        size: 0,
        head: null,
        status: 'broken',
        problem: missing,
        problems: [missing],
        problem_count: 1,
        redacted: 0,
        root: null,
      });
      continue;
    }
    const guards = await guardProblem(knex, t);
    const columns = await contentColumns(knex, t);
    const select = storedRowSelect(columns, name === REDACTED_TABLE && redactions);
    let rowsInTable = 0;
    let walk: Walk | undefined;
    const chains: ChainReport[] = [];
    const tiles = trees ? await storedTiles(knex, name, options.chain) : undefined;
    const note = (w: Walk, problem: Problem) => {
      w.problem_count += 1;
      if (w.problems.length < PROBLEMS_LISTED) w.problems.push(problem);
    };
    const close = () => {
      if (!walk) return;
      const left = tiles?.get(walk.chain);
      if (left?.size) {
        const [first] = left.keys();
        note(walk, {
          position: null,
          kind: 'tree-mismatch',
          detail: `${left.size} stored Merkle tile(s) lie beyond the chain's ${walk.size} rows (the first: ${first})`,
        });
      }
      tiles?.delete(walk.chain);
      chains.push({
        table: name,
        chain: walk.chain,
        size: walk.size,
        head: walk.head,
        status: walk.problem_count ? 'broken' : 'intact',
        problem: walk.problems[0] ?? null,
        problems: walk.problems,
        problem_count: walk.problem_count,
        redacted: walk.redacted,
        root: walk.size ? Buffer.from(walk.tree.root()).toString('hex') : null,
      });
    };
    const fetchPage = async (after: [string, string] | undefined): Promise<StoredLedgerRow[]> => {
      const where: string[] = [];
      const bindings: unknown[] = [];
      if (options.chain !== undefined) {
        where.push('chain = ?');
        bindings.push(options.chain);
      }
      // One chain: a range of its (chain, seq) key, which the planner reads in order even when
      // its statistics are stale (right after an import); a row comparison it may not.
      if (after && options.chain !== undefined) {
        where.push('seq > ?::bigint');
        bindings.push(after[1]);
      } else if (after) {
        where.push('(chain, seq) > (?, ?::bigint)');
        bindings.push(after[0], after[1]);
      }
      return (
        await knex.raw<{ rows: StoredLedgerRow[] }>(
          `select ${select} from ${qualified(t)} ${where.length ? `where ${where.join(' and ')}` : ''} order by chain, seq limit ${PAGE}`,
          bindings as Knex.RawBinding[],
        )
      ).rows;
    };
    // The next page is fetched while this one is hashed: the server and Node work at once.
    let next: Promise<StoredLedgerRow[]> | undefined = fetchPage(undefined);
    while (next) {
      const rows: StoredLedgerRow[] = await next;
      const last = rows[rows.length - 1];
      next = rows.length === PAGE && last ? fetchPage([last.chain, last.seq]) : undefined;
      for (const row of rows) {
        if (!walk || walk.chain !== row.chain) {
          close();
          const w: Walk = {
            chain: row.chain,
            size: 0,
            expected: 1n,
            prev: GENESIS_HASH,
            head: null,
            problems: [],
            problem_count: 0,
            redacted: 0,
            tree: new TreeBuilder(
              tiles &&
                ((stratum, index, hash) => {
                  const stored = tiles.get(w.chain);
                  const key = `${stratum}/${index}`;
                  const found = stored?.get(key);
                  stored?.delete(key);
                  if (found !== Buffer.from(hash).toString('hex'))
                    note(w, {
                      position: String((index + 1n) << BigInt(stratum * 8)),
                      kind: 'tree-mismatch',
                      detail:
                        found === undefined
                          ? `Merkle tile ${key} is not stored (the tree is behind its rows: its trigger was disabled?)`
                          : `Merkle tile ${key} does not match the rows it covers`,
                    });
                }),
            ),
          };
          walk = w;
        }
        walk.size += 1;
        walk.head = row.hash;
        // Every row is checked against its stored neighbours, so one bad row does not hide the
        // next: a rewritten row still names the hash its predecessor has.
        const problem = rowProblem(walk, row, columns);
        if (problem) note(walk, problem);
        walk.tree.push(Buffer.from(row.hash, 'hex'));
        walk.expected = BigInt(row.seq) + 1n;
        walk.prev = row.hash;
      }
      rowsInTable += rows.length;
      report.rows += rows.length;
      options.onProgress?.(report.rows);
    }
    close();
    // Tiles of chains with no rows at all.
    for (const [chain, left] of tiles ?? []) {
      if (left.size === 0) continue;
      const problem: Problem = {
        position: null,
        kind: 'tree-mismatch',
        detail: `${left.size} Merkle tile(s) are stored for a chain with no rows`,
      };
      chains.push({
        table: name,
        chain,
        size: 0,
        head: null,
        status: 'broken',
        problem,
        problems: [problem],
        problem_count: 1,
        redacted: 0,
        root: null,
      });
    }
    if (guards) {
      for (const c of chains) {
        const problem: Problem = { position: null, kind: 'guard-disabled', detail: guards };
        c.status = 'broken';
        c.problem ??= problem;
        c.problems.unshift(problem);
        c.problem_count += 1;
      }
    }
    report.tables.push({ table: name, rows: rowsInTable, guards: guards ?? 'ok' });
    report.chains.push(...chains);
    if (guards || chains.some((c) => c.status === 'broken')) report.ok = false;
  }
  if ((options.chain === undefined || options.chain === REDACTIONS_CHAIN) && redactions)
    await checkRedactions(knex, report);
  if (options.chain === undefined) {
    report.derived = await verifyDerivedEdges(knex);
    if (report.derived.some((d) => d.status === 'broken')) report.ok = false;
  }
  return report;
}
