import type { CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CosError, ExitCode } from '../errors.js';
import {
  interrupt,
  isInterrupted,
  runInterruptCleanups,
  type InterruptOutcome,
} from '../interrupt.js';
import { packageRoot } from '../packageRoot.js';
import type { Handler } from './context.js';
import type { Output } from './output.js';
import { buildProgram, type Invocation } from './program.js';

/** Each command's module, imported only when that command runs. */
const HANDLERS: Record<string, () => Promise<{ handler: Handler }>> = {
  env: () => import('./commands/env.js'),
  ping: () => import('./commands/ping.js'),
  migrate: () => import('./commands/migrate.js'),
  'migrate status': () => import('./commands/migrate.js'),
  'migrate rollback': () => import('./commands/migrate.js'),
  'migrate make': () => import('./commands/migrate.js'),
  'migrate unlock': () => import('./commands/migrate.js'),
  'schema create': () => import('./commands/schema.js'),
  'schema list': () => import('./commands/schema.js'),
  'schema drop': () => import('./commands/schema.js'),
  'seed run': () => import('./commands/seed.js'),
  verify: () => import('./commands/verify.js'),
  'archive prd': () => import('./commands/prd.js'),
  'query prd': () => import('./commands/prd.js'),
  'diff prd': () => import('./commands/prd.js'),
  'archive event': () => import('./commands/events.js'),
  'query events': () => import('./commands/events.js'),
  trace: () => import('./commands/trace.js'),
  export: () => import('./commands/export.js'),
  import: () => import('./commands/export.js'),
  'link add': () => import('./commands/link.js'),
  'link list': () => import('./commands/link.js'),
  keygen: () => import('./commands/keygen.js'),
  'agent-role': () => import('./commands/agentRole.js'),
  redact: () => import('./commands/redact.js'),
  'json-schema': () => import('./commands/jsonSchema.js'),
};

function version(): string {
  try {
    return (
      JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '0.0.0';
  }
}

/** Output (chalk, cli-table3) is loaded only once a command runs, keeping --help fast. */
async function outputFor(argv: string[], env: Record<string, string | undefined>): Promise<Output> {
  const { Output } = await import('./output.js');
  const noColor =
    argv.includes('--no-color') || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
  return new Output({
    json: argv.includes('--json'),
    quiet: argv.includes('--quiet') || argv.includes('-q'),
    color: !noColor,
    verbose: argv.includes('--verbose'),
  });
}

let outputFailureTold = false;

/** Said once, however many writes fail: the output is lost, and what to do. */
export function reportOutputFailure(error: Error): void {
  if (outputFailureTold) return;
  outputFailureTold = true;
  process.stderr.write(
    `cos-db: cannot write to standard output: ${error.message}\n  hint: the output is incomplete; free space or choose another destination (--out FILE)\n`,
  );
}

/** What an interrupt did, in one line: what was rolled back, and what had been committed. */
function interruptMessage(o: InterruptOutcome): string {
  if (o.committedAfter)
    return 'interrupted, but the work had already been committed: it is archived, and nothing was rolled back';
  if (o.committedBefore > 0)
    return `interrupted; the batch in flight was rolled back, and the ${o.committedBefore} committed before it stay (running the same command again is safe: what is archived is skipped)`;
  return 'interrupted; nothing was committed (the transaction in flight was rolled back)';
}

function report(out: Output, error: unknown): number {
  // The interrupt has told the user what happened; the error it caused is not news.
  if (isInterrupted()) return ExitCode.interrupted;
  if (error instanceof CosError) {
    out.error(`cos-db: ${error.message}`);
    if (error.hint) out.error(`  hint: ${error.hint}`);
    if (out.verbose && error.cause instanceof Error)
      out.error(error.cause.stack ?? String(error.cause));
    if (out.json) {
      out.result(
        {
          error: {
            exit_code: error.exitCode,
            message: error.message,
            hint: error.hint ?? null,
            ...error.details,
          },
        },
        () => '',
      );
    }
    return error.exitCode;
  }
  const err = error as Error;
  out.error(`cos-db: internal error: ${err?.message ?? String(error)}`);
  out.error(
    out.verbose ? (err?.stack ?? '') : '  rerun with --verbose for the stack trace, and report it',
  );
  if (out.json)
    out.result(
      {
        error: {
          exit_code: ExitCode.internal,
          message: `internal error: ${err?.message ?? String(error)}`,
          hint: 'rerun with --verbose for the stack trace, and report it',
        },
      },
      () => '',
    );
  return ExitCode.internal;
}

function isCommanderError(error: unknown): error is CommanderError {
  return (
    error instanceof Error &&
    typeof (error as CommanderError).code === 'string' &&
    (error as CommanderError).code.startsWith('commander.')
  );
}

/** The one error boundary: runs a command line and returns its exit code. Never exits itself. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): Promise<number> {
  // The CLI runs bundled (scripts/bundle.js): map --verbose stack traces back to the sources.
  if (argv.includes('--verbose')) process.setSourceMapsEnabled(true);
  let out: Output | undefined;
  const dispatch = async (invocation: Invocation): Promise<void> => {
    out = await outputFor(argv, env);
    const { loadSettings } = await import('./settings.js');
    const settings = loadSettings(invocation.globals, env, cwd);
    const load = HANDLERS[invocation.command];
    if (!load) throw new Error(`no handler for ${invocation.command}`);
    const { handler } = await load();
    await handler({ settings, out, invocation });
  };
  const rest = argv.slice(2);
  if (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-V')) {
    process.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
  const program = buildProgram(dispatch, version());
  // Every command, not just the root: commander copies these settings only to commands made
  // after them, and a subcommand's parse error would otherwise exit 1 on its own.
  const configure = (command: typeof program): void => {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });
    for (const sub of command.commands) configure(sub);
  };
  configure(program);

  let interrupting = false;
  const onSigint = () => {
    if (interrupting) process.exit(ExitCode.interrupted);
    interrupting = true;
    void interrupt()
      .then((outcome) => process.stderr.write(`cos-db: ${interruptMessage(outcome)}\n`))
      .finally(() => process.exit(ExitCode.interrupted));
  };
  // A reader that stopped early (`| head`) closes the pipe: stop quietly, as Unix tools do. Any
  // other failed write (a full disk, /dev/full, an I/O error) loses output: say so, exit 10.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    const code = error.code === 'EPIPE' ? ExitCode.ok : ExitCode.output;
    if (code !== ExitCode.ok) reportOutputFailure(error);
    void runInterruptCleanups(2000).finally(() => process.exit(code));
  };
  process.stdout.on('error', onStdoutError);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (error) {
    if (isCommanderError(error)) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.ok;
      }
      // Commander has written its line to stderr; a script asking for JSON gets the document too.
      if (argv.includes('--json'))
        (out ?? (await outputFor(argv, env))).document({
          error: {
            exit_code: ExitCode.usage,
            message: error.message.replace(/^error: /, ''),
            hint: 'see `cos-db help` or `cos-db <command> --help`',
          },
        });
      return ExitCode.usage;
    }
    return report(out ?? (await outputFor(argv, env)), error);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
