import { defineCommand } from '../../command.js';

export default defineCommand({
  path: 'token revoke',
  description: 'end a token for good, on every server at once',
  args: ['<token-id>'],
  async run({ settings, out, args: [tokenId], withDb }) {
    const { revokeToken } = await import('../../../tokens/apiTokens.js');
    const done = await withDb((db) => revokeToken(db.knex, tokenId, settings.actor));
    out.result(done, () =>
      done.already_revoked
        ? `token ${done.token_id} (agent ${done.agent}) was already revoked, at ${done.revoked_at}`
        : `revoked token ${done.token_id} (agent ${done.agent})`,
    );
  },
});
