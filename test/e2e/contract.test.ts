import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';

/*
 * Every command's --json output checked against the JSON Schema cos-db publishes for it (the
 * files in dist/schemas, as the package ships them), by an independent validator (ajv), and
 * every key of it checked to be snake_case (user data — payloads, front matter — aside).
 */
const SCHEMAS = fileURLToPath(new URL('../../dist/schemas/', import.meta.url));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);

const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

function validate(name: string, doc: unknown): void {
  let check = compiled.get(name);
  if (!check) {
    const path = join(SCHEMAS, `${name}.schema.json`);
    check = ajv.compile(JSON.parse(readFileSync(path, 'utf8')) as object);
    compiled.set(name, check);
  }
  if (!check(doc))
    throw new Error(
      `${name}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(doc).slice(0, 2000)}`,
    );
}

/** Keys that are user data, not the contract's own: not held to snake_case. */
const OPAQUE = new Set(['payload', 'front_matter', 'parts']);

function camelKeys(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => camelKeys(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/^[a-z][a-z0-9_]*$/.test(k) ? [] : [`${path}.${k}`]),
    ...(OPAQUE.has(k) ? [] : camelKeys(v, `${path}.${k}`)),
  ]);
}

const dir = mkdtempSync(join(tmpdir(), 'cos-db-contract-'));
const cli = (...args: string[]) => runCli(args, { cwd: dir, env: { COS_ACTOR: 'tester' } });

/** Runs a command with --json: it exits as expected and prints a valid document of that name. */
async function document(name: string, args: string[], code = 0): Promise<unknown> {
  const r = await cli(...args, '--json');
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  const doc = JSON.parse(r.stdout) as unknown;
  validate(name, doc);
  expect(camelKeys(doc), args.join(' ')).toEqual([]);
  return doc;
}

beforeAll(() => {
  writeFileSync(join(dir, 'package.json'), '{"name": "contract-scratch", "private": true}\n');
  writeFileSync(join(dir, 'spec.md'), '---\nid: spec\ntitle: Spec\nstatus: draft\n---\n# Spec\n');
  writeFileSync(
    join(dir, 'events.ndjson'),
    [
      { event_id: 'a', type: 'task.planned', module: 'planner', inputs: ['prd:spec@1'] },
      {
        event_id: 'b',
        type: 'task.done',
        actor: 'agent',
        parents: ['a'],
        payload: { camelKey: 1 },
      },
      { event_id: 'c', type: 'task.done', parents: ['b'] },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n'),
  );
});

describe('every --json output matches its published JSON Schema', () => {
  it('from migrate to verify, on the embedded store', async () => {
    await document('env', ['env', '--no-check']);
    await document('error', ['query', 'events'], 6);
    await document('migrate', ['migrate']);
    await document('migrate-status', ['migrate', 'status']);
    await document('migrate-unlock', ['migrate', 'unlock']);
    await document('ping', ['ping']);
    await document('schema-create', ['schema', 'create', 'lab']);
    await document('schema-list', ['schema', 'list']);
    await document('migrate-make', ['migrate', 'make', 'add_notes', '--module', 'lab']);
    await document('archive-prd', ['archive', 'prd', 'spec.md']);
    writeFileSync(join(dir, 'spec.md'), '---\nid: spec\ntitle: Spec\n---\n# Spec, again\n');
    await document('archive-prd', ['archive', 'prd', 'spec.md']);
    await document('archive-event', ['archive', 'event', 'events.ndjson']);
    await document('query-prd', ['query', 'prd']);
    await document('prd-history', ['query', 'prd', 'spec']);
    await document('prd-version', ['query', 'prd', 'spec', '--version', '1']);
    await document('diff-prd', ['diff', 'prd', 'spec']);
    const page = (await document('query-events', ['query', 'events', '--limit', '2'])) as {
      next: string;
    };
    expect(page.next).toBe('b');
    await document('event-detail', ['query', 'events', 'b']);
    const t = (await document('trace', ['trace', 'c', '--depth', '1'])) as { truncated: boolean };
    expect(t.truncated).toBe(true);
    const whole = (await document('trace', ['trace', 'c', '--depth', '3'])) as {
      truncated: boolean;
    };
    expect(whole.truncated).toBe(false);
    const tree = await cli('trace', 'c', '--depth', '1');
    expect(tree.stdout.trim().split('\n').pop()).toMatch(/lineage goes on past --depth 1/);
    await document('trace', ['trace', 'prd:spec', '--down']);
    await document('link-add', ['link', 'add', 'b', 'kb:notes/1']);
    await document('link-list', ['link', 'list', 'b']);
    await document('verify', ['verify']);
    await document('keygen', ['keygen', '--out', 'signing.key']);
    await document('export', ['export', 'events', '--out', 'events.out.ndjson']);
    await document('export', ['export', '--all', '--out', 'store.bundle']);
    await document('seed-run', ['seed', 'run']);
    const token = (await document('token-create', [
      'token',
      'create',
      '--agent',
      'planner',
      '--scope',
      'append',
      '--expires',
      '30d',
    ])) as { token_id: string };
    await document('token-list', ['token', 'list']);
    await document('token-revoke', ['token', 'revoke', token.token_id]);
    await document('error', ['token', 'revoke', 'nope'], 3);
    await document('error', ['token', 'create', '--agent', 'a', '--scope', 'admin'], 2);
    await document('error', ['archive', 'event', 'missing.ndjson'], 2);
    await document('error', ['query', 'events', 'nope'], 3);
    await document('error', ['trace', 'prd:nope'], 3);
    // The argument parser's errors too: an unknown option, too many arguments, an unknown command.
    await document('error', ['query', 'events', '--bogus'], 2);
    await document('error', ['query', 'events', 'a', 'b'], 2);
    await document('error', ['no-such-command'], 2);
  }, 180_000);

  it('export records, bundle manifests and checkpoints too', async () => {
    for (const [kind, name] of [
      ['events', 'event-record'],
      ['prd', 'prd-record'],
      ['lineage', 'lineage-edge'],
    ] as const) {
      const r = await cli('export', kind, '--format', 'ndjson');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) validate(name, JSON.parse(line));
    }
    const manifest = readFileSync(join(dir, 'store.bundle'), 'utf8').split('\n')[0] ?? '';
    validate('bundle-manifest', JSON.parse(manifest));
    const key = join(dir, 'signing.key');
    const written = await runCli(['verify', '--write-checkpoint', 'cp.json', '--json'], {
      cwd: dir,
      env: { COS_SIGNING_KEY: key },
    });
    expect(written.code).toBe(0);
    validate('verify', JSON.parse(written.stdout));
    validate('checkpoint', JSON.parse(readFileSync(join(dir, 'cp.json'), 'utf8')));
    // Receipts: an inclusion proof and a consistency proof, each checked offline.
    const proof = (await document('prove', ['prove', 'b', '--out', 'b.proof'])) as {
      chain: string;
    };
    await document('verify-proof', ['verify-proof', 'b.proof', '--key', `${key}.pub`]);
    const size = (
      JSON.parse(written.stdout) as { tree_heads: Array<{ chain: string; size: string }> }
    ).tree_heads.find((h) => h.chain === proof.chain)?.size as string;
    await document('prove', ['prove', '--from', size, '--chain', proof.chain, '--out', 'c.proof']);
    await document('verify-proof', ['verify-proof', 'c.proof', '--key', `${key}.pub`]);
    writeFileSync(
      join(dir, 'bad.proof'),
      readFileSync(join(dir, 'b.proof'), 'utf8').replace(
        /^index (\d+)$/m,
        (_, n: string) => `index ${Number(n) + 1}`,
      ),
    );
    await document('error', ['verify-proof', 'bad.proof', '--key', `${key}.pub`], 4);
    // The input schema accepts what archive event accepts, and refuses a misspelt field.
    validate('event', { type: 'x', event_id: 'e', payload: { any: 1 } });
    expect(() => validate('event', { type: 'x', eventId: 'e' })).toThrow(/additional/);
  }, 120_000);

  it('query events --json pipes back into archive event: the same records, already archived', async () => {
    const out = await cli('query', 'events', '--json');
    const events = (JSON.parse(out.stdout) as { events: unknown[] }).events;
    expect(events.length).toBe(3);
    // As `cos-db query events --json | jq -c '.events[]' | cos-db archive event -` would.
    const again = await runCli(['archive', 'event', '-', '--json'], {
      cwd: dir,
      input: events.map((e) => JSON.stringify(e)).join('\n'),
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ new: 0, already_archived: 3 });
    // The same records into another store: archived anew, each with its place in that store.
    const other = mkdtempSync(join(tmpdir(), 'cos-db-contract-other-'));
    const run = (...args: string[]) =>
      runCli(args, { cwd: other, input: events.map((e) => JSON.stringify(e)).join('\n') });
    expect((await run('migrate', '-q')).code).toBe(0);
    writeFileSync(join(other, 'spec.md'), '---\nid: spec\ntitle: Spec\n---\n# Spec\n');
    expect((await run('archive', 'prd', 'spec.md', '-q')).code).toBe(0);
    const moved = await run('archive', 'event', '-', '--json');
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ new: 3, already_archived: 0 });
  }, 90_000);

  it('redaction: the report, an erased record everywhere it appears, verify and import', async () => {
    await document('redact', ['redact', 'a', '--dry-run']);
    await document('error', ['redact', 'nope', '--reason', 'r'], 3);
    await document('error', ['redact', 'a'], 2);
    const made = (await document('redact', ['redact', 'a', '--reason', 'request #1'])) as {
      redacted: number;
    };
    expect(made.redacted).toBe(1);
    const detail = (await document('event-detail', ['query', 'events', 'a'])) as {
      redaction: unknown;
    };
    expect(detail.redaction).toMatchObject({ field: 'payload', reason: 'request #1' });
    await document('query-events', ['query', 'events']);
    const verified = (await document('verify', ['verify'])) as {
      chains: Array<{ redacted: number }>;
    };
    expect(verified.chains.some((c) => c.redacted === 1)).toBe(true);
    const lines = (await cli('export', 'events', '--format', 'ndjson')).stdout.trim().split('\n');
    for (const line of lines) validate('event-record', JSON.parse(line));
    await document('export', ['export', '--all', '--out', 'redacted.bundle']);
    const other = mkdtempSync(join(tmpdir(), 'cos-db-contract-redacted-'));
    const run = (...args: string[]) => runCli(args, { cwd: other });
    expect((await run('migrate', '-q')).code).toBe(0);
    const imported = await run('import', join(dir, 'redacted.bundle'), '--json');
    expect(imported.code, imported.stderr).toBe(0);
    validate('import', JSON.parse(imported.stdout));
  }, 90_000);
});

describe('cos-db json-schema', () => {
  it('lists the documents, and prints each schema as the package ships it', async () => {
    const list = JSON.parse((await cli('json-schema', '--json')).stdout) as Array<{ name: string }>;
    expect(list.map((d) => d.name)).toContain('event-record');
    const printed = JSON.parse((await cli('json-schema', 'trace')).stdout) as object;
    expect(printed).toEqual(JSON.parse(readFileSync(join(SCHEMAS, 'trace.schema.json'), 'utf8')));
    expect(printed).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:cos-db:schema:1:trace',
    });
    const unknown = await cli('json-schema', 'nope', '--json');
    expect(unknown.code).toBe(2);
    validate('error', JSON.parse(unknown.stdout));
  });

  it('--version prints the version', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      (
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version: string;
        }
      ).version,
    );
  });
});
