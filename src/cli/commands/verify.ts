import { ExitCode, integrityError, notFoundError, usageError } from '../../errors.js';
import type { Problem } from '../../integrity/verify.js';
import { defineCommand, value } from '../command.js';

const describe = (p: Problem) => `${p.position ? `at ${p.position}: ` : ''}${p.kind} — ${p.detail}`;

export default defineCommand({
  path: 'verify',
  description:
    'recompute every hash chain, check positions and guards; exit 4 if anything is wrong',
  options: {
    chain: value('<name>', 'only this chain'),
    checkpoint: value('<file>', 'also prove every chain still extends this signed checkpoint'),
    writeCheckpoint: value(
      '<file>',
      'sign the verified heads into a checkpoint file (keep it outside the database)',
    ),
    key: value(
      '<file>',
      'Ed25519 key: private to sign, public or private to check (else COS_SIGNING_KEY)',
    ),
  },
  async run({ settings, out, options, withDb }) {
    const [checkpoints, keys, { verifyLedger }, { prepareOutputFile }, treeHeads] =
      await Promise.all([
        import('../../integrity/checkpoint.js'),
        import('../../integrity/keyFiles.js'),
        import('../../integrity/verify.js'),
        import('../../outputFile.js'),
        import('../../integrity/treeHeads.js'),
      ]);
    const { checkCheckpoint, makeCheckpoint } = checkpoints;
    const { loadPrivateKey, loadPublicKey } = keys;
    const { readCheckpointFile, writeCheckpointFile } = checkpoints;
    const keyPath = options.key ?? settings.signingKeyPath;
    // Read inputs before touching the database, so a bad file changes nothing and costs nothing.
    const checkpoint = options.checkpoint ? readCheckpointFile(options.checkpoint) : undefined;
    const trusted = checkpoint && keyPath ? loadPublicKey(keyPath) : undefined;
    if (options.writeCheckpoint && !keyPath)
      throw usageError('--write-checkpoint needs a signing key: --key FILE or COS_SIGNING_KEY', {
        hint: 'make one with `cos-db keygen`',
      });
    const signingKey = options.writeCheckpoint && keyPath ? loadPrivateKey(keyPath) : undefined;
    if (options.writeCheckpoint)
      prepareOutputFile(options.writeCheckpoint, { label: '--write-checkpoint' });
    if (checkpoint && !trusted)
      out.warn(
        'no --key or COS_SIGNING_KEY: the signature is checked against the public key inside the checkpoint, which proves integrity but not who signed it',
      );

    const progress = await out.progress('verifying…');
    const result = await withDb(async (db) => {
      const report = await verifyLedger(db.knex, {
        chain: options.chain,
        onProgress: (n) => progress.update(`verified ${n.toLocaleString('en-US')} rows`),
      });
      progress.stop();
      if (options.chain !== undefined && report.chains.length === 0)
        throw notFoundError(`no chain "${options.chain}" in any ledger table`, {
          hint: 'run `cos-db verify` without --chain to see every chain',
        });
      let check: Awaited<ReturnType<typeof checkCheckpoint>> | undefined;
      if (checkpoint) check = await checkCheckpoint(db.knex, checkpoint, trusted);
      let written: string | undefined;
      let heads: Awaited<ReturnType<typeof treeHeads.signTreeHeads>> = [];
      if (options.writeCheckpoint && signingKey) {
        if (!report.ok)
          throw integrityError(
            'the store did not verify; refusing to sign a checkpoint of a broken history',
          );
        if (await treeHeads.hasMerkleTrees(db.knex))
          heads = await treeHeads.signTreeHeads(db.knex, report.chains, signingKey);
        writeCheckpointFile(
          options.writeCheckpoint,
          await makeCheckpoint(db.knex, report, signingKey, heads),
        );
        written = options.writeCheckpoint;
      }
      return {
        ...report,
        ok: report.ok && (check?.ok ?? true),
        checkpoint: check ?? null,
        checkpoint_written: written ?? null,
        tree_heads: heads,
      };
    });

    out.result(result, () => {
      const s = out.style;
      const lines = [
        out.table(
          ['table', 'chain', 'size', 'head', 'status', 'problem'],
          result.chains.map((c) => [
            c.table,
            c.chain,
            c.size,
            c.head ? c.head.slice(0, 16) : '',
            c.status === 'intact' ? s.green('intact') : s.red('BROKEN'),
            c.problem
              ? `${describe(c.problem)}${c.problem_count > 1 ? ` (+${c.problem_count - 1} more)` : ''}`
              : '',
          ]),
        ),
      ];
      for (const c of result.chains) {
        if (c.problem_count < 2) continue;
        lines.push(`${c.table} ${c.chain}: ${c.problem_count} bad positions`);
        for (const p of c.problems) lines.push(`  ${describe(p)}`);
        if (c.problem_count > c.problems.length)
          lines.push(`  … and ${c.problem_count - c.problems.length} more`);
      }
      for (const c of result.chains)
        if (c.redacted)
          lines.push(
            `${c.table} ${c.chain}: ${c.redacted.toLocaleString('en-US')} redacted (payload erased by cos-db redact; verified by its recorded commitment)`,
          );
      for (const t of result.tables)
        if (t.guards !== 'ok') lines.push(s.red(`${t.table}: ${t.guards}`));
      for (const d of result.derived) {
        if (d.status === 'intact') continue;
        lines.push(s.red(`${d.table}: ${d.problem_count} edge(s) disagree with the events' rows`));
        for (const p of d.problems)
          lines.push(`  ${p.kind}${p.event_id ? ` ${p.event_id}` : ''}: ${p.edge}`);
      }
      if (result.checkpoint) {
        for (const c of result.checkpoint.chains) {
          lines.push(
            `checkpoint ${result.checkpoint.created_at}: ${c.table} ${c.chain} at ${c.size}: ${c.status === 'extends' ? s.green('still extends it') : s.red(c.status === 'truncated' ? 'TRUNCATED: the row is gone' : 'REWRITTEN: the row has another hash')}`,
          );
        }
      }
      if (result.checkpoint_written) lines.push(`wrote checkpoint ${result.checkpoint_written}`);
      if (result.tree_heads.length)
        lines.push(
          `signed ${result.tree_heads.length} tree head(s) (C2SP checkpoints, kept in the store): \`cos-db prove\` proves records against them`,
        );
      lines.push(
        result.ok
          ? `${result.rows.toLocaleString('en-US')} rows in ${result.chains.length} chains: intact`
          : s.red('integrity check FAILED'),
      );
      return lines.join('\n');
    });
    if (!result.ok) {
      const bad = [
        ...result.chains.filter((c) => c.status === 'broken').map((c) => `${c.table}/${c.chain}`),
        ...result.derived
          .filter((d) => d.status === 'broken')
          .map((d) => `${d.table} (derived edges)`),
        ...(result.checkpoint?.chains
          .filter((c) => c.status !== 'extends')
          .map((c) => `${c.table}/${c.chain} (checkpoint)`) ?? []),
      ];
      out.error(`cos-db: integrity check failed: ${bad.join(', ') || 'guard triggers'}`);
      return ExitCode.integrity;
    }
    return undefined;
  },
});
