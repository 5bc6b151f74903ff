import { spawn } from 'node:child_process';
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifierKey } from '../../src/integrity/signedNote.js';
import { BIN, runCli } from '../support/runCli.js';
import { createTestDatabase, sql, type TestDatabase } from '../support/testDatabase.js';

const dir = mkdtempSync(join(tmpdir(), 'cos-db-proofs-'));
const key = join(dir, 'signing.key');
const otherKey = join(dir, 'other.key');
const dbs: TestDatabase[] = [];
let d: TestDatabase;

const cliOn =
  (db: TestDatabase) =>
  (...args: string[]) =>
    runCli(['--url', db.url, ...args], { env: { COS_ACTOR: 'auditor' }, cwd: dir });
let cli: ReturnType<typeof cliOn>;
const json = <T = Record<string, unknown>>(stdout: string) => JSON.parse(stdout) as T;

const events = (from: number, to: number, module: string | null = 'agents') =>
  Array.from({ length: to - from }, (_, k) => ({
    event_id: `ev-${module ?? 'core'}-${from + k}`,
    type: 'step',
    module,
    actor: 'agent-a',
    occurred_at: '2026-11-01T00:00:00Z',
    payload: { n: from + k, note: `output ${from + k}` },
  }));
const write = (name: string, lines: unknown[]) => {
  writeFileSync(join(dir, name), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return join(dir, name);
};

type Verify = {
  ok: boolean;
  chains: Array<{
    table: string;
    chain: string;
    size: number;
    root: string | null;
    status: string;
    problems: Array<{ kind: string; detail: string }>;
  }>;
  tables: Array<{ table: string; guards: string }>;
  tree_heads: Array<{ table: string; chain: string; size: string; root: string; note: string }>;
};

const fresh = async () => {
  const db = await createTestDatabase();
  dbs.push(db);
  expect((await runCli(['--url', db.url, 'migrate', '-q'])).code).toBe(0);
  return db;
};

beforeAll(async () => {
  expect((await runCli(['keygen', '--out', key], { cwd: dir })).code).toBe(0);
  expect((await runCli(['keygen', '--out', otherKey], { cwd: dir })).code).toBe(0);
  d = await fresh();
  cli = cliOn(d);
  // 70,000 rows in one chain: a stratum-2 tile (65,536 leaves) is written by the trigger's SQL.
  expect((await cli('archive', 'event', write('many.ndjson', events(0, 70_000)), '-q')).code).toBe(
    0,
  );
  expect(
    (await cli('archive', 'event', write('core.ndjson', events(0, 300, null)), '-q')).code,
  ).toBe(0);
}, 240_000);

afterAll(async () => {
  for (const db of dbs) await db.drop();
});

describe('the Merkle tree kept with every chain', () => {
  it('stores every complete tile, stratum 2 included, and verify recomputes each from the rows', async () => {
    const tiles = await sql<{ chain: string; stratum: number; n: number }>(
      d.url,
      `select chain, stratum, count(*)::int as n from cc.merkle_tiles
        where table_name = 'cc.events' group by 1, 2 order by 1, 2`,
    );
    expect(tiles).toEqual([
      { chain: 'agents', stratum: 1, n: Math.floor(70_000 / 256) },
      { chain: 'agents', stratum: 2, n: 1 },
      { chain: 'core', stratum: 1, n: 1 },
    ]);
    const v = await cli('verify', '--json');
    expect(v.code).toBe(0);
    const report = json<Verify>(v.stdout);
    expect(report.chains.find((c) => c.chain === 'agents')?.root).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('prove and verify-proof', () => {
  let proofFile: string;
  let heads: Verify['tree_heads'];

  beforeAll(async () => {
    const v = await cli(
      'verify',
      '--write-checkpoint',
      join(dir, 'cp1.json'),
      '--key',
      key,
      '--json',
    );
    expect(v.code).toBe(0);
    heads = json<Verify>(v.stdout).tree_heads;
    proofFile = join(dir, 'e12345.proof');
    const p = await cli('prove', 'ev-agents-12345', '--with-payload', '--out', proofFile);
    expect(p.code).toBe(0);
  }, 120_000);

  it('signs one C2SP checkpoint per chain, kept in the store and in the checkpoint file', async () => {
    expect(heads.map((h) => [h.table, h.chain, h.size])).toEqual(
      expect.arrayContaining([
        ['cc.events', 'agents', '70000'],
        ['cc.events', 'core', '300'],
      ]),
    );
    const agents = heads.find((h) => h.chain === 'agents');
    const lines = agents?.note.split('\n') ?? [];
    expect(lines[0]).toMatch(/^cos-db\/[0-9a-f-]{36}\/cc\.events\/agents$/);
    expect(lines[1]).toBe('70000');
    expect(lines[2]).toBe(agents?.root);
    expect(lines[3]).toBe('');
    expect(lines[4]).toMatch(/^\u2014 cos-db\/[0-9a-f-]{36} [A-Za-z0-9+/]+=*$/);
    const stored = await sql<{ n: number }>(
      d.url,
      'select count(*)::int as n from cc.tlog_checkpoints',
    );
    expect(stored[0]?.n).toBe(heads.length);
    const file = JSON.parse(readFileSync(join(dir, 'cp1.json'), 'utf8')) as {
      tree_heads: unknown[];
    };
    expect(file.tree_heads).toHaveLength(heads.length);
    // The JSON checkpoint, tree heads and all, still checks as before.
    expect(
      (await cli('verify', '--checkpoint', join(dir, 'cp1.json'), '--key', `${key}.pub`)).code,
    ).toBe(0);
  });

  it('writes a tlog-proof under 2 KB that verify-proof accepts with no database, by PEM or verifier key', async () => {
    const text = readFileSync(proofFile, 'utf8');
    expect(text.startsWith('c2sp.org/tlog-proof@v1\nextra ')).toBe(true);
    expect(text).toContain('\nindex 12345\n');
    expect(Buffer.byteLength(text)).toBeLessThan(2048);
    // No --url and no database configured: it reads nothing but the file and the key.
    const offline = (...args: string[]) => runCli(args, { cwd: dir });
    const ok = await offline('verify-proof', proofFile, '--key', `${key}.pub`, '--json');
    expect(ok.code).toBe(0);
    expect(json(ok.stdout)).toMatchObject({
      ok: true,
      kind: 'inclusion',
      table: 'cc.events',
      chain: 'agents',
      seq: '12346',
      index: '12345',
      size: '70000',
      opened: true,
    });
    expect((await offline('verify-proof', proofFile, '--key', key)).code).toBe(0);
    // Without --with-payload: the record as hashed (its payload as the commitment), smaller.
    const plain = join(dir, 'plain.proof');
    expect((await cli('prove', 'ev-agents-12345', '--out', plain)).code).toBe(0);
    expect(Buffer.byteLength(readFileSync(plain, 'utf8'))).toBeLessThan(Buffer.byteLength(text));
    const checkedPlain = await offline('verify-proof', plain, '--key', `${key}.pub`, '--json');
    expect(json(checkedPlain.stdout)).toMatchObject({ ok: true, index: '12345', opened: false });
    const vkey = verifierKey(
      heads[0]?.note.split('\n')[4]?.split(' ')[1] as string,
      createPublicKey(createPrivateKey(readFileSync(key, 'utf8'))),
    );
    expect((await offline('verify-proof', proofFile, '--key', vkey)).code).toBe(0);
    writeFileSync(join(dir, 'vkey.txt'), `${vkey}\n`);
    expect((await offline('verify-proof', proofFile, '--key', join(dir, 'vkey.txt'))).code).toBe(0);
    // Standard input.
    const piped = await runCli(['verify-proof', '-', '--key', `${key}.pub`], {
      cwd: dir,
      input: text,
    });
    expect(piped.code).toBe(0);
  });

  it('answers the same through its quick entry and through the whole CLI', async () => {
    const tampered = join(dir, 'quick-tampered.proof');
    writeFileSync(tampered, readFileSync(proofFile, 'utf8').replace(/^index (\d+)$/m, 'index 7'));
    for (const file of [proofFile, tampered, join(dir, 'missing.proof')])
      for (const extra of [[], ['--json']]) {
        const args = ['verify-proof', file, '--key', `${key}.pub`, ...extra];
        const quick = await runCli(args, { cwd: dir });
        // A global option before the command takes the whole CLI's path.
        const whole = await runCli(['--no-color', ...args], { cwd: dir });
        expect(quick).toEqual(whole);
      }
    // No --key: the key comes from the project's .env, which only the whole CLI reads.
    const project = mkdtempSync(join(tmpdir(), 'cos-db-proofs-env-'));
    writeFileSync(join(project, 'package.json'), '{}');
    writeFileSync(join(project, '.env'), `COS_SIGNING_KEY=${key}.pub\n`);
    expect((await runCli(['verify-proof', proofFile], { cwd: project })).code).toBe(0);
  });

  it('is accepted by an independent verifier: sigstore-js checks its checkpoint signature and its inclusion', async () => {
    const require = createRequire(import.meta.url);
    const { verifyCheckpoint } = require('@sigstore/verify/dist/tlog/checkpoint') as {
      verifyCheckpoint(entry: unknown, tlogs: unknown[]): { logSize: bigint; logHash: Buffer };
    };
    const { verifyMerkleInclusion } = require('@sigstore/verify/dist/tlog/merkle') as {
      verifyMerkleInclusion(entry: unknown, checkpoint: unknown): void;
    };
    const text = readFileSync(proofFile, 'utf8');
    const [head, note] = [
      text.slice(0, text.indexOf('\n\n')),
      text.slice(text.indexOf('\n\n') + 2),
    ];
    const lines = head.split('\n');
    const [row] = await sql<{ hash: string }>(
      d.url,
      "select encode(hash, 'hex') as hash from cc.events where event_id = 'ev-agents-12345'",
    );
    const signature = note.split('\n').find((l) => l.startsWith('\u2014 ')) as string;
    const [, name, sig] = signature.split(' ') as [string, string, string];
    const entry = {
      // sigstore hashes the body as the leaf's data: cos-db's leaf data is the row's hash.
      canonicalizedBody: Buffer.from(row?.hash as string, 'hex'),
      inclusionProof: {
        logIndex: (lines[2] as string).slice(6),
        hashes: lines.slice(3).map((l) => Buffer.from(l, 'base64')),
        checkpoint: { envelope: note },
      },
    };
    const tlog = (publicKeyFile: string) => ({
      logID: Buffer.from(sig, 'base64').subarray(0, 4),
      baseURL: name,
      publicKey: createPublicKey(readFileSync(publicKeyFile, 'utf8')),
    });
    const checkpoint = verifyCheckpoint(entry, [tlog(`${key}.pub`)]);
    expect(checkpoint.logSize).toBe(70000n);
    expect(() => verifyMerkleInclusion(entry, checkpoint)).not.toThrow();
    // The same checks refuse another key, and a leaf that is not the row's.
    expect(() => verifyCheckpoint(entry, [tlog(`${otherKey}.pub`)])).toThrow();
    const wrongLeaf = { ...entry, canonicalizedBody: Buffer.alloc(32, 7) };
    expect(() => verifyMerkleInclusion(wrongLeaf, checkpoint)).toThrow();
  });

  it('refuses a tampered record, path, index, root, signature or key with exit 4, naming what failed', async () => {
    const text = readFileSync(proofFile, 'utf8');
    const lines = text.split('\n');
    const extra = JSON.parse(
      Buffer.from((lines[1] as string).slice(6), 'base64').toString(),
    ) as Record<string, unknown>;
    const withExtra = (m: Record<string, unknown>) =>
      [
        lines[0],
        `extra ${Buffer.from(JSON.stringify(m)).toString('base64')}`,
        ...lines.slice(2),
      ].join('\n');
    const flip = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      b[5] = (b[5] as number) ^ 1;
      return b.toString('base64');
    };
    const at = (i: number, f: (l: string) => string) =>
      lines.map((l, k) => (k === i ? f(l) : l)).join('\n');
    const noteStart = lines.indexOf('') + 1;
    const cases: Array<[string, string, string]> = [
      [
        'record content',
        withExtra({ ...extra, content: (extra.content as string).replace('"step"', '"stop"') }),
        'path',
      ],
      ['record position', withExtra({ ...extra, seq: '12347' }), 'leaf'],
      [
        'payload opened',
        withExtra({ ...extra, opening: { ...(extra.opening as object), text: '{"n":1}' } }),
        'commitment',
      ],
      ['audit path', at(5, flip), 'path'],
      ['index', at(2, () => 'index 12346'), 'leaf'],
      ['root', at(noteStart + 2, flip), 'signature'],
      ['tree size', at(noteStart + 1, () => '69999'), 'signature'],
      ['signature', at(noteStart + 4, (l) => l.replace(/.{8}$/, 'AAAAAAA=')), 'signature'],
    ];
    for (const [what, tampered, kind] of cases) {
      const file = join(dir, `tampered-${what.replace(/ /g, '-')}.proof`);
      writeFileSync(file, tampered);
      const r = await runCli(['verify-proof', file, '--key', `${key}.pub`, '--json'], { cwd: dir });
      expect({ what, code: r.code }).toEqual({ what, code: 4 });
      expect(r.stderr).toContain(`proof FAILED (${kind})`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(json<{ error: { failed: string } }>(r.stdout).error.failed).toBe(kind);
    }
    // A cosignature by a key the verifier does not know is set aside, as the spec requires.
    const cosigned = join(dir, 'cosigned.proof');
    writeFileSync(
      cosigned,
      `${text}\u2014 witness.example ${Buffer.alloc(68, 9).toString('base64')}\n`,
    );
    expect(
      (await runCli(['verify-proof', cosigned, '--key', `${key}.pub`], { cwd: dir })).code,
    ).toBe(0);
    const wrongKey = await runCli(['verify-proof', proofFile, '--key', `${otherKey}.pub`], {
      cwd: dir,
    });
    expect(wrongKey.code).toBe(4);
    expect(wrongKey.stderr).toContain('no signature by this key');
    // Not a proof at all, and no key: usage errors, exit 2.
    writeFileSync(join(dir, 'junk.proof'), 'hello\n');
    expect(
      (await runCli(['verify-proof', join(dir, 'junk.proof'), '--key', `${key}.pub`], { cwd: dir }))
        .code,
    ).toBe(2);
    expect((await runCli(['verify-proof', proofFile], { cwd: dir })).code).toBe(2);
    expect(
      (await runCli(['verify-proof', proofFile, '--key', join(dir, 'nope.pub')], { cwd: dir }))
        .code,
    ).toBe(2);
  });

  it('proves a later tree extends an earlier checkpoint (--from SIZE, a note file, a checkpoint file), and refuses a rewritten one', async () => {
    expect(
      (await cli('archive', 'event', write('more.ndjson', events(70_000, 70_500)), '-q')).code,
    ).toBe(0);
    expect(
      (await cli('verify', '--write-checkpoint', join(dir, 'cp2.json'), '--key', key, '-q')).code,
    ).toBe(0);
    const fromSize = await cli(
      'prove',
      '--from',
      '70000',
      '--chain',
      'agents',
      '--out',
      join(dir, 'c1.proof'),
      '--json',
    );
    expect(fromSize.code).toBe(0);
    expect(json(fromSize.stdout)).toMatchObject({
      kind: 'consistency',
      from: { size: '70000' },
      to: { size: '70500' },
    });
    const ok = await runCli(
      ['verify-proof', join(dir, 'c1.proof'), '--key', `${key}.pub`, '--json'],
      { cwd: dir },
    );
    expect(ok.code).toBe(0);
    expect(json(ok.stdout)).toMatchObject({
      kind: 'consistency',
      from_size: '70000',
      to_size: '70500',
    });

    const agents = heads.find((h) => h.chain === 'agents');
    writeFileSync(join(dir, 'old.note'), agents?.note ?? '');
    expect(
      (await cli('prove', '--from', join(dir, 'old.note'), '--out', join(dir, 'c2.proof'))).code,
    ).toBe(0);
    expect(
      (await runCli(['verify-proof', join(dir, 'c2.proof'), '--key', `${key}.pub`], { cwd: dir }))
        .code,
    ).toBe(0);
    expect(
      (
        await cli(
          'prove',
          '--from',
          join(dir, 'cp1.json'),
          '--chain',
          'core',
          '--out',
          join(dir, 'c3.proof'),
        )
      ).code,
    ).toBe(0);
    expect(
      (await runCli(['verify-proof', join(dir, 'c3.proof'), '--key', `${key}.pub`], { cwd: dir }))
        .code,
    ).toBe(0);

    // A path changed, or an old checkpoint that this tree does not extend: exit 4.
    const text = readFileSync(join(dir, 'c1.proof'), 'utf8').split('\n');
    text[1] = Buffer.alloc(32, 1).toString('base64');
    writeFileSync(join(dir, 'c1-bad.proof'), text.join('\n'));
    const bad = await runCli(['verify-proof', join(dir, 'c1-bad.proof'), '--key', `${key}.pub`], {
      cwd: dir,
    });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('proof FAILED (consistency)');
  });

  it('says what is missing: no checkpoint covers it yet (3), not archived (3), a malformed reference or options (2)', async () => {
    expect(
      (await cli('archive', 'event', write('late.ndjson', events(70_500, 70_501)), '-q')).code,
    ).toBe(0);
    const late = await cli('prove', 'ev-agents-70500');
    expect(late.code).toBe(3);
    expect(late.stderr).toContain(
      'no signed checkpoint of chain agents covers ev-agents-70500 yet',
    );
    expect((await cli('prove', 'no-such-event')).code).toBe(3);
    expect((await cli('prove', 'prd:Bad Ref')).code).toBe(2);
    expect((await cli('prove')).code).toBe(2);
    expect((await cli('prove', 'ev-agents-1', '--from', '10')).code).toBe(2);
    expect((await cli('prove', '--from', '10')).code).toBe(2);
    expect((await cli('prove', '--from', '10', '--chain', 'agents', '--with-payload')).code).toBe(
      2,
    );
    expect((await cli('prove', '--from', '12', '--chain', 'agents')).code).toBe(3);
  });
});

describe('receipts and erasure', () => {
  it('a receipt given before an erasure still checks after it, and a new one proves the erased record', async () => {
    const db = await fresh();
    const run = cliOn(db);
    const file = write('erase.ndjson', [
      { event_id: 'pii-1', type: 'profile', payload: { email: 'ann@example.com' } },
      { event_id: 'pii-2', type: 'note', payload: { text: 'kept' } },
    ]);
    expect((await run('archive', 'event', file, '-q')).code).toBe(0);
    expect(
      (
        await run(
          'verify',
          '--write-checkpoint',
          join(dir, `e-${db.name}.json`),
          '--key',
          key,
          '-q',
        )
      ).code,
    ).toBe(0);
    const before = join(dir, 'pii-before.proof');
    expect((await run('prove', 'pii-1', '--with-payload', '--out', before)).code).toBe(0);
    expect((await run('redact', 'pii-1', '--reason', 'erasure request')).code).toBe(0);
    // The receipt kept by whoever got it still checks: the row's hash did not change.
    expect((await runCli(['verify-proof', before, '--key', `${key}.pub`], { cwd: dir })).code).toBe(
      0,
    );
    // A new proof of the erased record: its commitment, as on record; no payload to open.
    const after = join(dir, 'pii-after.proof');
    expect((await run('prove', 'pii-1', '--with-payload', '--out', after)).code).toBe(0);
    const extra = Buffer.from(
      (readFileSync(after, 'utf8').split('\n')[1] ?? '').slice('extra '.length),
      'base64',
    ).toString();
    expect(extra).not.toContain('ann@example.com');
    expect(JSON.parse(extra)).toMatchObject({ opening: null });
    const checked = await runCli(['verify-proof', after, '--key', `${key}.pub`, '--json'], {
      cwd: dir,
    });
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, opened: false });
  });
});

describe('the tree and its rows stay in step', () => {
  it('16 concurrent writers on one chain: every tile matches the rows', async () => {
    const db = await fresh();
    const run = cliOn(db);
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, w) =>
        run(
          'archive',
          'event',
          write(`w${w}.ndjson`, events(w * 200, w * 200 + 200, 'swarm')),
          '-q',
        ),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array(16).fill(0));
    const [{ n } = { n: 0 }] = await sql<{ n: number }>(
      db.url,
      "select count(*)::int as n from cc.merkle_tiles where chain = 'swarm'",
    );
    expect(n).toBe(Math.floor(3200 / 256));
    expect((await run('verify')).code).toBe(0);
  });

  it('kill -9 mid-append leaves no tile ahead of or behind the rows', async () => {
    const db = await fresh();
    const file = write('big.ndjson', events(0, 60_000, 'bulk'));
    const child = spawn(
      process.execPath,
      [BIN, '--url', db.url, 'archive', 'event', file, '--batch-size', '500'],
      {
        stdio: 'ignore',
      },
    );
    for (;;) {
      const [{ n } = { n: 0 }] = await sql<{ n: number }>(
        db.url,
        'select count(*)::int as n from cc.merkle_tiles',
      );
      if (n >= 10) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const [state] = await sql<{ rows: number; tiles: number }>(
      db.url,
      `select (select count(*)::int from cc.events where chain = 'bulk') as rows,
              (select count(*)::int from cc.merkle_tiles where chain = 'bulk' and stratum = 1) as tiles`,
    );
    expect(state?.rows).toBeLessThan(60_000);
    expect(state?.tiles).toBe(Math.floor((state?.rows ?? 0) / 256));
    expect((await cliOn(db)('verify')).code).toBe(0);
  });

  it('verify names a disabled tree trigger and the tiles it missed; re-enabled, the next append catches up', async () => {
    const db = await fresh();
    const run = cliOn(db);
    expect(
      (await run('archive', 'event', write('a.ndjson', events(0, 300, 'gap')), '-q')).code,
    ).toBe(0);
    await sql(db.url, 'alter table cc.events disable trigger cos_merkle');
    expect(
      (await run('archive', 'event', write('b.ndjson', events(300, 800, 'gap')), '-q')).code,
    ).toBe(0);
    const broken = await run('verify', '--json');
    expect(broken.code).toBe(4);
    const report = json<Verify>(broken.stdout);
    expect(report.tables.find((t) => t.table === 'cc.events')?.guards).toContain(
      'cos_merkle is disabled',
    );
    const gap = report.chains.find((c) => c.chain === 'gap');
    expect(gap?.problems.map((p) => p.kind)).toContain('tree-mismatch');
    expect(gap?.problems.find((p) => p.kind === 'tree-mismatch')?.detail).toContain(
      'Merkle tile 1/1 is not stored',
    );

    await sql(db.url, 'alter table cc.events enable always trigger cos_merkle');
    expect(
      (await run('archive', 'event', write('c.ndjson', events(800, 1100, 'gap')), '-q')).code,
    ).toBe(0);
    expect((await run('verify')).code).toBe(0);

    // A tile written by hand (as the table's owner) for rows that do not exist yet.
    await sql(
      db.url,
      "insert into cc.merkle_tiles values ('cc.events', 'gap', 1, 99, decode(repeat('ab', 32), 'hex'))",
    );
    const forged = json<Verify>((await run('verify', '--json')).stdout);
    expect(forged.chains.find((c) => c.chain === 'gap')?.problems[0]?.detail).toContain(
      'lie beyond the chain',
    );
  });

  it('migrate builds the trees of a store that had rows before it, and rolling back is refused once heads are signed', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const run = cliOn(db);
    expect((await run('migrate', '--to', '20261205000000_api_tokens.ts', '-q')).code).toBe(0);
    expect(
      (await run('archive', 'event', write('old.ndjson', events(0, 1000, 'old')), '-q')).code,
    ).toBe(0);
    expect((await run('migrate', '-q')).code).toBe(0);
    const [{ n } = { n: 0 }] = await sql<{ n: number }>(
      db.url,
      "select count(*)::int as n from cc.merkle_tiles where chain = 'old'",
    );
    expect(n).toBe(3);
    expect(
      (
        await run(
          'verify',
          '--write-checkpoint',
          join(dir, `cp-${db.name}.json`),
          '--key',
          key,
          '-q',
        )
      ).code,
    ).toBe(0);
    expect((await run('prove', 'ev-old-999', '--out', join(dir, 'old.proof'))).code).toBe(0);
    expect(
      (await runCli(['verify-proof', join(dir, 'old.proof'), '--key', `${key}.pub`], { cwd: dir }))
        .code,
    ).toBe(0);
    // Its checkpoint is no proof about the first store.
    const foreign = await cli('prove', '--from', join(dir, `cp-${db.name}.json`), '--chain', 'old');
    expect(foreign.code).toBe(4);
    expect(foreign.stderr).toContain('the checkpoint is of another store');
    const rollback = await run('migrate', 'rollback', '--step', '1');
    expect(rollback.code).not.toBe(0);
    expect(rollback.stderr).toContain('signed tree heads');
  });
});
