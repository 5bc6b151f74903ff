import { describeTargets } from '../../config/describeTargets.js';
import type { Handler } from '../context.js';

export const handler: Handler = async ({ settings, out, invocation }) => {
  const check = invocation.options.check !== false;
  const envs = await describeTargets(settings.targets, settings.env, check);
  out.result({ selected: settings.env, selectedBy: settings.envSource, envs }, () => {
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
    return [table, `* selected by ${settings.envSource}`, ...details].join('\n');
  });
};
