import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { meter } from '../meter.js';
import { archiveEvents } from '../../events/archiveEvents.js';
import { eventDetail, queryEvents } from '../../events/queryEvents.js';
import { readJsonRecordBatches } from '../../events/readJsonRecords.js';
import { ExitCode, usageError } from '../../errors.js';
import { databaseError } from '../../db/databaseError.js';
import { parseTime } from '../../config/parseTime.js';
import type { Context, Handler } from '../context.js';
import { parseWholeNumber } from '../guards.js';
import { withDb } from '../withDb.js';

const FORMATS = ['json', 'openlineage'] as const;

async function archive(context: Context): Promise<void> {
  const { settings, out, invocation } = context;
  const o = invocation.options as {
    format?: string;
    atomic?: boolean;
    skipInvalid?: boolean;
    batchSize?: string;
    retries?: string;
  };
  const source = invocation.args[0] ?? '';
  const format = o.format ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format))
    throw usageError(`unknown --format "${format}"; valid: ${FORMATS.join(', ')}`);
  const batchSize = parseWholeNumber(o.batchSize, '--batch-size');
  if (batchSize === 0) throw usageError('--batch-size must be at least 1');
  const retries = parseWholeNumber(o.retries, '--retries');
  const path = source === '-' ? '-' : resolve(settings.cwd, source);
  const label = source === '-' ? 'stdin' : source;
  // Fail on a missing file before opening the database.
  const read = { bytes: 0 };
  const records = readJsonRecordBatches(
    path,
    process.stdin,
    label,
    read,
    o.skipInvalid ? 'yield' : 'throw',
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
    const result = await withDb(context, (db) =>
      archiveEvents(db.knex, all, {
        format: format === 'openlineage' ? 'openlineage' : 'cos',
        atomic: o.atomic === true,
        skipInvalid: o.skipInvalid === true,
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
    if (result.skipped_count) process.exitCode = ExitCode.usage;
  } finally {
    progress.stop();
  }
}

async function query(context: Context): Promise<void> {
  const { out, invocation } = context;
  const o = invocation.options as Record<string, string | undefined>;
  const id = invocation.args[0];
  if (id !== undefined) {
    const detail = await withDb(context, (db) => eventDetail(db.knex, id));
    out.result(detail, () =>
      [
        `${detail.event_id}  ${detail.type}`,
        `module ${detail.module ?? '-'}; actor ${detail.actor ?? '-'}; task ${detail.task_id ?? '-'}${detail.run_id ? `; run ${detail.run_id}` : ''}`,
        `occurred ${detail.occurred_at}; recorded ${detail.recorded_at}; chain ${detail.chain} #${detail.seq}`,
        `parents:  ${[...detail.parents, ...detail.derived_parents].join(', ') || '-'}${detail.derived_parents.length ? ' (derived from runs and datasets)' : ''}`,
        `children: ${detail.children.join(', ') || '-'}`,
        `inputs:   ${detail.inputs.join(', ') || '-'}`,
        `links:    ${detail.links.map((l) => `${l.relation} ${l.l3_ref}`).join(', ') || '-'}`,
        `payload:  ${JSON.stringify(detail.payload, null, 2)}`,
      ].join('\n'),
    );
    return;
  }
  const result = await withDb(context, (db) =>
    queryEvents(db.knex, {
      type: o.type,
      module: o.module,
      actor: o.actor,
      task: o.task,
      since: parseTime(o.since, '--since'),
      until: parseTime(o.until, '--until'),
      after: o.after,
      limit: parseWholeNumber(o.limit, '--limit'),
    }),
  );
  out.result(result, () => {
    const table = out.table(
      ['event', 'type', 'module', 'actor', 'task', 'occurred at', 'parents'],
      result.events.map((e) => [
        e.event_id,
        e.type,
        e.module ?? '',
        e.actor ?? '',
        e.task_id ?? '',
        e.occurred_at,
        e.parents.length,
      ]),
    );
    return result.next ? `${table}\nmore: --after ${result.next}` : table;
  });
}

const COMMANDS: Record<string, (context: Context) => Promise<void>> = {
  'archive event': archive,
  'query events': query,
};

export const handler: Handler = async (context) => {
  await COMMANDS[context.invocation.command]!(context);
};
