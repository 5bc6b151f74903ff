import { resolve } from 'node:path';
import { usageError } from '../../errors.js';
import type { ExportKind } from '../../export/exportRecords.js';
import type { ExportFormat } from '../../export/formats.js';
import { defineCommand, flag, value } from '../command.js';
import { displayPath, eventFilters } from '../guards.js';
import { meter } from '../meter.js';

export default defineCommand({
  path: 'export',
  description:
    'stream prd, events or lineage out (json, ndjson, csv, openlineage); --all writes a bundle',
  args: ['[kind]'],
  options: {
    format: value('<format>', 'json, ndjson (default), csv, or openlineage (events)'),
    out: value(
      '<file>',
      'write here (atomically: renamed into place when complete) instead of stdout',
    ),
    all: flag('a bundle of every chain with its proof, the modules and the links (needs --out)'),
    id: value('<id>', 'prd: one PRD'),
    status: value('<status>', 'prd: front-matter status'),
    type: value('<type>', 'events, lineage: event type'),
    module: value('<module>', 'events, lineage: module'),
    actor: value('<actor>', 'events, lineage: actor'),
    task: value('<task>', 'events, lineage: task id'),
    since: value('<time>', 'at or after (ISO time, or an age such as 7d)'),
    until: value('<time>', 'before'),
  },
  async run({ settings, out, options: o, args: [kind], withDb }) {
    const [
      { exportBundle },
      { exportRecords, EXPORT_KINDS },
      { EXPORT_FORMATS },
      { openSink },
      { legacyStoreError },
    ] = await Promise.all([
      import('../../export/bundle.js'),
      import('../../export/exportRecords.js'),
      import('../../export/formats.js'),
      import('../../export/sink.js'),
      import('../../db/storeGeneration.js'),
    ]);
    const outPath = o.out === undefined ? undefined : resolve(settings.cwd, o.out);
    if (o.all) {
      if (kind !== undefined)
        throw usageError('give a kind (prd, events, lineage) or --all, not both');
      if (!outPath)
        throw usageError('--all needs --out FILE', {
          hint: 'cos-db export --all --out store.bundle',
        });
    } else if (kind === undefined || !(EXPORT_KINDS as readonly string[]).includes(kind)) {
      throw usageError(`export what? valid: ${EXPORT_KINDS.join(', ')}, or --all for a bundle`);
    }
    const format = o.format ?? 'ndjson';
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw usageError(`unknown --format "${format}"; valid: ${EXPORT_FORMATS.join(', ')}`);
    const progress = await out.progress('exporting…');
    const rowsMeter = meter(progress, 'exported', 'rows');
    let total: number | undefined;
    const onProgress = (n: number) => rowsMeter.update(n, total ? n / total : undefined);
    const sink = openSink(outPath);
    try {
      const summary = await withDb(
        async (db) => {
          if (o.all) {
            if (db.legacy) throw legacyStoreError();
            const manifest = await exportBundle(db, sink, onProgress, (n) => (total = n));
            return {
              kind: 'bundle',
              rows: manifest.chains.reduce((a, c) => a + c.size, 0),
              chains: manifest.chains,
              out: outPath,
            };
          }
          const filters = { id: o.id, status: o.status, ...eventFilters(o) };
          const rows = await exportRecords(
            db,
            kind as ExportKind,
            format as ExportFormat,
            filters,
            sink,
            onProgress,
            // Counted first only where progress is shown: a terminal, for the time left.
            progress.shown ? (n) => (total = n) : undefined,
          );
          return { kind, format, rows, out: outPath ?? null };
        },
        // A 0.x store's records can still be exported, to archive them into a 1.0 store.
        { legacy: true },
      );
      await sink.finish();
      progress.stop();
      // Data went to stdout unless --out: then the summary goes to stderr, never mixed into it.
      if (outPath)
        out.result(
          summary,
          () =>
            `wrote ${summary.rows.toLocaleString('en-US')} rows to ${displayPath(settings.cwd, outPath)} ${rowsMeter.summary(summary.rows)}`,
        );
      else
        out.info(
          `exported ${summary.rows.toLocaleString('en-US')} rows ${rowsMeter.summary(summary.rows)}`,
        );
    } catch (error) {
      progress.stop();
      sink.abort();
      throw error;
    }
  },
});
