import { redactPassword } from '../config/maskUrl.js';
import type { ServerTarget } from '../config/resolveTargets.js';
import type { CosError } from '../errors.js';
import { connectionError } from '../errors.js';

type DriverError = Error & { code?: string; errno?: number };

const REASONS: Record<string, { reason: string; hint: string }> = {
  ECONNREFUSED: {
    reason: 'connection refused (no server listening)',
    hint: 'start the server, or check host and port (`cos-db env` shows where each came from)',
  },
  ETIMEDOUT: {
    reason: 'connection timed out',
    hint: 'check the host, the network and any firewall; `cos-db ping --wait 30` waits for a starting server',
  },
  ENOTFOUND: { reason: 'host name not found', hint: 'check the host name' },
  EAI_AGAIN: { reason: 'host name lookup failed', hint: 'check the host name and DNS' },
  EHOSTUNREACH: { reason: 'host unreachable', hint: 'check the host and the network' },
  ECONNRESET: { reason: 'connection reset by the server', hint: 'check the server log' },
  '28P01': { reason: 'password authentication failed', hint: 'check the user and password' },
  '28000': {
    reason: 'the server refused this login',
    hint: 'check the user name and the server’s pg_hba.conf',
  },
  '3D000': {
    reason: 'the database does not exist',
    hint: 'create it (createdb) or point the env at an existing database',
  },
  '57P03': {
    reason: 'the server is starting up or shutting down',
    hint: 'wait for it: `cos-db ping --wait 30`',
  },
  '53300': { reason: 'too many connections', hint: 'try again later, or raise max_connections' },
};

/** True when the error happened while connecting, not while running a statement. */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as DriverError | undefined)?.code;
  if (code !== undefined && code in REASONS) return true;
  const message = (error as Error | undefined)?.message ?? '';
  return /timeout expired|Connection terminated|connect ECONN|getaddrinfo/i.test(message);
}

/** One line naming env, host, port, database and user (never the password) and why. */
export function connectionFailure(target: ServerTarget, error: unknown): CosError {
  const driverError = error as DriverError;
  const known = driverError.code === undefined ? undefined : REASONS[driverError.code];
  const reason =
    known?.reason ??
    (/timeout/i.test(driverError.message) ? 'connection timed out' : driverError.message);
  const who = target.user === undefined ? '' : ` as ${target.user}`;
  const message = redactPassword(
    `cannot connect to ${target.env} at ${target.host}:${target.port}/${target.database}${who}: ${reason}`,
    target.password,
  );
  return connectionError(message, {
    hint: known?.hint ?? 'check the connection settings with `cos-db env`',
    cause: error,
    details: {
      env: target.env,
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user ?? null,
      reason,
    },
  });
}
