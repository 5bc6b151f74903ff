import { defineCommand, value } from '../../command.js';

export default defineCommand({
  path: 'token list',
  description: 'every token made, with its agent, scope and state (never the token itself)',
  options: { agent: value('<name>', "only this agent's tokens") },
  async run({ out, options, withDb }) {
    const { listTokens } = await import('../../../tokens/apiTokens.js');
    const tokens = await withDb((db) => listTokens(db.knex, options.agent));
    out.result(tokens, () =>
      out.table(
        ['token', 'agent', 'scope', 'state', 'created', 'by', 'expires'],
        tokens.map((t) => [
          t.token_id,
          t.agent,
          t.scope,
          t.state,
          t.created_at,
          t.created_by,
          t.expires_at ?? 'never',
        ]),
      ),
    );
  },
});
