import { ExitCode } from '../../../errors.js';
import { defineCommand, flag, value } from '../../command.js';

export default defineCommand({
  path: 'migrate status',
  description: 'each migration: applied, pending, missing or edited since applied',
  options: {
    check: flag('exit 6 when anything is pending, missing or edited'),
    module: value('<module>', 'only this module'),
  },
  async run({ settings, out, options, withDb }) {
    const { migrationStatus } = await import('../../../migrations/migrationStatus.js');
    const report = await withDb((db) =>
      migrationStatus(db.knex, settings.migrationsDir, options.module),
    );
    out.result(report, () => {
      const s = out.style;
      const colour = {
        applied: s.green,
        pending: s.yellow,
        missing: s.red,
        edited: s.red,
      } as const;
      const rows = report.scopes.flatMap((scope) =>
        scope.entries.map((e) => [
          scope.module ?? 'core',
          e.name,
          colour[e.state](e.state),
          e.batch ?? '',
          e.applied_at ?? '',
          e.checksum === 'none' ? 'none (plain knex)' : (e.checksum ?? ''),
        ]),
      );
      const lines = [
        out.table(['schema', 'migration', 'state', 'batch', 'applied at', 'checksum'], rows),
      ];
      for (const f of report.unregistered_folders)
        lines.push(
          s.yellow(`migrations/${f}/ has no module in this database (cos-db schema create ${f})`),
        );
      lines.push(
        report.clean
          ? 'up to date'
          : 'not up to date: run `cos-db migrate` (and restore missing or edited files)',
      );
      return lines.join('\n');
    });
    if (!options.check || report.clean) return;
    const counts = report.scopes.reduce(
      (acc, s) => ({
        pending: acc.pending + s.counts.pending,
        missing: acc.missing + s.counts.missing,
        edited: acc.edited + s.counts.edited,
      }),
      { pending: 0, missing: 0, edited: 0 },
    );
    // The report is already on stdout; the exit code carries the verdict.
    out.error(
      `cos-db: migrations not in sync: ${counts.pending} pending, ${counts.missing} missing, ${counts.edited} edited`,
    );
    return ExitCode.drift;
  },
});
