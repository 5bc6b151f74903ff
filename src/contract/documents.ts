import { z } from 'zod';
import { eventSchema } from '../events/eventSchema.js';

/*
 * The 1.0 data contract: every JSON document cos-db reads or writes, in one spelling (snake_case,
 * as the input format and the columns), each record one shape wherever it appears. The JSON
 * Schemas `cos-db json-schema` prints are generated from these, and the test suite validates
 * every command's --json output against them with an independent validator.
 */

const time = z.iso.datetime();
const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
const digest = hex(32).describe('a SHA-256 digest, lowercase hex');
const nullable = <T extends z.ZodType>(t: T) => t.nullable();
const counts = z.strictObject({
  applied: z.int(),
  pending: z.int(),
  missing: z.int(),
  edited: z.int(),
});

/** The integrity columns every ledger record carries. */
const ledgerPlace = {
  chain: z.string(),
  seq: z
    .string()
    .regex(/^[1-9][0-9]*$/)
    .describe('position in its chain, from 1 (a string: int8)'),
  prev_hash: digest.describe('the hash of the row before it in its chain (zeros for the first)'),
  hash: digest,
};

export const memoryLink = z.strictObject({
  link_id: z.string(),
  ref: z.string(),
  ref_kind: z.enum(['event', 'prd']),
  l3_ref: z.string(),
  relation: z.string(),
  created_by: z.string(),
  created_at: time,
});

/** An archived event, as query, export and bundles give it. */
export const eventRecord = z.strictObject({
  event_id: z.string(),
  type: z.string(),
  module: nullable(z.string()),
  actor: nullable(z.string()),
  task_id: nullable(z.string()),
  run_id: nullable(z.string()),
  occurred_at: time,
  recorded_at: time,
  parents: z.array(z.string()),
  inputs: z.array(z.string()),
  payload: nullable(z.record(z.string(), z.unknown())).describe('null once erased'),
  redaction: nullable(
    z.strictObject({
      redaction_id: z.string(),
      field: z.literal('payload'),
      reason: z.string(),
      requested_by: z.string(),
      redacted_at: time,
    }),
  ).describe('who erased the payload, when and why (cos-db redact); null while it is there'),
  ...ledgerPlace,
});

const prdVersionFields = {
  prd_id: z.string(),
  version: z.int().min(1),
  title: z.string(),
  status: nullable(z.string()),
  content_sha256: digest,
  size_bytes: z.int(),
  source_path: nullable(z.string()),
  message: nullable(z.string()),
  archived_by: z.string(),
  archived_at: time,
  ...ledgerPlace,
};

/** An archived PRD version with its text, as export gives it. */
export const prdRecord = z.strictObject({
  ...prdVersionFields,
  front_matter: z.record(z.string(), z.unknown()),
  content: z.string(),
});

const prdVersion = z.strictObject({ ...prdVersionFields, links: z.array(memoryLink) });

const problem = z.strictObject({
  position: nullable(z.string()),
  kind: z.enum([
    'content-changed',
    'row-missing',
    'hash-mismatch',
    'guard-disabled',
    'table-missing',
    'redaction-not-applied',
    'redaction-orphan',
    'tree-mismatch',
  ]),
  detail: z.string(),
});

/** A signed tree head of one chain: a C2SP tlog-checkpoint, signed as a C2SP signed note. */
const treeHead = z.strictObject({
  table: z.string(),
  chain: z.string(),
  size: z
    .string()
    .regex(/^[1-9][0-9]*$/)
    .describe('the number of rows it covers (a string: int8)'),
  root: z.string().describe('the RFC 6962 root of those rows, base64 as in the checkpoint'),
  note: z.string().describe('the checkpoint as a C2SP signed note (text, blank line, signature)'),
  created_at: z.string().describe('when it was signed (empty for a checkpoint given from a file)'),
});

const chainHead = z.strictObject({
  table: z.string(),
  chain: z.string(),
  size: z.int(),
  head: digest,
});

const lockHolder = z.strictObject({
  pid: z.int(),
  application_name: z.string(),
  user: z.string(),
  since: z.string(),
});

const tokenRow = z.strictObject({
  token_id: z.string(),
  agent: z.string(),
  scope: z.enum(['read', 'append']),
  state: z.enum(['active', 'expired', 'revoked']),
  created_by: z.string(),
  created_at: time,
  expires_at: nullable(time),
  revoked_by: nullable(z.string()),
  revoked_at: nullable(time),
});

export const documents = {
  // Inputs.
  event: eventSchema.describe(
    'An event as producers send it (cos-db archive event: one per line of NDJSON, or a JSON array)',
  ),

  // Records, one per line of `cos-db export KIND --format ndjson`.
  'event-record': eventRecord.describe('An archived event (query events, export events, bundles)'),
  'prd-record': prdRecord.describe('An archived PRD version with its text (export prd, bundles)'),
  'lineage-edge': z
    .strictObject({
      from_id: z.string(),
      to_id: z.string(),
      kind: z.enum(['parent', 'input']),
    })
    .describe('A lineage edge (export lineage)'),

  error: z
    .strictObject({
      error: z.looseObject({
        exit_code: z.int(),
        message: z.string(),
        hint: nullable(z.string()),
      }),
    })
    .describe('What every command prints on stdout with --json when it fails'),

  env: z
    .strictObject({
      selected: z.enum(['prod', 'dev', 'test']),
      selected_by: z.string(),
      project: z.strictObject({
        root: z.string(),
        found_by: z.string(),
        migrations_dir: z.string(),
        seeds_dir: z.string(),
        store_dir: z.string(),
      }),
      envs: z.array(
        z.strictObject({
          env: z.enum(['prod', 'dev', 'test']),
          selected: z.boolean(),
          engine: z.enum(['postgres', 'embedded']),
          target: z.string(),
          host: nullable(z.string()),
          port: nullable(z.int()),
          database: nullable(z.string()),
          user: nullable(z.string()),
          data_dir: nullable(z.string()),
          source: z.string(),
          parts: z.record(z.string(), z.string()),
          reachable: nullable(z.boolean()),
          state: z.string(),
        }),
      ),
    })
    .describe('cos-db env'),

  ping: z
    .strictObject({
      env: z.string(),
      engine: z.enum(['postgres', 'embedded']),
      server_version: z.string(),
      version: z.string(),
      round_trip_ms: z.number(),
      target: z.string(),
      connect_ms: z.number(),
      attempts: z.int(),
    })
    .describe('cos-db ping'),

  migrate: z
    .strictObject({
      dry_run: z.boolean(),
      scopes: z.array(
        z.strictObject({
          module: nullable(z.string()),
          schema: z.string(),
          batch: nullable(z.int()),
          applied: z.array(z.string()),
          cleared_knex_lock: z.boolean(),
          preview: z.array(
            z.strictObject({ migration: z.string(), statements: z.array(z.string()) }),
          ),
          not_previewed: z.array(z.string()),
        }),
      ),
    })
    .describe('cos-db migrate'),

  'migrate-status': z
    .strictObject({
      scopes: z.array(
        z.strictObject({
          module: nullable(z.string()),
          schema: z.string(),
          dir: z.string(),
          entries: z.array(
            z.strictObject({
              name: z.string(),
              state: z.enum(['applied', 'pending', 'missing', 'edited']),
              batch: nullable(z.int()),
              applied_at: nullable(time),
              checksum: nullable(z.enum(['ok', 'edited', 'none'])),
            }),
          ),
          counts,
        }),
      ),
      unregistered_folders: z.array(z.string()),
      clean: z.boolean(),
    })
    .describe('cos-db migrate status'),

  'migrate-rollback': z
    .strictObject({
      module: nullable(z.string()),
      schema: z.string(),
      rolled_back: z.array(z.string()),
    })
    .describe('cos-db migrate rollback'),

  'migrate-make': z.strictObject({ path: z.string() }).describe('cos-db migrate make'),

  'migrate-unlock': z
    .array(
      z.strictObject({
        schema: z.string(),
        cleared_knex_lock: z.boolean(),
        advisory_holders: z.array(lockHolder),
      }),
    )
    .describe('cos-db migrate unlock'),

  'schema-create': z
    .strictObject({ module: z.string(), schema: z.string(), migrations_dir: z.string() })
    .describe('cos-db schema create'),

  'schema-list': z
    .array(
      z.strictObject({
        name: z.string(),
        description: z.string(),
        created_at: time,
        created_by: z.string(),
        tables: z.array(z.string()),
        migrations: counts,
      }),
    )
    .describe('cos-db schema list'),

  'schema-drop': z
    .strictObject({
      module: z.string(),
      dropped_tables: z.array(z.string()),
      migrations_dir_kept: z.string(),
    })
    .describe('cos-db schema drop'),

  'seed-run': z.strictObject({ ran: z.array(z.string()) }).describe('cos-db seed run'),

  'archive-prd': z
    .array(
      z.strictObject({
        prd_id: z.string(),
        version: z.int(),
        outcome: z.enum(['new', 'changed', 'unchanged']),
        content_sha256: digest,
        source_path: nullable(z.string()),
      }),
    )
    .describe('cos-db archive prd'),

  'archive-event': z
    .strictObject({
      new: z.int(),
      already_archived: z.int(),
      ids: z.array(z.string()).optional(),
      batches: z.int(),
      skipped: z
        .array(
          z.strictObject({
            line: z.int(),
            index: z.int().optional(),
            message: z.string(),
          }),
        )
        .optional()
        .describe('with --skip-invalid: the invalid records left out (the first 1,000); exit 2'),
      skipped_count: z.int().optional(),
    })
    .describe('cos-db archive event'),

  'query-prd': z
    .array(
      z.strictObject({
        prd_id: z.string(),
        title: z.string(),
        latest_version: z.int(),
        status: nullable(z.string()),
        last_archived_at: time,
        last_archived_by: z.string(),
      }),
    )
    .describe('cos-db query prd'),

  'prd-history': z.array(prdVersion).describe('cos-db query prd ID (its versions)'),

  'prd-version': prdVersion
    .extend({ front_matter: z.record(z.string(), z.unknown()), content: z.string() })
    .describe('cos-db query prd ID --version N (or --content) --json'),

  'query-events': z
    .strictObject({ events: z.array(eventRecord), next: nullable(z.string()) })
    .describe('cos-db query events'),

  'event-detail': eventRecord
    .extend({
      derived_parents: z
        .array(z.string())
        .describe(
          "an OpenLineage event's parents derived from its run, parent run and input datasets when asked; [] for others",
        ),
      children: z.array(z.string()).describe('the events naming it as a parent, or deriving it'),
      links: z.array(memoryLink),
    })
    .describe('cos-db query events ID'),

  'diff-prd': z
    .strictObject({
      prd_id: z.string(),
      from: z.int(),
      to: z.int(),
      hunks: z.array(
        z.strictObject({
          old_start: z.int(),
          old_lines: z.int(),
          new_start: z.int(),
          new_lines: z.int(),
          lines: z.array(z.string()),
        }),
      ),
      unified: z.string(),
    })
    .describe('cos-db diff prd'),

  trace: z
    .strictObject({
      root: z.string(),
      direction: z.enum(['up', 'down', 'both']),
      depth: z.int(),
      truncated: z.boolean().describe('the walk stopped at the depth limit with more beyond it'),
      nodes: z.array(
        z.strictObject({
          id: z.string(),
          kind: z.enum(['event', 'prd']),
          distance: z.int(),
          via: nullable(z.string()),
          label: z.string(),
          type: nullable(z.string()),
          occurred_at: nullable(time),
          links: z.array(z.strictObject({ l3_ref: z.string(), relation: z.string() })),
        }),
      ),
      edges: z.array(
        z.strictObject({ from: z.string(), to: z.string(), kind: z.enum(['parent', 'input']) }),
      ),
    })
    .describe('cos-db trace'),

  'link-add': memoryLink.extend({ already_linked: z.boolean() }).describe('cos-db link add'),
  'link-list': z.array(memoryLink).describe('cos-db link list'),

  verify: z
    .strictObject({
      ok: z.boolean(),
      origin: nullable(z.string()),
      rows: z.int(),
      tables: z.array(z.strictObject({ table: z.string(), rows: z.int(), guards: z.string() })),
      chains: z.array(
        z.strictObject({
          table: z.string(),
          chain: z.string(),
          size: z.int(),
          head: nullable(digest),
          status: z.enum(['intact', 'broken']),
          problem: nullable(problem),
          problems: z.array(problem),
          problem_count: z.int(),
          redacted: z
            .int()
            .describe('rows whose erased value verifies by its recorded redaction (intact)'),
          root: nullable(digest).describe("the RFC 6962 Merkle root of the chain's rows"),
        }),
      ),
      derived: z.array(
        z.strictObject({
          table: z.string(),
          status: z.enum(['intact', 'broken']),
          problems: z.array(
            z.strictObject({
              kind: z.enum(['edge-not-in-row', 'edge-missing', 'trigger']),
              event_id: nullable(z.string()),
              edge: z.string(),
            }),
          ),
          problem_count: z.int(),
        }),
      ),
      checkpoint: nullable(
        z.strictObject({
          signed_by: z.enum(['trusted key', 'key inside the checkpoint']),
          created_at: time,
          chains: z.array(
            chainHead.extend({ status: z.enum(['extends', 'rewritten', 'truncated']) }),
          ),
          ok: z.boolean(),
        }),
      ),
      checkpoint_written: nullable(z.string()),
      tree_heads: z
        .array(treeHead)
        .describe(
          'with --write-checkpoint: each chain signed as a C2SP checkpoint, also kept in the store',
        ),
    })
    .describe('cos-db verify'),

  export: z
    .union([
      z.strictObject({
        kind: z.enum(['prd', 'events', 'lineage']),
        format: z.enum(['json', 'ndjson', 'csv', 'openlineage']),
        rows: z.int(),
        out: nullable(z.string()),
      }),
      z.strictObject({
        kind: z.literal('bundle'),
        rows: z.int(),
        chains: z.array(chainHead),
        out: z.string(),
      }),
    ])
    .describe('cos-db export --out FILE --json (the summary; the records go to the file)'),

  'bundle-manifest': z
    .strictObject({
      kind: z.literal('manifest'),
      format: z.literal('cos-db-bundle/2'),
      cos_db_version: z.string(),
      schema_version: z.string(),
      origin: nullable(z.string()),
      created_at: time,
      chains: z.array(chainHead),
      modules: z.int(),
    })
    .describe("A bundle's first line (cos-db export --all)"),

  import: z
    .strictObject({
      chains: z.array(
        z.strictObject({
          table: z.string(),
          chain: z.string(),
          had: z.int(),
          appended: z.int(),
          head: digest,
        }),
      ),
      modules_added: z.int(),
      redactions_applied: z
        .int()
        .describe("values this store held that the bundle's redactions erased"),
    })
    .describe('cos-db import'),

  checkpoint: z
    .strictObject({
      format: z.literal('cos-db-checkpoint/2'),
      origin: z.string(),
      database: z.string(),
      created_at: time,
      chains: z.array(chainHead),
      tree_heads: z
        .array(treeHead.pick({ table: true, chain: true, size: true, root: true, note: true }))
        .optional()
        .describe('the same heads as C2SP signed checkpoints (cos-db prove, verify-proof)'),
      public_key: z.string(),
      signature: z.string(),
    })
    .describe('A signed checkpoint file (cos-db verify --write-checkpoint)'),

  'tree-head': treeHead.describe("A chain's signed tree head (GET /v1/proofs/checkpoint)"),

  prove: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('inclusion'),
        ref: z.string(),
        table: z.string(),
        chain: z.string(),
        seq: ledgerPlace.seq,
        index: z.string().describe("the record's leaf index (seq - 1)"),
        checkpoint: treeHead,
        proof: z.string().describe('the C2SP tlog-proof, the record as its extra data'),
        out: nullable(z.string()),
      }),
      z.strictObject({
        kind: z.literal('consistency'),
        table: z.string(),
        chain: z.string(),
        from: treeHead,
        to: treeHead,
        proof: z.string().describe('the path, then both signed checkpoints'),
        out: nullable(z.string()),
      }),
    ])
    .describe('cos-db prove'),

  'verify-proof': z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('inclusion'),
        ok: z.literal(true),
        origin: z.string(),
        table: z.string(),
        chain: z.string(),
        seq: z.string(),
        index: z.string(),
        size: z.string(),
        root: z.string(),
        opened: z
          .boolean()
          .describe("the record's salted value was checked against its commitment"),
      }),
      z.strictObject({
        kind: z.literal('consistency'),
        ok: z.literal(true),
        origin: z.string(),
        from_size: z.string(),
        to_size: z.string(),
        from_root: z.string(),
        to_root: z.string(),
      }),
    ])
    .describe('cos-db verify-proof (a failure is an error document, exit 4)'),

  redact: z
    .strictObject({
      dry_run: z.boolean(),
      field: z.literal('payload'),
      redacted: z.int().describe('values erased (with dry_run, that would be)'),
      already_redacted: z.array(z.string()).describe('events named whose value was already erased'),
      redactions: z
        .array(
          z.strictObject({
            event_id: z.string(),
            redaction_id: z.string().optional(),
            field: z.literal('payload').optional(),
            reason: z.string().optional(),
            requested_by: z.string().optional(),
            redacted_at: time.optional(),
            seq: z.string().optional(),
            hash: digest.optional(),
          }),
        )
        .describe('the redactions made (with dry_run, the events), the first 100'),
      batches: z.int(),
    })
    .describe('cos-db redact'),

  'agent-role': z
    .strictObject({ role: z.string(), created: z.boolean(), tables: z.array(z.string()) })
    .describe('cos-db agent-role'),

  keygen: z
    .strictObject({ private_key: z.string(), public_key: z.string() })
    .describe('cos-db keygen'),
  'token-create': z
    .strictObject({
      token: z
        .string()
        .regex(/^cosdb_[A-Za-z0-9_-]{43}$/)
        .describe('shown once; only its SHA-256 is kept'),
      token_id: z.string(),
      agent: z.string(),
      scope: z.enum(['read', 'append']),
      created_by: z.string(),
      created_at: time,
      expires_at: nullable(time),
    })
    .describe('cos-db token create'),
  'token-list': z.array(tokenRow).describe('cos-db token list'),
  'token-revoke': tokenRow.extend({ already_revoked: z.boolean() }).describe('cos-db token revoke'),

  'append-receipts': z
    .strictObject({
      events: z.array(
        z.strictObject({
          event_id: z.string(),
          chain: z.string(),
          seq: ledgerPlace.seq,
          hash: digest,
          status: z
            .enum(['archived', 'already_archived'])
            .describe('archived by this request, or already archived with the same content'),
          receipt: z
            .strictObject({
              log: z.string().describe("the chain's log, as its signed checkpoints name it"),
              index: z.string().describe('its leaf index in that log (seq - 1)'),
              proof: z
                .string()
                .describe('where its inclusion proof is served once a signed checkpoint covers it'),
            })
            .describe('what to ask for the offline proof of this append (cos-db prove)'),
        }),
      ),
    })
    .describe('POST /v1/events: where each event is in the ledger, in the order sent'),

  'http-problem': z
    .looseObject({
      type: z.string(),
      title: z.string(),
      status: z.int().min(400).max(599),
      detail: z.string().describe("the CLI's one-line message"),
      exit_code: z.int().describe('the exit code the CLI gives for the same failure'),
      hint: nullable(z.string()),
    })
    .describe('An error of the agent endpoint (RFC 9457 application/problem+json)'),
} satisfies Record<string, z.ZodType>;

export type DocumentName = keyof typeof documents;
export const DOCUMENT_NAMES = Object.keys(documents) as DocumentName[];
