import { CosError, ExitCode, usageError } from '../../errors.js';
import { targetAddress } from '../../config/describeTarget.js';
import { defineCommand, value } from '../command.js';

export default defineCommand({
  path: 'ping',
  description: 'connect and report the server version and round-trip time',
  options: {
    wait: value('<seconds>', 'retry with backoff until the server answers or time is up'),
  },
  async run({ settings, out, options, withDb }) {
    const { ping } = await import('../../db/ping.js');
    const waitSeconds = options.wait === undefined ? 0 : Number(options.wait);
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
      throw usageError(`--wait: "${options.wait}" is not a number of seconds`);
    }
    const deadline = Date.now() + waitSeconds * 1000;
    let delay = 100;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const started = Date.now();
      try {
        const result = await withDb(
          (db) => ping(db),
          waitSeconds > 0
            ? {
                connectTimeoutMs: Math.max(500, Math.min(10_000, deadline - Date.now())),
                legacy: true,
              }
            : { legacy: true },
        );
        const connectMs = Date.now() - started;
        const where = targetAddress(settings.target);
        out.result(
          { ...result, target: where, connect_ms: connectMs, attempts },
          () =>
            `${result.env}: PostgreSQL ${result.server_version}${result.engine === 'embedded' ? ' (embedded)' : ''} at ${where}, round trip ${result.round_trip_ms} ms`,
        );
        return;
      } catch (error) {
        const retriable = error instanceof CosError && error.exitCode === ExitCode.connection;
        if (!retriable || Date.now() >= deadline) {
          if (retriable && attempts > 1) {
            throw new CosError(
              ExitCode.connection,
              `${error.message} (gave up after ${attempts} attempts in ${waitSeconds} s)`,
              { hint: error.hint ?? '', details: error.details ?? {} },
            );
          }
          throw error;
        }
        if (attempts === 1)
          out.info(`waiting up to ${waitSeconds} s for ${settings.env} to answer…`);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))),
        );
        delay = Math.min(delay * 2, 2000);
      }
    }
  },
});
