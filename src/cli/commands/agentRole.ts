import { defineCommand } from '../command.js';

import { describeTarget } from '../../config/describeTarget.js';

export default defineCommand({
  path: 'agent-role',
  description:
    'create or update a role (default cos_agent) with SELECT and INSERT only on the ledger',
  args: ['[role]'],
  async run({ settings, out, args: [role], withDb }) {
    const { grantAgentRole } = await import('../../integrity/agentRole.js');
    out.info(`target: ${describeTarget(settings.target)}`);
    const report = await withDb((db) => grantAgentRole(db.knex, role ?? 'cos_agent'));
    out.result(
      report,
      () =>
        `${report.created ? 'created' : 'updated'} role ${report.role}: SELECT and INSERT only on ${report.tables.join(', ')}. Give it to an agent's login: GRANT ${report.role} TO <login>;`,
    );
  },
});
