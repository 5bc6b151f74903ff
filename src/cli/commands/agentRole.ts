import { grantAgentRole } from '../../integrity/agentRole.js';
import type { Handler } from '../context.js';
import { describeTarget } from '../guards.js';
import { withDb } from '../withDb.js';

export const handler: Handler = async (context) => {
  const { settings, out, invocation } = context;
  out.info(`target: ${describeTarget(settings.target)}`);
  const report = await withDb(context, (db) =>
    grantAgentRole(db.knex, invocation.args[0] ?? 'cos_agent'),
  );
  out.result(
    report,
    () =>
      `${report.created ? 'created' : 'updated'} role ${report.role}: SELECT and INSERT only on ${report.tables.join(', ')}. Give it to an agent's login: GRANT ${report.role} TO <login>;`,
  );
};
