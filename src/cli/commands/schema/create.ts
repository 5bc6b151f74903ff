import { defineCommand, value } from '../../command.js';
import { displayPath } from '../../guards.js';

export default defineCommand({
  path: 'schema create',
  description: 'create the schema, register it, give it its own migration history and folder',
  args: ['<module>'],
  options: { description: value('<text>', 'what the module is for') },
  async run({ settings, out, options, args: [name], withDb }) {
    const { createModule } = await import('../../../schemas/modules.js');
    const created = await withDb((db) =>
      createModule(db, {
        migrationsDir: settings.migrationsDir,
        lockTimeoutMs: settings.lockTimeoutMs,
        name,
        description: options.description,
        actor: settings.actor,
      }),
    );
    out.result(
      created,
      () =>
        `created module ${created.module} (schema ${created.schema}); its migrations go in ${displayPath(settings.cwd, created.migrations_dir)}/`,
    );
  },
});
