import { Command, Option } from 'commander';
import { ENV_NAMES } from '../config/envs.js';
import { EXIT_CODE_HELP } from '../errors.js';
import type { GlobalOptions } from './settings.js';

export type Invocation = {
  /** The command path, e.g. "migrate status". */
  command: string;
  args: string[];
  options: Record<string, unknown>;
  globals: GlobalOptions;
};

export type Dispatch = (invocation: Invocation) => Promise<void>;

/**
 * The whole command surface, declared without importing any command's implementation: a
 * command's module is loaded only when it runs, so `--help` and `env` stay fast.
 */
export function buildProgram(dispatch: Dispatch, version: string): Command {
  const program = new Command('cos-db')
    .description(
      `Admin tool for the COS L4 canonical store (PostgreSQL). Version ${version}: cos-db --version`,
    )
    // Not commander's .version(): its --version would swallow `query prd ID --version N`.
    // main() answers a bare `cos-db --version` / `-V` itself.
    .addOption(
      new Option('-e, --env <name>', 'environment (else COS_ENV, else dev)').choices(ENV_NAMES),
    )
    .option('--url <url>', 'connection URL for the selected env (postgres://… or pglite:<dir>)')
    .option('--json', 'print one JSON document on stdout')
    .option('-y, --yes', 'confirm destructive work (required on prod)')
    .option('-q, --quiet', 'print nothing but results and errors')
    .option('--no-color', 'no colour (also when NO_COLOR is set or stdout is not a terminal)')
    .option('--verbose', 'show stack traces and SQL on errors')
    .option(
      '--lock-timeout <seconds>',
      'how long to wait for a lock held by another run',
      undefined,
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  const run =
    (name: string) =>
    async (...received: unknown[]): Promise<void> => {
      const command = received[received.length - 1] as Command;
      const args = (received.slice(0, -2) as Array<string | string[] | undefined>)
        .flat()
        .filter((a): a is string => a !== undefined);
      await dispatch({ command: name, args, options: command.opts(), globals: program.opts() });
    };

  program
    .command('env')
    .description('every environment: target (password masked), engine, source, reachable?')
    .option('--no-check', 'do not probe whether servers are reachable')
    .action(run('env'));

  program
    .command('ping')
    .description('connect and report the server version and round-trip time')
    .option('--wait <seconds>', 'retry with backoff until the server answers or time is up')
    .action(run('ping'));

  // `migrate` itself has no options: commander would let a parent's --module or --to swallow the
  // same option given to `migrate rollback`. Applying is the default subcommand instead.
  const migrate = program.command('migrate').description('apply, inspect and roll back migrations');
  migrate
    .command('up', { isDefault: true })
    .description('apply pending migrations, core then every module (the default)')
    .option('--to <name>', 'apply up to and including this migration')
    .option(
      '--dry-run',
      'run pending transactional migrations in a transaction, print their SQL, roll back',
    )
    .option('--module <module>', 'only this module')
    .action(run('migrate'));
  migrate
    .command('status')
    .description('each migration: applied, pending, missing or edited since applied')
    .option('--check', 'exit 6 when anything is pending, missing or edited')
    .option('--module <module>', 'only this module')
    .action(run('migrate status'));
  migrate
    .command('rollback')
    .description('undo the last batch (or --step N, --all, --to NAME); prod needs --yes')
    .option('--step <n>', 'undo the last N migrations')
    .option('--all', 'undo every migration')
    .option('--to <name>', 'undo every migration applied after NAME')
    .option('--module <module>', "roll back this module's migrations instead of the core's")
    .action(run('migrate rollback'));
  migrate
    .command('make <name>')
    .description('write a new TypeScript migration from the template')
    .option('--module <module>', 'under migrations/<module>/')
    .action(run('migrate make'));
  migrate
    .command('unlock')
    .description("clear a stale knex_migrations_lock, and name whoever holds cos-db's lock")
    .option('--module <module>', 'only this module')
    .action(run('migrate unlock'));

  const schema = program.command('schema').description('one PostgreSQL schema per module');
  schema
    .command('create <module>')
    .description('create the schema, register it, give it its own migration history and folder')
    .option('--description <text>', 'what the module is for')
    .action(run('schema create'));
  schema
    .command('list')
    .description('modules with their tables and migration status')
    .action(run('schema list'));
  schema
    .command('drop <module>')
    .description(
      'drop the schema (refuses while it holds tables unless --cascade); prod needs --yes',
    )
    .option('--cascade', 'drop its tables too')
    .action(run('schema drop'));

  const seed = program.command('seed').description('development seed data');
  seed
    .command('run [name]')
    .description(
      "run the project's seeds/ (prod needs --yes); NAME: one seed file, or an example that comes with cos-db (demo)",
    )
    .option('--specific <file>', 'run only this seed file (the same as NAME)')
    .action(run('seed run'));

  const archive = program
    .command('archive')
    .description('archive PRD versions and events into the ledger');
  archive
    .command('prd <files...>')
    .description(
      'archive PRD markdown files as new versions (unchanged text makes none); all or nothing',
    )
    .option('--id <id>', 'PRD id (else front-matter id, else the file name)')
    .option('--message <text>', 'why this version')
    .option('--actor <name>', 'who archives (else COS_ACTOR, else the OS user)')
    .option('--max-size <bytes>', 'largest file accepted (default 10 MiB)')
    .action(run('archive prd'));

  archive
    .command('event <file>')
    .description('archive events from a JSON object, array or NDJSON file, or - for stdin')
    .option(
      '--format <format>',
      'json (cos-db events) or openlineage (RunEvent, JobEvent, DatasetEvent)',
      'json',
    )
    .option('--atomic', 'the whole input in one transaction (else each batch is all or nothing)')
    .option(
      '--skip-invalid',
      'archive the valid events and report the invalid ones (each with its line) instead of refusing the input; exit 2 if any was skipped',
    )
    .option('--batch-size <n>', 'events per transaction (default 2000)')
    .option(
      '--retries <n>',
      'times a batch is written again after a lost connection or a deadlock (default 2)',
    )
    .action(run('archive event'));

  const query = program.command('query').description('query the archive');
  query
    .command('events [id]')
    .description(
      'events in time order, filtered; or one event whole with parents, children, inputs',
    )
    .option('--type <type>', 'event type')
    .option('--module <module>', 'module')
    .option('--actor <actor>', 'actor (agent)')
    .option('--task <task>', 'task id')
    .option('--since <time>', 'occurred at or after (ISO time, or an age such as 2h)')
    .option('--until <time>', 'occurred before')
    .option('--limit <n>', 'at most N events (default 100)')
    .option('--after <event-id>', 'the page after this event (keyset pagination)')
    .action(run('query events'));
  query
    .command('prd [id]')
    .description("PRDs at their latest version, or one PRD's history")
    .option('--version <n>', 'one version')
    .option('--content', 'print the markdown byte for byte (the latest without --version)')
    .option('--since <time>', 'archived at or after (ISO time, or an age such as 7d)')
    .option('--until <time>', 'archived before')
    .option('--status <status>', 'front-matter status')
    .action(run('query prd'));

  const diff = program.command('diff').description('compare archived versions');
  diff
    .command('prd <id> [v1] [v2]')
    .description('unified diff between two versions of a PRD (default: the last two)')
    .action(run('diff prd'));

  program
    .command('trace <id>')
    .description(
      'lineage of an event or PRD version (prd:ID@VERSION; prd:ID is the latest): ancestors, or --down, or --both',
    )
    .option('--down', 'descendants instead of ancestors')
    .option('--both', 'ancestors and descendants')
    .option(
      '--depth <n>',
      'how many steps (default 20); fast at any depth; says when lineage goes on past it',
    )
    .option(
      '--format <format>',
      'tree, table, json, mermaid or dot (default tree; json with --json)',
    )
    .action(run('trace'));

  program
    .command('export [kind]')
    .description(
      'stream prd, events or lineage out (json, ndjson, csv, openlineage); --all writes a bundle',
    )
    .option('--format <format>', 'json, ndjson (default), csv, or openlineage (events)')
    .option(
      '--out <file>',
      'write here (atomically: renamed into place when complete) instead of stdout',
    )
    .option(
      '--all',
      'a bundle of every chain with its proof, the modules and the links (needs --out)',
    )
    .option('--id <id>', 'prd: one PRD')
    .option('--status <status>', 'prd: front-matter status')
    .option('--type <type>', 'events, lineage: event type')
    .option('--module <module>', 'events, lineage: module')
    .option('--actor <actor>', 'events, lineage: actor')
    .option('--task <task>', 'events, lineage: task id')
    .option('--since <time>', 'at or after (ISO time, or an age such as 7d)')
    .option('--until <time>', 'before')
    .action(run('export'));
  program
    .command('import <file>')
    .description(
      "load a bundle: each chain here must be empty or a prefix of the bundle's; prod needs --yes",
    )
    .action(run('import'));

  const link = program.command('link').description('memory links from L4 records to L3 entries');
  link
    .command('add <ref> <l3-ref>')
    .description('link an event id or prd:ID@VERSION to an L3 entry (a URI or key)')
    .option('--relation <name>', 'how they relate (default references)')
    .action(run('link add'));
  link.command('list [ref]').description('links, all or of one record').action(run('link list'));

  program
    .command('verify')
    .description(
      'recompute every hash chain, check positions and guards; exit 4 if anything is wrong',
    )
    .option('--chain <name>', 'only this chain')
    .option('--checkpoint <file>', 'also prove every chain still extends this signed checkpoint')
    .option(
      '--write-checkpoint <file>',
      'sign the verified heads into a checkpoint file (keep it outside the database)',
    )
    .option(
      '--key <file>',
      'Ed25519 key: private to sign, public or private to check (else COS_SIGNING_KEY)',
    )
    .action(run('verify'));
  program
    .command('redact [event-id]')
    .description(
      "erase an event's payload with its proof kept (the reason on record), or by --older-than and --type; prod needs --yes",
    )
    .option('--reason <text>', 'why (required): the request or the retention policy')
    .option('--field <field>', 'what to erase (payload, the default and only erasable field)')
    .option(
      '--older-than <age>',
      'retention: events that occurred longer ago than this (e.g. 400d)',
    )
    .option('--type <type>', 'retention: of this event type (required with --older-than)')
    .option('--module <module>', 'retention: only this module')
    .option('--batch-size <n>', 'retention: events per transaction (default 1000)')
    .option('--dry-run', 'show what would be erased; change nothing')
    .action(run('redact'));
  program
    .command('agent-role [role]')
    .description(
      'create or update a role (default cos_agent) with SELECT and INSERT only on the ledger',
    )
    .action(run('agent-role'));
  program
    .command('keygen')
    .description('write a new Ed25519 key pair for signing checkpoints')
    .option('--out <file>', 'private key path (public key beside it, .pub)', undefined)
    .option('--force', 'overwrite an existing key')
    .action(run('keygen'));
  program
    .command('json-schema [name]')
    .description(
      'the JSON Schema (draft 2020-12) of a document cos-db reads or writes; without a name, the list',
    )
    .action(run('json-schema'));

  return program;
}
