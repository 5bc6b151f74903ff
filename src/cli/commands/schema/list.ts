import { defineCommand } from '../../command.js';

export default defineCommand({
  path: 'schema list',
  description: 'modules with their tables and migration status',
  async run({ settings, out, withDb }) {
    const { listModules } = await import('../../../schemas/modules.js');
    const modules = await withDb((db) => listModules(db, settings.migrationsDir));
    out.result(modules, () =>
      out.table(
        ['module', 'description', 'tables', 'applied', 'pending', 'created'],
        modules.map((m) => [
          m.name,
          m.description,
          m.tables.join(', '),
          m.migrations.applied,
          m.migrations.pending + m.migrations.missing + m.migrations.edited,
          `${m.created_at} by ${m.created_by}`,
        ]),
      ),
    );
  },
});
