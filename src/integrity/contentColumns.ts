import type { Knex } from 'knex';
import { arrayLiteral, copyField } from '../db/copyRows.js';
import { CosError, ExitCode } from '../errors.js';
import { Canonical, canonicalJson } from './canonicalJson.js';
import { isoTime } from './isoTime.js';
import { commitment, saltHexOf } from './commitment.js';
import { quoteIdent } from '../db/quoteIdent.js';

export const INTEGRITY_COLUMNS = ['chain', 'seq', 'prev_hash', 'hash', 'hash_version'] as const;

export type ContentColumn = {
  name: string;
  /** The value as it is hashed: the same whether it came from the writer or from the driver. */
  normalize: (value: unknown) => unknown;
  /** pg_type name of the column (or of its elements, for an array). */
  type: string;
  isArray: boolean;
  /** A normalized value as a field of COPY's text format. */
  toCopy: (value: unknown) => string;
};

export type QualifiedTable = { schema: string; table: string };

export function qualified(t: QualifiedTable): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

const cache = new Map<string, ContentColumn[]>();

/**
 * A ledger row's content is every column but the integrity ones, read from the catalog: the
 * writer and the verifier derive it the same way, so neither can forget a column.
 */
export async function contentColumns(knex: Knex, t: QualifiedTable): Promise<ContentColumn[]> {
  const key = `${t.schema}.${t.table}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const rows = (
    await knex.raw<{ rows: CatalogColumn[] }>(
      `select a.attname as name, t.typname as type, e.typname as elem
         from pg_attribute a
         join pg_type t on t.oid = a.atttypid
         left join pg_type e on e.oid = t.typelem and t.typcategory = 'A'
        where a.attrelid = to_regclass(?) and a.attnum > 0 and not a.attisdropped
        order by a.attnum`,
      [qualified(t)],
    )
  ).rows;
  if (rows.length === 0)
    throw new CosError(ExitCode.integrity, `ledger table ${key} does not exist`, {
      // What the server would say of a query naming it: undefined_table.
      details: { sqlstate: '42P01', table: key },
    });
  const columns = toContentColumns(rows);
  cache.set(key, columns);
  return columns;
}

/** A catalog row of a table's column: its name, its type, and its element type for an array. */
export type CatalogColumn = { name: string; type: string; elem: string | null };

/** The content columns (all but the integrity ones) of a table whose columns are these. */
export function toContentColumns(rows: CatalogColumn[]): ContentColumn[] {
  return rows
    .filter((r) => !(INTEGRITY_COLUMNS as readonly string[]).includes(r.name))
    .map((r) => {
      const type = r.elem ?? r.type;
      const scalar = scalarNormalizer(type);
      const normalize =
        r.elem === null
          ? scalar
          : (value: unknown) =>
              value === null || value === undefined ? null : (value as unknown[]).map(scalar);
      const text =
        r.elem === null ? scalarText(type) : (v: unknown) => arrayLiteral(v as unknown[]);
      const toCopy = (value: unknown) =>
        copyField(value === null || value === undefined ? null : text(value));
      return { name: r.name, type, isArray: r.elem !== null, normalize, toCopy };
    });
}

const orNull =
  (fn: (value: unknown) => unknown) =>
  (value: unknown): unknown =>
    value === null || value === undefined ? null : fn(value);

/** A normalized scalar as PostgreSQL's text input for its type. */
function scalarText(type: string): (value: unknown) => string {
  switch (type) {
    case 'json':
    case 'jsonb':
      return (v) => (v instanceof Canonical ? v.text : JSON.stringify(v));
    case 'bool':
      return (v) => (v ? 't' : 'f');
    default:
      return String;
  }
}

/** One normalizer per column type, chosen once per table rather than once per value. */
function scalarNormalizer(type: string): (value: unknown) => unknown {
  switch (type) {
    case 'int2':
    case 'int4':
    case 'float4':
    case 'float8':
      return orNull(Number);
    case 'int8':
    case 'numeric':
      return orNull(String);
    case 'bool':
      return orNull(Boolean);
    case 'json':
    case 'jsonb':
      return orNull((v) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v));
    case 'timestamptz':
    case 'timestamp':
      return orNull((v) => isoTime(v as string | number | Date));
    case 'bytea':
      // PostgreSQL's hex input form, so the normalized value can also be inserted as is.
      // node-postgres gives a Buffer, PGlite a Uint8Array.
      return orNull((v) =>
        v instanceof Uint8Array ? `\\x${Buffer.from(v).toString('hex')}` : String(v),
      );
    default:
      return orNull(String);
  }
}

/**
 * A key of a row's canonical JSON: the column it comes from, and for a commitment its salt's and
 * its original's (the text the value was received as, when kept).
 */
type KeyPlan = {
  index: number;
  key: string;
  salt: number | undefined;
  original: number | undefined;
};

const plans = new WeakMap<ContentColumn[], KeyPlan[]>();

/**
 * The row's keys in RFC 8785 order, each written out ("name":). A column X with a bytea column
 * X_salt beside it is hashed as "X_commitment" (see commitment.ts); X_salt itself is not a key.
 * A text column X_original beside such an X holds the text X was received as (an OpenLineage
 * event, numbers and all): when set, the commitment is over that text, and it is not a key of its
 * own (the table's check holds X to it).
 */
function canonicalPlan(columns: ContentColumn[]): KeyPlan[] {
  let plan = plans.get(columns);
  if (!plan) {
    const at = new Map(columns.map((c, i) => [c.name, i]));
    const beside = (name: string, suffix: string, type: string) => {
      const i = at.get(`${name}${suffix}`);
      const c = i === undefined ? undefined : columns[i];
      return c && c.type === type && !c.isArray ? i : undefined;
    };
    // Each column's salt and original, if it has them; those two are not keys of their own.
    const parts = columns.map((c) => {
      const salt = beside(c.name, '_salt', 'bytea');
      return {
        salt,
        original: salt === undefined ? undefined : beside(c.name, '_original', 'text'),
      };
    });
    const hidden = new Set(parts.flatMap((p) => [p.salt, p.original]));
    plan = columns
      .flatMap((c, index) => {
        if (hidden.has(index)) return [];
        const { salt, original } = parts[index] as (typeof parts)[number];
        return [
          { index, name: salt === undefined ? c.name : `${c.name}_commitment`, salt, original },
        ];
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ index, name, salt, original }) => ({
        index,
        key: `${canonicalJson(name)}:`,
        salt,
        original,
      }));
    plans.set(columns, plan);
  }
  return plan;
}

/**
 * The commitment to a salted value (over its original text when kept), or null when the value or
 * its salt is gone (erased).
 */
function committed(value: unknown, salt: unknown, original: unknown): string | null {
  const hex = saltHexOf(salt);
  if (value === null || value === undefined || hex === null) return null;
  if (typeof original === 'string') return commitment(hex, original);
  return commitment(hex, value instanceof Canonical ? value.text : canonicalJson(value));
}

/**
 * The canonical JSON of a row's content from its normalized values (in column order): the same
 * bytes as canonicalJson of the content object (salted columns as their commitments), written
 * straight from the columns in key order. The writer and the verifier both hash what this returns.
 */
export function canonicalContent(
  columns: ContentColumn[],
  values: unknown[],
  erased?: string | null,
): string {
  let out = '{';
  for (const [k, { index, key, salt, original }] of canonicalPlan(columns).entries()) {
    const value =
      salt === undefined
        ? values[index]
        : (committed(
            values[index],
            values[salt],
            original === undefined ? undefined : values[original],
          ) ??
          erased ??
          null);
    out += `${k ? ',' : ''}${key}${canonicalJson(value)}`;
  }
  return `${out}}`;
}

/**
 * canonicalContent of a row as read back (driver values are normalized first); `erased` is the
 * recorded commitment of its erased value (cc.redactions), if it has one.
 */
export function canonicalRow(
  columns: ContentColumn[],
  row: Record<string, unknown>,
  erased?: string | null,
): string {
  return canonicalContent(
    columns,
    columns.map((c) => c.normalize(row[c.name])),
    erased,
  );
}

/** The commitment a row's hash covers for its salted column (over its value and salt), or null. */
export function commitmentOf(
  columns: ContentColumn[],
  row: Record<string, unknown>,
): string | null {
  const values = columns.map((c) => c.normalize(row[c.name]));
  for (const { index, salt, original } of canonicalPlan(columns)) {
    if (salt === undefined) continue;
    return committed(
      values[index],
      values[salt],
      original === undefined ? undefined : values[original],
    );
  }
  return null;
}
