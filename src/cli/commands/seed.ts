import { runSeeds } from '../../seeds/runSeeds.js';
import type { Handler } from '../context.js';
import { describeTarget, requireYesOnProd } from '../guards.js';
import { withDb } from '../withDb.js';

export const handler: Handler = async (context) => {
  const { settings, out, invocation } = context;
  out.info(`target: ${describeTarget(settings.target)}`);
  requireYesOnProd(settings, 'run development seeds');
  const specific = invocation.args[0] ?? (invocation.options.specific as string | undefined);
  const result = await withDb(context, (db) =>
    runSeeds(db.knex, settings.seedsDir, specific, (m) => out.info(m)),
  );
  out.result(result, () =>
    result.ran.length
      ? `ran ${result.ran.length} seed(s): ${result.ran.join(', ')}`
      : `no seeds to run in ${settings.seedsDir} (the example: cos-db seed run demo)`,
  );
};
