import type { Knex } from 'knex';
import { appendToChain, lockChain, withLedgerTransaction } from '../integrity/ledger.js';
import { prdText, type PrdInput } from './parsePrd.js';
import { PRD_CHAIN, PRD_TABLE } from './prdTable.js';

export type ArchiveOutcome = {
  prd_id: string;
  version: number;
  outcome: 'new' | 'changed' | 'unchanged';
  content_sha256: string;
  source_path: string | null;
};

/**
 * Archives PRD texts in one transaction: a text identical to its PRD's latest version makes
 * nothing ("unchanged"); any other text is the next version — a return to an older text too.
 * Versions are numbered under the chain's lock, so concurrent archivers get 1, 2, 3 … with no
 * gap and no duplicate.
 */
export async function archivePrds(
  knex: Knex,
  inputs: PrdInput[],
  meta: { actor: string; message?: string | undefined; now?: Date },
): Promise<ArchiveOutcome[]> {
  const work = async (trx: Knex.Transaction): Promise<ArchiveOutcome[]> => {
    await lockChain(trx, PRD_TABLE, PRD_CHAIN);
    const ids = [...new Set(inputs.map((i) => i.prdId))];
    const latest = new Map<string, { version: number; sha256: string }>();
    const rows = (
      await trx.raw<{ rows: Array<{ prd_id: string; version: number; content_sha256: string }> }>(
        `select distinct on (prd_id) prd_id, version, encode(content_sha256, 'hex') as content_sha256 from cc.prd_versions
          where prd_id = any(?) order by prd_id, version desc`,
        [ids],
      )
    ).rows;
    for (const r of rows) latest.set(r.prd_id, { version: r.version, sha256: r.content_sha256 });
    const archivedAt = (meta.now ?? new Date()).toISOString();
    const outcomes: ArchiveOutcome[] = [];
    const toInsert: Array<Record<string, unknown>> = [];
    for (const input of inputs) {
      const before = latest.get(input.prdId);
      if (before && before.sha256 === input.sha256) {
        outcomes.push({
          prd_id: input.prdId,
          version: before.version,
          outcome: 'unchanged',
          content_sha256: input.sha256,
          source_path: input.sourcePath,
        });
        continue;
      }
      const version = (before?.version ?? 0) + 1;
      latest.set(input.prdId, { version, sha256: input.sha256 });
      outcomes.push({
        prd_id: input.prdId,
        version,
        outcome: before ? 'changed' : 'new',
        content_sha256: input.sha256,
        source_path: input.sourcePath,
      });
      toInsert.push({
        prd_id: input.prdId,
        version,
        title: input.title,
        status: input.status,
        front_matter: input.frontMatter,
        // Decoded when the row is written, not before (see PrdInput.bytes).
        get content() {
          return prdText(input);
        },
        content_sha256: `\\x${input.sha256}`,
        size_bytes: input.sizeBytes,
        source_path: input.sourcePath,
        message: meta.message ?? null,
        archived_by: meta.actor,
        archived_at: archivedAt,
      });
    }
    await appendToChain(trx, PRD_TABLE, PRD_CHAIN, toInsert);
    return outcomes;
  };
  // Inside a caller's transaction (a seed, say) work there; otherwise open a ledger transaction.
  return knex.isTransaction ? work(knex as Knex.Transaction) : withLedgerTransaction(knex, work);
}
