import { defineCommand, value } from '../../command.js';
import { requireYesOnProd } from '../../guards.js';
import { describeTarget } from '../../../config/describeTarget.js';

export default defineCommand({
  path: 'seed run',
  description:
    "run the project's seeds/ (prod needs --yes); NAME: one seed file, or an example that comes with cos-db (demo)",
  args: ['[name]'],
  options: { specific: value('<file>', 'run only this seed file (the same as NAME)') },
  async run({ settings, out, options, args: [name], withDb }) {
    const { runSeeds } = await import('../../../seeds/runSeeds.js');
    out.info(`target: ${describeTarget(settings.target)}`);
    requireYesOnProd(settings, 'run development seeds');
    const result = await withDb((db) =>
      runSeeds(db.knex, settings.seedsDir, name ?? options.specific, (m) => out.info(m)),
    );
    out.result(result, () =>
      result.ran.length
        ? `ran ${result.ran.length} seed(s): ${result.ran.join(', ')}`
        : `no seeds to run in ${settings.seedsDir} (the example: cos-db seed run demo)`,
    );
  },
});
