import { parseTime } from '../../config/parseTime.js';
import { usageError } from '../../errors.js';
import { defineCommand, flag, value } from '../command.js';
import { parseWholeNumber, requireYesOnProd } from '../guards.js';

export default defineCommand({
  path: 'redact',
  description:
    "erase an event's payload with its proof kept (the reason on record), or by --older-than and --type; prod needs --yes",
  args: ['[event-id]'],
  options: {
    reason: value('<text>', 'why (required): the request or the retention policy'),
    field: value('<field>', 'what to erase (payload, the default and only erasable field)'),
    olderThan: value('<age>', 'retention: events that occurred longer ago than this (e.g. 400d)'),
    type: value('<type>', 'retention: of this event type (required with --older-than)'),
    module: value('<module>', 'retention: only this module'),
    batchSize: value('<n>', 'retention: events per transaction (default 1000)'),
    dryRun: flag('show what would be erased; change nothing'),
  },
  async run({ settings, out, options, args: [target], withDb }) {
    const { REDACTABLE_FIELDS, redactByPolicy, redactEvents } =
      await import('../../integrity/redact.js');
    const field = options.field ?? 'payload';
    if (!(REDACTABLE_FIELDS as readonly string[]).includes(field))
      throw usageError(
        `--field ${field} cannot be erased; erasable: ${REDACTABLE_FIELDS.join(', ')}`,
      );
    if (target?.startsWith('prd:'))
      throw usageError(
        `${target}: PRD versions cannot be redacted: the 1.0 format hashes a PRD's text as it is (a product document, not personal data)`,
        { hint: 'see docs/retention.md' },
      );
    if ((target === undefined) === (options.olderThan === undefined))
      throw usageError(
        'name one event to redact, or a retention policy with --older-than and --type',
        {
          hint: 'cos-db redact EVENT_ID --reason TEXT, or cos-db redact --older-than 400d --type TYPE --reason TEXT',
        },
      );
    if (options.olderThan !== undefined && options.type === undefined)
      throw usageError(
        '--older-than needs --type: a retention policy names the kind of event it erases',
      );
    if (target !== undefined && (options.type ?? options.module ?? options.batchSize) !== undefined)
      throw usageError('--type, --module and --batch-size are for --older-than, not for one event');
    if (!options.dryRun && options.reason === undefined)
      throw usageError('--reason is required: the redaction record says why the value was erased');
    const before = options.olderThan === undefined ? undefined : olderThan(options.olderThan);
    const batchSize = parseWholeNumber(options.batchSize, '--batch-size');
    if (!options.dryRun) requireYesOnProd(settings, 'erase event payloads');
    const who = {
      reason: options.reason ?? '',
      actor: settings.actor,
      dryRun: options.dryRun === true,
    };

    const progress = await out.progress('redacting…');
    let shown = 0;
    const report = await withDb((db) =>
      before === undefined
        ? redactEvents(db.knex, [target as string], who)
        : redactByPolicy(
            db.knex,
            { before, type: options.type as string, module: options.module, batchSize },
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
  },
});

/** --older-than AGE as the time before which events go (an age only: 400d, 12w). */
function olderThan(age: string): string {
  if (!/^\d+[smhdw]$/.test(age))
    throw usageError(`--older-than "${age}" is not an age`, { hint: 'e.g. 400d, 12w, 36h' });
  return parseTime(age, '--older-than') as string;
}
