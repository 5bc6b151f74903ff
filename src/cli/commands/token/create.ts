import { usageError } from '../../../errors.js';
import { defineCommand, value } from '../../command.js';

export default defineCommand({
  path: 'token create',
  description: 'make a token for an agent to use the endpoint (cos-db serve, cos-db mcp)',
  options: {
    agent: value('<name>', 'the agent it speaks for: the actor of every record it writes'),
    scope: value('<scope>', 'read, or append (read and append); default read'),
    expires: value('<when>', 'an age (30d, 12h, 2w) or an ISO time; default never'),
  },
  async run({ settings, out, options, withDb }) {
    const { createToken, expiryOf } = await import('../../../tokens/apiTokens.js');
    if (options.agent === undefined)
      throw usageError('--agent is required: the agent the token speaks for');
    const expiresAt = expiryOf(options.expires);
    const made = await withDb((db) =>
      createToken(db.knex, {
        agent: options.agent as string,
        scope: options.scope ?? 'read',
        expiresAt,
        by: settings.actor,
      }),
    );
    out.result(made, () =>
      [
        made.token,
        `token ${made.token_id} for agent ${made.agent} (${made.scope}${made.expires_at ? `, expires ${made.expires_at}` : ''})`,
        'shown once: only its SHA-256 is stored. Give it to the agent as COS_TOKEN or a Bearer token.',
      ].join('\n'),
    );
  },
});
