import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/**
 * What is hashed is what is stored: random events and PRDs (full Unicode, odd but valid times,
 * extreme numbers, deep nesting) archive, verify, and read back equal to what was accepted, on
 * both engines; values PostgreSQL cannot store as given are refused with exit 2, naming the line
 * and the field, and nothing is written.
 */
const SEED = 20261201;

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '\t\n\\"\u2028\u2029\uFEFF',
    '😀𝄞\u{10FFFF}',
    'é\u0301',
    '\u007f\u0085',
    '%s;\'"--',
  ),
);
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(-0, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, 0.1, 1e21, 1e-7),
);
const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** A valid time, written the ways producers write RFC 3339. */
const time = fc
  .tuple(
    fc.date({
      min: new Date('0001-01-02T00:00:00Z'),
      max: new Date('9999-12-30T23:59:59.999Z'),
      noInvalidDate: true,
    }),
    fc.constantFrom('iso', 'offset', 'nanos', 'lower', 'space', 'compact'),
  )
  .map(([d, style]) => {
    const iso = d.toISOString();
    if (style === 'iso') return iso;
    if (style === 'lower') return iso.replace('T', 't').replace('Z', 'z');
    if (style === 'space') return iso.replace('T', ' ');
    if (style === 'nanos') return iso.replace('Z', '123456Z');
    // The same instant at +05:30.
    const local = new Date(d.getTime() + 330 * 60_000);
    const body = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${pad(local.getUTCMilliseconds(), 3)}`;
    return style === 'offset' ? `${body}+05:30` : `${body}+0530`;
  });

const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i += 1) value = i % 2 ? { d: value } : [value];
  return value;
};

const event = fc.record(
  {
    type: text.filter((t) => t.length >= 1 && t.length <= 200),
    actor: text.filter((t) => t.length >= 1 && t.length <= 200),
    task_id: text.filter((t) => t.length >= 1 && t.length <= 200),
    occurred_at: time,
    payload: fc.dictionary(text, json, { maxKeys: 5 }),
  },
  { requiredKeys: ['type'] },
);

/** Inputs PostgreSQL would store otherwise, each with the field the error must name. */
const REFUSED: Array<{ line: string; field: string }> = [
  { line: '{"type":"t\\udc00"}', field: 'type' },
  { line: '{"type":"t","actor":"a\\u0000b"}', field: 'actor' },
  { line: '{"type":"t","payload":{"x":"\\ud83d"}}', field: 'payload.x' },
  { line: '{"type":"t","payload":{"k\\u0000":1}}', field: 'payload["k\\u0000"]' },
  { line: '{"type":"t","payload":{"n":[1,1e400]}}', field: 'payload.n[1]' },
  {
    line: `{"type":"t","payload":{"deep":${JSON.stringify(nested(1000))}}}`,
    field: 'payload.deep',
  },
  { line: '{"type":"t","occurred_at":"2026-01-01T24:00:00.000Z"}', field: 'occurred_at' },
  { line: '{"type":"t","occurred_at":"2016-12-31T23:59:60.000Z"}', field: 'occurred_at' },
  { line: '{"type":"t","occurred_at":"2026-02-30T00:00:00Z"}', field: 'occurred_at' },
  { line: '{"type":"t","occurred_at":"0000-01-01T00:00:00Z"}', field: 'occurred_at' },
  { line: '{"type":"t","occurred_at":"+010000-01-01T00:00:00Z"}', field: 'occurred_at' },
  { line: '{"type":"t","occurred_at":"1"}', field: 'occurred_at' },
  { line: '{"type":"t","occurred_at":"2026-01-01T10:00:00"}', field: 'occurred_at' },
];

const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

type Exported = Record<string, unknown> & { event_id: string };

let server: TestDatabase | undefined;
afterAll(async () => server?.drop());

describe.each(['postgres', 'embedded'] as const)('round trip on %s', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), `cos-db-roundtrip-${engine}-`));
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
  const count = async () =>
    (JSON.parse((await cli('verify', '--json')).stdout) as { rows: number }).rows;

  it('random events and PRDs archive, verify, and read back equal to what was accepted', async () => {
    if (engine === 'postgres') {
      server = await createTestDatabase();
      env = { COS_DEV_DATABASE_URL: server.url };
    } else env = { COS_DEV_DATABASE_URL: `pglite:${join(dir, 'store')}` };
    expect((await cli('migrate', '-q')).code).toBe(0);

    const sampled = fc.sample(event, { seed: SEED, numRuns: 150 });
    const lines = sampled.map((e, i) => JSON.stringify({ event_id: `rt-${i}`, ...e }));
    lines.push(
      `{"event_id":"rt-deep","type":"deep","payload":{"d":${JSON.stringify(nested(998))}}}`,
    );
    // Numbers as JSON text, not as JavaScript wrote them: what was accepted is what JSON.parse read.
    lines.push(
      '{"event_id":"rt-num","type":"n","payload":{"a":9007199254740993,"b":1.0,"c":1e2,"d":-0.0,"e":1e-400}}',
    );
    writeFileSync(join(dir, 'events.ndjson'), lines.join('\n'));
    const archived = await cli('archive', 'event', 'events.ndjson', '--json');
    expect(archived.stderr).not.toContain('internal error');
    expect(archived.code).toBe(0);
    expect(JSON.parse(archived.stdout)).toMatchObject({ new: lines.length });

    const prds = fc.sample(fc.tuple(text, fc.string({ unit: 'grapheme', maxLength: 300 })), {
      seed: SEED,
      numRuns: 12,
    });
    const files = prds.map(([title, body], i) => {
      const name = `p${i}.md`;
      const front = JSON.stringify({ id: `rt-p${i}`, title: title || 'untitled', n: i + 0.5 });
      writeFileSync(join(dir, name), `---\n${front}\n---\n# Heading\n${body}\r\n\ttrailing  \n`);
      return name;
    });
    const prd = await cli('archive', 'prd', ...files, '--json');
    expect(prd.stderr).not.toContain('internal error');
    expect(prd.code).toBe(0);

    const verified = await cli('verify', '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });

    const exported = (await cli('export', 'events', '--format', 'ndjson')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Exported);
    const byId = new Map(exported.map((e) => [e.event_id, e]));
    for (const line of lines) {
      const sent = JSON.parse(line) as Record<string, unknown> & { event_id: string };
      const back = byId.get(sent.event_id);
      expect(back, sent.event_id).toBeDefined();
      for (const key of ['type', 'actor', 'task_id', 'payload'] as const) {
        // Compared as JSON: RFC 8785 (and so the hash) writes -0 as 0.
        if (sent[key] !== undefined)
          expect(asJson(back?.[key]), `${sent.event_id}.${key}`).toStrictEqual(asJson(sent[key]));
      }
      if (typeof sent.occurred_at === 'string')
        expect(Date.parse(back?.occurred_at as string)).toBe(
          Date.parse(sent.occurred_at.replace(/(\.\d{3})\d+/, '$1').replace(' ', 'T')),
        );
    }
    for (const [i, file] of files.entries()) {
      const content = await cli('query', 'prd', `rt-p${i}`, '--version', '1', '--content');
      expect(content.code).toBe(0);
      expect(Buffer.from(content.stdout)).toEqual(readFileSync(join(dir, file)));
    }
  });

  it('values PostgreSQL cannot store as given: exit 2 naming the line and the field, nothing written', async () => {
    const before = await count();
    const cases = engine === 'postgres' ? REFUSED : REFUSED.filter((_, i) => i % 3 === 0);
    for (const { line, field } of cases) {
      writeFileSync(join(dir, 'bad.ndjson'), `{"type":"fine"}\n${line}\n`);
      const r = await cli('archive', 'event', 'bad.ndjson', '--json');
      expect(r.code, line.slice(0, 80)).toBe(2);
      const error = (JSON.parse(r.stdout) as { error: { message: string } }).error;
      expect(error.message).toContain('bad.ndjson:2: ');
      expect(error.message).toContain(field);
    }
    writeFileSync(join(dir, 'bad.md'), '---\ntitle: "a\\ud800b"\n---\n# x\n');
    const prd = await cli('archive', 'prd', 'bad.md');
    expect(prd.code).toBe(2);
    expect(prd.stderr).toContain('front-matter.title');
    expect(await count()).toBe(before);
  });
});
