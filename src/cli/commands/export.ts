import { resolve } from 'node:path';
import { exportBundle, importBundle } from '../../export/bundle.js';
import { exportRecords, EXPORT_KINDS, type ExportKind } from '../../export/exportRecords.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../export/formats.js';
import { openSink } from '../../export/sink.js';
import { usageError } from '../../errors.js';
import { parseTime } from '../../config/parseTime.js';
import type { Context, Handler } from '../context.js';
import { describeTarget, displayPath, requireYesOnProd } from '../guards.js';
import { meter } from '../meter.js';
import { withDb } from '../withDb.js';
import { legacyStoreError } from '../../db/storeGeneration.js';

async function runExport(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const o = invocation.options as Record<string, string | boolean | undefined>;
  const kind = invocation.args[0];
  const outPath = typeof o.out === 'string' ? resolve(settings.cwd, o.out) : undefined;
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
  const format = (o.format as string | undefined) ?? 'ndjson';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw usageError(`unknown --format "${format}"; valid: ${EXPORT_FORMATS.join(', ')}`);
  const progress = await out.progress('exporting…');
  const rowsMeter = meter(progress, 'exported', 'rows');
  let total: number | undefined;
  const onProgress = (n: number) => rowsMeter.update(n, total ? n / total : undefined);
  const sink = openSink(outPath);
  try {
    const summary = await withDb(
      context,
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
        const filters = {
          id: o.id as string | undefined,
          status: o.status as string | undefined,
          type: o.type as string | undefined,
          module: o.module as string | undefined,
          actor: o.actor as string | undefined,
          task: o.task as string | undefined,
          since: parseTime(o.since as string | undefined, '--since'),
          until: parseTime(o.until as string | undefined, '--until'),
        };
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
}

async function runImport(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  out.error(`target: ${describeTarget(settings.target)}`);
  requireYesOnProd(settings, 'import a bundle');
  const path = resolve(settings.cwd, invocation.args[0] ?? '');
  const report = await withDb(context, (db) => importBundle(db, path));
  out.result(report, () =>
    [
      out.table(
        ['table', 'chain', 'had', 'appended', 'head'],
        report.chains.map((c) => [c.table, c.chain, c.had, c.appended, c.head.slice(0, 16)]),
      ),
      `${report.chains.reduce((a, c) => a + c.appended, 0).toLocaleString('en-US')} rows appended; ${report.modules_added} module(s) added${report.redactions_applied ? `; ${report.redactions_applied} value(s) erased by the bundle's redactions` : ''}. Check with: cos-db verify`,
    ].join('\n'),
  );
}

export const handler: Handler = async (context) => {
  if (context.invocation.command === 'import') await runImport(context);
  else await runExport(context);
};
