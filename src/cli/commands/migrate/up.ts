import { defineCommand, flag, value } from '../../command.js';

export default defineCommand({
  path: 'migrate up',
  isDefault: true,
  description: 'apply pending migrations, core then every module (the default)',
  options: {
    to: value('<name>', 'apply up to and including this migration'),
    dryRun: flag(
      'run pending transactional migrations in a transaction, print their SQL, roll back',
    ),
    module: value('<module>', 'only this module'),
  },
  async run({ settings, out, options, withDb }) {
    const { migrate } = await import('../../../migrations/runMigrations.js');
    const result = await withDb((db) =>
      migrate(db, {
        migrationsDir: settings.migrationsDir,
        module: options.module,
        to: options.to,
        dryRun: options.dryRun === true,
        lockTimeoutMs: settings.lockTimeoutMs,
        onMessage: (m) => out.info(m),
      }),
    );
    out.result(result, () => {
      const lines: string[] = [];
      for (const s of result.scopes) {
        const label = s.module ?? 'core';
        if (result.dry_run) {
          if (s.preview.length === 0 && s.not_previewed.length === 0)
            lines.push(`${label}: up to date`);
          for (const p of s.preview) {
            lines.push(
              out.style.bold(`-- ${label}: ${p.migration}`),
              ...p.statements.map((q) => `${q.trim()};`),
              '',
            );
          }
          for (const n of s.not_previewed)
            lines.push(`-- ${label}: ${n} not previewed (runs outside a transaction)`);
        } else if (s.applied.length === 0) lines.push(`${label}: up to date`);
        else {
          const names =
            s.applied.length > 10
              ? [...s.applied.slice(0, 10), `… and ${s.applied.length - 10} more`]
              : s.applied;
          lines.push(
            `${label}: applied ${s.applied.length} migration(s) as batch ${s.batch}: ${names.join(', ')}`,
          );
        }
      }
      if (result.dry_run) lines.push('(dry run: rolled back, nothing changed)');
      return lines.join('\n');
    });
  },
});
