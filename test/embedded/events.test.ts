import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactJson } from '../../src/events/exactJson.js';
import { openLineageId } from '../../src/events/openLineage.js';
import { runCli } from '../support/runCli.js';

describe('events and lineage on the embedded engine', () => {
  it('a new store not yet migrated says so: exit 6 and the command to run, nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-unmigrated-'));
    const env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}` };
    const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
    writeFileSync(join(dir, 'e.ndjson'), JSON.stringify({ event_id: 'a', type: 'start' }));
    for (const args of [
      ['archive', 'event', 'e.ndjson'],
      ['query', 'events'],
      ['trace', 'a'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(6);
      expect(r.stderr).toMatch(/this store is not migrated: .*core migration\(s\) pending/);
      expect(r.stderr).toContain('cos-db migrate');
    }
    expect((await cli('migrate', '-q')).code).toBe(0);
    expect(JSON.parse((await cli('query', 'events', '--json')).stdout)).toMatchObject({
      events: [],
    });
  });

  it('archive, skip the same again, trace a diamond, verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-events-'));
    const env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}` };
    const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
    const events = [
      { event_id: 'a', type: 'start', module: 'planner' },
      { event_id: 'b', type: 'left', parents: ['a'] },
      { event_id: 'c', type: 'right', parents: ['a'], module: 'planner' },
      { event_id: 'd', type: 'join', parents: ['b', 'c'] },
    ];
    writeFileSync(join(dir, 'e.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'));
    expect((await cli('migrate', '-q')).code).toBe(0);
    expect(JSON.parse((await cli('archive', 'event', 'e.ndjson', '--json')).stdout)).toMatchObject({
      new: 4,
    });
    expect(JSON.parse((await cli('archive', 'event', 'e.ndjson', '--json')).stdout)).toMatchObject({
      new: 0,
      already_archived: 4,
    });
    const t = JSON.parse((await cli('trace', 'd', '--json')).stdout) as {
      nodes: Array<{ id: string; distance: number }>;
    };
    expect(t.nodes.map((n) => [n.id, n.distance])).toEqual([
      ['a', -2],
      ['b', -1],
      ['c', -1],
      ['d', 0],
    ]);
    // Down through the GIN index on parents, with the edges among the nodes found.
    const down = JSON.parse((await cli('trace', 'a', '--down', '--json')).stdout) as {
      nodes: Array<{ id: string; distance: number }>;
      edges: Array<{ from: string; to: string; kind: string }>;
    };
    expect(down.nodes.map((n) => [n.id, n.distance])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 1],
      ['d', 2],
    ]);
    expect(down.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(['a>b', 'a>c', 'b>d', 'c>d']);
    // A chunk the database refuses (a parent nobody archived) is rolled back whole.
    writeFileSync(
      join(dir, 'bad.ndjson'),
      [
        JSON.stringify({ event_id: 'e', type: 'next', parents: ['d'] }),
        JSON.stringify({ event_id: 'f', type: 'next', parents: ['ghost'] }),
      ].join('\n'),
    );
    const bad = await cli('archive', 'event', 'bad.ndjson');
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('bad.ndjson:2: parent ghost of event f is not archived');
    expect((await cli('query', 'events', 'e')).code).toBe(3);
    expect((await cli('verify')).code).toBe(0);
  });
});

describe('OpenLineage on the embedded engine', () => {
  it('the Marquez fixtures archived and exported exactly; lineage derived by event time; verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-ol-'));
    const env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}` };
    const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
    const fixtures = new URL('../fixtures/openlineage/', import.meta.url).pathname;
    const lines = readdirSync(fixtures)
      .filter((f) => f.endsWith('.json'))
      .map((f) => compactJson(readFileSync(join(fixtures, f), 'utf8')));
    const run = (id: string, type: string, at: string, io: object) =>
      JSON.stringify({
        eventTime: at,
        eventType: type,
        producer: 'https://example.com/p',
        run: { runId: id },
        job: { namespace: 'etl', name: id.slice(0, 4) },
        ...io,
      });
    const A = 'aaaaaaaa-0000-4000-8000-000000000001';
    const B = 'bbbbbbbb-0000-4000-8000-000000000002';
    const writer = run(A, 'COMPLETE', '2026-11-01T10:00:00Z', {
      outputs: [{ namespace: 's3://b', name: 'orders' }],
    });
    const reader = run(B, 'START', '2026-11-01T11:00:00Z', {
      inputs: [{ namespace: 's3://b', name: 'orders' }],
    });
    // The reader first: its writer arrives later, and is linked all the same.
    writeFileSync(join(dir, 'ol.ndjson'), [...lines, reader, writer].join('\n'));
    expect((await cli('migrate', '-q')).code).toBe(0);
    const r = await cli('archive', 'event', 'ol.ndjson', '--format', 'openlineage', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ new: lines.length + 2 });
    const out = (await cli('export', 'events', '--format', 'openlineage')).stdout
      .trimEnd()
      .split('\n');
    expect(out.sort()).toEqual([...lines, reader, writer].sort());
    const t = JSON.parse((await cli('trace', openLineageId(reader), '--json')).stdout) as {
      nodes: Array<{ id: string; label: string }>;
    };
    expect(t.nodes.map((n) => n.label)).toEqual([
      'etl.aaaa COMPLETE (run aaaaaaaa)',
      'etl.bbbb START (run bbbbbbbb)',
    ]);
    expect((await cli('verify', '-q')).code).toBe(0);
  });
});

describe('redaction on the embedded engine', () => {
  it('erases a payload by id and by policy, verify passes and reports them, a bundle carries them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cos-db-embedded-redact-'));
    const env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}`, COS_ACTOR: 'dpo' };
    const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
    const events = Array.from({ length: 30 }, (_, i) => ({
      event_id: `e${i}`,
      type: i < 25 ? 'chat' : 'plan',
      occurred_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      parents: i ? [`e${i - 1}`] : [],
      payload: { email: `user${i}@example.com` },
    }));
    writeFileSync(join(dir, 'e.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'));
    expect((await cli('migrate', '-q')).code).toBe(0);
    expect((await cli('archive', 'event', 'e.ndjson', '-q')).code).toBe(0);
    const one = await cli('redact', 'e27', '--reason', 'request', '--json');
    expect(one.code, one.stderr).toBe(0);
    const policy = await cli(
      'redact',
      '--older-than',
      '400d',
      '--type',
      'chat',
      '--reason',
      'retention',
      '--batch-size',
      '7',
      '--json',
    );
    expect(policy.code, policy.stderr).toBe(0);
    expect(JSON.parse(policy.stdout)).toMatchObject({ redacted: 25, batches: 4 });
    const v = await cli('verify', '--json');
    expect(v.code, v.stdout).toBe(0);
    const chains = (
      JSON.parse(v.stdout) as { chains: Array<{ table: string; redacted: number; size: number }> }
    ).chains;
    expect(chains.find((c) => c.table === 'cc.events')).toMatchObject({ redacted: 26, size: 30 });
    expect(chains.find((c) => c.table === 'cc.redactions')).toMatchObject({ size: 26 });
    const exported = (await cli('export', 'events')).stdout;
    expect(exported).not.toContain('user3@example.com');
    expect(exported).toContain('user26@example.com');
    expect((await cli('export', '--all', '--out', 'b.bundle', '-q')).code).toBe(0);
    const copy = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'copy')}` };
    const c2 = (...args: string[]) => runCli(args, { env: copy, cwd: dir });
    expect((await c2('migrate', '-q')).code).toBe(0);
    expect((await c2('import', 'b.bundle', '-q')).code).toBe(0);
    expect((await c2('verify', '-q')).code).toBe(0);
  }, 120_000);
});
