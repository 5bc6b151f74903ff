import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export type TestDatabase = { url: string; name: string; drop(): Promise<void> };

export function adminUrl(): string {
  return inject('pgAdminUrl');
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the test server; drop() removes it, closing any session still in it. */
export async function createTestDatabase(prefix = 'cos_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin((client) => client.query(`create database "${name}"`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      admin(
        async (client) =>
          void (await client.query(`drop database if exists "${name}" with (force)`)),
      ),
  };
}

/** Runs one query on a database by URL, outside cos-db, to check what it did. */
export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Several statements in one string give one result each: return the last one's rows.
    const result = (await client.query<R>(text, values)) as
      pg.QueryResult<R> | Array<pg.QueryResult<R>>;
    return (Array.isArray(result) ? result[result.length - 1] : result)?.rows ?? [];
  } finally {
    await client.end();
  }
}
