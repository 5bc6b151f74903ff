import { z } from 'zod';
import { documents } from '../../contract/documents.js';
import { notFoundError } from '../../errors.js';
import { proveConsistency, proveInclusion } from '../../integrity/proofs.js';
import { storedTreeHead } from '../../integrity/treeHeads.js';
import type { ServerContext, ZodApp } from '../context.js';
import { problemResponses } from '../routeHelpers.js';

const chainQuery = {
  table: z.string().optional().describe('the ledger table (default cc.events)'),
  chain: z.string().describe('the chain: a module, core, prd …'),
};

/** Offline receipts (cos-db prove) over HTTP: what an agent keeps to prove its appends later. */
export function proofRoutes(app: ZodApp, context: ServerContext): void {
  const { knex } = context;

  app.get('/v1/proofs/inclusion/:ref', {
    config: { scope: 'read' },
    schema: {
      summary: 'The C2SP tlog-proof that an event (or prd:ID@VERSION) is in its chain',
      description:
        'Against the newest signed checkpoint covering it; 404 until one does (`cos-db verify --write-checkpoint`). Check it offline with `cos-db verify-proof`.',
      tags: ['integrity'],
      params: z.strictObject({ ref: z.string() }),
      querystring: z.strictObject({
        with_payload: z
          .enum(['true', 'false'])
          .optional()
          .describe('include the payload and its salt, checked against its commitment'),
      }),
      response: { 200: documents.prove, ...problemResponses },
    },
    handler: async (request) => ({
      ...(await proveInclusion(knex, request.params.ref, {
        withPayload: request.query.with_payload === 'true',
      })),
      out: null,
    }),
  });

  app.get('/v1/proofs/consistency', {
    config: { scope: 'read' },
    schema: {
      summary: "That a chain's newest signed checkpoint extends the one signed at an older size",
      tags: ['integrity'],
      querystring: z.strictObject({
        ...chainQuery,
        from: z
          .string()
          .regex(/^[1-9][0-9]{0,18}$/)
          .describe("the older checkpoint's tree size"),
      }),
      response: { 200: documents.prove, ...problemResponses },
    },
    handler: async (request) => {
      const q = request.query;
      const proof = await proveConsistency(knex, {
        table: q.table ?? 'cc.events',
        chain: q.chain,
        size: BigInt(q.from),
      });
      return { ...proof, out: null };
    },
  });

  app.get('/v1/proofs/checkpoint', {
    config: { scope: 'read' },
    schema: {
      summary: "A chain's newest signed tree head (a C2SP checkpoint), as kept in the store",
      tags: ['integrity'],
      querystring: z.strictObject(chainQuery),
      response: { 200: documents['tree-head'], ...problemResponses },
    },
    handler: async (request) => {
      const table = request.query.table ?? 'cc.events';
      const head = await storedTreeHead(knex, table, request.query.chain, {});
      if (!head)
        throw notFoundError(`no signed checkpoint of chain ${request.query.chain} of ${table}`, {
          hint: 'sign one with `cos-db verify --write-checkpoint FILE --key KEY`',
        });
      return head;
    },
  });
}
