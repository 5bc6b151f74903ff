import { readFileSync } from 'node:fs';
import { basename, relative, resolve, isAbsolute } from 'node:path';
import { usageError } from '../errors.js';
import { parsePrd, type PrdInput } from './parsePrd.js';

/** Reads and validates every file before anything is written; the first bad one stops all. */
export function readPrdFiles(
  paths: string[],
  options: { cwd: string; id?: string | undefined; maxBytes?: number },
): PrdInput[] {
  if (paths.length === 0)
    throw usageError('no PRD files given', { hint: 'cos-db archive prd ./docs/prd-checkout.md' });
  if (options.id !== undefined && paths.length > 1)
    throw usageError('--id names one PRD: give it with a single file');
  return paths.map((path) => {
    const absolute = resolve(options.cwd, path);
    let bytes: Buffer;
    try {
      bytes = readFileSync(absolute);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EISDIR')
        throw usageError(`${path}: is a directory, not a PRD file`, {
          hint: `archive its files: cos-db archive prd ${path}/*.md`,
        });
      throw usageError(
        `${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code})`}`,
      );
    }
    const rel = relative(options.cwd, absolute);
    return parsePrd(bytes, {
      label: path,
      fileName: basename(absolute),
      sourcePath: rel.startsWith('..') || isAbsolute(rel) ? absolute : rel,
      id: options.id,
      maxBytes: options.maxBytes,
    });
  });
}
