import { createModule, dropModule, listModules } from '../../schemas/modules.js';
import type { Handler } from '../context.js';
import { displayPath, requireYesOnProd } from '../guards.js';
import { withDb } from '../withDb.js';

export const handler: Handler = async (context) => {
  const { settings, out, invocation } = context;
  const name = invocation.args[0] ?? '';
  const common = { migrationsDir: settings.migrationsDir, lockTimeoutMs: settings.lockTimeoutMs };
  switch (invocation.command) {
    case 'schema create': {
      const description = invocation.options.description as string | undefined;
      const created = await withDb(context, (db) =>
        createModule(db, { ...common, name, description, actor: settings.actor }),
      );
      out.result(
        created,
        () =>
          `created module ${created.module} (schema ${created.schema}); its migrations go in ${displayPath(settings.cwd, created.migrations_dir)}/`,
      );
      return;
    }
    case 'schema list': {
      const modules = await withDb(context, (db) => listModules(db, settings.migrationsDir));
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
      return;
    }
    case 'schema drop': {
      requireYesOnProd(settings, `drop module ${name}`);
      const dropped = await withDb(context, (db) =>
        dropModule(db, { ...common, name, cascade: invocation.options.cascade === true }),
      );
      out.result(
        dropped,
        () =>
          `dropped module ${dropped.module}${dropped.dropped_tables.length ? ` and its tables ${dropped.dropped_tables.join(', ')}` : ''}; its migration files in ${displayPath(settings.cwd, dropped.migrations_dir_kept)}/ were kept`,
      );
      return;
    }
  }
};
