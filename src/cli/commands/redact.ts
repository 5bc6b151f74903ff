import { parseTime } from '../../config/parseTime.js';
import { usageError } from '../../errors.js';
import {
  REDACTABLE_FIELDS,
  redactByPolicy,
  redactEvents,
  type RedactReport,
} from '../../integrity/redact.js';
import type { Handler } from '../context.js';
import { parseWholeNumber, requireYesOnProd } from '../guards.js';
import { withDb } from '../withDb.js';

export const handler: Handler = async (context) => {
  const { settings, out, invocation } = context;
  const o = invocation.options as {
    reason?: string;
    field?: string;
    olderThan?: string;
    type?: string;
    module?: string;
    batchSize?: string;
    dryRun?: boolean;
  };
  const target = invocation.args[0];
  const field = o.field ?? 'payload';
  if (!(REDACTABLE_FIELDS as readonly string[]).includes(field))
    throw usageError(
      `--field ${field} cannot be erased; erasable: ${REDACTABLE_FIELDS.join(', ')}`,
    );
  if (target?.startsWith('prd:'))
    throw usageError(
      `${target}: PRD versions cannot be redacted: the 1.0 format hashes a PRD's text as it is (a product document, not personal data)`,
      { hint: 'see docs/retention.md' },
    );
  if ((target === undefined) === (o.olderThan === undefined))
    throw usageError(
      'name one event to redact, or a retention policy with --older-than and --type',
      {
        hint: 'cos-db redact EVENT_ID --reason TEXT, or cos-db redact --older-than 400d --type TYPE --reason TEXT',
      },
    );
  if (o.olderThan !== undefined && o.type === undefined)
    throw usageError(
      '--older-than needs --type: a retention policy names the kind of event it erases',
    );
  if (target !== undefined && (o.type ?? o.module ?? o.batchSize) !== undefined)
    throw usageError('--type, --module and --batch-size are for --older-than, not for one event');
  if (!o.dryRun && o.reason === undefined)
    throw usageError('--reason is required: the redaction record says why the value was erased');
  const before = o.olderThan === undefined ? undefined : olderThan(o.olderThan);
  const batchSize = parseWholeNumber(o.batchSize, '--batch-size');
  if (!o.dryRun) requireYesOnProd(settings, 'erase event payloads');
  const who = { reason: o.reason ?? '', actor: settings.actor, dryRun: o.dryRun === true };

  const progress = await out.progress('redacting…');
  let shown = 0;
  const report: RedactReport = await withDb(context, (db) =>
    before === undefined
      ? redactEvents(db.knex, [target as string], who)
      : redactByPolicy(
          db.knex,
          { before, type: o.type as string, module: o.module, batchSize },
          who,
          (n) => {
            const line = `redacted ${n.toLocaleString('en-US')} events`;
            // Scheduled runs have no terminal: a line every 10,000 says how far it got.
            if (progress.shown) progress.update(line);
            else if (Math.floor(n / 10_000) > Math.floor(shown / 10_000)) out.info(line);
            shown = n;
          },
        ),
  );
  progress.stop();
  out.result(report, () => {
    const verb = report.dry_run ? 'would redact' : 'redacted';
    const lines = report.redactions.map(
      (r) => `${verb} ${r.event_id}${r.seq ? ` (redaction ${r.seq} of chain redactions)` : ''}`,
    );
    if (report.redacted > report.redactions.length)
      lines.push(
        `… and ${(report.redacted - report.redactions.length).toLocaleString('en-US')} more`,
      );
    for (const id of report.already_redacted) lines.push(`${id}: already redacted`);
    lines.push(
      `${report.dry_run ? 'dry run: ' : ''}${verb} the payload of ${report.redacted.toLocaleString('en-US')} event(s)${report.batches > 1 ? ` in ${report.batches} batches` : ''}${report.dry_run ? '; nothing was changed' : ''}`,
    );
    return lines.join('\n');
  });
};

/** --older-than AGE as the time before which events go (an age only: 400d, 12w). */
function olderThan(value: string): string {
  if (!/^\d+[smhdw]$/.test(value))
    throw usageError(`--older-than "${value}" is not an age`, { hint: 'e.g. 400d, 12w, 36h' });
  return parseTime(value, '--older-than') as string;
}
