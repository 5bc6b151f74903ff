import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Knex } from 'knex';
import type { Identity, TokenScope } from '../tokens/apiTokens.js';
import type { AppendQueue } from '../events/appendQueue.js';

/** What the endpoint bounds, each settable on `cos-db serve`. */
export type Limits = {
  /** Largest request body, bytes (413 past it). */
  bodyBytes: number;
  /** Most events in one POST (413 past it). */
  maxBatch: number;
  /** Largest `limit` of a listing: larger ones are clamped to it. */
  maxLimit: number;
  /** Most nodes in a trace (`truncated` past it). */
  traceNodes: number;
  /** Deepest trace walk: deeper ones are clamped to it. */
  maxDepth: number;
  /** Requests per second per token (429 past it); 0 for no limit. */
  ratePerSecond: number;
};

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 8 * 1024 * 1024,
  maxBatch: 5000,
  maxLimit: 1000,
  traceNodes: 2000,
  maxDepth: 1000,
  ratePerSecond: 1000,
};

/** Everything a route needs: the database, the bounds, the append queue. */
export type ServerContext = {
  knex: Knex;
  limits: Limits;
  queue: AppendQueue;
  /** The signed checkpoint file GET /v1/checkpoints/latest serves, if one is named. */
  checkpointFile: string | undefined;
};

/** The Fastify instance routes are added to, its schemas zod's. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; none for the health routes. */
    scope?: TokenScope;
    /** A 404 about a record the body names is a 422 here. */
    unprocessable?: boolean;
  }
  interface FastifyRequest {
    identity: Identity | null;
  }
}
