import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Knex } from 'knex';
import { ExitCode } from '../errors.js';
import { requireAppend, type TokenScope } from '../tokens/apiTokens.js';
import { AuthBatcher } from './authBatcher.js';
import { packageVersion } from '../packageRoot.js';
import { AppendQueue } from '../events/appendQueue.js';
import { DEFAULT_LIMITS, type Limits, type ServerContext } from './context.js';
import { openApiDocument } from './openApiDocument.js';
import { HttpProblem, problemOf, type Problem } from './problem.js';
import { RateLimiter } from './rateLimiter.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { prdRoutes } from './routes/prds.js';
import { proofRoutes } from './routes/proofs.js';
import { readRoutes } from './routes/reads.js';

export type ServerOptions = {
  knex: Knex;
  limits?: Partial<Limits>;
  checkpointFile?: string | undefined;
  /** Called with each failure the client is told is internal (500), for the server's log. */
  onInternalError?: (error: unknown) => void;
  /** Serve HTTPS with this certificate and key. */
  https?: { cert: Buffer; key: Buffer } | undefined;
  /** Adds routes of its own (the MCP endpoint). */
  extend?: (app: FastifyInstance, context: ServerContext) => void | Promise<void>;
};

/** The same answer for every token that is missing, malformed, unknown, expired or revoked. */
const UNAUTHORIZED = new HttpProblem(
  401,
  'unauthorized',
  'a valid token is required: Authorization: Bearer <token> (cos-db token create)',
);

function bearer(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1];
}

/** A Fastify error (validation, body too large, unsupported type) as a problem. */
function fastifyProblem(error: FastifyError): Problem | undefined {
  const status = error.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  const detail =
    error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? 'the body is over the size limit of this server (cos-db serve --max-body)'
      : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'unsupported Content-Type: send application/json, application/x-ndjson or text/markdown'
        : error.message;
  return problemOf(
    new HttpProblem(status, status === 413 ? 'body too large' : 'invalid request', detail),
  );
}

/**
 * The agent endpoint as a Fastify app, not yet listening: the routes over the functions the
 * CLI uses, token auth on every route but the health ones, errors as RFC 9457 problems.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const context: ServerContext = {
    knex: options.knex,
    limits,
    // Requests are grouped up to 10,000 events: the write lists the new ids up to that many.
    queue: new AppendQueue(options.knex, Math.min(Math.max(limits.maxBatch, 1000), 10_000)),
    checkpointFile: options.checkpointFile,
  };
  const app = Fastify({
    bodyLimit: limits.bodyBytes,
    logger: false,
    return503OnClosing: true,
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('identity', null);

  // Bodies are read as bytes: events are parsed by the same reader as `archive event`, which
  // keeps each line's number and refuses what JSON.parse would let through.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/x-ndjson', 'text/markdown', 'text/plain'],
    { parseAs: 'buffer' },
    (_request, body, done) => done(null, body),
  );

  const limiter = new RateLimiter(limits.ratePerSecond);
  const auth = new AuthBatcher(options.knex);
  app.addHook('onRequest', async (request, reply) => {
    const scope: TokenScope | undefined = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const token = bearer(request.headers.authorization);
    const identity = token === undefined ? null : await auth.identify(token);
    if (!identity) throw UNAUTHORIZED;
    const wait = limiter.take(identity.token_id);
    if (wait !== true) {
      reply.header('retry-after', String(wait));
      throw new HttpProblem(
        429,
        'too many requests',
        `this token is over ${limits.ratePerSecond} requests a second; slow down`,
        ExitCode.serverRefused,
      );
    }
    if (scope === 'append') requireAppend(identity);
    request.identity = identity;
  });

  app.setErrorHandler((error, request, reply) => {
    const fastify =
      error instanceof HttpProblem ? undefined : fastifyProblem(error as FastifyError);
    const problem = fastify ?? problemOf(error, request.routeOptions.config.unprocessable === true);
    if (problem.status >= 500 && problem.exit_code === ExitCode.internal)
      options.onInternalError?.(error);
    void reply.code(problem.status).type('application/problem+json').send(problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = problemOf(
      new HttpProblem(
        404,
        'not found',
        `no route ${request.method} ${request.url.split('?')[0]}`,
        ExitCode.notFound,
      ),
    );
    void reply.code(404).type('application/problem+json').send(problem);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cos-db agent endpoint',
        version: packageVersion(),
        description:
          'Read and append to the COS L4 canonical store. Every route but /healthz and /readyz needs Authorization: Bearer <token> (cos-db token create).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const zodApp = app.withTypeProvider<ZodTypeProvider>();
  let openApi: Record<string, unknown> | undefined;
  healthRoutes(zodApp, context);
  eventRoutes(zodApp, context);
  prdRoutes(zodApp, context);
  readRoutes(zodApp, context);
  proofRoutes(zodApp, context);
  zodApp.get('/openapi.json', {
    config: { scope: 'read' },
    schema: { hide: true },
    // Made once, on first asking: the routes do not change while the server runs.
    handler: async () => (openApi ??= openApiDocument(app)),
  });
  await options.extend?.(app, context);
  app.addHook('onClose', async () => context.queue.idle());
  await app.ready();
  return app;
}
