import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

/**
 * Every edge trace shows is derived from hashed rows: the edge tables are written by the
 * database from cc.events and by nothing else, and verify proves they say what the rows say.
 */
let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-forgery-'));
const cli = (args: string[], url = db.url) =>
  runCli(args, { env: { COS_DEV_DATABASE_URL: url }, cwd: dir });
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};
const agent = `agent_${Math.random().toString(36).slice(2, 8)}`;
const role = `cos_agent_${agent}`;

type TraceJson = { nodes: Array<{ id: string }> };
type VerifyJson = {
  ok: boolean;
  derived: Array<{
    table: string;
    status: string;
    problem_count: number;
    problems: Array<{ kind: string; event_id: string | null; edge: string }>;
  }>;
};

/** Every user trigger of the table back to ENABLE ALWAYS, as the migrations left them. */
const rearm = (table: string) => `do $$ declare t text; begin
  for t in select tgname from pg_trigger where tgrelid = '${table}'::regclass and not tgisinternal loop
    execute format('alter table ${table} enable always trigger %I', t);
  end loop; end $$`;

const olEvent = (runId: string, type: string, time: string, io: object) =>
  JSON.stringify({
    eventType: type,
    eventTime: time,
    producer: 'https://example.com/test',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId },
    job: { namespace: 'jobs', name: runId.slice(0, 4) },
    ...io,
  });

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli(['migrate', '-q'])).code).toBe(0);
  write('spec.md', '---\nid: spec\n---\n# Spec\n');
  expect((await cli(['archive', 'prd', 'spec.md', '-q'])).code).toBe(0);
  expect((await cli(['agent-role', role, '-q'])).code).toBe(0);
  await sql(db.url, `create role ${agent} login; grant ${role} to ${agent}`);
});
afterAll(async () => {
  await db.drop();
  await sql(db.url.replace(/\/[^/]*$/, '/postgres'), `drop role if exists ${agent}`).catch(() => 0);
  await sql(db.url.replace(/\/[^/]*$/, '/postgres'), `drop role if exists ${role}`).catch(() => 0);
});

describe('lineage under the proof', () => {
  it('an agent role archives events with inputs and datasets; the database derives the edges', async () => {
    const agentUrl = Object.assign(new URL(db.url), { username: agent }).toString();
    write('e.ndjson', JSON.stringify({ event_id: 'built', type: 'build', inputs: ['prd:spec@1'] }));
    const r = await cli(['archive', 'event', 'e.ndjson', '--json'], agentUrl);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    write(
      'ol.ndjson',
      [
        olEvent('aaaaaaaa-0000-4000-8000-000000000001', 'COMPLETE', '2026-11-01T10:00:00Z', {
          outputs: [{ namespace: 's3://b', name: 'orders' }],
        }),
        olEvent('bbbbbbbb-0000-4000-8000-000000000002', 'START', '2026-11-01T11:00:00Z', {
          inputs: [{ namespace: 's3://b', name: 'orders' }],
        }),
      ].join('\n'),
    );
    const ol = await cli(
      ['archive', 'event', 'ol.ndjson', '--format', 'openlineage', '-q'],
      agentUrl,
    );
    expect(ol.code).toBe(0);
    expect(await sql(db.url, 'select event_id, prd_id, version from cc.event_inputs')).toEqual([
      { event_id: 'built', prd_id: 'spec', version: 1 },
    ]);
    expect(
      await sql<{ role: string }>(
        db.url,
        'select role, namespace, name, run_id from cc.event_datasets order by role',
      ),
    ).toEqual([
      {
        role: 'input',
        namespace: 's3://b',
        name: 'orders',
        run_id: 'bbbbbbbb-0000-4000-8000-000000000002',
      },
      {
        role: 'output',
        namespace: 's3://b',
        name: 'orders',
        run_id: 'aaaaaaaa-0000-4000-8000-000000000001',
      },
    ]);
    expect((await cli(['verify', '-q'])).code).toBe(0);
  });

  it('nobody writes an edge on its own: the agent lacks the privilege, the owner meets the trigger', async () => {
    const forged = "insert into cc.event_inputs values ('built', 'spec', 1)";
    await expect(sql(db.url, `set role ${role}; ${forged}`)).rejects.toThrow(/permission denied/);
    await expect(
      sql(
        db.url,
        `set role ${role}; insert into cc.event_datasets values ('built', 'x', 'y', 'output', null, now())`,
      ),
    ).rejects.toThrow(/permission denied/);
    // As superuser, in replica mode too: the table is derived, whoever asks.
    await expect(sql(db.url, forged)).rejects.toThrow(/derived from the hashed rows of cc\.events/);
    await expect(sql(db.url, `set session_replication_role = replica; ${forged}`)).rejects.toThrow(
      /derived from the hashed rows/,
    );
  });

  it('an edge forged with the triggers off is named by verify (exit 4), and so is one removed', async () => {
    write('n.ndjson', JSON.stringify({ event_id: 'plain', type: 'note' }));
    expect((await cli(['archive', 'event', 'n.ndjson', '-q'])).code).toBe(0);
    await sql(
      db.url,
      `alter table cc.event_inputs disable trigger user;
       insert into cc.event_inputs values ('plain', 'spec', 1);
       ${rearm('cc.event_inputs')};
       alter table cc.event_datasets disable trigger user;
       delete from cc.event_datasets where role = 'input';
       ${rearm('cc.event_datasets')}`,
    );
    // What trace and query would have shown: the forged edge is there to see.
    const t = JSON.parse(
      (await cli(['trace', 'prd:spec@1', '--down', '--json'])).stdout,
    ) as TraceJson;
    expect(t.nodes.map((n) => n.id)).toContain('built');
    const r = await cli(['verify', '--json']);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as VerifyJson;
    expect(report.ok).toBe(false);
    expect(report.derived.find((d) => d.table === 'cc.event_inputs')).toMatchObject({
      status: 'broken',
      problem_count: 1,
      problems: [{ kind: 'edge-not-in-row', event_id: 'plain', edge: 'prd:spec@1' }],
    });
    expect(report.derived.find((d) => d.table === 'cc.event_datasets')).toMatchObject({
      status: 'broken',
      problems: [{ kind: 'edge-missing', edge: 'input s3://b orders' }],
    });
    expect(r.stderr).toContain('cc.event_inputs (derived edges)');
    // A disabled derivation trigger is named too.
    await sql(db.url, 'alter table cc.events disable trigger cos_derive_edges');
    const off = JSON.parse((await cli(['verify', '--json'])).stdout) as VerifyJson;
    expect(JSON.stringify(off.derived)).toContain(
      'trigger cos_derive_edges on cc.events is disabled',
    );
    await sql(db.url, 'alter table cc.events enable always trigger cos_derive_edges');
  });
});
