import { CosError, ExitCode } from '../../errors.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  path: 'mcp',
  description:
    'an MCP server on stdin/stdout for an agent, as the agent whose token is in COS_TOKEN (tools: archive and query events, PRDs, trace, verify)',
  async run({ settings, withDb }) {
    const token = settings.token;
    if (token === undefined)
      throw new CosError(
        ExitCode.permission,
        'COS_TOKEN is not set: the MCP server speaks for the agent whose token it holds',
        {
          hint: 'make one with `cos-db token create --agent NAME --scope append`, and set COS_TOKEN',
        },
      );
    const [{ authenticate }, { serveStdio }] = await Promise.all([
      import('../../tokens/apiTokens.js'),
      import('../../mcp/serveStdio.js'),
    ]);
    await withDb(async (db) => {
      const identity = await authenticate(db.knex, token);
      if (!identity)
        throw new CosError(
          ExitCode.permission,
          'COS_TOKEN is not a valid token (unknown, expired or revoked)',
          {
            hint: 'see `cos-db token list`; make a new one with `cos-db token create`',
          },
        );
      await serveStdio(db.knex, identity);
    });
  },
});
