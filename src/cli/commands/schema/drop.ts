import { defineCommand, flag } from '../../command.js';
import { displayPath, requireYesOnProd } from '../../guards.js';

export default defineCommand({
  path: 'schema drop',
  description: 'drop the schema (refuses while it holds tables unless --cascade); prod needs --yes',
  args: ['<module>'],
  options: { cascade: flag('drop its tables too') },
  async run({ settings, out, options, args: [name], withDb }) {
    const { dropModule } = await import('../../../schemas/modules.js');
    requireYesOnProd(settings, `drop module ${name}`);
    const dropped = await withDb((db) =>
      dropModule(db, {
        migrationsDir: settings.migrationsDir,
        lockTimeoutMs: settings.lockTimeoutMs,
        name,
        cascade: options.cascade === true,
      }),
    );
    out.result(
      dropped,
      () =>
        `dropped module ${dropped.module}${dropped.dropped_tables.length ? ` and its tables ${dropped.dropped_tables.join(', ')}` : ''}; its migration files in ${displayPath(settings.cwd, dropped.migrations_dir_kept)}/ were kept`,
    );
  },
});
