import { z } from 'zod';
import { knexEachRow } from '../../db/eachRow.js';
import { CosError, ExitCode } from '../../errors.js';
import { pendingCoreMigrations } from '../../migrations/scopes.js';
import type { ServerContext, ZodApp } from '../context.js';
import { problemResponses } from '../routeHelpers.js';

export function healthRoutes(app: ZodApp, context: ServerContext): void {
  app.get('/healthz', {
    schema: {
      summary: 'The process is up (no database call)',
      tags: ['health'],
      response: { 200: z.strictObject({ status: z.literal('ok') }) },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    schema: {
      summary: 'The database is reachable and migrated',
      tags: ['health'],
      response: { 200: z.strictObject({ status: z.literal('ready') }), ...problemResponses },
    },
    handler: async () => {
      const pending = await pendingCoreMigrations(knexEachRow(context.knex));
      if (pending > 0)
        throw new CosError(
          ExitCode.drift,
          `this store is not migrated (${pending} core migration(s) pending)`,
          { hint: 'apply its migrations with `cos-db migrate`' },
        );
      return { status: 'ready' as const };
    },
  });
}
