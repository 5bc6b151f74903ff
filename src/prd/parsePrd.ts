import { hash } from 'node:crypto';
import { CORE_SCHEMA, load as loadYaml, YAMLException } from 'js-yaml';
import { usageError } from '../errors.js';
import { findUnstorable } from '../integrity/storable.js';

export const PRD_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,199}$/;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** Strict (invalid UTF-8 throws) and keeping a BOM; one decoder serves every file. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A PRD text ready to archive: validated, with its id, title and front-matter. */
export type PrdInput = {
  prdId: string;
  title: string;
  status: string | null;
  frontMatter: Record<string, unknown>;
  /**
   * The markdown exactly as given (BOM, CRLF and all), as bytes: checked to be UTF-8 here and
   * decoded again when written (prdText), so a batch of 1,000 PRDs holds buffers outside the
   * JavaScript heap rather than strings the garbage collector copies while they wait.
   */
  bytes: Buffer;
  sha256: string;
  sizeBytes: number;
  sourcePath: string | null;
};

/** A PRD's markdown as text (see PrdInput.bytes). */
export function prdText(input: Pick<PrdInput, 'bytes'>): string {
  return UTF8.decode(input.bytes);
}

export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '')
    .slice(0, 200);
}

const FRONT_MATTER = /^(?:\uFEFF)?---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/;

function frontMatterOf(
  text: string,
  label: string,
): { data: Record<string, unknown>; body: string } {
  const match = FRONT_MATTER.exec(text);
  if (!match) {
    if (/^(?:\uFEFF)?---[ \t]*\r?\n/.test(text)) {
      throw usageError(`${label}: front-matter is not closed`, {
        hint: 'end it with a line of three dashes (---)',
      });
    }
    return { data: {}, body: text };
  }
  let data: unknown;
  try {
    // The core schema: dates stay the strings they were written as.
    data = loadYaml(match[1] ?? '', { schema: CORE_SCHEMA });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const line = error.mark ? ` (front-matter line ${error.mark.line + 1})` : '';
    throw usageError(`${label}: front-matter is not valid YAML${line}: ${error.reason}`);
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw usageError(`${label}: front-matter must be a mapping of keys to values`);
  }
  // Front-matter is stored as JSON: dates and the like become their JSON form now, not later.
  const json = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  const bad = findUnstorable(json, 'front-matter');
  if (bad)
    throw usageError(`${label}: ${bad.path} ${bad.reason}`, { details: { field: bad.path } });
  return { data: json, body: text.slice(match[0].length) };
}

/**
 * Validates a PRD file's bytes and derives what is archived: id from --id, else front-matter
 * `id`, else the file name slugified; title from front-matter `title`, else the first `# `
 * heading, else the id. Throws a usage error naming the file for anything that is not a PRD.
 */
export function parsePrd(
  bytes: Buffer,
  options: {
    label: string;
    fileName?: string | undefined;
    sourcePath?: string | null;
    id?: string | undefined;
    maxBytes?: number;
  },
): PrdInput {
  const { label } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) {
    throw usageError(`${label}: ${bytes.length} bytes is over the limit of ${maxBytes}`, {
      hint: 'raise it with --max-size BYTES',
    });
  }
  if (bytes.length === 0) throw usageError(`${label}: the file is empty`);
  if (bytes.includes(0)) throw usageError(`${label}: not a text file (it contains NUL bytes)`);
  let content: string;
  try {
    content = UTF8.decode(bytes);
  } catch {
    throw usageError(`${label}: not UTF-8 text`, {
      hint: 'PRDs are markdown in UTF-8; convert it first (iconv)',
    });
  }
  if (/^\uFEFF?\s*$/.test(content))
    throw usageError(`${label}: the file is empty (only white space)`);
  const { data, body } = frontMatterOf(content, label);

  let prdId: string;
  if (options.id !== undefined) {
    if (!PRD_ID_PATTERN.test(options.id))
      throw usageError(`--id "${options.id}" is not a valid PRD id`, {
        hint: 'lowercase letters, digits, ".", "_" and "-", starting with a letter or digit',
      });
    prdId = options.id;
  } else if (data.id !== undefined) {
    if (typeof data.id !== 'string' || !PRD_ID_PATTERN.test(data.id)) {
      throw usageError(
        `${label}: front-matter id ${JSON.stringify(data.id)} is not a valid PRD id`,
        {
          hint: 'lowercase letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. prd-checkout-v2)',
        },
      );
    }
    prdId = data.id;
  } else {
    prdId = slugify((options.fileName ?? '').replace(/\.[^.]*$/, ''));
    if (!PRD_ID_PATTERN.test(prdId))
      throw usageError(`${label}: cannot make a PRD id from the file name`, {
        hint: 'give one with --id or front-matter id',
      });
  }
  const heading = /^#[ \t]+(.+?)[ \t#]*\r?$/m.exec(body.replace(/^\uFEFF/, ''))?.[1];
  const title =
    typeof data.title === 'string' && data.title.trim() !== ''
      ? data.title.trim()
      : (heading?.trim() ?? prdId);
  const status =
    typeof data.status === 'string'
      ? data.status
      : data.status === undefined || data.status === null
        ? null
        : String(data.status);
  return {
    prdId,
    title,
    status,
    frontMatter: data,
    bytes,
    sha256: hash('sha256', bytes),
    sizeBytes: bytes.length,
    sourcePath: options.sourcePath ?? null,
  };
}
