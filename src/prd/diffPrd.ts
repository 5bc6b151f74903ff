import type { Knex } from 'knex';
import { usageError } from '../errors.js';
import { prdVersion, requirePrd } from './queryPrds.js';

export type PrdDiff = {
  prd_id: string;
  from: number;
  to: number;
  hunks: Array<{
    old_start: number;
    old_lines: number;
    new_start: number;
    new_lines: number;
    lines: string[];
  }>;
  /** The unified diff as text. */
  unified: string;
};

/** A unified diff between two versions of a PRD; by default the last two. */
export async function diffPrd(
  knex: Knex,
  prdId: string,
  v1?: number,
  v2?: number,
): Promise<PrdDiff> {
  const latest = await requirePrd(knex, prdId);
  const to = v2 ?? latest;
  const from = v1 ?? latest - 1;
  if (from < 1)
    throw usageError(`PRD "${prdId}" has only one version: nothing to compare`, {
      hint: `show it with cos-db query prd ${prdId} --content`,
    });
  const [a, b] = [await prdVersion(knex, prdId, from), await prdVersion(knex, prdId, to)];
  // Loaded here: the other PRD commands do not need it.
  const { structuredPatch } = await import('diff');
  const patch = structuredPatch(
    `${prdId}@${from}`,
    `${prdId}@${to}`,
    a.content,
    b.content,
    a.archived_at,
    b.archived_at,
    { context: 3 },
  );
  const hunks = patch.hunks.map((h) => ({
    old_start: h.oldStart,
    old_lines: h.oldLines,
    new_start: h.newStart,
    new_lines: h.newLines,
    lines: h.lines,
  }));
  const unified = [
    `--- ${prdId}@${from}\t${a.archived_at}`,
    `+++ ${prdId}@${to}\t${b.archived_at}`,
    ...hunks.flatMap((h) => [
      `@@ -${h.old_start},${h.old_lines} +${h.new_start},${h.new_lines} @@`,
      ...h.lines,
    ]),
  ].join('\n');
  return { prd_id: prdId, from, to, hunks, unified };
}
