import type { Knex } from 'knex';
import { usageError } from '../errors.js';
import { prdVersion, requirePrd } from './queryPrds.js';

export type PrdDiff = {
  prdId: string;
  from: number;
  to: number;
  hunks: Array<{
    oldStart: number;
    oldLines: number;
    newStart: number;
    newLines: number;
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
    a.archivedAt,
    b.archivedAt,
    { context: 3 },
  );
  const hunks = patch.hunks.map((h) => ({
    oldStart: h.oldStart,
    oldLines: h.oldLines,
    newStart: h.newStart,
    newLines: h.newLines,
    lines: h.lines,
  }));
  const unified = [
    `--- ${prdId}@${from}\t${a.archivedAt}`,
    `+++ ${prdId}@${to}\t${b.archivedAt}`,
    ...hunks.flatMap((h) => [
      `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`,
      ...h.lines,
    ]),
  ].join('\n');
  return { prdId, from, to, hunks, unified };
}
