import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { usageError } from '../../errors.js';
import type { ConsistencyProof, InclusionProof } from '../../integrity/proofs.js';
import { defineCommand, flag, value } from '../command.js';

/**
 * The signed checkpoint a --from file holds: a C2SP note as it is, or one of the tree heads of a
 * checkpoint file that `verify --write-checkpoint` wrote (chosen by --chain and --table).
 */
function noteFrom(
  text: string,
  name: string,
  table: string | undefined,
  chain: string | undefined,
): string {
  if (!text.trimStart().startsWith('{')) return text.replace(/\n+$/, '\n');
  let heads: Array<{ table: string; chain: string; note: string }> | undefined;
  try {
    heads = (JSON.parse(text) as { tree_heads?: typeof heads }).tree_heads;
  } catch {
    heads = undefined;
  }
  if (!Array.isArray(heads))
    throw usageError(`${name} is neither a checkpoint note nor a checkpoint file with tree heads`);
  const matching = heads.filter(
    (h) => (chain === undefined || h.chain === chain) && (table === undefined || h.table === table),
  );
  if (matching.length !== 1)
    throw usageError(
      `${name} holds ${matching.length === 0 ? 'no' : matching.length} tree heads${chain === undefined ? '' : ` of chain ${chain}`}; name one with --chain (and --table)`,
      { hint: `its chains: ${heads.map((h) => `${h.table} ${h.chain}`).join(', ')}` },
    );
  return (matching[0] as { note: string }).note;
}

export default defineCommand({
  path: 'prove',
  description:
    'an offline receipt: the C2SP tlog-proof that a record (event id, prd:ID@VERSION) is in its chain, or with --from a consistency proof between two signed checkpoints',
  args: ['[ref]'],
  options: {
    from: value(
      '<size|file>',
      'consistency proof from this older checkpoint (a tree size, or a checkpoint note file) to the newest',
    ),
    chain: value('<name>', 'with --from: the chain (of a size, or of a checkpoint file)'),
    table: value('<table>', 'with --from: the ledger table (default cc.events)'),
    out: value('<file>', 'write the proof to this file (else stdout)'),
    withPayload: flag(
      "include the event's payload and its salt, so the verifier checks the payload too (the proof grows with it)",
    ),
  },
  async run({ settings, out, options: o, args: [ref], withDb }) {
    const [{ proveConsistency, proveInclusion }, { writeWholeFile, prepareOutputFile }] =
      await Promise.all([import('../../integrity/proofs.js'), import('../../outputFile.js')]);
    if ((ref === undefined) === (o.from === undefined))
      throw usageError('name a record to prove, or --from an older checkpoint, not both', {
        hint: 'cos-db prove EVENT_ID, cos-db prove prd:ID@VERSION, or cos-db prove --from SIZE --chain NAME',
      });
    let from: Parameters<typeof proveConsistency>[1] | undefined;
    if (o.from !== undefined && /^[1-9][0-9]*$/.test(o.from)) {
      if (o.chain === undefined)
        throw usageError('--from SIZE needs --chain NAME (and --table, unless cc.events)');
      from = { table: o.table ?? 'cc.events', chain: o.chain, size: BigInt(o.from) };
    } else if (o.from !== undefined) {
      const path = resolve(settings.cwd, o.from);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw usageError(
          `--from ${o.from} is neither a tree size nor a readable file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
      from = { note: noteFrom(text, o.from, o.table, o.chain) };
    } else if (o.chain !== undefined || o.table !== undefined)
      throw usageError('--chain and --table go with --from');
    if (o.from !== undefined && o.withPayload)
      throw usageError('--with-payload goes with a record, not --from');
    const target = o.out === undefined ? undefined : resolve(settings.cwd, o.out);
    if (target) prepareOutputFile(target, { label: '--out' });
    const result = await withDb<InclusionProof | ConsistencyProof>((db) =>
      from
        ? proveConsistency(db.knex, from)
        : proveInclusion(db.knex, ref as string, { withPayload: o.withPayload === true }),
    );
    if (target) writeWholeFile(target, result.proof, '--out');
    out.result({ ...result, out: target ?? null }, () =>
      target
        ? result.kind === 'inclusion'
          ? `wrote ${target}: ${result.ref} is leaf ${result.index} of ${result.chain} (${result.table}), under the checkpoint of ${result.checkpoint.size} signed ${result.checkpoint.created_at}`
          : `wrote ${target}: chain ${result.chain} (${result.table}) at ${result.to.size} extends it at ${result.from.size}`
        : result.proof.replace(/\n$/, ''),
    );
  },
});
