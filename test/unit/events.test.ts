import { hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_CONTENT_COLUMNS,
  eventRowMaker,
  isKnownEventLayout,
  ledgerRowOf,
} from '../../src/events/eventLedgerRow.js';
import {
  eventSchema,
  normalizeEvent,
  sameEvent,
  storedForm,
  parseEvent,
  type EventInput,
} from '../../src/events/eventSchema.js';
import { readJsonRecordBatches } from '../../src/events/readJsonRecords.js';
import { Canonical } from '../../src/integrity/canonicalJson.js';
import { toContentColumns, type CatalogColumn } from '../../src/integrity/contentColumns.js';
import { prepareLedgerRow } from '../../src/integrity/ledger.js';

/** Strings near every limit the schema sets, valid and not. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(200), 'x'.repeat(201), 'prd:a@1'),
  fc.string({ unit: 'grapheme', minLength: 195, maxLength: 205 }),
);
const anyValue = fc.oneof(text, fc.constant(null), fc.integer(), fc.boolean(), fc.array(text));
/** Mostly a valid value for the field, sometimes anything. */
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const name = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(200), 'x'.repeat(201), 'prd:a@1') },
);
const fields = {
  event_id: field(name),
  type: field(name),
  module: field(fc.stringMatching(/^[a-z][a-z0-9_]{0,70}$/)),
  actor: field(name),
  task_id: field(name),
  run_id: field(name),
  occurred_at: field(
    fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('2026-01-01', '2026-01-01T10:00:00+02:00', 'yesterday', '', '2026-13-40'),
    ),
  ),
  parents: field(fc.array(name, { maxLength: 4 })),
  inputs: field(
    fc.array(fc.constantFrom('prd:spec@1', 'prd:a.b-c_d@42', 'prd:X@1', 'prd:spec@0', 'spec@1'), {
      maxLength: 3,
    }),
  ),
  payload: field(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }))),
};
const eventLike = fc.oneof(
  { weight: 9, arbitrary: fc.record(fields, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ ...fields, extra: fc.jsonValue({ maxDepth: 0 }) }) },
);

describe('parseEvent (the hand-written check beside zod)', () => {
  it('accepts exactly what eventSchema accepts, and gives the same data', () => {
    let accepted = 0;
    fc.assert(
      fc.property(eventLike, (value) => {
        const mine = parseEvent(value);
        const zod = eventSchema.safeParse(value);
        expect(mine.success).toBe(zod.success);
        if (mine.success && zod.success) {
          expect(mine.data).toEqual(zod.data);
          accepted += 1;
        }
      }),
      { numRuns: 3000 },
    );
    // Both sides of the line are exercised: about 100 of 3,000 are accepted (a run with a
    // random seed once accepted exactly 100, so the floor sits well below that).
    expect(accepted).toBeGreaterThan(30);
    expect(accepted).toBeLessThan(2900);
  });

  it('leaves the errors to zod', () => {
    const r = parseEvent({ type: 'x', module: 'Bad Name' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('must be a lowercase identifier');
  });
});

/** Events that pass the schema, for the hashing and row tests. */
const validEvent: fc.Arbitrary<EventInput> = eventLike
  .map((value) => eventSchema.safeParse(value))
  .filter((r) => r.success)
  .map((r) => r.data as EventInput);

describe('normalizeEvent', () => {
  it('an event sent again is the same event as the one stored from it', () => {
    fc.assert(
      fc.property(validEvent, (input) => {
        const e = normalizeEvent(input, 1);
        expect(sameEvent(normalizeEvent(input, 2), storedForm(e))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('any other field, or another payload, is another event; a defaulted time matches any', () => {
    const stored = storedForm(
      normalizeEvent({ event_id: 'a', type: 't', occurred_at: '2026-01-01T00:00:00Z' }, 1),
    );
    expect(sameEvent(normalizeEvent({ event_id: 'a', type: 't' }, 1), stored)).toBe(true);
    for (const other of [
      { type: 'u' },
      { type: 't', actor: 'x' },
      { type: 't', payload: { k: 1 } },
      { type: 't', parents: ['p'] },
      { type: 't', occurred_at: '2026-01-01T00:00:01Z' },
    ])
      expect(sameEvent(normalizeEvent({ event_id: 'a', ...other }, 1), stored)).toBe(false);
    // An erased payload matches any payload; the other fields must still match.
    const erased = { ...stored, payload: null };
    expect(
      sameEvent(normalizeEvent({ event_id: 'a', type: 't', payload: { k: 1 } }, 1), erased),
    ).toBe(true);
    expect(sameEvent(normalizeEvent({ event_id: 'a', type: 'u' }, 1), erased)).toBe(false);
  });
});

/** cc.events' columns as the catalog lists them: the content columns, then the chain's. */
const EVENTS_CATALOG: CatalogColumn[] = [
  ...EVENT_CONTENT_COLUMNS,
  ['chain', 'text'],
  ['seq', 'int8'],
  ['prev_hash', 'bytea'],
  ['hash', 'bytea'],
  ['hash_version', 'int2'],
].map(([name, type]) => ({ name: name as string, type: type as string, elem: null }));

describe("events' ledger rows", () => {
  const columns = toContentColumns(EVENTS_CATALOG);
  const fast = eventRowMaker(columns);
  const recordedAt = '2026-11-29T12:00:00.000Z';

  it('written out directly, they are the generic rows byte for byte', () => {
    expect(isKnownEventLayout(columns)).toBe(true);
    fc.assert(
      fc.property(validEvent, (input) => {
        const e = normalizeEvent(input, 1);
        const salt = randomBytes(16);
        const generic = prepareLedgerRow(columns, ledgerRowOf(e, recordedAt, salt));
        expect(fast(e, recordedAt, salt)).toEqual(generic);
        expect(e.payloadJson).toBeInstanceOf(Canonical);
        // The payload is hashed as its salted commitment, never as itself.
        const content = JSON.parse(generic.canonical) as Record<string, unknown>;
        expect(content.payload).toBeUndefined();
        expect(content.payload_salt).toBeUndefined();
        expect(content.payload_commitment).toBe(
          hash('sha256', salt.toString('hex') + e.payloadJson.text),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a table with another layout takes the generic path', () => {
    const wider = toContentColumns([
      ...EVENTS_CATALOG,
      { name: 'extra', type: 'text', elem: null },
    ]);
    const e = normalizeEvent({ type: 'x' }, 1);
    expect(() => eventRowMaker(wider)(e, recordedAt)).toThrow(/ledger row lacks extra/);
  });
});

async function read(chunks: Array<string | Buffer>): Promise<Array<[number, unknown]>> {
  const out: Array<[number, unknown]> = [];
  for await (const batch of readJsonRecordBatches('-', Readable.from(chunks), 'in'))
    for (const r of batch) out.push([r.line, r.value]);
  return out;
}

describe('reading NDJSON by hand', () => {
  it('counts lines as readline does: LF, CRLF, a lone CR, blank lines, no final newline', async () => {
    expect(await read(['{"a":1}\r\n\n{"a":2}\r{"a":3}\n\r\n{"a":4}'])).toEqual([
      [1, { a: 1 }],
      [3, { a: 2 }],
      [4, { a: 3 }],
      [6, { a: 4 }],
    ]);
  });

  it('joins lines and characters split across chunks, and skips a BOM', async () => {
    const bytes = Buffer.from('\ufeff{"a":"é🚀"}\r\n{"b":2}\n', 'utf8');
    // Split inside the BOM, inside the rocket and between CR and LF.
    const cuts = [1, 10, 13, bytes.indexOf(0x0a) - 1, bytes.length];
    const chunks = cuts.map((end, i) => bytes.subarray(cuts[i - 1] ?? 0, end));
    expect(await read(chunks)).toEqual([
      [1, { a: 'é🚀' }],
      [2, { b: 2 }],
    ]);
  });

  it('reads a pretty-printed array whole, and names the line of a malformed one', async () => {
    expect(await read(['[\n {"a":1},\n', ' {"a":2}\n]\n'])).toEqual([
      [1, { a: 1 }],
      [1, { a: 2 }],
    ]);
    await expect(read(['{"a":1}\n{"a":\n'])).rejects.toThrow(/^in:2: malformed JSON/);
  });
});
