import type { Knex } from 'knex';
import type { Limits } from './context.js';
import { buildServer } from './buildServer.js';
import { mcpRoute } from './mcpRoute.js';

export type Running = {
  /** The address it listens on, e.g. http://127.0.0.1:8787. */
  url: string;
  close: () => Promise<void>;
  /** Settles when the server has closed. */
  closed: Promise<void>;
};

/** Builds the endpoint (HTTP routes and MCP at /mcp) and listens. */
export async function serve(options: {
  knex: Knex;
  host: string;
  port: number;
  https?: { cert: Buffer; key: Buffer } | undefined;
  limits?: Partial<Limits>;
  checkpointFile?: string | undefined;
  onInternalError?: (error: unknown) => void;
}): Promise<Running> {
  const app = await buildServer({
    knex: options.knex,
    limits: options.limits ?? {},
    checkpointFile: options.checkpointFile,
    onInternalError: options.onInternalError,
    https: options.https,
    extend: (app, context) => mcpRoute(app, context, options.host),
  });
  const address = await app.listen({ host: options.host, port: options.port });
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const close = async () => {
    try {
      await app.close();
    } finally {
      resolveClosed();
    }
  };
  return { url: address, close, closed };
}
