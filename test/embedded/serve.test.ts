import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { startServe } from '../support/serveProcess.js';

describe('cos-db serve on the embedded engine', () => {
  it('serves the store, holding it: CLI commands against it say so (exit 7)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-serve-'));
    const env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}`, COS_ACTOR: 'admin' };
    const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
    expect((await cli('migrate', '-q')).code).toBe(0);
    const made = await cli('token', 'create', '--agent', 'planner', '--scope', 'append', '--json');
    const { token } = JSON.parse(made.stdout) as { token: string };
    const served = await startServe(env, [], dir);
    try {
      expect(served.stderr()).toMatch(/embedded store, held while serving/);
      const post = (body: unknown) =>
        fetch(`${served.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      // Concurrent appends of one event and of distinct ones, through its one connection.
      const same = await Promise.all(
        Array.from({ length: 10 }, () => post({ event_id: 'e1', type: 't' })),
      );
      expect(same.map((r) => r.status).sort()).toEqual([
        200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
      ]);
      const distinct = await Promise.all(
        Array.from({ length: 10 }, (_, i) => post({ event_id: `d${i}`, type: 't', module: 'm' })),
      );
      expect(distinct.every((r) => r.status === 201)).toBe(true);
      const verified = await fetch(`${served.url}/v1/verify`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await verified.json()).toMatchObject({ ok: true, rows: 12 });
      const held = await cli('--lock-timeout', '1', 'query', 'events');
      expect(held.code).toBe(7);
      expect(held.stderr).toMatch(/serve/);
    } finally {
      expect(await served.stop()).toBe(0);
    }
    // Once it has stopped, the store is the CLI's again.
    const r = await cli('query', 'events', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { events: unknown[] }).events).toHaveLength(11);
  }, 120_000);
});
