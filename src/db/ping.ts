import type { Database } from './withDatabase.js';

export type PingResult = {
  env: string;
  engine: 'postgres' | 'embedded';
  server_version: string;
  version: string;
  round_trip_ms: number;
};

/** Asks the server for its version and measures one round trip (median of three). */
export async function ping(db: Database): Promise<PingResult> {
  const result = await db.knex.raw<{ rows: Array<{ version: string; server_version: string }> }>(
    "select version() as version, current_setting('server_version') as server_version",
  );
  const row = result.rows[0];
  const times: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const start = process.hrtime.bigint();
    await db.knex.raw('select 1');
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return {
    env: db.target.env,
    engine: db.engine,
    server_version: row?.server_version.split(' ')[0] ?? 'unknown',
    version: row?.version ?? 'unknown',
    round_trip_ms: Math.round((times[1] ?? 0) * 100) / 100,
  };
}
