import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, usageError } from '../../../errors.js';
import { defineCommand, flag, value } from '../../command.js';
import { parseWholeNumber } from '../../guards.js';
import { meter } from '../../meter.js';

const FORMATS = ['json', 'openlineage'] as const;

export default defineCommand({
  path: 'archive event',
  description: 'archive events from a JSON object, array or NDJSON file, or - for stdin',
  args: ['<file>'],
  options: {
    format: value(
      '<format>',
      'json (cos-db events, the default) or openlineage (RunEvent, JobEvent, DatasetEvent)',
    ),
    atomic: flag('the whole input in one transaction (else each batch is all or nothing)'),
    skipInvalid: flag(
      'archive the valid events and report the invalid ones (each with its line) instead of refusing the input; exit 2 if any was skipped',
    ),
    batchSize: value('<n>', 'events per transaction (default 2000)'),
    retries: value(
      '<n>',
      'times a batch is written again after a lost connection or a deadlock (default 2)',
    ),
  },
  async run({ settings, out, options, args: [source], withDb }) {
    const [{ archiveEvents }, { readJsonRecordBatches }, { databaseError }] = await Promise.all([
      import('../../../events/archiveEvents.js'),
      import('../../../events/readJsonRecords.js'),
      import('../../../db/databaseError.js'),
    ]);
    const format = options.format ?? 'json';
    if (!(FORMATS as readonly string[]).includes(format))
      throw usageError(`unknown --format "${format}"; valid: ${FORMATS.join(', ')}`);
    const batchSize = parseWholeNumber(options.batchSize, '--batch-size');
    if (batchSize === 0) throw usageError('--batch-size must be at least 1');
    const retries = parseWholeNumber(options.retries, '--retries');
    const path = source === '-' ? '-' : resolve(settings.cwd, source);
    const label = source === '-' ? 'stdin' : source;
    // Fail on a missing file before opening the database.
    const read = { bytes: 0 };
    const records = readJsonRecordBatches(
      path,
      process.stdin,
      label,
      read,
      options.skipInvalid ? 'yield' : 'throw',
    );
    const first = await records.next();
    const size = path === '-' ? undefined : statSync(path).size;
    const all = (async function* () {
      if (!first.done) yield first.value;
      yield* records;
    })();
    const progress = await out.progress('archiving events…');
    const progressMeter = meter(progress, 'archived', 'events');
    try {
      const result = await withDb((db) =>
        archiveEvents(db.knex, all, {
          format: format === 'openlineage' ? 'openlineage' : 'cos',
          atomic: options.atomic === true,
          skipInvalid: options.skipInvalid === true,
          ...(batchSize ? { batchSize } : {}),
          ...(retries !== undefined ? { retries } : {}),
          onRetry: ({ attempt, of, delayMs, error }) =>
            out.warn(
              `${databaseError(error)?.message ?? (error as Error).message}; writing the batch again in ${(delayMs / 1000).toFixed(1)} s (retry ${attempt} of ${of})`,
            ),
          label,
          onProgress: (n) => progressMeter.update(n, size ? read.bytes / size : undefined),
        }),
      );
      progress.stop();
      out.result(result, () => {
        const ids =
          result.ids && result.ids.length > 0 && result.ids.length <= 20
            ? `: ${result.ids.join(', ')}`
            : '';
        const skipped = result.skipped_count
          ? `\n${result.skipped_count.toLocaleString('en-US')} invalid skipped:\n${(result.skipped ?? []).map((s) => `  ${s.message}`).join('\n')}`
          : '';
        return `${result.new.toLocaleString('en-US')} new${ids}; ${result.already_archived.toLocaleString('en-US')} already archived ${progressMeter.summary(result.new + result.already_archived)}${skipped}`;
      });
      // Some of the input was invalid and left out: the rest is archived, and the run says so.
      return result.skipped_count ? ExitCode.usage : undefined;
    } finally {
      progress.stop();
    }
  },
});
