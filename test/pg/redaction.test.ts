import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/runCli.js';
import { adminUrl, createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

const dir = mkdtempSync(join(tmpdir(), 'cos-db-redact-'));
const key = join(dir, 'signing.key');
const dbs: TestDatabase[] = [];
const fresh = async () => {
  const d = await createTestDatabase();
  dbs.push(d);
  expect((await runCli(['--url', d.url, 'migrate', '-q'])).code).toBe(0);
  return d;
};
const cliOn =
  (d: TestDatabase, extra: Record<string, string> = {}) =>
  (...args: string[]) =>
    runCli(['--url', d.url, ...args], {
      env: { COS_ACTOR: 'dpo', COS_SIGNING_KEY: key, ...extra },
      cwd: dir,
    });
const write = (name: string, lines: unknown[]) => {
  writeFileSync(join(dir, name), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return name;
};
const json = <T = Record<string, unknown>>(stdout: string) => JSON.parse(stdout) as T;

type Chain = {
  table: string;
  chain: string;
  status: string;
  redacted: number;
  problems: Array<{ position: string | null; kind: string; detail: string }>;
};
type Verify = { ok: boolean; chains: Chain[] };
const chainOf = (v: Verify, table: string, chain: string) =>
  v.chains.find((c) => c.table === table && c.chain === chain) as Chain;

const EVENTS = [
  {
    event_id: 'p1',
    type: 'profile',
    actor: 'agent-a',
    payload: { email: 'ann@example.com', n: 1 },
  },
  { event_id: 'p2', type: 'profile', parents: ['p1'], payload: { email: 'bob@example.com' } },
  { event_id: 'p3', type: 'note', parents: ['p2'], payload: { text: 'kept' } },
];

/** Events with personal data, some old: the store a retention policy runs on. */
async function seeded(): Promise<{ d: TestDatabase; cli: ReturnType<typeof cliOn> }> {
  const d = await fresh();
  const cli = cliOn(d);
  expect((await cli('archive', 'event', write(`seed-${d.name}.ndjson`, EVENTS), '-q')).code).toBe(
    0,
  );
  return { d, cli };
}

beforeAll(async () => {
  expect((await runCli(['keygen', '--out', key])).code).toBe(0);
});
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe('cos-db redact (real PostgreSQL)', () => {
  it('erases a payload, records the redaction on its own chain, and verify still passes', async () => {
    const { d, cli } = await seeded();
    await expect(
      cli('verify', '--write-checkpoint', join(dir, `before-${d.name}.json`), '-q'),
    ).resolves.toMatchObject({ code: 0 });
    const r = await cli('redact', 'p1', '--reason', 'GDPR art. 17 request #812', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = json<{
      redacted: number;
      redactions: Array<{ event_id: string; seq: string; requested_by: string }>;
    }>(r.stdout);
    expect(report.redacted).toBe(1);
    expect(report.redactions[0]).toMatchObject({ event_id: 'p1', seq: '1', requested_by: 'dpo' });

    const [row] = await sql<{ payload: unknown; payload_salt: unknown }>(
      d.url,
      "select payload, payload_salt from cc.events where event_id = 'p1'",
    );
    expect(row).toEqual({ payload: null, payload_salt: null });
    const [rec] = await sql<{ reason: string; requested_by: string; n: number }>(
      d.url,
      "select reason, requested_by, octet_length(commitment) as n from cc.redactions where event_id = 'p1'",
    );
    expect(rec).toEqual({ reason: 'GDPR art. 17 request #812', requested_by: 'dpo', n: 32 });

    const v = await cli('verify', '--json');
    expect(v.code, v.stdout).toBe(0);
    const verify = json<Verify>(v.stdout);
    expect(chainOf(verify, 'cc.events', 'core')).toMatchObject({ status: 'intact', redacted: 1 });
    expect(chainOf(verify, 'cc.redactions', 'redactions')).toMatchObject({
      status: 'intact',
      redacted: 0,
    });
    expect((await cli('verify')).stdout).toMatch(/cc\.events core: 1 redacted/);

    // A checkpoint signed before the redaction still verifies after it.
    const c = await cli('verify', '--checkpoint', join(dir, `before-${d.name}.json`), '--json');
    expect(c.code, c.stdout).toBe(0);

    // Every view of the event says it was redacted, and carries no value.
    const q = json<{ payload: unknown; redaction: { reason: string; requested_by: string } }>(
      (await cli('query', 'events', 'p1', '--json')).stdout,
    );
    expect(q.payload).toBeNull();
    expect(q.redaction).toMatchObject({ reason: 'GDPR art. 17 request #812', requested_by: 'dpo' });
    const list = json<{ events: Array<{ event_id: string; redaction: unknown }> }>(
      (await cli('query', 'events', '--json')).stdout,
    );
    expect(list.events.map((e) => [e.event_id, e.redaction !== null])).toEqual([
      ['p1', true],
      ['p2', false],
      ['p3', false],
    ]);
    const nd = (await cli('export', 'events')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(nd[0]).toMatchObject({ event_id: 'p1', payload: null, redaction: { field: 'payload' } });
    expect(JSON.stringify(nd)).not.toContain('ann@example.com');
    const ol = (await cli('export', 'events', '--format', 'openlineage')).stdout
      .trim()
      .split('\n')[0] as string;
    expect(JSON.parse(ol)).toMatchObject({
      run: { facets: { cos_redaction: { reason: 'GDPR art. 17 request #812' } } },
    });
    expect(ol).not.toContain('ann@example.com');
    expect((await cli('export', 'events', '--format', 'csv')).stdout).not.toContain(
      'ann@example.com',
    );

    // Asked again: already redacted, nothing new recorded.
    const again = await cli('redact', 'p1', '--reason', 'again', '--json');
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toMatchObject({ redacted: 0, already_redacted: ['p1'] });
    expect(await sql(d.url, 'select count(*)::int as n from cc.redactions')).toEqual([{ n: 1 }]);

    // The event sent again does not bring its value back: it is the same event, already archived.
    const resend = await cli(
      'archive',
      'event',
      write(`resend-${d.name}.ndjson`, [EVENTS[0]]),
      '--json',
    );
    expect(resend.code, resend.stderr).toBe(0);
    expect(await sql(d.url, "select payload from cc.events where event_id = 'p1'")).toEqual([
      { payload: null },
    ]);
    // A redacted record cannot be archived anew (its value is gone): one clear line, exit 2.
    const other = await fresh();
    writeFileSync(join(dir, `rec-${d.name}.ndjson`), `${JSON.stringify(nd[0])}\n`);
    const rearchive = await cliOn(other)('archive', 'event', `rec-${d.name}.ndjson`);
    expect(rearchive.code).toBe(2);
    expect(rearchive.stderr).toMatch(/redacted record/);
    expect(rearchive.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses bad requests with one line, the documented exit code, and changes nothing', async () => {
    const { d, cli } = await seeded();
    const cases: Array<[string[], number, RegExp]> = [
      [['redact', 'nope', '--reason', 'x'], 3, /no event nope/],
      [['redact', 'p1'], 2, /--reason is required/],
      [['redact', 'p1', '--reason', ' '], 2, /--reason must say why/],
      [['redact', 'p1', '--reason', 'x', '--field', 'actor'], 2, /--field actor cannot be erased/],
      [['redact', 'prd:spec@1', '--reason', 'x'], 2, /PRD versions cannot be redacted/],
      [['redact', '--reason', 'x'], 2, /name one event/],
      [
        ['redact', 'p1', '--older-than', '1d', '--type', 'profile', '--reason', 'x'],
        2,
        /name one event/,
      ],
      [['redact', '--older-than', '400d', '--reason', 'x'], 2, /--older-than needs --type/],
      [['redact', '--older-than', 'yesterday', '--type', 't', '--reason', 'x'], 2, /is not an age/],
      [
        ['redact', '--older-than', '1d', '--type', 't', '--reason', 'x', '--batch-size', '0'],
        2,
        /--batch-size/,
      ],
      [['redact', 'p1', '--type', 'profile', '--reason', 'x'], 2, /are for --older-than/],
      [['--env', 'prod', 'redact', 'p1', '--reason', 'x'], 2, /without --yes/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(...args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), code]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
    const dry = await cli('redact', 'p1', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(json(dry.stdout)).toMatchObject({
      dry_run: true,
      redacted: 1,
      redactions: [{ event_id: 'p1' }],
    });
    expect(await sql(d.url, 'select count(*)::int as n from cc.redactions')).toEqual([{ n: 0 }]);
    expect(
      await sql(d.url, 'select count(*)::int as n from cc.events where payload is null'),
    ).toEqual([{ n: 0 }]);

    // A row altered by hand is not redacted (that would launder the change): exit 4.
    await sql(
      d.url,
      `alter table cc.events disable trigger cos_ledger_no_update_delete;
      update cc.events set payload = '{"email":"eve@example.com"}' where event_id = 'p2';
      alter table cc.events enable always trigger cos_ledger_no_update_delete`,
    );
    const tampered = await cli('redact', 'p2', '--reason', 'x');
    expect(tampered.code).toBe(4);
    expect(tampered.stderr).toMatch(/p2 does not verify/);
    expect(await sql(d.url, 'select count(*)::int as n from cc.redactions')).toEqual([{ n: 0 }]);
  });

  it('verify catches a value changed, a value erased without a record, and a record whose value is still there', async () => {
    const { d, cli } = await seeded();
    const byHand = (statement: string) =>
      sql(
        d.url,
        `alter table cc.events disable trigger cos_ledger_no_update_delete; ${statement};
        alter table cc.events enable always trigger cos_ledger_no_update_delete`,
      );

    // Erased by hand, as a superuser, with no redaction on record.
    await byHand("update cc.events set payload = null, payload_salt = null where event_id = 'p3'");
    let v = await cli('verify', '--json');
    expect(v.code).toBe(4);
    let core = chainOf(json<Verify>(v.stdout), 'cc.events', 'core');
    expect(core.problems).toEqual([
      {
        position: '3',
        kind: 'content-changed',
        detail: expect.stringMatching(/no redaction of it is on record/) as unknown as string,
      },
    ]);

    // A real redaction of p1, then its value put back by hand: the record's value is still there.
    const [saved] = await sql<{ payload: unknown; salt: string }>(
      d.url,
      "select payload, encode(payload_salt, 'hex') as salt from cc.events where event_id = 'p1'",
    );
    expect((await cli('redact', 'p1', '--reason', 'request')).code).toBe(0);
    await byHand(
      `update cc.events set payload = '${JSON.stringify(saved?.payload)}', payload_salt = decode('${saved?.salt}', 'hex') where event_id = 'p1'`,
    );
    v = await cli('verify', '--json');
    expect(v.code).toBe(4);
    const report = json<Verify>(v.stdout);
    expect(chainOf(report, 'cc.redactions', 'redactions')).toMatchObject({
      status: 'broken',
      problems: [{ position: '1', kind: 'redaction-not-applied' }],
    });
    // ... while its row itself verifies (the value is the one the commitment is over).
    core = chainOf(report, 'cc.events', 'core');
    expect(core.problems.map((p) => p.position)).toEqual(['3']);

    // A value changed (not erased) is content-changed at its row, as ever.
    await byHand('update cc.events set payload = \'{"text":"edited"}\' where event_id = \'p2\'');
    v = await cli('verify');
    expect(v.code).toBe(4);
    expect(v.stdout).toMatch(/at 2: content-changed/);
  });

  it('the erasure function is the only path: no agent, owner or superuser UPDATE gets round the guard', async () => {
    const { d, cli } = await seeded();
    expect((await cli('agent-role', 'cos_agent_redact_test')).code).toBe(0);
    const as = (role: string, statement: string) => sql(d.url, `set role ${role}; ${statement}`);
    // The agent role may neither call the erasure function nor write redaction records.
    await expect(as('cos_agent_redact_test', "select cc.redact('[]'::jsonb)")).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      as('cos_agent_redact_test', "select cc.apply_redactions(array['p1'])"),
    ).rejects.toThrow(/permission denied/);
    await expect(
      as(
        'cos_agent_redact_test',
        `insert into cc.redactions values ('r', 'p1', 'payload', decode(repeat('00', 32), 'hex'), 'x', 'me', now(), 'redactions', 1, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), 2)`,
      ),
    ).rejects.toThrow(/permission denied/);
    // The table owner (a superuser here) cannot erase or edit outside the function.
    await expect(
      sql(d.url, "update cc.events set payload = null, payload_salt = null where event_id = 'p1'"),
    ).rejects.toThrow(/append-only/);
    // Nor as the function's owner: not without a redaction on record, and never another column.
    await expect(
      as(
        'cos_redaction_owner',
        "update cc.events set payload = null, payload_salt = null where event_id = 'p1'",
      ),
    ).rejects.toThrow(/append-only/);
    expect((await cli('redact', 'p1', '--reason', 'request')).code).toBe(0);
    // (It has no privilege on other columns, nor to delete; the guard would refuse anyway.)
    await expect(
      as('cos_redaction_owner', "update cc.events set actor = 'mallory' where event_id = 'p1'"),
    ).rejects.toThrow(/permission denied|append-only/);
    await expect(
      as('cos_redaction_owner', "delete from cc.events where event_id = 'p1'"),
    ).rejects.toThrow(/permission denied|append-only/);
    await expect(
      sql(d.url, "update cc.events set actor = 'mallory' where event_id = 'p1'"),
    ).rejects.toThrow(/append-only/);
    await expect(sql(d.url, 'delete from cc.redactions')).rejects.toThrow(/append-only/);
    await expect(sql(d.url, "update cc.redactions set reason = 'other'")).rejects.toThrow(
      /append-only/,
    );
    // cc.redact refuses a record that erases nothing (the value already gone).
    await expect(
      sql(
        d.url,
        `select cc.redact('[{"redaction_id":"x","event_id":"p1","field":"payload","commitment":"${'00'.repeat(32)}","reason":"r","requested_by":"me","redacted_at":"2026-01-01T00:00:00Z","chain":"redactions","seq":"2","prev_hash":"${'00'.repeat(32)}","hash":"${'00'.repeat(32)}","hash_version":2}]'::jsonb)`,
      ),
    ).rejects.toThrow();
    expect((await cli('verify')).code).toBe(0);

    // A login role granted cos_redactor redacts through cos-db; one without it gets exit 9.
    const suffix = randomBytes(4).toString('hex');
    const [redactor, plain] = [`redactor_${suffix}`, `plain_${suffix}`];
    await sql(
      adminUrl(),
      `create role ${redactor} login; grant cos_redactor to ${redactor}; create role ${plain} login`,
    );
    try {
      const userUrl = (user: string) => {
        const u = new URL(d.url);
        u.username = user;
        return u.toString();
      };
      const denied = await runCli(['--url', userUrl(plain), 'redact', 'p2', '--reason', 'x'], {
        cwd: dir,
      });
      expect(denied.code, denied.stderr).toBe(9);
      const ok = await runCli(
        ['--url', userUrl(redactor), 'redact', 'p2', '--reason', 'x', '--json'],
        { cwd: dir, env: { COS_ACTOR: 'dpo2' } },
      );
      expect(ok.code, ok.stderr).toBe(0);
      expect((await cli('verify')).code).toBe(0);
    } finally {
      await sql(
        d.url,
        `reassign owned by ${redactor}, ${plain} to current_user; drop owned by ${redactor}, ${plain}`,
      );
      await sql(adminUrl(), `drop role ${redactor}; drop role ${plain}`);
    }
  });

  it('retention by policy: batched, resumable after kill -9, each value erased and recorded once, beside concurrent appends', async () => {
    const d = await fresh();
    const cli = cliOn(d);
    const old = Array.from({ length: 3000 }, (_, i) => ({
      event_id: `old-${i}`,
      type: 'chat',
      module: i % 2 ? 'agents' : undefined,
      occurred_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      parents: i ? [`old-${i - 1}`] : [],
      payload: { message: `secret ${i}` },
    }));
    const recent = { event_id: 'recent', type: 'chat', payload: { message: 'young' } };
    const other = {
      event_id: 'kept',
      type: 'plan',
      occurred_at: '2024-01-01T00:00:00Z',
      payload: { p: 1 },
    };
    expect(
      (await cli('archive', 'event', write('old.ndjson', [...old, recent, other]), '-q')).code,
    ).toBe(0);

    const dry = await cli(
      'redact',
      '--older-than',
      '400d',
      '--type',
      'chat',
      '--dry-run',
      '--json',
    );
    expect(json(dry.stdout)).toMatchObject({ dry_run: true, redacted: 3000 });

    // A run killed -9 after its first batches have committed ...
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--url',
        d.url,
        'redact',
        '--older-than',
        '400d',
        '--type',
        'chat',
        '--reason',
        'retention: chat 400d',
        '--batch-size',
        '50',
      ],
      { stdio: 'ignore', env: { ...process.env, COS_ACTOR: 'ci' } },
    );
    for (;;) {
      const [{ n } = { n: 0 }] = await sql<{ n: number }>(
        d.url,
        'select count(*)::int as n from cc.redactions',
      );
      if (n >= 100) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const [{ n: partial } = { n: 0 }] = await sql<{ n: number }>(
      d.url,
      'select count(*)::int as n from cc.redactions',
    );
    expect(partial).toBeLessThan(3000);
    expect((await cli('verify')).code).toBe(0);

    // ... and its re-run, racing appends to the same chains, finish the job once.
    const appends = Array.from({ length: 4 }, (_, k) =>
      cli(
        'archive',
        'event',
        write(
          `new-${k}.ndjson`,
          Array.from({ length: 300 }, (_, i) => ({
            type: 'chat',
            module: k % 2 ? 'agents' : undefined,
            payload: { i },
          })),
        ),
        '-q',
      ),
    );
    const rerun = cli(
      'redact',
      '--older-than',
      '400d',
      '--type',
      'chat',
      '--reason',
      'retention: chat 400d',
      '--batch-size',
      '200',
      '--json',
    );
    const [r, ...a] = await Promise.all([rerun, ...appends]);
    expect(r.code, r.stderr).toBe(0);
    for (const x of a) expect(x.code).toBe(0);
    expect(json<{ redacted: number }>(r.stdout).redacted).toBe(3000 - partial);
    expect(
      await sql(
        d.url,
        `select count(*)::int as records, count(distinct event_id)::int as events,
        (select count(*)::int from cc.events where payload is null) as erased,
        (select count(*)::int from cc.events where payload is not null) as kept from cc.redactions`,
      ),
    ).toEqual([{ records: 3000, events: 3000, erased: 3000, kept: 2 + 1200 }]);
    const v = await cli('verify', '--json');
    expect(v.code, v.stdout).toBe(0);
    const report = json<Verify>(v.stdout);
    expect(
      report.chains.filter((c) => c.table === 'cc.events').reduce((s, c) => s + c.redacted, 0),
    ).toBe(3000);
    // Nothing left to do: a scheduled run again erases nothing.
    expect(
      json(
        (
          await cli(
            'redact',
            '--older-than',
            '400d',
            '--type',
            'chat',
            '--reason',
            'again',
            '--json',
          )
        ).stdout,
      ),
    ).toMatchObject({ redacted: 0, batches: 0 });
  });

  it('bundles carry redactions, and a bundle made after a redaction erases the value from a copy made before it', async () => {
    const { d, cli } = await seeded();
    const before = join(dir, `before-${d.name}.bundle`);
    const after = join(dir, `after-${d.name}.bundle`);
    expect((await cli('export', '--all', '--out', before, '-q')).code).toBe(0);
    expect((await cli('redact', 'p1', '--reason', 'request')).code).toBe(0);
    expect((await cli('export', '--all', '--out', after, '-q')).code).toBe(0);
    expect(readFileSync(after, 'utf8')).not.toContain('ann@example.com');

    // Into an empty store: the erased row verifies by its redaction, which comes with it.
    const copy = await fresh();
    const imported = await cliOn(copy)('import', after, '--json');
    expect(imported.code, imported.stderr).toBe(0);
    expect((await cliOn(copy)('verify')).code).toBe(0);
    expect(await sql(copy.url, "select payload from cc.events where event_id = 'p1'")).toEqual([
      { payload: null },
    ]);

    // A copy made from the earlier bundle still holds the value; the later bundle erases it there.
    const early = await fresh();
    expect((await cliOn(early)('import', before, '-q')).code).toBe(0);
    expect(
      await sql(early.url, "select payload->>'email' as e from cc.events where event_id = 'p1'"),
    ).toEqual([{ e: 'ann@example.com' }]);
    const catchUp = await cliOn(early)('import', after, '--json');
    expect(catchUp.code, catchUp.stderr).toBe(0);
    expect(json(catchUp.stdout)).toMatchObject({ redactions_applied: 1 });
    expect(await sql(early.url, "select payload from cc.events where event_id = 'p1'")).toEqual([
      { payload: null },
    ]);
    expect((await cliOn(early)('verify')).code).toBe(0);

    // The earlier bundle cannot bring the value back into a store that has the redaction.
    const back = await cliOn(copy)('import', before);
    expect(back.code).toBe(4);
    expect(await sql(copy.url, "select payload from cc.events where event_id = 'p1'")).toEqual([
      { payload: null },
    ]);
  });

  it('an OpenLineage event is erased whole (payload, salt and original text) and its dataset edges stay', async () => {
    const d = await fresh();
    const cli = cliOn(d);
    const runId = '01934f5e-8f6c-7cde-b2a4-6b1c2d3e4f50';
    const ol = {
      eventType: 'COMPLETE',
      eventTime: '2026-11-01T10:00:00.000Z',
      producer: 'https://example.com/producer',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: {
        runId,
        facets: { owner: { _producer: 'x', _schemaURL: 'x', email: 'ann@example.com' } },
      },
      job: { namespace: 'etl', name: 'load_people' },
      inputs: [{ namespace: 'pg', name: 'people' }],
      outputs: [{ namespace: 'pg', name: 'people_clean' }],
    };
    expect(
      (await cli('archive', 'event', write('ol.ndjson', [ol]), '--format', 'openlineage', '-q'))
        .code,
    ).toBe(0);
    const [{ event_id: id } = { event_id: '' }] = await sql<{ event_id: string }>(
      d.url,
      'select event_id from cc.events',
    );
    expect((await cli('redact', id, '--reason', 'owner asked')).code).toBe(0);
    expect(
      await sql(d.url, 'select payload, payload_salt, payload_original from cc.events'),
    ).toEqual([{ payload: null, payload_salt: null, payload_original: null }]);
    expect(await sql(d.url, 'select count(*)::int as n from cc.event_datasets')).toEqual([
      { n: 2 },
    ]);
    const v = await cli('verify', '--json');
    expect(v.code, v.stdout).toBe(0);
    const line = (await cli('export', 'events', '--format', 'openlineage')).stdout;
    expect(line).not.toContain('ann@example.com');
    expect(JSON.parse(line)).toMatchObject({
      run: { facets: { cos_redaction: { reason: 'owner asked' } } },
    });
  });
});

describe('the redaction migration', () => {
  it('rolls back and forth on a store without redactions; with one it refuses and changes nothing', async () => {
    const d = await fresh();
    const c = cliOn(d);
    expect(
      (await c('migrate', 'rollback', '--to', '20261203000000_openlineage.ts', '-q')).code,
    ).toBe(0);
    expect(await sql(d.url, "select to_regclass('cc.redactions') as t")).toEqual([{ t: null }]);
    // Back to the baseline's guard: no UPDATE at all.
    expect((await c('archive', 'event', write('mig.ndjson', [EVENTS[0]]), '-q')).code).toBe(0);
    await expect(
      sql(d.url, 'update cc.events set payload = null, payload_salt = null'),
    ).rejects.toThrow(/append-only/);
    expect((await c('verify', '-q')).code).toBe(0);
    expect((await c('migrate', '-q')).code).toBe(0);
    expect((await c('redact', 'p1', '--reason', 'r', '-q')).code).toBe(0);
    // The migrations after it first (the endpoint's tokens: none here).
    expect((await c('migrate', 'rollback', '--to', '20261204000000_redaction.ts', '-q')).code).toBe(
      0,
    );
    const r = await c('migrate', 'rollback', '--step', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot be rolled back/);
    expect((await c('migrate', '-q')).code).toBe(0);
    expect((await c('migrate', 'status', '--check', '-q')).code).toBe(0);
    expect((await c('verify', '-q')).code).toBe(0);
  });
});
