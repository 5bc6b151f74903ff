import { join } from 'node:path';
import { describeTargets } from '../../config/describeTargets.js';
import type { Handler } from '../context.js';
import { displayPath } from '../guards.js';

export const handler: Handler = async ({ settings, out, invocation }) => {
  const check = invocation.options.check !== false;
  const envs = await describeTargets(settings.targets, settings.env, check);
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
};
