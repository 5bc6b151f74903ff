import type { FastifyInstance } from 'fastify';
import { jsonSchema } from '../contract/jsonSchema.js';

/** The bodies Fastify reads as bytes, which the route schemas cannot say. */
function bodies(): Record<string, Record<string, unknown>> {
  const event = jsonSchema('event');
  const events = { oneOf: [event, { type: 'array', items: event }] };
  const ndjson = { type: 'string', description: 'one event per line (NDJSON)' };
  return {
    'post /v1/events': {
      required: true,
      content: {
        'application/json': { schema: events },
        'application/x-ndjson': { schema: ndjson },
      },
    },
    'post /api/v1/lineage': {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            description: 'an OpenLineage RunEvent, JobEvent or DatasetEvent (or an array of them)',
          },
        },
        'application/x-ndjson': { schema: ndjson },
      },
    },
    'post /v1/prds/{id}/versions': {
      required: true,
      content: { 'text/markdown': { schema: { type: 'string' } } },
    },
  };
}

/** The OpenAPI 3.1 document, from the routes' zod schemas, with the raw bodies described. */
export function openApiDocument(app: FastifyInstance): Record<string, unknown> {
  const doc = structuredClone(app.swagger()) as unknown as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  for (const [key, body] of Object.entries(bodies())) {
    const [method, path] = key.split(' ') as [string, string];
    const operation = doc.paths[path]?.[method];
    if (operation) operation.requestBody = body;
  }
  const lineage = doc.paths['/api/v1/lineage']?.post;
  if (lineage)
    lineage.responses = {
      201: { description: 'Created: archived (or already archived), no body, as Marquez answers' },
      ...(lineage.responses as Record<string, unknown>),
    };
  // Refusals are problem documents (RFC 9457), whatever the route's own type.
  for (const operations of Object.values(doc.paths))
    for (const operation of Object.values(operations)) {
      const responses = (operation.responses ?? {}) as Record<
        string,
        { content?: Record<string, unknown> }
      >;
      for (const [status, response] of Object.entries(responses))
        if (/^[45]XX$/.test(status) && response.content?.['application/json'])
          response.content = { 'application/problem+json': response.content['application/json'] };
    }
  for (const path of ['/healthz', '/readyz']) {
    const operation = doc.paths[path]?.get;
    if (operation) operation.security = [];
  }
  return doc as unknown as Record<string, unknown>;
}
