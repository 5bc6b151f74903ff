import { z } from 'zod';
import { documents } from '../../contract/documents.js';
import { eventDetail, queryEvents } from '../../events/queryEvents.js';
import { parseTime } from '../../config/parseTime.js';
import { storeOrigin } from '../../integrity/ledgerCatalog.js';
import { eventReceipt } from '../../integrity/treeHeads.js';
import type { ServerContext, ZodApp } from '../context.js';
import { clampedLimit, problemResponses } from '../routeHelpers.js';
import { requestEvents } from '../requestRecords.js';

const filters = z.strictObject({
  type: z.string().optional(),
  module: z.string().optional(),
  actor: z.string().optional(),
  task: z.string().optional(),
  since: z.string().optional().describe('an ISO time, or an age such as 2h'),
  until: z.string().optional(),
  after: z.string().optional().describe("the page after this event: the last page's `next`"),
  limit: z
    .string()
    .optional()
    .describe('events per page, 1 or more (default 100); larger than the maximum is clamped'),
});

export function eventRoutes(app: ZodApp, context: ServerContext): void {
  const { knex, limits, queue } = context;
  // The store's identity never changes: read once, on the first append.
  let origin: string | undefined;

  app.post('/v1/events', {
    config: { scope: 'append', unprocessable: true },
    schema: {
      summary: 'Append events: one JSON object, a JSON array, or NDJSON',
      description:
        "The same rules as `cos-db archive event`. The token's agent is every event's actor. 201 if any event is new, else 200.",
      tags: ['events'],
      response: {
        200: documents['append-receipts'],
        201: documents['append-receipts'],
        ...problemResponses,
      },
    },
    handler: async (request, reply) => {
      const events = await requestEvents(request.body, 'cos', request.identity!, limits.maxBatch);
      const outcomes = await queue.append(events);
      origin ??= (await storeOrigin(knex)) ?? '';
      reply.code(outcomes.some((o) => o.status === 'archived') ? 201 : 200);
      return {
        events: outcomes.map((o) => ({ ...o, receipt: eventReceipt(origin as string, o) })),
      };
    },
  });

  // Marquez's path and answers: an OpenLineage client configured for Marquez sends here unchanged.
  app.post('/api/v1/lineage', {
    config: { scope: 'append', unprocessable: true },
    schema: {
      summary: 'OpenLineage ingest (RunEvent, JobEvent, DatasetEvent), as Marquez takes it',
      tags: ['lineage'],
      response: problemResponses,
    },
    handler: async (request, reply) => {
      const events = await requestEvents(
        request.body,
        'openlineage',
        request.identity!,
        limits.maxBatch,
      );
      await queue.append(events);
      // Marquez answers 201 with no body.
      return reply.code(201).send(undefined as never);
    },
  });

  app.get('/v1/events', {
    config: { scope: 'read' },
    schema: {
      summary: 'Events in time order, filtered, a page at a time',
      tags: ['events'],
      querystring: filters,
      response: { 200: documents['query-events'], ...problemResponses },
    },
    handler: async (request) => {
      const q = request.query;
      return queryEvents(knex, {
        type: q.type,
        module: q.module,
        actor: q.actor,
        task: q.task,
        since: parseTime(q.since, 'since'),
        until: parseTime(q.until, 'until'),
        after: q.after,
        limit: clampedLimit(q.limit, 100, limits.maxLimit),
      });
    },
  });

  app.get('/v1/events/:id', {
    config: { scope: 'read' },
    schema: {
      summary: 'One event whole, with its parents, children and links',
      tags: ['events'],
      params: z.strictObject({ id: z.string() }),
      response: { 200: documents['event-detail'], ...problemResponses },
    },
    handler: async (request) => eventDetail(knex, request.params.id),
  });
}
