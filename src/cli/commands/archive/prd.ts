import { defineCommand, value } from '../../command.js';
import { parseWholeNumber } from '../../guards.js';

export default defineCommand({
  path: 'archive prd',
  description:
    'archive PRD markdown files as new versions (unchanged text makes none); all or nothing',
  args: ['<files...>'],
  options: {
    id: value('<id>', 'PRD id (else front-matter id, else the file name)'),
    message: value('<text>', 'why this version'),
    actor: value('<name>', 'who archives (else COS_ACTOR, else the OS user)'),
    maxSize: value('<bytes>', 'largest file accepted (default 10 MiB)'),
  },
  async run({ settings, out, options, args: [files], withDb }) {
    const [{ archivePrds }, { readPrdFiles }] = await Promise.all([
      import('../../../prd/archivePrds.js'),
      import('../../../prd/readPrdFiles.js'),
    ]);
    const maxBytes = parseWholeNumber(options.maxSize, '--max-size');
    // Every file is read and validated before the database is opened: one bad file, nothing written.
    const inputs = readPrdFiles(files, {
      cwd: settings.cwd,
      id: options.id,
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
    const outcomes = await withDb((db) =>
      archivePrds(db.knex, inputs, {
        actor: options.actor ?? settings.actor,
        message: options.message,
      }),
    );
    out.result(outcomes, () => {
      const s = out.style;
      const colour = { new: s.green, changed: s.yellow, unchanged: s.dim } as const;
      return out.table(
        ['file', 'id', 'version', 'outcome', 'sha256'],
        outcomes.map((r) => [
          r.source_path ?? '',
          r.prd_id,
          r.version,
          colour[r.outcome](r.outcome),
          r.content_sha256.slice(0, 16),
        ]),
      );
    });
  },
});
