import { existsSync } from 'node:fs';
import { z } from 'zod';
import { documents } from '../../contract/documents.js';
import { knexEachRow } from '../../db/eachRow.js';
import { notFoundError, usageError } from '../../errors.js';
import { readCheckpointFile } from '../../integrity/checkpoint.js';
import { verifyLedger } from '../../integrity/verify.js';
import { capTrace } from '../../lineage/capTrace.js';
import { trace } from '../../lineage/trace.js';
import type { ServerContext, ZodApp } from '../context.js';
import { HttpProblem } from '../problem.js';
import { problemResponses, wholeNumber } from '../routeHelpers.js';

export function readRoutes(app: ZodApp, context: ServerContext): void {
  const { knex, limits } = context;
  const eachRow = knexEachRow(knex);
  let verifying = false;

  app.get('/v1/trace/:id', {
    config: { scope: 'read' },
    schema: {
      summary: 'Lineage of an event or prd:ID@VERSION (prd:ID for the latest), capped',
      description: `Depth is clamped to the server's maximum; past its node cap the nearest nodes are kept and \`truncated\` is true.`,
      tags: ['lineage'],
      params: z.strictObject({ id: z.string() }),
      querystring: z.strictObject({
        direction: z.enum(['up', 'down', 'both']).optional(),
        depth: z.string().optional().describe('steps to walk (default 10)'),
      }),
      response: { 200: documents.trace, ...problemResponses },
    },
    handler: async (request) => {
      const depth = Math.min(wholeNumber(request.query.depth, 'depth') ?? 10, limits.maxDepth);
      const walked = await trace(
        eachRow,
        request.params.id,
        request.query.direction ?? 'up',
        depth,
      );
      // The domain's types are readonly where the contract's are not; the serializer checks the shape.
      return capTrace(walked, limits.traceNodes) as z.output<typeof documents.trace>;
    },
  });

  app.get('/v1/verify', {
    config: { scope: 'read' },
    schema: {
      summary: 'Verify one chain or every chain (read-only; one verification at a time)',
      tags: ['integrity'],
      querystring: z.strictObject({ chain: z.string().optional() }),
      response: { 200: documents.verify, ...problemResponses },
    },
    handler: async (request) => {
      // A verification reads whole chains: one at a time, so requests cannot pile them up.
      if (verifying)
        throw new HttpProblem(
          503,
          'busy',
          'a verification is already running on this server; try again shortly',
          7,
        );
      verifying = true;
      try {
        const chain = request.query.chain;
        const report = await verifyLedger(knex, { chain });
        if (chain !== undefined && report.chains.length === 0)
          throw notFoundError(`no chain "${chain}" in any ledger table`);
        return {
          ...report,
          checkpoint: null,
          checkpoint_written: null,
          tree_heads: [],
        } as z.output<typeof documents.verify>;
      } finally {
        verifying = false;
      }
    },
  });

  app.get('/v1/checkpoints/latest', {
    config: { scope: 'read' },
    schema: {
      summary: 'The newest signed checkpoint (the file `cos-db serve --checkpoint` names)',
      tags: ['integrity'],
      response: { 200: documents.checkpoint, ...problemResponses },
    },
    handler: async () => {
      const file = context.checkpointFile;
      if (file === undefined)
        throw notFoundError('this server serves no checkpoint', {
          hint: 'start it with --checkpoint FILE (what `cos-db verify --write-checkpoint FILE` writes)',
        });
      if (!existsSync(file)) throw notFoundError('no checkpoint has been written yet');
      try {
        return readCheckpointFile(file);
      } catch {
        throw usageError('the checkpoint file is not a valid checkpoint');
      }
    },
  });
}
