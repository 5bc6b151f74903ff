import { join } from 'node:path';
import { defineCommand, negatable } from '../command.js';
import { displayPath } from '../guards.js';

export default defineCommand({
  path: 'env',
  description: 'every environment: target (password masked), engine, source, reachable?',
  options: { check: negatable('do not probe whether servers are reachable') },
  async run({ settings, out, options }) {
    const { describeTargets } = await import('../../config/describeTargets.js');
    const envs = await describeTargets(settings.targets, settings.env, options.check);
    const project = {
      root: settings.project.root,
      found_by: settings.project.foundBy,
      migrations_dir: settings.migrationsDir,
      seeds_dir: settings.seedsDir,
      store_dir: join(settings.project.root, '.cos-db'),
    };
    const result = { selected: settings.env, selected_by: settings.envSource, project, envs };
    out.result(result, () => {
      const s = out.style;
      const rows = envs.map((e) => [
        e.selected ? s.bold(`${e.env} *`) : e.env,
        e.engine,
        e.target,
        e.source,
        e.reachable === null ? '-' : e.reachable ? s.green(e.state) : s.red(e.state),
      ]);
      const table = out.table(['env', 'engine', 'target', 'source', 'status'], rows);
      const details = envs
        .filter((e) => e.engine === 'postgres' && e.source.startsWith('POSTGRES_'))
        .map((e) =>
          [
            `${e.env} parts:`,
            ...Object.entries(e.parts).map(([k, v]) => `  ${k.padEnd(9)} ${v}`),
          ].join('\n'),
        );
      const where = (path: string) => displayPath(settings.cwd, path);
      const paths = [
        `project:    ${where(project.root)} (found by ${project.found_by})`,
        `migrations: ${where(project.migrations_dir)}/<module>/ (the core's come with cos-db)`,
        `seeds:      ${where(project.seeds_dir)}/`,
        `embedded:   ${where(project.store_dir)}/<env>/`,
      ];
      return [table, `* selected by ${settings.envSource}`, ...details, '', ...paths].join('\n');
    });
  },
});
