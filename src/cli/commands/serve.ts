import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { defineCommand, flag, value } from '../command.js';
import { parseWholeNumber } from '../guards.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export default defineCommand({
  path: 'serve',
  description:
    'the agent endpoint: an HTTP/JSON API (and MCP at /mcp) over the selected store, with token auth',
  options: {
    host: value('<host>', 'address to bind (default 127.0.0.1: loopback only)'),
    port: value('<port>', 'port (default 8787; 0 for any free one)'),
    insecureHttp: flag(
      'allow plain HTTP on an address beyond loopback (TLS is terminated by a reverse proxy in front)',
    ),
    tlsCert: value('<file>', 'serve HTTPS with this certificate (PEM), with --tls-key'),
    tlsKey: value('<file>', "the certificate's private key (PEM)"),
    checkpoint: value('<file>', 'the signed checkpoint GET /v1/checkpoints/latest serves'),
    maxBody: value('<bytes>', 'largest request body (default 8388608)'),
    maxBatch: value('<n>', 'most events in one request, 1 to 10000 (default 5000)'),
    rateLimit: value('<n>', 'requests a second per token (default 1000; 0 for none)'),
    pool: value('<n>', 'database connections, on a server (default 10)'),
  },
  async run({ settings, out, options: o, withDb }) {
    const host = o.host ?? '127.0.0.1';
    const port = parseWholeNumber(o.port, '--port') ?? 8787;
    if (port > 65535) throw usageError('--port must be from 0 to 65535');
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
      throw usageError('--tls-cert and --tls-key go together');
    const tls = o.tlsCert !== undefined && o.tlsKey !== undefined;
    if (!LOOPBACK.has(host) && !tls && !o.insecureHttp)
      throw usageError(
        `refusing to serve plain HTTP on ${host}, beyond loopback: tokens would cross the network in clear`,
        {
          hint: 'give --tls-cert and --tls-key, or put a TLS reverse proxy in front and add --insecure-http',
        },
      );
    const pem = (file: string, option: string) => {
      try {
        return readFileSync(resolve(settings.cwd, file));
      } catch (error) {
        throw usageError(
          `cannot read ${option} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
    };
    const https = tls
      ? { cert: pem(o.tlsCert as string, '--tls-cert'), key: pem(o.tlsKey as string, '--tls-key') }
      : undefined;
    const maxBatch = parseWholeNumber(o.maxBatch, '--max-batch');
    // A group's receipts are told from the ids the write returns, which it lists up to 10,000.
    if (maxBatch !== undefined && (maxBatch < 1 || maxBatch > 10_000))
      throw usageError('--max-batch must be from 1 to 10000');
    const maxBody = parseWholeNumber(o.maxBody, '--max-body');
    if (maxBody === 0) throw usageError('--max-body must be at least 1');
    const limits = {
      ...(maxBody !== undefined ? { bodyBytes: maxBody } : {}),
      ...(maxBatch !== undefined ? { maxBatch } : {}),
      ...(o.rateLimit !== undefined
        ? { ratePerSecond: parseWholeNumber(o.rateLimit, '--rate-limit') }
        : {}),
    } as Record<string, number>;
    const poolMax = parseWholeNumber(o.pool, '--pool') ?? 10;
    const [{ serve }, { onStopRequest }] = await Promise.all([
      import('../../server/serve.js'),
      import('../../interrupt.js'),
    ]);
    await withDb(
      async (db) => {
        const running = await serve({
          knex: db.knex,
          host,
          port,
          https,
          limits,
          checkpointFile:
            o.checkpoint === undefined ? undefined : resolve(settings.cwd, o.checkpoint),
          onInternalError: (error) =>
            out.warn(`internal error: ${(error as Error).stack ?? String(error)}`),
        });
        const stop = onStopRequest(() => {
          out.info('cos-db serve: stopping (finishing requests in flight)…');
          void running.close();
        });
        out.info(
          `cos-db serve: listening on ${running.url} (${settings.env}, ${db.engine === 'embedded' ? 'embedded store, held while serving' : 'PostgreSQL'}); Ctrl-C to stop`,
        );
        try {
          await running.closed;
        } finally {
          stop();
        }
      },
      { poolMax },
    );
  },
});
