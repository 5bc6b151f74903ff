import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointClient } from '../support/endpointClient.js';
import { runCli } from '../support/runCli.js';
import { startServe, type Served } from '../support/serveProcess.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

/*
 * The agent endpoint (cos-db serve) as a client sees it: a real server process on loopback over
 * a real PostgreSQL database, every answer checked against the server's OpenAPI document by an
 * independent validator (EndpointClient).
 */

let db: TestDatabase;
let served: Served;
let api: EndpointClient;
const dir = mkdtempSync(join(tmpdir(), 'cos-db-serve-'));
const env = () => ({ COS_DEV_DATABASE_URL: db.url, COS_ACTOR: 'admin' });
const cli = (...args: string[]) => runCli(args, { env: env(), cwd: dir });
const tokens = { planner: '', reader: '', coder: '' };

async function makeToken(agent: string, scope: string, ...extra: string[]) {
  const r = await cli('token', 'create', '--agent', agent, '--scope', scope, '--json', ...extra);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { token: string; token_id: string };
}

const count = async (where = 'true') =>
  Number(
    (await sql<{ n: string }>(db.url, `select count(*) as n from cc.events where ${where}`))[0]?.n,
  );

/** Every chain intact, with no gap and no fork: what verify says. */
async function verified(): Promise<boolean> {
  const r = await cli('verify', '--json');
  return r.code === 0 && (JSON.parse(r.stdout) as { ok: boolean }).ok;
}

const post = (path: string, body: unknown, token?: string | null, type = 'application/json') =>
  api.request('POST', path, {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    type,
    ...(token !== undefined ? { token } : {}),
  });

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli('migrate', '-q')).code).toBe(0);
  tokens.planner = (await makeToken('planner', 'append')).token;
  tokens.reader = (await makeToken('reader', 'read')).token;
  tokens.coder = (await makeToken('coder', 'append')).token;
  served = await startServe(env(), ['--rate-limit', '0'], dir);
  api = new EndpointClient(served.url, tokens.planner);
}, 60_000);

afterAll(async () => {
  await served?.stop();
  await db?.drop();
});

describe('cos-db serve', () => {
  it('binds to loopback, and refuses plain HTTP beyond it without --insecure-http', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const bad of [
      ['--max-batch', '0'],
      ['--max-batch', '20000'],
      ['--max-body', '0'],
      ['--port', '70000'],
    ]) {
      const refused = await cli('serve', '--port', '0', ...bad);
      expect(refused.code, bad.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(/must be/);
    }
    const r = await cli('serve', '--host', '0.0.0.0', '--port', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to serve plain HTTP on 0\.0\.0\.0, beyond loopback/);
    expect(r.stderr.trim().split('\n')).toHaveLength(2); // the line and its hint
  });

  it('serves HTTPS with --tls-cert and --tls-key, which may then bind beyond loopback', async () => {
    const tls = join(import.meta.dirname, '../fixtures/tls');
    const cert = join(tls, 'cert.pem');
    const secure = await startServe(
      env(),
      ['--host', '0.0.0.0', '--tls-cert', cert, '--tls-key', join(tls, 'key.pem')],
      dir,
    );
    try {
      expect(secure.url).toMatch(/^https:\/\//);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = https.get(
          {
            host: '127.0.0.1',
            port: new URL(secure.url).port,
            path: '/healthz',
            ca: readFileSync(cert),
            servername: 'localhost',
          },
          (res) => {
            res.resume();
            resolve(res.statusCode);
          },
        );
        req.on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      expect(await secure.stop()).toBe(0);
    }
    const proxied = await startServe(env(), ['--host', '0.0.0.0', '--insecure-http'], dir);
    expect(await proxied.stop()).toBe(0);
    for (const args of [
      ['--tls-cert', cert],
      ['--tls-cert', 'missing.pem', '--tls-key', 'missing.pem'],
    ]) {
      const r = await cli('serve', '--port', '0', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(
        /--tls-cert and --tls-key go together|cannot read --tls-cert missing\.pem: ENOENT/,
      );
    }
  }, 60_000);

  it('health needs no token; readiness checks the database', async () => {
    expect((await api.request('GET', '/healthz', { token: null })).json).toEqual({ status: 'ok' });
    expect((await api.request('GET', '/readyz', { token: null })).json).toEqual({
      status: 'ready',
    });
  });

  it('appends events: new 201, the same again 200 with the same record, a conflict 409', async () => {
    const first = await post('/v1/events', {
      event_id: 'h1',
      type: 'task.started',
      module: 'planner',
    });
    expect(first.status).toBe(201);
    const receipt = (first.json as { events: Array<Record<string, string>> }).events[0];
    expect(receipt).toMatchObject({
      event_id: 'h1',
      chain: 'planner',
      seq: '1',
      status: 'archived',
    });
    expect(receipt?.hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await post('/v1/events', {
      event_id: 'h1',
      type: 'task.started',
      module: 'planner',
    });
    expect(again.status).toBe(200);
    expect((again.json as { events: unknown[] }).events[0]).toEqual({
      ...receipt,
      status: 'already_archived',
    });
    const other = await post('/v1/events', {
      event_id: 'h1',
      type: 'task.other',
      module: 'planner',
    });
    expect(other.status).toBe(409);
    expect(other.type).toMatch(/^application\/problem\+json/);
    expect(other.json).toMatchObject({
      status: 409,
      exit_code: 4,
      detail: 'body:1: event h1 is already archived with other content',
    });
    // The actor is the token's agent.
    const stored = await api.request('GET', '/v1/events/h1');
    expect(stored.json).toMatchObject({ event_id: 'h1', actor: 'planner', chain: 'planner' });
  });

  it('takes an array and NDJSON; an unknown parent is 422 naming it; a malformed line 400 naming it', async () => {
    const array = await post('/v1/events', [
      { event_id: 'h2', type: 't', parents: ['h1'] },
      { event_id: 'h3', type: 't', parents: ['h2'] },
    ]);
    expect(array.status).toBe(201);
    expect((array.json as { events: unknown[] }).events).toHaveLength(2);
    const ndjson = await post(
      '/v1/events',
      '{"event_id":"h4","type":"t","parents":["h3"]}\n{"event_id":"h5","type":"t"}\n',
      undefined,
      'application/x-ndjson',
    );
    expect(ndjson.status).toBe(201);
    const before = await count();
    const orphan = await post('/v1/events', { event_id: 'h6', type: 't', parents: ['ghost'] });
    expect(orphan.status).toBe(422);
    expect(orphan.json).toMatchObject({
      parent: 'ghost',
      detail: expect.stringMatching(/parent ghost of event h6 is not archived/),
    });
    const malformed = await post(
      '/v1/events',
      '{"event_id":"h7","type":"t"}\n{oops\n',
      undefined,
      'application/x-ndjson',
    );
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({
      line: 2,
      detail: expect.stringMatching(/^body:2: malformed JSON/),
    });
    const invalid = await post('/v1/events', { event_id: 'h8' });
    expect(invalid.status).toBe(400);
    expect((invalid.json as { detail: string }).detail).toMatch(/^body:1: invalid event: type/);
    expect(await count()).toBe(before);
  });

  it('refuses an event naming another actor (403) and a read token appending (403); nothing is written', async () => {
    const before = await count();
    const spoof = await post('/v1/events', [
      { event_id: 'sp1', type: 't' },
      { event_id: 'sp2', type: 't', actor: 'coder' },
    ]);
    expect(spoof.status).toBe(403);
    expect((spoof.json as { detail: string }).detail).toMatch(
      /^body:1 \(element \d\): actor "coder" is not this token's agent "planner"/,
    );
    const reader = await post('/v1/events', { event_id: 'sp3', type: 't' }, tokens.reader);
    expect(reader.status).toBe(403);
    const prd = await post('/v1/prds/spoof/versions', '# Spoof\n', tokens.reader, 'text/markdown');
    expect(prd.status).toBe(403);
    expect(await count()).toBe(before);
    expect(await count("event_id like 'sp%'")).toBe(0);
  });

  it('gives missing, malformed, unknown, expired and revoked tokens the same 401', async () => {
    const revoked = await makeToken('gone', 'append');
    expect((await cli('token', 'revoke', revoked.token_id)).code).toBe(0);
    const soon = await makeToken(
      'brief',
      'append',
      '--expires',
      new Date(Date.now() + 1500).toISOString(),
    );
    await new Promise((resolve) => setTimeout(resolve, 1700));
    const answers = [];
    for (const token of [null, 'nonsense', `cosdb_${'A'.repeat(43)}`, revoked.token, soon.token]) {
      const r = await api.request('GET', '/v1/events', { token });
      answers.push({ status: r.status, type: r.type, text: r.text });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]?.status).toBe(401);
    const list = JSON.parse((await cli('token', 'list', '--json')).stdout) as Array<{
      agent: string;
      state: string;
      created_by: string;
      revoked_by: string | null;
    }>;
    expect(list.find((t) => t.agent === 'gone')).toMatchObject({
      state: 'revoked',
      revoked_by: 'admin',
      created_by: 'admin',
    });
    expect(list.find((t) => t.agent === 'brief')).toMatchObject({ state: 'expired' });
    // Tokens are on the record: their chain verifies with the rest.
    expect(await verified()).toBe(true);
  });

  it('lists events with filters and a cursor; a bad limit is 400, a huge one clamped', async () => {
    const page = await api.request('GET', '/v1/events?limit=2');
    const body = page.json as { events: Array<{ event_id: string }>; next: string | null };
    expect(body.events).toHaveLength(2);
    expect(body.next).toBe(body.events[1]?.event_id);
    const next = await api.request(
      'GET',
      `/v1/events?limit=2&after=${encodeURIComponent(body.next as string)}`,
    );
    expect((next.json as { events: Array<{ event_id: string }> }).events[0]?.event_id).not.toBe(
      body.events[0]?.event_id,
    );
    for (const limit of ['0', '-5', '1e9', 'x'])
      expect((await api.request('GET', `/v1/events?limit=${limit}`)).status).toBe(400);
    const clamped = await api.request('GET', '/v1/events?limit=1000000000');
    expect(clamped.status).toBe(200);
    const filtered = await api.request('GET', '/v1/events?module=planner&actor=planner');
    expect(
      (filtered.json as { events: Array<{ module: string }> }).events.every(
        (e) => e.module === 'planner',
      ),
    ).toBe(true);
    expect((await api.request('GET', '/v1/events?since=yesterday')).status).toBe(400);
    expect((await api.request('GET', '/v1/events/nope')).status).toBe(404);
  });

  it('archives PRD versions (unchanged: 200) and serves their markdown byte for byte', async () => {
    const text = '---\ntitle: Login\nstatus: draft\n---\r\n# Login\r\nUTF-8: é ✓\n';
    const v1 = await post(
      '/v1/prds/login/versions?message=first',
      text,
      undefined,
      'text/markdown',
    );
    expect(v1.status).toBe(201);
    expect(v1.json).toMatchObject({ prd_id: 'login', version: 1, outcome: 'new' });
    const same = await post('/v1/prds/login/versions', text, undefined, 'text/markdown');
    expect(same.status).toBe(200);
    expect(same.json).toMatchObject({ version: 1, outcome: 'unchanged' });
    const v2 = await post('/v1/prds/login/versions', '# Login\nv2\n', undefined, 'text/markdown');
    expect(v2.json).toMatchObject({ version: 2, outcome: 'changed' });
    const raw = await fetch(`${served.url}/v1/prds/login/versions/1`, {
      headers: { authorization: `Bearer ${tokens.reader}` },
    });
    expect(raw.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(text))).toBe(true);
    expect((await api.request('GET', '/v1/prds/login/versions/latest')).text).toBe('# Login\nv2\n');
    expect((await api.request('GET', '/v1/prds')).json).toEqual([
      expect.objectContaining({ prd_id: 'login', latest_version: 2, last_archived_by: 'planner' }),
    ]);
    expect((await api.request('GET', '/v1/prds/login')).json).toHaveLength(2);
    const diff = await api.request('GET', '/v1/prds/login/diff?from=1&to=2');
    expect((diff.json as { unified: string }).unified).toMatch(/\+v2/);
    expect((await api.request('GET', '/v1/prds/login/versions/9')).status).toBe(404);
    expect((await api.request('GET', '/v1/prds/nope')).status).toBe(404);
    expect((await api.request('GET', '/v1/prds/login/diff?from=x')).status).toBe(400);
    expect(
      (await post('/v1/prds/Bad%20Id/versions', '# x\n', undefined, 'text/markdown')).status,
    ).toBe(400);
  });

  it('traces lineage, and verifies', async () => {
    const t = await api.request('GET', '/v1/trace/h4?direction=up&depth=10');
    expect((t.json as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id).sort()).toEqual([
      'h1',
      'h2',
      'h3',
      'h4',
    ]);
    expect((await api.request('GET', '/v1/trace/prd:login?direction=down')).status).toBe(200);
    expect((await api.request('GET', '/v1/trace/ghost')).status).toBe(404);
    expect((await api.request('GET', '/v1/trace/h4?direction=sideways')).status).toBe(400);
    const v = await api.request('GET', '/v1/verify');
    expect(v.json).toMatchObject({ ok: true });
    const one = await api.request('GET', '/v1/verify?chain=planner');
    expect((one.json as { chains: unknown[] }).chains).toHaveLength(1);
    expect((await api.request('GET', '/v1/verify?chain=nope')).status).toBe(404);
    expect((await api.request('GET', '/v1/checkpoints/latest')).status).toBe(404);
  });

  it('answers each append with its receipt, and serves proofs once a checkpoint is signed', async () => {
    const appended = await post('/v1/events', {
      event_id: 'receipt-1',
      type: 'step',
      payload: { n: 1 },
    });
    expect(appended.status).toBe(201);
    const [receipt] = (
      appended.json as {
        events: Array<{
          seq: string;
          chain: string;
          receipt: { log: string; index: string; proof: string };
        }>;
      }
    ).events;
    expect(receipt?.receipt.log).toMatch(
      new RegExp(`^cos-db/[0-9a-f-]{36}/cc\\.events/${receipt?.chain}$`),
    );
    expect(receipt?.receipt.index).toBe(String(BigInt(receipt?.seq ?? '0') - 1n));
    expect(receipt?.receipt.proof).toBe('/v1/proofs/inclusion/receipt-1');
    // Not covered by a signed checkpoint yet: 404, with the command that signs one.
    const early = await api.request('GET', '/v1/proofs/inclusion/receipt-1');
    expect(early.status).toBe(404);
    expect((early.json as { hint: string }).hint).toMatch(/verify --write-checkpoint/);
    expect((await api.request('GET', '/v1/proofs/checkpoint?chain=cos')).status).toBe(404);

    const key = join(dir, 'serve-signing.key');
    expect((await cli('keygen', '--out', key)).code).toBe(0);
    expect(
      (await cli('verify', '--write-checkpoint', join(dir, 'serve-cp.json'), '--key', key, '-q'))
        .code,
    ).toBe(0);
    const proof = await api.request('GET', receipt?.receipt.proof ?? '');
    expect(proof.status).toBe(200);
    const doc = proof.json as {
      kind: string;
      index: string;
      proof: string;
      checkpoint: { size: string };
    };
    expect(doc).toMatchObject({ kind: 'inclusion', index: receipt?.receipt.index });
    writeFileSync(join(dir, 'receipt-1.proof'), doc.proof);
    // The receipt checks with nothing but the public key.
    const checked = await runCli(
      ['verify-proof', join(dir, 'receipt-1.proof'), '--key', `${key}.pub`],
      { cwd: dir },
    );
    expect(checked.code, checked.stderr).toBe(0);

    const head = await api.request('GET', `/v1/proofs/checkpoint?chain=${receipt?.chain}`);
    expect(head.status).toBe(200);
    expect((head.json as { note: string }).note).toContain(receipt?.receipt.log);
    const size = (head.json as { size: string }).size;
    const same = await api.request(
      'GET',
      `/v1/proofs/consistency?chain=${receipt?.chain}&from=${size}`,
    );
    expect(same.status).toBe(200);
    expect(
      (await api.request('GET', `/v1/proofs/consistency?chain=${receipt?.chain}&from=0`)).status,
    ).toBe(400);
    expect(
      (await api.request('GET', `/v1/proofs/consistency?chain=${receipt?.chain}&from=999999`))
        .status,
    ).toBe(404);
    expect((await api.request('GET', '/v1/proofs/inclusion/ghost')).status).toBe(404);
  });

  it("takes OpenLineage events at Marquez's path, answering as Marquez does", async () => {
    const fixtures = join(import.meta.dirname, '../fixtures/openlineage');
    for (const name of [
      'marquez-event_full.json',
      'marquez-event_job_event.json',
      'marquez-event_dataset_event.json',
    ]) {
      const r = await post('/api/v1/lineage', readFileSync(join(fixtures, name), 'utf8'));
      expect(r.status, r.text).toBe(201);
      expect(r.text).toBe('');
    }
    expect(await count("module = 'openlineage' and actor = 'planner'")).toBe(3);
    const bad = await post('/api/v1/lineage', { eventTime: 'now' });
    expect(bad.status).toBe(400);
    expect((bad.json as { detail: string }).detail).toMatch(/not an OpenLineage event/);
  });

  it('answers unknown routes, wrong types and oversize bodies with problems', async () => {
    const doc = await fetch(`${served.url}/openapi.json`, {
      headers: { authorization: `Bearer ${tokens.reader}` },
    });
    expect(doc.status).toBe(200);
    expect((await fetch(`${served.url}/openapi.json`)).status).toBe(401);
    const wrongType = await fetch(`${served.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.planner}`, 'content-type': 'application/xml' },
      body: '<x/>',
    });
    expect(wrongType.status).toBe(415);
    expect(await wrongType.json()).toMatchObject({
      status: 415,
      detail: expect.stringMatching(/unsupported Content-Type/),
    });
    const unknown = await fetch(`${served.url}/v2/nothing`, {
      headers: { authorization: `Bearer ${tokens.planner}` },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses injection in every string: nothing executes, the chains are unchanged', async () => {
    const evil = [
      "'; COMMIT; DROP TABLE cc.events; --",
      "x' OR '1'='1",
      'a"; select pg_sleep(5); --',
      '\\x00;',
    ];
    const heads = await sql(
      db.url,
      'select chain, max(seq) as seq from cc.events group by chain order by chain',
    );
    for (const s of evil) {
      const q = encodeURIComponent(s);
      for (const path of [
        `/v1/events?type=${q}&module=${q}&actor=${q}&task=${q}&after=${q}`,
        `/v1/events/${q}`,
        `/v1/prds/${q}`,
        `/v1/prds/${q}/versions/1`,
        `/v1/prds/${q}/diff`,
        `/v1/trace/${q}`,
        `/v1/verify?chain=${q}`,
        `/v1/prds?status=${q}`,
      ]) {
        const r = await api.request('GET', path);
        expect([200, 400, 404], `${path}: ${r.text}`).toContain(r.status);
      }
      const r = await post('/v1/events', {
        event_id: `inj-${s}`,
        type: s,
        module: s,
        task_id: s,
        run_id: s,
        payload: { s },
        parents: [s],
      });
      expect([400, 422]).toContain(r.status);
      expect(
        (await post(`/v1/prds/${q}/versions?message=${q}`, `# ${s}\n`, undefined, 'text/markdown'))
          .status,
      ).toBe(400);
    }
    // A valid event carrying the strings as data is stored as data, byte for byte.
    const data = await post('/v1/events', {
      event_id: 'inj-data',
      type: evil[0],
      task_id: evil[1],
      payload: { evil },
    });
    expect(data.status).toBe(201);
    expect((await api.request('GET', '/v1/events/inj-data')).json).toMatchObject({
      type: evil[0],
      task_id: evil[1],
      payload: { evil },
    });
    const after = await sql(
      db.url,
      "select chain, max(seq) as seq from cc.events where event_id <> 'inj-data' group by chain order by chain",
    );
    expect(after).toEqual(heads);
    expect(await verified()).toBe(true);
  }, 60_000);

  it('50 concurrent appends of one event store it once; the rest are 200 with the same record', async () => {
    const event = { event_id: 'race-1', type: 'task.done', module: 'race' };
    const replies = await Promise.all(Array.from({ length: 50 }, () => post('/v1/events', event)));
    const receipts = replies.map(
      (r) => (r.json as { events: Array<Record<string, string>> }).events[0],
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(49);
    expect(new Set(receipts.map((r) => `${r?.seq}/${r?.hash}`)).size).toBe(1);
    expect(await count("event_id = 'race-1'")).toBe(1);
  });

  it('32 agents appending to one module: no fork, no gap, verify intact', async () => {
    const agents = await Promise.all(
      Array.from({ length: 32 }, (_, i) => makeToken(`agent-${i}`, 'append')),
    );
    await Promise.all(
      agents.map(async (agent, a) => {
        for (let i = 0; i < 10; i += 1) {
          const r = await post(
            '/v1/events',
            { event_id: `m-${a}-${i}`, type: 't', module: 'shared' },
            agent.token,
          );
          expect(r.status).toBe(201);
        }
      }),
    );
    const rows = await sql<{ seq: string; actor: string }>(
      db.url,
      "select seq::text as seq, actor from cc.events where chain = 'shared' order by cc.events.seq",
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 320 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.actor)).size).toBe(32);
    expect(await verified()).toBe(true);
  }, 120_000);

  it('two server instances writing the same chain: no fork, no gap, verify intact', async () => {
    const second = await startServe(env(), ['--rate-limit', '0'], dir);
    try {
      const other = new EndpointClient(second.url, tokens.coder);
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          const client = w % 2 === 0 ? api : other;
          for (let i = 0; i < 10; i += 1) {
            const r = await client.request('POST', '/v1/events', {
              body: JSON.stringify([{ event_id: `two-${w}-${i}`, type: 't', module: 'twin' }]),
            });
            expect(r.status).toBe(201);
          }
        }),
      );
    } finally {
      await second.stop();
    }
    const seqs = await sql<{ seq: string }>(
      db.url,
      "select seq::text as seq from cc.events where chain = 'twin' order by cc.events.seq",
    );
    expect(seqs.map((r) => Number(r.seq))).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
    expect(await verified()).toBe(true);
  }, 120_000);

  it('bounds: a batch over the maximum and a body over the limit are 413; nothing written', async () => {
    const small = await startServe(env(), ['--max-batch', '10', '--max-body', '4096'], dir);
    try {
      const client = new EndpointClient(small.url, tokens.planner);
      const before = await count();
      const batch = Array.from({ length: 11 }, (_, i) => ({ event_id: `big-${i}`, type: 't' }));
      const tooMany = await client.request('POST', '/v1/events', { body: JSON.stringify(batch) });
      expect(tooMany.status).toBe(413);
      expect((tooMany.json as { detail: string }).detail).toBe(
        'body: 11 events is over the limit of 10 per request',
      );
      const tooBig = await client.request('POST', '/v1/events', {
        body: JSON.stringify({ type: 't', payload: { x: 'y'.repeat(5000) } }),
      });
      expect(tooBig.status).toBe(413);
      expect(await count()).toBe(before);
    } finally {
      await small.stop();
    }
  });

  it('bounds: a deep chain and a wide fan-out trace within the caps, truncated', async () => {
    const chain = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({
        event_id: `deep-${i}`,
        type: 't',
        module: 'deep',
        parents: i ? [`deep-${i - 1}`] : [],
      }),
    );
    const fan = Array.from({ length: 10_000 }, (_, i) =>
      JSON.stringify({ event_id: `fan-${i}`, type: 't', module: 'fan', parents: ['deep-0'] }),
    );
    writeFileSync(join(dir, 'bounds.ndjson'), [...chain, ...fan].join('\n'));
    expect((await cli('archive', 'event', 'bounds.ndjson', '-q')).code).toBe(0);
    const deep = await api.request('GET', '/v1/trace/deep-1199?direction=up&depth=100000');
    const d = deep.json as { depth: number; truncated: boolean; nodes: unknown[] };
    expect(d).toMatchObject({ depth: 1000, truncated: true });
    expect(d.nodes).toHaveLength(1001);
    const wide = await api.request('GET', '/v1/trace/deep-0?direction=down&depth=1');
    const w = wide.json as { truncated: boolean; nodes: unknown[] };
    expect(w.truncated).toBe(true);
    expect(w.nodes).toHaveLength(2000);
  }, 120_000);

  it('rate-limits each token (429 with Retry-After)', async () => {
    const limited = await startServe(env(), ['--rate-limit', '5'], dir);
    try {
      const replies = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${limited.url}/v1/events?limit=1`, {
            headers: { authorization: `Bearer ${tokens.reader}` },
          }),
        ),
      );
      const tooMany = replies.filter((r) => r.status === 429);
      expect(tooMany.length).toBeGreaterThanOrEqual(6);
      expect(tooMany[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
      // Another token has its own allowance.
      const other = await fetch(`${limited.url}/v1/events?limit=1`, {
        headers: { authorization: `Bearer ${tokens.planner}` },
      });
      expect(other.status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('a kill -9 mid-batch loses nothing acknowledged and half-writes nothing', async () => {
    for (const delay of [0, 30, 80, 200]) {
      const victim = await startServe(env(), ['--rate-limit', '0'], dir);
      const batch = Array.from({ length: 5000 }, (_, i) => ({
        event_id: `k${delay}-${i}`,
        type: 't',
        module: 'kill',
      }));
      const acked = fetch(`${victim.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.planner}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      }).then(
        (r) => r.status,
        () => 0,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      await victim.kill();
      const status = await acked;
      // Let the server notice the dead connection and roll back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stored = await count(`event_id like 'k${delay}-%'`);
      if (status === 201) expect(stored).toBe(5000);
      else expect([0, 5000]).toContain(stored);
    }
    expect(await verified()).toBe(true);
  }, 120_000);

  it('stops gracefully on SIGTERM (exit 0)', async () => {
    const s = await startServe(env(), [], dir);
    expect(await s.stop()).toBe(0);
  });

  it('every route was exercised against its documented responses', async () => {
    const doc = await api.openApi();
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.filter((r) => !api.seen.has(r))).toEqual([]);
  });
});
