import type { CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import {
  interrupt,
  requestStop,
  runInterruptCleanups,
  type InterruptOutcome,
} from '../interrupt.js';
import { packageVersion } from '../packageRoot.js';
import type { CommandContext, OptionSpecs } from './command.js';
import type { Output } from './output.js';
import { buildProgram, type Invocation } from './program.js';
import { report } from './report.js';
import type { GlobalOptions } from './settings.js';

function version(): string {
  try {
    return packageVersion();
  } catch {
    return '0.0.0';
  }
}

/** Output (and cli-table3, at a terminal) is loaded only once a command runs, keeping --help fast. */
async function outputFor(
  globals: GlobalOptions,
  env: Record<string, string | undefined>,
): Promise<Output> {
  const { Output } = await import('./output.js');
  const noColor = globals.color === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
  return new Output({
    json: globals.json === true,
    quiet: globals.quiet === true,
    color: !noColor,
    verbose: globals.verbose === true,
  });
}

/**
 * The globals as far as argv shows them, for a line commander refused before parsing it: its
 * error still goes out as JSON when --json was asked for.
 */
function globalsOf(argv: string[]): GlobalOptions {
  return {
    json: argv.includes('--json'),
    quiet: argv.includes('--quiet') || argv.includes('-q'),
    color: !argv.includes('--no-color'),
    verbose: argv.includes('--verbose'),
  };
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
  let exitCode: number = ExitCode.ok;
  const dispatch = async ({ command, args, options, globals }: Invocation): Promise<void> => {
    const output = await outputFor(globals, env);
    out = output;
    const { loadSettings } = await import('./settings.js');
    const settings = loadSettings(globals, env, cwd);
    // Commander parsed argv by the command's own declaration: these are the types it derives.
    type Context = CommandContext<OptionSpecs, readonly string[]>;
    const context: Context = {
      command: command.path,
      args: args as Context['args'],
      options: options as Context['options'],
      settings,
      out: output,
      withDb: async (fn, options) => (await import('./withDb.js')).withDb(context, fn, options),
      withDbRows: async (fn) => (await import('./withDb.js')).withDbRows(context, fn),
    };
    exitCode = (await command.run(context)) ?? ExitCode.ok;
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
    // A server stops gracefully on the first signal; a second one interrupts it.
    if (requestStop()) return;
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
    return exitCode;
  } catch (error) {
    // The command's own Output, or (commander refused the line before it parsed) one from argv.
    const early = globalsOf(argv);
    const output = async () => out ?? (await outputFor(early, env));
    if (isCommanderError(error)) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.ok;
      }
      // Commander has written its line to stderr; a script asking for JSON gets the document too.
      if (early.json)
        (await output()).document({
          error: {
            exit_code: ExitCode.usage,
            message: error.message.replace(/^error: /, ''),
            hint: 'see `cos-db help` or `cos-db <command> --help`',
          },
        });
      return ExitCode.usage;
    }
    return report(await output(), error);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
