import { z } from 'zod';
import { documents } from '../../contract/documents.js';
import { archivePrds } from '../../prd/archivePrds.js';
import { diffPrd } from '../../prd/diffPrd.js';
import { parsePrd } from '../../prd/parsePrd.js';
import { listPrds, prdHistory, prdVersion } from '../../prd/queryPrds.js';
import { usageError } from '../../errors.js';
import type { ServerContext, ZodApp } from '../context.js';
import { problemResponses, wholeNumber } from '../routeHelpers.js';

const prdId = z.strictObject({ id: z.string() });

export function prdRoutes(app: ZodApp, context: ServerContext): void {
  const { knex } = context;

  app.post('/v1/prds/:id/versions', {
    config: { scope: 'append' },
    schema: {
      summary:
        "Archive a PRD's markdown as its next version (unchanged text: 200, the existing version)",
      tags: ['prds'],
      params: prdId,
      querystring: z.strictObject({
        message: z.string().max(2000).optional().describe('why it changed'),
      }),
      response: {
        200: documents['archive-prd'].element,
        201: documents['archive-prd'].element,
        ...problemResponses,
      },
    },
    handler: async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw usageError('body: send the PRD markdown (text/markdown)');
      const input = parsePrd(body, { label: 'body', id: request.params.id, sourcePath: null });
      const [outcome] = await archivePrds(knex, [input], {
        actor: request.identity!.agent,
        message: request.query.message,
      });
      reply.code(outcome?.outcome === 'unchanged' ? 200 : 201);
      return outcome;
    },
  });

  app.get('/v1/prds', {
    config: { scope: 'read' },
    schema: {
      summary: 'Every PRD with its latest version',
      tags: ['prds'],
      querystring: z.strictObject({ status: z.string().optional() }),
      response: { 200: documents['query-prd'], ...problemResponses },
    },
    handler: async (request) =>
      listPrds(knex, request.query.status === undefined ? {} : { status: request.query.status }),
  });

  app.get('/v1/prds/:id', {
    config: { scope: 'read' },
    schema: {
      summary: "A PRD's versions, oldest first",
      tags: ['prds'],
      params: prdId,
      response: { 200: documents['prd-history'], ...problemResponses },
    },
    handler: async (request) => prdHistory(knex, request.params.id),
  });

  app.get('/v1/prds/:id/versions/:n', {
    config: { scope: 'read' },
    schema: {
      summary: 'One version\'s markdown, byte for byte ("latest" for the latest)',
      tags: ['prds'],
      params: z.strictObject({ id: z.string(), n: z.string() }),
      response: {
        200: z.string().describe('text/markdown; charset=utf-8'),
        ...problemResponses,
      },
    },
    handler: async (request, reply) => {
      const { id, n } = request.params;
      const version = n === 'latest' ? undefined : wholeNumber(n, 'version');
      const row = await prdVersion(knex, id, version);
      reply
        .type('text/markdown; charset=utf-8')
        .header('etag', `"${row.content_sha256}"`)
        .header('x-cos-version', String(row.version));
      return row.content;
    },
  });

  app.get('/v1/prds/:id/diff', {
    config: { scope: 'read' },
    schema: {
      summary: 'A unified diff between two versions (default the last two)',
      tags: ['prds'],
      params: prdId,
      querystring: z.strictObject({ from: z.string().optional(), to: z.string().optional() }),
      response: { 200: documents['diff-prd'], ...problemResponses },
    },
    handler: async (request) =>
      diffPrd(
        knex,
        request.params.id,
        wholeNumber(request.query.from, 'from'),
        wholeNumber(request.query.to, 'to'),
      ),
  });
}
